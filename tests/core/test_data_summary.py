"""Image size and colour-mode summary, from headers only."""

from __future__ import annotations

import pytest
from PIL import Image

from workbench.core.data.index import ScanCancelled
from workbench.core.data.summary import ImageSummary, summarize_images


def _save(path, mode="RGB", size=(32, 32), **kw):
    Image.new(mode, size).save(path, **kw)
    return str(path)


def test_uniform_dataset_in_one_line_each(tmp_path):
    paths = [_save(tmp_path / f"{i}.png") for i in range(4)]
    s = summarize_images(paths)
    assert s.count == 4 and s.unreadable == 0
    assert s.sizes == {(32, 32): 4} and s.modes == {"RGB": 4}
    assert s.describe() == ["4 images; sizes 32x32 (all)", "modes: RGB (all)"]


def test_mixed_sizes_modes_and_unreadable(tmp_path):
    paths = [_save(tmp_path / f"rgb{i}.png", size=(32, 32)) for i in range(3)]
    paths.append(_save(tmp_path / "gray.png", "L", size=(10, 20)))
    paths.append(_save(tmp_path / "wide.png", "RGB", size=(64, 16)))
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed a quarter turn round: 20x8 on disk is 8x20 on screen
    paths.append(_save(tmp_path / "rot.jpg", size=(20, 8), exif=exif))
    (tmp_path / "zero.png").write_bytes(b"")
    paths += [str(tmp_path / "zero.png"), str(tmp_path / "missing.png")]
    calls = []
    s = summarize_images(paths, progress=lambda d, t: calls.append((d, t)))
    assert s.count == 6 and s.unreadable == 2
    assert s.sizes == {(32, 32): 3, (10, 20): 1, (64, 16): 1, (8, 20): 1}
    assert s.modes == {"RGB": 5, "L": 1}
    assert (s.min_width, s.max_width, s.median_width) == (8, 64, 32)
    assert (s.min_height, s.max_height, s.median_height) == (16, 32, 20)
    lines = s.describe()
    assert lines[0] == "6 images; 4 sizes: 32x32 (3), 10x20 (1), 64x16 (1) and 1 more"
    assert lines[1] == "width 8-64 (median 32), height 16-32 (median 20)"
    assert lines[2] == "modes: RGB 5, L 1"
    assert lines[3] == "2 files could not be read"
    assert calls[-1] == (8, 8)


def test_headers_only_no_pixels_decoded(tmp_path, monkeypatch):
    paths = [_save(tmp_path / "a.png")]

    def no_load(self, *a, **k):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_load)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_load)
    assert summarize_images(paths).sizes == {(32, 32): 1}


def test_thousands_separators_and_empty():
    s = ImageSummary()
    assert s.describe() == ["no readable images"] and s.median_width is None
    s.sizes[(28, 28)] = 1000
    s.modes.update({"RGB": 990, "L": 10})
    assert s.describe() == ["1,000 images; sizes 28x28 (all)", "modes: RGB 990, L 10"]


def test_cancel(tmp_path):
    paths = [_save(tmp_path / "a.png")]
    with pytest.raises(ScanCancelled):
        summarize_images(paths, is_cancelled=lambda: True)
