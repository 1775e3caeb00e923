"""Data tab with many, unequal classes (one of 100 images, others of 1-4, long names): the
class table sorts and keeps one line a row, the chart shows the small classes and every
name it writes whole, the imbalance line names its classes, and the thumbnails of every
class name theirs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QFontMetrics

from helpers import make_image_folder
from qt_helpers import loaded_data_panel

WAIT_MS = 30000
LONG = "Black-throated_blue_warbler_female_first_winter_plumage"
BIG = "Northern_rough-winged_swallow_juvenile"


@pytest.fixture
def uneven(tmp_path):
    root = tmp_path / "uneven"
    make_image_folder(root, classes=(BIG,), per_class=100, size=8)
    make_image_folder(root, classes=("001", "x"), per_class=1, size=8)
    make_image_folder(root, classes=(LONG, "10", "2"), per_class=4, size=8, seed=1)
    return root


def _shown(qtbot, panel):
    panel.resize(1366, 700)
    panel.show()
    qtbot.waitExposed(panel)
    chart = panel.chart
    qtbot.waitUntil(lambda: chart.plot_widget is not None and bool(chart.heights()),
                    timeout=WAIT_MS)
    view = chart.plot_widget.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: view.width() > 100 and bool(chart.tick_labels()), timeout=WAIT_MS)
    return chart, view


def test_class_table_sorts_by_number_and_keeps_names_on_one_line(qtbot, uneven):
    panel = loaded_data_panel(qtbot, uneven)
    table = panel.class_table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert names == ["001", "10", "2", LONG, BIG, "x"]  # label order at first
    panel.resize(1366, 700)
    panel.show()
    qtbot.waitExposed(panel)
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(1) + header.sectionSize(1) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))  # a click on "Images"
    assert header.sortIndicatorSection() == 1
    counts = [table.item(r, 1).data(Qt.ItemDataRole.UserRole) for r in range(6)]
    assert counts in ([1, 1, 4, 4, 4, 100], [100, 4, 4, 4, 1, 1])  # 100 as a number
    table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert table.item(0, 0).text() == BIG and table.item(0, 1).text() == "100"
    # Counts read by name still match after sorting; the split columns fill sorted rows.
    assert panel.class_counts()[BIG] == 100
    assert panel.split_counts()[0][BIG] == 80
    row = next(r for r in range(6) if table.item(r, 0).text() == LONG)
    assert table.item(row, 0).toolTip() == LONG
    # One line a row, the long name cut rather than wrapped onto a second line.
    line = table.fontMetrics().height()
    assert not table.wordWrap()
    assert all(table.rowHeight(r) < 2 * line for r in range(6))
    assert table.columnWidth(0) < table.fontMetrics().horizontalAdvance(LONG)


def test_chart_shows_small_classes_on_a_log_axis(qtbot, uneven):
    panel = loaded_data_panel(qtbot, uneven)
    chart, view = _shown(qtbot, panel)
    assert chart.log_scale() and chart.log_box.isChecked()  # 80 : 1 in training
    left = chart.plot_widget.getPlotItem().getAxis("left")
    assert "log" in left.labelText
    # The 1-image class "x" has a bar of its own that can be seen: a few pixels high.
    i = list(chart.heights()).index("x")
    bars = chart._bars.opts
    top = view.mapViewToScene(QPointF(i, bars["y0"] + bars["height"][i])).y()
    bottom = view.mapViewToScene(QPointF(i, bars["y0"])).y()
    assert bottom - top >= 5
    assert chart.heights()["x"] == 1 and chart.heights()[BIG] == 100
    # The user may turn it off: linear, as before.
    chart.log_box.setChecked(False)
    assert "log" not in left.labelText and chart._bars.opts["height"][i] == 1


def test_equal_classes_keep_a_linear_axis(qtbot, image_folder):
    panel = loaded_data_panel(qtbot, image_folder)
    chart, _view = _shown(qtbot, panel)
    assert not chart.log_scale()
    assert chart.heights() == {"blue": 12, "green": 12, "red": 12}


def test_first_turned_name_is_not_cut_at_the_edge(qtbot, tmp_path):
    classes = ["001"] + [f"species_{i:03d}_warbler" for i in range(60)]
    make_image_folder(tmp_path / "many", classes=classes, per_class=1, size=8)
    panel = loaded_data_panel(qtbot, tmp_path / "many")
    chart, view = _shown(qtbot, panel)
    assert chart.is_turned() and chart.tick_labels()[0] == "001"
    axis = chart.axis
    half = QFontMetrics(axis.style["tickFont"]).height() / 2
    x = axis.mapFromScene(view.mapViewToScene(QPointF(0, 0))).x()
    assert x - half >= axis.boundingRect().left()  # the whole line of "001" is drawn


def test_imbalance_line_names_the_two_classes(qtbot, uneven):
    panel = loaded_data_panel(qtbot, uneven)
    label = panel.settings.imbalance_label
    qtbot.waitUntil(lambda: "Imbalance" in label.text(), timeout=WAIT_MS)
    text = label.text().replace("\u200b", "")  # where the line may wrap
    assert "80.0×" in text and f"('{BIG}' 80 / '001' 1)" in text  # whole names
    assert "5 of 6 classes" in text  # many small classes, not one outlier
    assert BIG in label.toolTip() and "'001', 1" in label.toolTip()


def test_thumbnails_of_every_class_name_their_class(qtbot, uneven):
    panel = loaded_data_panel(qtbot, uneven)
    model = panel.images.thumb_model
    shown = [model.data(model.index(r), Qt.ItemDataRole.DisplayRole)
             for r in range(model.rowCount())]
    assert "x\nx_000.png" in shown and f"{BIG}\n{BIG}_000.png" in shown
    assert panel.images.thumbs.delegate.lines == 2
    panel.images.show_class("x")
    assert model.data(model.index(0), Qt.ItemDataRole.DisplayRole) == "x_000.png"
    assert panel.images.thumbs.delegate.lines == 1
