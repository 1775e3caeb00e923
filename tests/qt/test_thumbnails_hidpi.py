"""Thumbnails on a HiDPI screen (150% or 200% scaling): decoded at their size in device
pixels and drawn 1:1, as sharp as the text beside them, in every view that shows them; at a
ratio of 1 they cost what they did.

The views are measured in a Qt of their own started with QT_SCALE_FACTOR=2 (the scale of a
process is fixed when its Qt starts): each draws a picture of 1-pixel black and white
stripes, which a thumbnail decoded at its logical size and enlarged by Qt shows as flat grey.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSize

from workbench.qt.thumbnails import ThumbnailLoader

ROOT = Path(__file__).resolve().parents[2]

#: Draws each view at QT_SCALE_FACTOR=2 and prints, per view, the contrast between
#: neighbouring device pixels across its thumbnail's middle line (255: every stripe kept,
#: 0: flat grey), and the size and ratio of the pixmap drawn.
SCRIPT = r'''
import json, sys, time
import numpy as np
from PIL import Image
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QApplication, QListView

app = QApplication([])
folder = sys.argv[1]

def stripes(side):
    path = f"{folder}/stripes_{side}.png"
    arr = np.zeros((side, side, 3), np.uint8)
    arr[:, ::2] = 255
    Image.fromarray(arr).save(path)
    return path

def wait(done, what):
    end = time.monotonic() + 30
    while not done():
        app.processEvents()
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)

def contrast(image, rect):
    """Mean |difference| of neighbouring device pixels across rect's middle line."""
    r = image.devicePixelRatio()
    y = round(rect.center().y() * r)
    xs = range(round((rect.left() + 4) * r), round((rect.right() - 4) * r))
    grey = [image.pixelColor(x, y).lightness() for x in xs]
    return sum(abs(a - b) for a, b in zip(grey, grey[1:])) / max(1, len(grey) - 1)

def pixmap_facts(pix):
    return [pix.width(), pix.height(), pix.devicePixelRatio()]

out = {"ratio": app.devicePixelRatio()}

# The Data tab's grid (88 px).
from workbench.qt.thumbnails import ThumbnailLoader, ThumbnailModel, ThumbnailView
view = ThumbnailView(size=88)
loader = ThumbnailLoader(view, size=88)
model = ThumbnailModel(loader, view)
view.setModel(model)
path = stripes(176)
model.set_samples([(path, 0)], ["a"])
view.resize(300, 200)
view.show()
wait(lambda: loader.get(path) is not None, "the grid's thumbnail")
app.processEvents()
cell = view.visualRect(model.index(0))
rect = view.delegate.pixmap_rect(loader.get(path).deviceIndependentSize().toSize(), cell)
out["data"] = [contrast(view.viewport().grab().toImage(), rect), pixmap_facts(loader.get(path))]

# Predict's rows (72 px).
from workbench.qt.panels.predict.delegate import PAD, THUMB, PredictionDelegate
from workbench.qt.panels.predict.model import PredictionModel
rows = QListView()
ploader = ThumbnailLoader(rows, size=THUMB)
pmodel = PredictionModel(ploader, rows)
rows.setModel(pmodel)
rows.setItemDelegate(PredictionDelegate(rows))
path = stripes(2 * THUMB)
pmodel.add([path])
rows.resize(700, 200)
rows.show()
wait(lambda: ploader.get(path) is not None, "Predict's thumbnail")
app.processEvents()
cell = rows.visualRect(pmodel.index(0))
box = QRect(cell.left() + PAD, cell.top() + PAD, THUMB, THUMB)
out["predict"] = [contrast(rows.viewport().grab().toImage(), box),
                  pixmap_facts(ploader.get(path))]

# The Health table (80 px).
from workbench.qt.panels.data.health.findings import Finding
from workbench.qt.panels.data.health.table import (IMAGES, THUMB as HT, FindingsModel,
                                                   FindingsTable, image_rects)
hloader = ThumbnailLoader(None, size=HT)
hmodel = FindingsModel(hloader)
table = FindingsTable(hmodel)
hloader.setParent(table)
path = stripes(2 * HT)
finding = Finding("tiny", (path,), ("a",), ("train",))
hmodel.set_findings([finding])
table.resize(900, 300)
table.show()
hmodel.loader.request(path)
wait(lambda: hloader.get(path) is not None, "the Health table's thumbnail")
table.viewport().update()
app.processEvents()
cell = table.visualRect(table.proxy.index(0, IMAGES))
out["health"] = [contrast(table.viewport().grab().toImage(), image_rects(finding, cell)[0]),
                 pixmap_facts(hloader.get(path))]

# Evaluate's largest losses (64 px): the icon the table draws.
from workbench.qt.panels.evaluate.views import WORST_THUMB, WorstLossesTable
worst = WorstLossesTable()
path = stripes(2 * WORST_THUMB)
class Result:
    classes = ["a", "b"]
    def worst(self, count, top=3):
        return [{"path": path, "true": "a", "predicted": "b", "loss": 2.0, "true_prob": 0.1,
                 "top": [{"class": "b", "prob": 0.9}]}]
worst.set_result(Result())
worst.show()
wait(lambda: worst.loader.get(path) is not None, "Evaluate's thumbnail")
app.processEvents()
icon = worst.item(0, 0).icon().pixmap(QSize(WORST_THUMB, WORST_THUMB), app.devicePixelRatio())
out["evaluate"] = [contrast(icon.toImage(), QRect(0, 0, WORST_THUMB, WORST_THUMB)),
                   pixmap_facts(icon)]

# The Augment tab's Original tile (112 px) and an Explain view.
from workbench.qt.panels.augment.tiles import TILE_PX, to_pixmap
arr = np.zeros((2 * TILE_PX, 2 * TILE_PX, 3), np.uint8)
arr[:, ::2] = 255
tile = to_pixmap(arr)
out["augment"] = [contrast(tile.toImage(), QRect(0, 0, TILE_PX, TILE_PX)), pixmap_facts(tile)]
from workbench.qt.panels.explain.views import ImageView
explain = ImageView(min_side=100)
explain.resize(100, 100)
explain.show()
explain.show_array(np.tile(np.array([0, 255], np.uint8), (100, 50)))
app.processEvents()
pix = explain.pixmap()
out["explain"] = [contrast(pix.toImage(), QRect(0, 0, 90, 90)), pixmap_facts(pix),
                  [explain.contentsRect().width(), explain.contentsRect().height()]]
print("RESULT " + json.dumps(out))
'''


@pytest.fixture(scope="module")
def at_200_percent(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("hidpi")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2",
           "WORKBENCH_HOME": str(folder / "home"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    assert done.returncode == 0 and line, done.stdout + done.stderr
    out = json.loads(line[-1][len("RESULT "):])
    assert out["ratio"] == 2.0
    return out


@pytest.mark.parametrize(("view", "side"), [("data", 88), ("predict", 72), ("health", 80),
                                            ("evaluate", 64), ("augment", 112)])
def test_thumbnails_are_drawn_at_the_screens_pixels_at_200_percent(at_200_percent, view,
                                                                   side):
    sharpness, (width, height, ratio) = at_200_percent[view][:2]
    assert (width, height, ratio) == (2 * side, 2 * side, 2.0), view
    assert sharpness > 200, f"{view}: the 1-pixel stripes are smeared ({sharpness:.0f})"


def test_an_explain_picture_fills_its_view_in_device_pixels(at_200_percent):
    sharpness, (width, height, ratio), (box_w, box_h) = at_200_percent["explain"]
    assert ratio == 2.0 and width == 2 * box_w and height == 2 * box_h
    assert sharpness > 100  # one stripe = 2 device pixels at least: one step between


def _stripes(path, side: int) -> str:
    arr = np.zeros((side, side, 3), np.uint8)
    arr[:, ::2] = 255
    Image.fromarray(arr).save(path)
    return str(path)


def _decode(qtbot, loader, path):
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=10000):
        loader.request(path)
    return loader.get(path)


def test_at_a_ratio_of_1_a_thumbnail_is_decoded_at_its_size(qtbot, tmp_path):
    loader = ThumbnailLoader(size=88)
    pix = _decode(qtbot, loader, _stripes(tmp_path / "a.png", 400))
    assert (pix.width(), pix.height(), pix.devicePixelRatio()) == (88, 88, 1.0)
    loader.shutdown()


def test_a_window_moved_to_another_screen_gets_thumbnails_for_its_ratio(qtbot, tmp_path):
    loader = ThumbnailLoader(size=40)
    path = _stripes(tmp_path / "a.png", 400)
    assert _decode(qtbot, loader, path).size() == QSize(40, 40)
    loader.pixel_ratio = lambda: 1.5  # the window is now on a 150% screen
    assert loader.get(path) is None  # made for the other screen: decoded again
    pix = _decode(qtbot, loader, path)
    assert (pix.width(), pix.devicePixelRatio()) == (60, 1.5)
    assert pix.deviceIndependentSize().toSize() == QSize(40, 40)  # the same place
    loader.shutdown()


def test_the_cache_holds_the_same_pixels_at_any_ratio(qtbot, tmp_path):
    loader = ThumbnailLoader(size=16, cache_size=8)
    loader.pixel_ratio = lambda: 2.0
    paths = [_stripes(tmp_path / f"{i}.png", 32) for i in range(3)]
    for p in paths:
        _decode(qtbot, loader, p)
    assert loader.get(paths[0]) is None  # 8 at a ratio of 1: 2 at 2, least recent gone
    assert loader.get(paths[1]) is not None and loader.get(paths[2]) is not None
    loader.shutdown()
