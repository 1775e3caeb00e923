"""What a screen reader hears of a Predict row and of a Model doctor finding, and the
Predict rows' colours on light, dark and mid-grey palettes.

A Predict row was heard as its file name only ("turn_left_00.jpg"): its class and
confidence are painted by the delegate and put in a tooltip, neither of which item
accessibility passes on. A doctor finding was heard as nothing at all: its text is in a
widget placed over an item with no text. The rows painted their bar labels and percentages
in #424242 (1.6:1 on a dark list), the top-1 line in #2e7d32 (3.1:1) and the waiting,
failed and cancelled messages in fixed colours (2.8 to 3.4:1), and a selected row kept
its light blue and the light text of a dark palette on it; the empty list's hint was #777
(3.9:1 even on the light window)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAccessible, QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import (QApplication, QLabel, QListView, QStyle,
                               QStyleOptionViewItem)

from workbench.qt.colours import contrast
from workbench.qt.panels.predict.delegate import PredictionDelegate
from workbench.qt.panels.predict.model import CANCELLED, QUEUED, PredictionModel
from workbench.qt.thumbnails import ThumbnailLoader

from qt_helpers import application_palette, shown_colour
from test_model_doctor_pane import FINDINGS, _doctor
from test_palette_colours import _palette, theme  # noqa: F401  (the fixture: each palette)

TOP = [("turn_right", 0.531), ("turn_left", 0.435), ("stop_sign", 0.034)]


def _rows(qtbot) -> tuple[QListView, PredictionModel]:
    """A Predict list of four rows: classified, failed, waiting, cancelled."""
    view = QListView()
    qtbot.addWidget(view)
    model = PredictionModel(ThumbnailLoader(view, size=72), view)
    view.setModel(model)
    view.setItemDelegate(PredictionDelegate(view))
    done, failed, queued, cancelled = model.add(
        [f"/photos/{n}.jpg" for n in ("turn_left_00", "notes", "stop_00", "stop_01")])
    done.set_result(TOP, None)
    failed.set_result([], "not an image (a text file?)")
    queued.set_pending(QUEUED, "Classifying…")
    cancelled.set_pending(CANCELLED, "Cancelled: not classified.")
    model.items_changed(model.items)
    view.resize(1100, 400)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def test_a_screen_reader_hears_each_predict_rows_result(qtbot):
    view, model = _rows(qtbot)
    face = QAccessible.queryAccessibleInterface(view)
    said = [(face.child(r).text(QAccessible.Text.Name),
             face.child(r).text(QAccessible.Text.Description)) for r in range(4)]
    assert said[0] == ("turn_left_00.jpg: turn_right 53.1%",
                       "Top 3: turn_right 53.1%, turn_left 43.5%, stop_sign 3.4%")
    assert said[1][0] == "notes.jpg: Cannot classify this file: not an image (a text file?)"
    assert said[2][0] == "stop_00.jpg: Classifying…"
    assert said[3][0] == "stop_01.jpg: Cancelled: not classified."
    assert said[1][1] == "/photos/notes.jpg"  # the whole path, where there is no top 5
    # A result that comes later is heard too.
    model.items[2].set_result([("stop_sign", 0.9)], None)
    model.items_changed([model.items[2]])
    assert face.child(2).text(QAccessible.Text.Name) == "stop_00.jpg: stop_sign 90.0%"


def test_a_screen_reader_hears_each_doctor_finding(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings(list(FINDINGS))
    face = QAccessible.queryAccessibleInterface(doctor.list)
    said = [(face.child(r).text(QAccessible.Text.Name),
             face.child(r).text(QAccessible.Text.Description)) for r in range(3)]
    assert said == [
        ("Warning: layer 5 (Dropout) drops 90% of its inputs", FINDINGS[1].explanation),
        ("Warning: layer 9 (Softmax) before CrossEntropyLoss", FINDINGS[2].explanation),
        ("Tip: layer 6 (Linear) is large", FINDINGS[0].explanation)]
    assert doctor.list.item(0).text() == ""  # nothing painted under the row's widget


class _PenPainter(QPainter):
    """A painter that keeps each text's pen colour and each filled rect's colour."""

    def __init__(self, device):
        super().__init__(device)
        self.texts: list[tuple[str, object]] = []
        self.fills: list[tuple[QRect, object]] = []

    def drawText(self, *args):  # noqa: N802  (Qt override)
        self.texts.append((args[-1], self.pen().color()))
        return super().drawText(*args)

    def fillRect(self, *args):  # noqa: N802  (Qt override)
        self.fills.append((QRect(args[0]), args[1]))
        return super().fillRect(*args)


def _painted(view, row: int, selected: bool = False) -> _PenPainter:
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    if selected:
        option.state |= QStyle.StateFlag.State_Selected
    index = view.model().index(row, 0)
    option.rect = QRect(0, 0, view.viewport().width(), view.visualRect(index).height())
    image = QImage(option.rect.size(), QImage.Format.Format_RGB32)
    painter = _PenPainter(image)
    view.itemDelegate().paint(painter, option, index)
    painter.end()
    return painter


def test_the_predict_rows_read_on_the_palette(qtbot, theme):  # noqa: F811
    view, _ = _rows(qtbot)
    rows = view.palette().color(QPalette.ColorRole.Base)
    ratios, bars = {}, []
    for row in range(4):
        painter = _painted(view, row)
        ratios.update({text[:30]: round(contrast(colour, rows), 2)
                       for text, colour in painter.texts})
        bars += painter.fills
    assert {"turn_left_00.jpg", "turn_right  53.1%", "turn_left", "43.5%"} <= set(ratios)
    assert any(t.startswith("Cannot classify") for t in ratios)
    assert min(ratios.values()) >= 4.5, (theme, ratios)
    # Both bars stand out from their track (3:1, as a graphic needs).
    track = QColor(max(bars, key=lambda f: f[0].width())[1])
    fills = {QColor(c).name() for _, c in bars if QColor(c) != track}
    assert len(fills) == 2  # the top-1 bar and the others
    assert min(contrast(track, QColor(c)) for c in fills) >= 3, (theme, track.name(), fills)
    # A selected row: its texts read on its highlight (light text on light blue, and the
    # green top-1 line at 3.2:1, before).
    for row in range(4):
        painter = _painted(view, row, selected=True)
        back = QColor(painter.fills[0][1])
        assert painter.fills[0][0] == QRect(0, 0, view.viewport().width(),
                                            view.visualRect(view.model().index(row, 0)).height())
        ratios = {text[:30]: round(contrast(colour, back), 2) for text, colour in painter.texts}
        assert min(ratios.values()) >= 4.5, (theme, "selected", ratios)


def test_the_empty_predict_lists_hint_reads_and_follows_the_palette(qtbot, theme):  # noqa: F811
    from workbench.qt.panels.predict.panel import PredictPanel

    panel = PredictPanel(None)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    label = next(w for w in panel.findChildren(QLabel) if "(Ctrl+V)" in w.text())
    assert label.isVisibleTo(panel)
    assert label.font().pointSizeF() == pytest.approx(14)

    def ratio() -> float:
        QApplication.processEvents()
        behind = label.palette().color(label.backgroundRole())
        return round(contrast(shown_colour(label), behind), 2)

    assert ratio() >= 4.5, theme
    for other in ("dark", "grey-a0", "light"):  # switched while shown
        with application_palette(_palette(other)):
            assert ratio() >= 4.5, (theme, other)
    panel.shutdown()
