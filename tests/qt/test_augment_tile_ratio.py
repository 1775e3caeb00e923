"""The Augment tiles are made at the device pixels of the screen they are on, not at the
highest ratio of all screens (a 1x laptop screen beside a 2x monitor: made at 2x, then
shrunk by the label when painted), and made again when the window moves to a screen of
another ratio (review-qt, item 9); Explain's picture too."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel

from workbench.qt.panels.augment.tiles import TILE_PX

STRIPES = np.zeros((2 * TILE_PX, 2 * TILE_PX, 3), np.uint8)
STRIPES[:, ::2] = 255


def _made(monkeypatch) -> dict:
    """label -> (width, ratio) of the last pixmap given to it (QLabel.pixmap() gives it back
    at the label's own screen's ratio, whatever it was made at)."""
    made: dict = {}
    set_pixmap = QLabel.setPixmap

    def record(label, pixmap):
        made[label] = (pixmap.width(), pixmap.devicePixelRatio())
        set_pixmap(label, pixmap)
    monkeypatch.setattr(QLabel, "setPixmap", record)
    # A 2x monitor attached: the application's ratio is the highest of its screens'.
    monkeypatch.setattr(QGuiApplication, "devicePixelRatio", lambda self: 2.0)
    return made


def test_a_tile_is_made_at_its_own_screens_ratio_and_again_on_another(qtbot, monkeypatch):
    from workbench.qt.panels.augment.tiles import Tile

    made = _made(monkeypatch)
    tile = Tile()
    qtbot.addWidget(tile)
    ratio = {"tile": 1.0}
    monkeypatch.setattr(Tile, "devicePixelRatioF", lambda self: ratio["tile"])
    tile.show_array(STRIPES)
    assert made[tile] == (TILE_PX, 1.0)  # the tile's 1x screen: drawn 1:1, not shrunk
    ratio["tile"] = 2.0  # the window dragged onto the 2x monitor
    QApplication.sendEvent(tile, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert made[tile] == (2 * TILE_PX, 2.0)
    tile.show_array(None)
    assert tile.pixmap().isNull()
    QApplication.sendEvent(tile, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert tile.pixmap().isNull()  # a cleared tile stays clear


def test_the_preview_makes_its_tiles_at_their_screens_ratio(qtbot, monkeypatch,
                                                           tiny_experiment):
    from workbench.qt.panels.augment.panel import AugmentPanel

    made = _made(monkeypatch)
    panel = AugmentPanel(tiny_experiment)
    qtbot.addWidget(panel)
    panel.show()
    preview = panel.preview
    tiles = [preview.original, preview.eval_tile, *preview.tiles]
    qtbot.waitUntil(lambda: all(t in made for t in tiles), timeout=60000)
    assert {made[t][1] for t in tiles} == {preview.original.devicePixelRatioF()} == {1.0}


def test_explains_view_is_drawn_again_on_a_screen_of_another_ratio(qtbot, monkeypatch):
    # Its rebuild was in changeEvent, which QWidget never passes this event on to.
    from workbench.qt.panels.explain.views import ImageView

    made = _made(monkeypatch)
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(300, 300)
    ratio = {"view": 1.0}
    monkeypatch.setattr(ImageView, "devicePixelRatioF", lambda self: ratio["view"])
    view.show_array(STRIPES)
    width = made[view][0]
    assert made[view][1] == 1.0
    ratio["view"] = 2.0
    QApplication.sendEvent(view, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert made[view] == (2 * width, 2.0)
