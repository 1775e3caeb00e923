"""Thumbnail grid: lazy decoding of the visible rows only, placeholders, cache, broken files."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from workbench.core.errors import ImageDecodeError
from qt_helpers import thumbnail_view
from workbench.qt.thumbnails import ThumbnailLoader, decode_thumbnail

DECORATION = Qt.ItemDataRole.DecorationRole


def _grid(qtbot, samples, classes=("a",), size=48, cache_size=2000):
    view, model, loader = thumbnail_view(qtbot, size, cache_size=cache_size)
    model.set_samples(samples, list(classes))
    return loader, model, view


@pytest.fixture
def many_files(tmp_path):
    """2,000 copies of one tiny PNG (copying is far cheaper than encoding each)."""
    folder = tmp_path / "many"
    folder.mkdir()
    first = folder / "img_0000.png"
    Image.new("RGB", (8, 8), (200, 30, 30)).save(first)
    paths = [str(first)]
    for i in range(1, 2000):
        dst = folder / f"img_{i:04d}.png"
        shutil.copyfile(first, dst)
        paths.append(str(dst))
    return paths


def test_a_2000_file_folder_is_listed_without_decoding_it(qtbot, many_files):
    loader, model, view = _grid(qtbot, [(p, 0) for p in many_files])
    assert model.rowCount() == 2000
    assert loader.decoded_count == 0  # listing decodes nothing
    view.resize(220, 160)
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=10000):
        view.show()
    qtbot.waitUntil(lambda: loader.get(many_files[0]) is not None, timeout=10000)
    # Only the rows on screen (a few dozen at most) were asked for, not all 2,000.
    assert 0 < loader.decoded_count < 100
    assert sum(loader.get(p) is not None for p in many_files) < 100
    assert loader.get(many_files[1000]) is None  # far off screen


def test_placeholder_until_decoded_then_the_thumbnail(qtbot, tmp_path):
    path = tmp_path / "blue.png"
    Image.new("RGB", (30, 20), (20, 40, 230)).save(path)
    loader, model, _ = _grid(qtbot, [(str(path), 0)])
    with qtbot.waitSignal(model.dataChanged, timeout=10000):
        placeholder = model.data(model.index(0), DECORATION)
    assert loader.get(str(path)) is None or placeholder is not loader.get(str(path))
    pix = model.data(model.index(0), DECORATION)
    assert pix is loader.get(str(path))
    image = pix.toImage()
    assert max(image.width(), image.height()) <= 48
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    assert colour.blue() > 200 and colour.red() < 60  # the image, not the grey placeholder
    assert model.data(model.index(0), Qt.ItemDataRole.DisplayRole) == "blue.png"


def test_broken_file_gets_a_broken_icon_and_says_so(qtbot, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageDecodeError):
        decode_thumbnail(str(bad))
    loader, model, _ = _grid(qtbot, [(str(bad), 0)])
    with qtbot.waitSignal(loader.thumbnail_ready, timeout=10000):
        model.data(model.index(0), DECORATION)
    assert loader.is_broken(str(bad))
    assert "cannot be decoded" in model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(0), DECORATION) is not None


def test_odd_images_make_thumbnails(tmp_path):
    import numpy as np

    sixteen = tmp_path / "deep.png"
    Image.fromarray(np.full((10, 10), 60000, dtype=np.uint16)).save(sixteen)
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (10, 10), (0, 255, 255, 0)).save(cmyk)
    rgba = tmp_path / "clear.png"
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(rgba)
    for path, expect in ((sixteen, (233, 233, 233)), (cmyk, (255, 0, 0)),
                         (rgba, (255, 255, 255))):
        image = decode_thumbnail(str(path), 40)
        assert image.width() == 40  # a tiny image is enlarged by a whole factor
        c = image.pixelColor(5, 5)
        assert all(abs(a - b) < 30 for a, b in zip((c.red(), c.green(), c.blue()), expect))


def test_cache_keeps_the_most_recent_thumbnails(qtbot, tmp_path):
    paths = []
    for i in range(3):
        p = tmp_path / f"{i}.png"
        Image.new("L", (4, 4), i * 100).save(p)
        paths.append(str(p))
    loader = ThumbnailLoader(size=16, cache_size=2)
    for p in paths:
        with qtbot.waitSignal(loader.thumbnail_ready, timeout=10000):
            loader.request(p)
    assert loader.get(paths[0]) is None  # evicted, least recently used
    assert loader.get(paths[1]) is not None and loader.get(paths[2]) is not None
    loader.shutdown()


def test_a_huge_images_thumbnail_waits_for_another_huge_decode(tmp_path, monkeypatch):
    # A 200-megapixel PNG is 600 MB decoded: thumbnails decode through the training loader,
    # whose huge decodes run one at a time (the thumbnail threads each held their own).
    import threading

    from workbench.core.data import images

    monkeypatch.setattr(images, "BIG_DECODE_PIXELS", 100)  # 20x20 counts as huge here
    path = tmp_path / "big.png"
    Image.new("RGB", (20, 20), (200, 10, 10)).save(path)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (decode_thumbnail(str(path), 16), done.set()))
    with images._BIG_DECODE:  # another huge image is being decoded
        worker.start()
        assert not done.wait(0.3)
    worker.join(10)
    assert done.is_set()
    assert decode_thumbnail(str(path), 16).pixelColor(4, 4).red() > 150
