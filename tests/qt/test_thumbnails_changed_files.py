"""A photo changed while the app is open (rotated in a viewer, saved again) shows its new
picture where its thumbnail is painted next: the Data tab's grid when the tab is shown
again, a Predict row when the file is classified again (until then the row keeps the picture
its result is of), Evaluate's largest losses when the table is painted again; a broken file
replaced by a good one shows too. A file is statted once a moment however often its cell is
painted (a view repaints on every hover)."""

from __future__ import annotations

import os

import pytest
from PIL import Image
from PySide6.QtCore import QSize, Qt

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


def _later(loader: ThumbnailLoader, seconds: float = 5.0) -> None:
    """``seconds`` later by ``loader``'s clock: the user back from the photo viewer."""
    now = loader.clock() + seconds
    loader.clock = lambda: now


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
    _later(loader)
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
    assert loader.get(path) is not None  # painted: the stat is reused for a moment
    _save(path, exif_orientation=6)
    # A caller holding a result of the old version (a Predict row) keeps its picture.
    assert _shape(loader.get(path, first)) == "landscape"
    # One holding a result of the new version (dropped again, at once) does not.
    assert loader.get(path, file_stamp(path)) is None
    assert loader.get(path) is None
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=WAIT_MS):
        loader.request(path)
    # Decoded again once: the new thumbnail holds for the file now, old result or not.
    assert _shape(loader.get(path, first)) == "portrait"
    assert loader.decoded_count == 2
    loader.shutdown()


def test_a_file_is_statted_once_a_moment_however_often_its_cell_is_painted(
        qtbot, tmp_path, monkeypatch):
    from workbench.qt import thumbnail_loader

    path = str(tmp_path / "IMG_0001.jpg")
    _save(path)
    loader = _decoded(qtbot, path)
    stats = []
    real = thumbnail_loader.file_stamp
    monkeypatch.setattr(thumbnail_loader, "file_stamp", lambda p: stats.append(p) or real(p))
    for _ in range(50):  # hover and scroll repaints (on a network share, ms each)
        assert loader.get(path) is not None and not loader.is_broken(path)
    assert len(stats) == 1
    _save(path, exif_orientation=6)
    _later(loader, 2.5)
    assert loader.get(path) is None  # a moment later: statted again, the change seen
    assert len(stats) == 2
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


def _icon_shape(item) -> str:
    """The shape of the picture on a largest-losses row's icon (a square, transparent
    around the thumbnail)."""
    image = item.icon().pixmap(QSize(64, 64)).toImage()
    seen = [(x, y) for x in range(image.width()) for y in range(image.height())
            if image.pixelColor(x, y).alpha()]
    if not seen:
        return "none"
    xs, ys = {x for x, _ in seen}, {y for _, y in seen}
    return "portrait" if len(ys) > len(xs) else "landscape"


def test_evaluates_largest_losses_show_a_photo_rotated_meanwhile(
        qtbot, make_evaluate_panel, workbench_home, bundle_path, tmp_path):
    folder = tmp_path / "photos"
    for name, colour in (("blue", (30, 30, 200)), ("green", (30, 200, 30)),
                         ("red", (200, 30, 30))):
        (folder / name).mkdir(parents=True)
        _save(str(folder / name / "IMG_0000.jpg"), colour=colour)
    path = str(folder / "red" / "IMG_0000.jpg")
    panel = make_evaluate_panel(bundle_path, str(folder))
    panel.resize(1000, 700)
    panel.show()
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS):
        panel.evaluate_button.click()
    panel.results.setCurrentWidget(panel.worst)
    table = panel.worst
    row = [e["path"] for e in table.entries].index(path)
    qtbot.waitUntil(lambda: _icon_shape(table.item(row, 0)) == "landscape", timeout=WAIT_MS)
    panel.hide()  # another tab, or the photo viewer
    _save(path, exif_orientation=6)
    panel.show()  # back: the row is painted, and the file decoded again
    qtbot.waitUntil(lambda: _icon_shape(table.item(row, 0)) == "portrait", timeout=WAIT_MS)
    # Turned back while the tab stays shown: seen when the table is next painted.
    _save(path, exif_orientation=1)
    _later(table.loader)
    table.viewport().update()
    qtbot.waitUntil(lambda: _icon_shape(table.item(row, 0)) == "landscape", timeout=WAIT_MS)


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
