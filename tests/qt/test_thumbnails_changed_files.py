"""A photo changed while the app is open (rotated in a viewer, saved again) shows its new
picture where its thumbnail is painted next: the Data tab's grid when the tab is shown
again, a Predict row when the file is classified again (until then the row keeps the picture
its result is of); a broken file replaced by a good one shows too."""

from __future__ import annotations

import os

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from qt_helpers import loaded_data_panel, thumbnail_view
from workbench.core.io import file_stamp
from workbench.qt.panels.predict.panel import PredictPanel
from workbench.qt.thumbnails import ThumbnailLoader

WAIT_MS = 30000
DECORATION = Qt.ItemDataRole.DecorationRole


def _save(path, exif_orientation=None, colour=(200, 30, 30)) -> None:
    """A landscape 60x40 JPEG (portrait once its Orientation tag says 6), saved as a photo
    viewer does, a moment after the version before it."""
    before = file_stamp(path)
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    Image.new("RGB", (60, 40), colour).save(path, quality=90, exif=exif.tobytes())
    if before is not None:  # a later time, whatever the file system's clock tick
        os.utime(path, ns=(before[0] + 2_000_000_000, before[0] + 2_000_000_000))


def _shape(pix) -> str:
    if pix is None or pix.isNull():
        return "none"
    return "portrait" if pix.height() > pix.width() else "landscape"


def _decoded(qtbot, path: str) -> ThumbnailLoader:
    loader = ThumbnailLoader(size=32)
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=WAIT_MS):
        loader.request(path)
    return loader


def test_a_changed_files_thumbnail_is_forgotten_and_decoded_once_again(qtbot, tmp_path):
    path = str(tmp_path / "IMG_0001.jpg")
    _save(path)
    loader = _decoded(qtbot, path)
    assert _shape(loader.get(path)) == "landscape"
    _save(path, exif_orientation=6)
    assert loader.get(path) is None  # the file changed: forgotten
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=WAIT_MS):
        loader.request(path)
    assert _shape(loader.get(path)) == "portrait"
    loader.request(path)  # unchanged since: not decoded a third time
    assert loader.decoded_count == 2
    loader.shutdown()


def test_a_thumbnail_of_the_version_a_result_is_of_is_kept(qtbot, tmp_path):
    path = str(tmp_path / "IMG_0001.jpg")
    _save(path)
    loader = _decoded(qtbot, path)
    first = file_stamp(path)
    _save(path, exif_orientation=6)
    # A caller holding a result of the old version (a Predict row) keeps its picture.
    assert _shape(loader.get(path, first)) == "landscape"
    assert loader.get(path) is None
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=WAIT_MS):
        loader.request(path)
    # Decoded again once: the new thumbnail holds for the file now, old result or not.
    assert _shape(loader.get(path, first)) == "portrait"
    assert loader.decoded_count == 2
    loader.shutdown()


def test_the_grid_shows_a_photo_rotated_meanwhile_when_shown_again(qtbot, tmp_path):
    path = str(tmp_path / "IMG_0001.jpg")
    _save(path)
    view, model, loader = thumbnail_view(qtbot, 48)
    model.set_samples([(path, 0)], ["circle"])
    view.resize(240, 200)
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=WAIT_MS):
        view.show()
    assert _shape(model.data(model.index(0), DECORATION)) == "landscape"
    view.hide()  # another tab, or another program
    _save(path, exif_orientation=6)  # rotated in the photo viewer
    view.show()  # back: its cell is painted, and the file decoded again
    qtbot.waitUntil(lambda: loader.decoded_count == 2, timeout=WAIT_MS)
    assert _shape(model.data(model.index(0), DECORATION)) == "portrait"


def test_a_broken_file_replaced_by_a_photo_shows_it(qtbot, tmp_path):
    path = str(tmp_path / "IMG_0002.jpg")
    with open(path, "wb") as f:
        f.write(b"half a download")
    view, model, loader = thumbnail_view(qtbot, 48)
    model.set_samples([(path, 0)], ["circle"])
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=WAIT_MS):
        view.show()
    assert loader.is_broken(path)
    view.hide()
    _save(path)
    view.show()
    qtbot.waitUntil(lambda: loader.get(path) is not None, timeout=WAIT_MS)
    assert not loader.is_broken(path)
    assert "cannot be decoded" not in model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)


def test_the_data_tab_shows_a_photo_rotated_while_it_was_hidden(qtbot, tmp_path):
    folder = tmp_path / "photos"
    for name in ("circle", "square"):
        (folder / name).mkdir(parents=True)
        for i in range(2):
            _save(str(folder / name / f"IMG_000{i}.jpg"))
    panel = loaded_data_panel(qtbot, folder)
    panel.images.show_class("circle")
    path = str(folder / "circle" / "IMG_0000.jpg")
    panel.resize(1200, 700)
    panel.show()
    qtbot.waitUntil(lambda: panel.loader.get(path) is not None, timeout=WAIT_MS)
    assert _shape(panel.loader.get(path)) == "landscape"
    panel.hide()  # the Augment tab
    _save(path, exif_orientation=6)
    panel.show()  # the Data tab again: no file added or removed, so no rescan
    qtbot.waitUntil(lambda: _shape(panel.loader.get(path)) == "portrait", timeout=WAIT_MS)


@pytest.fixture
def predict_panel(qtbot, bundle_path):
    p = PredictPanel(bundle_path)
    qtbot.addWidget(p)
    p.resize(900, 500)
    p.show()
    yield p
    p.shutdown()


def test_a_predict_row_shows_the_picture_it_classified(qtbot, predict_panel, tmp_path):
    panel, path = predict_panel, str(tmp_path / "side.jpg")
    _save(path)
    with qtbot.waitSignal(panel.predictions_finished, timeout=WAIT_MS):
        panel.add_images([path])
    [row] = panel.rows
    qtbot.waitUntil(lambda: panel.loader.get(path) is not None, timeout=WAIT_MS)
    assert _shape(panel.model.thumbnail(row)) == "landscape"
    _save(path, exif_orientation=6)
    # Not classified again yet: the row keeps the picture its result is of.
    assert _shape(panel.model.thumbnail(row)) == "landscape"
    with qtbot.waitSignal(panel.predictions_finished, timeout=WAIT_MS):
        panel.add_images([path])  # dropped again: classified again, in its row
    assert panel.rows == [row]
    qtbot.waitUntil(lambda: _shape(panel.model.thumbnail(row)) == "portrait",
                    timeout=WAIT_MS)
    assert row.classified_stamp == file_stamp(path)
