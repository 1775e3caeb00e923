"""The Data tab's Settings column at a laptop's size with a large font: at 12-13 pt (or
125% scaling) the column was narrower than its form and could not scroll sideways, so the
spin boxes' arrows, "Compute from training split" and the imbalance line were cut at its
right edge, out of reach. Every setting now shows whole or can be scrolled to."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QApplication, QComboBox,
                               QLabel, QScrollArea, QWidget)

from helpers import make_image_folder
from qt_helpers import loaded_data_panel


def _settle(qtbot):
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(20)


def _column(panel) -> QScrollArea:
    """The scroll area the settings are in."""
    area = panel.settings.parentWidget()
    while not isinstance(area, QScrollArea):
        area = area.parentWidget()
    return area


def _unreachable(panel) -> list[str]:
    """The shown settings widgets that are cut at the column's right or bottom edge beyond
    what its scroll bars reach, or whose wrapped text is cut."""
    scroll = _column(panel)
    view = scroll.viewport()
    off = Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    sideways = 0 if scroll.horizontalScrollBarPolicy() == off else \
        scroll.horizontalScrollBar().maximum()
    reach = QRect(0, 0, view.width() + sideways,
                  view.height() + scroll.verticalScrollBar().maximum())
    page = scroll.widget()
    out = []
    for w in panel.settings.findChildren(QWidget):
        if not w.isVisible() or not isinstance(w, (QAbstractSpinBox, QComboBox,
                                                   QAbstractButton, QLabel)):
            continue
        rect = QRect(w.mapTo(page, QPoint(0, 0)), w.size())
        text = w.text() if hasattr(w, "text") else ""
        if not reach.contains(rect):
            out.append(f"{type(w).__name__} {text[:30]!r} at {rect} beyond {reach}")
        elif isinstance(w, QLabel) and w.wordWrap() and w.heightForWidth(w.width()) > w.height():
            out.append(f"{text[:30]!r}: its wrapped lines are cut")
    return out


@pytest.mark.parametrize("points, size", [(12, (1093, 614)), (13, (1093, 614)),
                                          (12, (1040, 480)), (9, (1040, 480))])
def test_every_data_setting_shows_whole_at_a_large_font(qtbot, tmp_path, points, size):
    # A train/ + val/ folder: its "Use the folder's own train/ and val/" box shows too.
    root = tmp_path / "pets"
    make_image_folder(root / "train", per_class=8, size=24)
    make_image_folder(root / "val", per_class=3, size=24, seed=1)
    panel = loaded_data_panel(qtbot, root)
    font = panel.font()
    font.setPointSizeF(points)
    panel.setFont(font)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    _settle(qtbot)
    settings = panel.settings
    assert settings.folder_split.isVisible() and settings.imbalance_label.text()
    assert not _unreachable(panel), _unreachable(panel)
    # Wide enough for its form: nothing needs scrolling sideways at a laptop's width.
    assert _column(panel).horizontalScrollBar().maximum() == 0
    for w in (settings.val_fraction, settings.seed, settings.compute_button,
              settings.balance_combo):
        _column(panel).ensureWidgetVisible(w, 0, 0)  # scrolled to, if below
        _settle(qtbot)
        assert w.visibleRegion().boundingRect().size() == w.size(), w
