"""Decoding single images: colour modes, EXIF orientation and readable failure reasons."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from workbench.core.data.images import IMG_EXTENSIONS, is_image_file, load_image, to_channels
from workbench.core.errors import ImageDecodeError, WorkbenchError


def _save(img: Image.Image, path, **kw) -> str:
    img.save(path, **kw)
    return str(path)


def test_extensions_match_torchvision_and_any_case():
    from torchvision.datasets.folder import IMG_EXTENSIONS as TV

    assert set(IMG_EXTENSIONS) == set(TV)
    assert is_image_file("a/B.JPG") and is_image_file("x.WebP") and is_image_file("y.tiff")
    assert not is_image_file("notes.txt") and not is_image_file("a.png.bak")
    assert is_image_file("anim.GIF")  # accepted as an addition (first frame)
    assert ".gif" not in IMG_EXTENSIONS  # ...but not one of ImageFolder's own


def test_hidden_names():
    from workbench.core.data.images import is_hidden

    for name in (".DS_Store", "._photo.jpg", "Thumbs.db", "a/b/.hidden.png", "desktop.ini"):
        assert is_hidden(name), name
    for name in ("photo.jpg", "a.b.png", "dir/x.png"):
        assert not is_hidden(name), name


def test_rgb_file_loads_exactly_and_detached_from_the_file(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = _save(Image.fromarray(arr, "RGB"), tmp_path / "a.png")
    img = load_image(path, 3)
    os.remove(path)  # the pixels must already be in memory
    assert img.mode == "RGB" and img.size == (7, 5)
    assert np.array_equal(np.asarray(img), arr)


def test_rgb_to_one_channel_uses_luma(tmp_path):
    path = _save(Image.new("RGB", (4, 4), (255, 0, 0)), tmp_path / "red.png")
    img = load_image(path, 1)
    assert img.mode == "L"
    assert np.asarray(img)[0, 0] == 76  # ITU-R 601: 0.299 * 255


def test_grayscale_file_to_three_equal_channels(tmp_path):
    path = _save(Image.new("L", (3, 2), 200), tmp_path / "g.pgm")
    img = load_image(path, 3)
    assert img.mode == "RGB"
    assert (np.asarray(img) == 200).all()


def test_rgba_is_composited_on_white(tmp_path):
    arr = np.zeros((1, 3, 4), np.uint8)
    arr[0, 0] = (255, 0, 0, 255)  # opaque red
    arr[0, 1] = (0, 0, 0, 0)  # fully transparent (hidden black)
    arr[0, 2] = (0, 0, 255, 128)  # half-transparent blue
    path = _save(Image.fromarray(arr, "RGBA"), tmp_path / "a.png")
    out = np.asarray(load_image(path, 3)).astype(int)
    assert out[0, 0].tolist() == [255, 0, 0]
    assert out[0, 1].tolist() == [255, 255, 255]
    assert abs(out[0, 2] - [127, 127, 255]).max() <= 1
    gray = load_image(path, 1)
    assert gray.mode == "L" and np.asarray(gray)[0, 1] == 255


def test_la_and_palette_with_transparency(tmp_path):
    la = Image.fromarray(np.array([[[10, 255], [10, 0]]], np.uint8), "LA")
    out = np.asarray(load_image(_save(la, tmp_path / "la.png"), 1))
    assert out.tolist() == [[10, 255]]

    pal = Image.new("P", (2, 1))
    pal.putpalette([0, 255, 0, 9, 9, 9] + [0] * 762)
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    path = _save(pal, tmp_path / "p.png", transparency=1)
    out = np.asarray(load_image(path, 3))
    assert out[0, 0].tolist() == [0, 255, 0] and out[0, 1].tolist() == [255, 255, 255]
    assert load_image(path, 1).mode == "L"


def test_palette_without_transparency_keeps_colours(tmp_path):
    pal = Image.new("P", (1, 1))
    pal.putpalette([12, 34, 56] + [0] * 765)
    assert np.asarray(load_image(_save(pal, tmp_path / "p.bmp"), 3))[0, 0].tolist() == \
        [12, 34, 56]


def test_16bit_grayscale_is_scaled_not_clipped(tmp_path):
    arr = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    path = _save(Image.fromarray(arr), tmp_path / "deep.png")
    assert Image.open(path).mode.startswith("I")
    out = np.asarray(load_image(path, 1))
    assert out.tolist() == [[0, 128, 255]]
    assert np.asarray(load_image(path, 3))[0, 1].tolist() == [128, 128, 128]


def test_float_image_in_unit_range_is_scaled(tmp_path):
    arr = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    path = _save(Image.fromarray(arr, "F"), tmp_path / "f.tif")
    assert np.asarray(load_image(path, 1)).tolist() == [[0, 128, 255]]


def test_bilevel_and_cmyk(tmp_path):
    bw = Image.new("1", (2, 1), 0)
    bw.putpixel((1, 0), 1)
    assert np.asarray(load_image(_save(bw, tmp_path / "b.png"), 1)).tolist() == [[0, 255]]
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))  # red
    rgb = np.asarray(load_image(_save(cmyk, tmp_path / "c.jpg"), 3)).astype(int)
    assert rgb[0, 0, 0] > 200 and rgb[0, 0, 1] < 60 and rgb[0, 0, 2] < 60


def test_exif_orientation_is_honoured(tmp_path):
    img = Image.new("RGB", (40, 20), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display rotated 90 degrees clockwise
    path = _save(img, tmp_path / "o.jpg", exif=exif, quality=95)
    out = load_image(path, 3)
    assert out.size == (20, 40)
    arr = np.asarray(out).astype(int)
    assert arr[5, 10, 0] > 200 and arr[5, 10, 2] < 60  # red ends up on top
    assert arr[35, 10, 2] > 200 and arr[35, 10, 0] < 60


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    (lambda p: p.write_text("<html>not really</html>"), "not an image file"),
    (None, "truncated or corrupt image"),
    (lambda p: None, "file not found"),
])
def test_failures_raise_with_reason(tmp_path, make, reason):
    path = tmp_path / "bad.png"
    if make is None:  # the first half of a real PNG
        buf = tmp_path / "good.png"
        arr = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        Image.fromarray(arr).save(buf)
        data = buf.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        make(path)
    with pytest.raises(ImageDecodeError) as info:
        load_image(path, 3)
    assert info.value.reason.startswith(reason)
    assert info.value.path == str(path)
    assert isinstance(info.value, WorkbenchError) and str(path) in str(info.value)


def test_a_folder_with_an_image_name_is_reported(tmp_path):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageDecodeError):
        load_image(tmp_path / "dir.png", 3)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_no_file_handles_leak(tmp_path):
    good = _save(Image.new("RGB", (4, 4)), tmp_path / "g.png")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0garbage")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        load_image(good, 3)
        with pytest.raises(ImageDecodeError):
            load_image(bad, 3)
    assert len(os.listdir("/proc/self/fd")) == before


def test_to_channels_rejects_bad_channel_counts():
    with pytest.raises(ValueError):
        to_channels(Image.new("RGB", (1, 1)), 2)
    same = Image.new("L", (1, 1))
    assert to_channels(same, 1) is same  # nothing to do: no copy
