"""Data tab with 60 classes of long names in the room of a 1100x706 window (the Data tab is
then 1096x637) and of a 1366x768 one (1362x699): the class table's names tell the classes
apart, the chart's count axis title is whole, and the imbalance line names its two
classes whole, wrapping inside them rather than widening the settings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics

from helpers import make_image_folder
from qt_helpers import loaded_data_panel

WAIT_MS = 30000
BIG = "Northern_rough-winged_swallow_juvenile"
LONG = "Black-throated_blue_warbler_female_first_winter_plumage"
SPECIES = [f"species_{i:03d}_sparrow_adult_male_breeding" for i in range(58)]
ROOM = {1100: (1096, 637), 1366: (1362, 699)}


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    root = tmp_path_factory.mktemp("many") / "many"
    make_image_folder(root, classes=(BIG,), per_class=100, size=8)
    make_image_folder(root, classes=[LONG] + SPECIES, per_class=3, size=8, seed=1)
    return root


def _shown(qtbot, folder, width):
    panel = loaded_data_panel(qtbot, folder)
    panel.resize(*ROOM[width])
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.mark.parametrize("width", [1100, 1366])
def test_class_column_takes_the_room_the_counts_leave(qtbot, many, width):
    # At 1100x706, sorted by Images, the Class column was 55 px ("speci…" on every row):
    # each count column kept room for a sort arrow it did not show.
    panel = _shown(qtbot, many, width)
    table = panel.class_table
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(1) + header.sectionSize(1) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))  # a click on "Images"
    assert header.sortIndicatorSection() == 1
    qtbot.waitUntil(lambda: sum(header.sectionSize(c) for c in range(4))
                    == table.viewport().width())  # Class takes the rest
    metrics = table.fontMetrics()
    # The unsorted count columns are as wide as their titles and numbers, no more.
    for c in (2, 3):
        title = metrics.horizontalAdvance(table.horizontalHeaderItem(c).text())
        assert header.sectionSize(c) <= max(title, metrics.horizontalAdvance("20")) + 12
    room = header.sectionSize(0) - 8  # the cell's margins
    shown = [metrics.elidedText(table.item(r, 0).text(), Qt.TextElideMode.ElideRight, room)
             for r in range(table.rowCount())]
    # "species_00…" at least (was "specie…"); at 1366 the rows differ by their names.
    assert all(len(s.rstrip("…")) >= 10 for s in shown), shown[:8]
    if width == 1366:
        assert len(set(shown)) == len(shown), shown[:8]


@pytest.mark.parametrize("width", [1100, 1366])
def test_count_axis_title_is_whole_and_centred(qtbot, many, width):
    panel = _shown(qtbot, many, width)
    chart = panel.chart
    qtbot.waitUntil(lambda: chart.plot_widget is not None and bool(chart.tick_labels()),
                    timeout=WAIT_MS)
    assert chart.log_scale()
    left = chart.plot_widget.getPlotItem().getAxis("left")
    # The longest title the axis holds, once the tab is laid out (shorter while it is).
    whole = ("images (log scale)",) if width == 1366 else ("images (log scale)",
                                                           "images (log)")
    qtbot.waitUntil(lambda: left.labelText in whole, timeout=WAIT_MS)
    title = left.labelText
    # The title's text fits the axis's height and is drawn centred on it: a title set
    # after the last resize kept the place of the one before, and was cut at the top.
    assert QFontMetrics(left.label.font()).horizontalAdvance(title) <= left.size().height()
    label, axis = left.label.sceneBoundingRect(), left.sceneBoundingRect()
    assert abs(label.center().y() - axis.center().y()) <= 1.5


def test_imbalance_line_names_its_classes_whole_and_wraps_inside_them(qtbot, many):
    panel = _shown(qtbot, many, 1100)
    label = panel.settings.imbalance_label
    qtbot.waitUntil(lambda: "Imbalance" in label.text(), timeout=WAIT_MS)
    text = label.text().replace("\u200b", "")  # the places it may wrap, not shown
    assert f"('{BIG}' 80 / '{LONG}' 2)" in text
    # Whole names without spaces, yet the label is no wider than the settings beside it.
    scroll = panel.settings.parentWidget()
    while not hasattr(scroll, "viewport"):
        scroll = scroll.parentWidget()
    assert label.minimumSizeHint().width() <= label.width()
    assert scroll.widget().width() <= scroll.viewport().width()
    assert label.geometry().right() <= panel.settings.width()
