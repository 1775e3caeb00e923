"""Predict rows with long class names and files of one name in many folders: the top-1
confidence stays in view, the bar labels use the row's free width, the tooltip has the
whole top 5, and rows of files alike show the folders that tell them apart."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from helpers import make_image_folder, random_bundle
from workbench.qt.panels.predict.delegate import (BAR_HEIGHT, LABEL_WIDTH, MIN_BAR, NAME_WIDTH,
                                                  PCT_WIDTH, bar_font, top_line)
from workbench.qt.panels.predict.model import ItemRole, shown_names
from workbench.qt.panels.predict.panel import PredictPanel

WAIT_MS = 30000
LONG = "Northern_rough-winged_swallow_juvenile"
LONGER = "Black-throated_blue_warbler_female_first_winter_plumage"


@pytest.fixture
def panel(qtbot, tmp_path, tiny_experiment):
    torch.manual_seed(0)
    bundle, _ = random_bundle(tmp_path / "long.pt", tiny_experiment.copy().validate(),
                              (LONG, LONGER, "x"))
    p = PredictPanel(str(bundle))
    qtbot.addWidget(p)
    p.resize(1366, 700)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()


def _classified(qtbot, panel, paths):
    with qtbot.waitSignal(panel.predictions_finished, timeout=WAIT_MS):
        panel.add_images([str(p) for p in paths])
    return panel.rows


def test_top1_line_keeps_its_confidence_and_labels_use_the_free_width(qtbot, panel,
                                                                      image_folder):
    [row] = _classified(qtbot, panel, [image_folder / "red" / "red_000.png"])
    metrics = QFontMetrics(panel.view.font())
    cls, prob = row.top[0]
    line = top_line(row.top[0], metrics, NAME_WIDTH)
    assert line.endswith(f"  {prob * 100:.1f}%")  # the number is never cut
    assert metrics.horizontalAdvance(line) <= NAME_WIDTH
    assert line == f"{cls}  {prob * 100:.1f}%" or line.split("…")[0] in cls
    # The bar labels are as wide as the longest class name, the row having the room.
    delegate = panel.view.itemDelegate()
    index = panel.view.model().index(0, 0)
    small = QFontMetrics(bar_font(panel.view.font()))
    room = panel.view.viewport().width() - (72 + NAME_WIDTH + 4 * 6)
    assert delegate.label_width(index, small, room) >= small.horizontalAdvance(LONGER)
    # A narrow row: the bars keep their room and the labels are cut instead.
    assert delegate.label_width(index, small, 400) <= 400 - MIN_BAR - PCT_WIDTH
    assert delegate.label_width(index, small, 200) == LABEL_WIDTH  # never less than before


def test_row_tooltip_lists_the_whole_top_five(qtbot, panel, image_folder):
    [row] = _classified(qtbot, panel, [image_folder / "blue" / "blue_000.png"])
    index = panel.view.model().index(0, 0)
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(row.path)
    for cls, prob in row.top:
        assert f"{prob * 100:.1f}%  {cls}" in tip
    assert LONGER in tip and LONG in tip


def test_files_of_one_name_show_their_folders(qtbot, panel, tmp_path):
    make_image_folder(tmp_path / "a", classes=("cats", "dogs"), per_class=1, size=16)
    make_image_folder(tmp_path / "b", classes=("cats",), per_class=1, size=16)
    cat = tmp_path / "a" / "cats" / "cats_000.png"
    dog = tmp_path / "a" / "dogs" / "dogs_000.png"
    copies = [tmp_path / "a" / "dogs" / cat.name, tmp_path / "z" / cat.name]
    for copy in copies:
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(cat.read_bytes())
    _classified(qtbot, panel, [cat, dog, tmp_path / "b" / "cats" / cat.name, *copies])
    model = panel.view.model()
    shown = {model.index(r, 0).data(ItemRole).path:
             model.index(r, 0).data(Qt.ItemDataRole.DisplayRole)
             for r in range(model.rowCount())}
    assert shown[str(dog)] == "dogs_000.png"  # a name of its own: as before
    assert shown[str(cat)] == "a/cats/cats_000.png"  # b/cats/ has one too
    assert shown[str(tmp_path / "b" / "cats" / cat.name)] == "b/cats/cats_000.png"
    assert shown[str(copies[0])] == "dogs/cats_000.png"
    assert shown[str(copies[1])] == "z/cats_000.png"


def test_shown_names_take_the_fewest_folders_that_differ():
    assert shown_names(["/d/a/img.png", "/d/b/img.png", "/d/b/other.png"]) == {
        "/d/a/img.png": "a/img.png", "/d/b/img.png": "b/img.png",
        "/d/b/other.png": "other.png"}
    assert shown_names(["/x/a/c/img.png", "/y/b/c/img.png"]) == {
        "/x/a/c/img.png": "a/c/img.png", "/y/b/c/img.png": "b/c/img.png"}


class _RecordingPainter(QPainter):
    """A painter that keeps what drawText and fillRect were asked (and still draws)."""

    def __init__(self, device):
        super().__init__(device)
        self.texts: list[tuple[QRect, str]] = []
        self.fills: list[QRect] = []

    def drawText(self, *args):  # noqa: N802  (Qt override)
        self.texts.append((QRect(args[0]), args[-1]))
        return super().drawText(*args)

    def fillRect(self, *args):  # noqa: N802  (Qt override)
        self.fills.append(QRect(args[0]))
        return super().fillRect(*args)


@pytest.mark.parametrize("width", [1100, 1366])
def test_the_top1_class_gets_the_room_the_bars_leave(qtbot, tmp_path, tiny_experiment,
                                                     image_folder, width):
    # At 1366 the top-1 class was cut at 170 px ("Northern_rough-winged_s… 13.5%") while
    # a third of the row right of the bars was blank.
    torch.manual_seed(0)
    classes = (LONG, "species_008_sparrow_adult_male_breeding", "x")
    bundle, _ = random_bundle(tmp_path / "m.pt", tiny_experiment.copy().validate(), classes)
    panel = PredictPanel(str(bundle))
    qtbot.addWidget(panel)
    panel.resize(width - 4, 700)  # the tab's room in a window 1100 or 1366 wide
    panel.show()
    qtbot.waitExposed(panel)
    rows = _classified(qtbot, panel, [image_folder / c / f"{c}_000.png"
                                      for c in ("red", "green", "blue")])
    view = panel.view
    for r, row in enumerate(rows):
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        index = view.model().index(r, 0)
        option.rect = QRect(0, 0, view.viewport().width(), view.visualRect(index).height())
        image = QImage(option.rect.size(), QImage.Format.Format_RGB32)
        painter = _RecordingPainter(image)
        view.itemDelegate().paint(painter, option, index)
        painter.end()
        texts = [t for _, t in painter.texts]
        cls, prob = row.top[0]
        assert f"{cls}  {prob * 100:.1f}%" in texts, texts  # the top-1 line, whole
        # Every bar and its percentage are whole, inside the row.
        for c, p in row.top:
            rect = next(rect for rect, t in painter.texts if t == f"{p * 100:.1f}%")
            assert option.rect.contains(rect)
        bars = [f for f in painter.fills if f.height() == BAR_HEIGHT]  # tracks, filled
        track = max(f.width() for f in bars)
        assert track >= MIN_BAR and sum(f.width() == track for f in bars) >= len(row.top)
        assert all(option.rect.contains(f) for f in bars)
    panel.shutdown()
