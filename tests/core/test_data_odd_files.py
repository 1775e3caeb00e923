"""Odd but valid images, broken files and messy folders: what the scan, load_image and the
training data loader do with each kind (every file is generated here, all tiny)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from workbench.core.data.dataset import ImageDataset, collate_skip_bad
from workbench.core.data.images import load_image
from workbench.core.data.scan import scan_folder
from workbench.core.errors import ImageDecodeError

RED = (255, 0, 0)


def _exif_rotated(p):
    img = Image.new("RGB", (8, 4), (0, 0, 255))
    img.paste(RED, (0, 0, 4, 4))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90 degrees clockwise: red ends up on top
    img.save(p, exif=exif, quality=95)


def _animated_gif(p):
    frames = [Image.new("RGB", (4, 4), RED), Image.new("RGB", (4, 4), (0, 0, 255))]
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=40, loop=0)


def _palette_transparent(p):
    pal = Image.new("P", (2, 2), 0)
    pal.putpalette([255, 0, 0, 0, 0, 0] + [0] * 762)
    pal.putpixel((1, 1), 1)
    pal.save(p, transparency=1)


#: file name -> (writer, expected displayed size (w, h), expected RGB at pixel (0, 0))
ODD = {
    "deep16.png": (lambda p: Image.fromarray(np.full((3, 5), 65535, np.uint16)).save(p),
                   (5, 3), (255, 255, 255)),
    "cmyk.jpg": (lambda p: Image.new("CMYK", (4, 4), (0, 255, 255, 0)).save(p), (4, 4), RED),
    "palette_alpha.png": (_palette_transparent, (2, 2), RED),
    "rgba.png": (lambda p: Image.new("RGBA", (3, 3), (255, 0, 0, 0)).save(p), (3, 3),
                 (255, 255, 255)),  # fully transparent: white, not the hidden red
    "la.png": (lambda p: Image.new("LA", (3, 2), (0, 255)).save(p), (3, 2), (0, 0, 0)),
    "one_pixel.png": (lambda p: Image.new("RGB", (1, 1), RED).save(p), (1, 1), RED),
    "rotated.jpg": (_exif_rotated, (4, 8), RED),
    "animated.gif": (_animated_gif, (4, 4), RED),  # the first frame
    "UPPER.PNG": (lambda p: Image.new("RGB", (2, 2), RED).save(p, format="PNG"), (2, 2), RED),
    "SHOUT.JPEG": (lambda p: Image.new("RGB", (8, 8), RED).save(p, format="JPEG"), (8, 8),
                   RED),
    "with space ü 猫.png": (lambda p: Image.new("RGB", (2, 3), RED).save(p), (2, 3), RED),
    # With small_bomb_limit: over Pillow's warning threshold, under the limit (a 200 MP
    # photo at the real ones), so decoded, and no warning printed.
    "big_photo.png": (lambda p: Image.new("RGB", (30, 30), RED).save(p), (30, 30), RED),
}


def _truncated(p):
    arr = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(arr).save(p, format="PNG")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


#: file name -> (writer, start of the reason); the bombs assume small_bomb_limit
BROKEN = {
    "zero.png": (lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    "truncated.png": (_truncated, "truncated or corrupt image"),
    "text.jpg": (lambda p: p.write_text("<html>a web page</html>"), "not an image file"),
    "bomb.png": (lambda p: Image.new("L", (40, 40)).save(p),
                 "decompression bomb: 1,600 pixels, over the limit of 1,000"),
    "bomb_big.png": (lambda p: Image.new("L", (50, 50)).save(p),
                     "decompression bomb: 2,500 pixels, over the limit of 1,000"),
}


@pytest.fixture
def small_bomb_limit(monkeypatch):
    # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that, the limit
    # (workbench.core.data.images.pixel_limit); a small one makes tiny files count as bombs
    # or as huge photos, so the test writes a few bytes, not gigabytes.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)


def _write(folder, table):
    folder.mkdir(parents=True, exist_ok=True)
    for name, (writer, *_rest) in table.items():
        writer(folder / name)


def _tree(root):
    _write(root / "odd", ODD)
    _write(root / "plain", BROKEN)
    for i in range(2):
        Image.new("RGB", (4, 4), (0, 200, 0)).save(root / "plain" / f"ok{i}.png")
    junk = root / "plain"
    (junk / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (junk / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (junk / "._ok0.png").write_bytes(b"\0\5\26\7AppleDouble")  # macOS resource fork
    (junk / "notes.txt").write_text("stray")
    (junk / "ok0.png.bak").write_bytes(b"x")
    (junk / ".thumbnails").mkdir()
    Image.new("RGB", (2, 2)).save(junk / ".thumbnails" / "t.png")
    (root / ".hidden_class").mkdir()
    Image.new("RGB", (2, 2)).save(root / ".hidden_class" / "h.png")
    (root / "empty").mkdir()
    (root / "empty" / "readme.txt").write_text("no images")


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")  # none printed
def test_scan_verify_keeps_odd_files_and_reports_broken_ones(tmp_path, small_bomb_limit):
    root = tmp_path / "data"
    _tree(root)
    index = scan_folder(root, verify=True)
    assert index.classes == ["odd", "plain"]
    assert index.empty_classes == ["empty"]
    names = {os.path.basename(p): label for p, label in index.samples}
    assert names == {**dict.fromkeys(ODD, 0), "ok0.png": 1, "ok1.png": 1}
    reasons = {os.path.basename(u.path): u.reason for u in index.unreadable}
    assert set(reasons) == set(BROKEN)  # hidden and stray files are not "unreadable"
    for name, (_, reason) in BROKEN.items():
        assert reasons[name].startswith(reason), (name, reasons[name])
    index.check_trainable()


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")  # none printed
def test_listing_without_verify_ignores_hidden_and_stray_files(tmp_path, small_bomb_limit):
    root = tmp_path / "data"
    _tree(root)
    index = scan_folder(root)
    names = sorted(os.path.basename(p) for p, _ in index.samples)
    assert names == sorted([*ODD, *BROKEN, "ok0.png", "ok1.png"])


@pytest.mark.parametrize("name", list(ODD))
@pytest.mark.parametrize("channels", [1, 3])
def test_odd_images_load_upright_and_converted(tmp_path, name, channels):
    writer, size, rgb = ODD[name]
    path = tmp_path / name
    writer(path)
    img = load_image(path, channels)
    assert img.mode == ("RGB" if channels == 3 else "L")
    assert img.size == size
    px = np.asarray(load_image(path, 3)).astype(int)[0, 0]
    assert np.abs(px - rgb).max() <= 40, (name, px.tolist())


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")  # none printed
@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_files_raise_with_reason(tmp_path, small_bomb_limit, name):
    writer, reason = BROKEN[name]
    path = tmp_path / name
    writer(path)
    with pytest.raises(ImageDecodeError) as info:
        load_image(path, 3)
    assert info.value.reason.startswith(reason)
    assert str(path) in str(info.value)


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")  # none printed
def test_training_loader_keeps_odd_images_and_skips_broken_ones(tmp_path, small_bomb_limit):
    import torch
    from torch.utils.data import DataLoader
    from torchvision.transforms import v2

    root = tmp_path / "data"
    _tree(root)
    index = scan_folder(root)  # no verify: bad files are met at training time
    transform = v2.Compose([v2.PILToTensor(), v2.Resize((8, 8), antialias=True),
                            v2.ToDtype(torch.float32, scale=True)])
    for channels in (1, 3):
        loader = DataLoader(ImageDataset(index.samples, transform, channels),
                            batch_size=64, collate_fn=collate_skip_bad)
        (x, y, skipped), = list(loader)
        assert x.shape == (len(ODD) + 2, channels, 8, 8)
        assert y.tolist() == [0] * len(ODD) + [1, 1]
        assert {os.path.basename(p) for p, _ in skipped} == set(BROKEN)
        for p, reason in skipped:
            assert reason.startswith(BROKEN[os.path.basename(p)][1])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loops_neither_hang_nor_crash(tmp_path):
    for c in "ab":
        (tmp_path / c).mkdir()
        Image.new("RGB", (2, 2)).save(tmp_path / c / "1.png")
    try:
        os.symlink(tmp_path / "b", tmp_path / "a" / "to_b")  # a -> b -> a: a cycle
        os.symlink(tmp_path / "a", tmp_path / "b" / "to_a")
        os.symlink(tmp_path / "a" / "self.png", tmp_path / "a" / "self.png")  # file loop
        os.symlink(tmp_path / "gone.png", tmp_path / "b" / "dangling.png")
    except OSError:
        pytest.skip("symlinks not permitted")
    index = scan_folder(tmp_path, verify=True)
    assert index.classes == ["a", "b"]
    rel = sorted(os.path.relpath(p, tmp_path) for p, _ in index.samples)
    assert rel == [os.path.join("a", "1.png"), os.path.join("a", "to_b", "1.png"),
                   os.path.join("b", "1.png"), os.path.join("b", "to_a", "1.png")]
    reasons = {os.path.basename(u.path): u.reason for u in index.unreadable}
    assert reasons["dangling.png"].startswith("file not found")
    assert reasons["self.png"].startswith("cannot read the file")
    index.check_trainable()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_named_like_an_image_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ImageDecodeError, match="not a regular file"):
        load_image(tmp_path / "pipe.png", 3)


@pytest.mark.parametrize("name", list(ODD))
def test_odd_images_preview_with_the_experiments_channels(tmp_path, name):
    from workbench.core.data.augment.preview import augment_tiles, eval_view, open_preview_image
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component

    writer, _size, _rgb = ODD[name]
    path = tmp_path / name
    writer(path)
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.augment.transforms = [Component("RandomRotation", {"degrees": 20.0}),
                              Component("ColorJitter", {"brightness": 0.2})]
    exp.validate()
    img = open_preview_image(path, exp)
    tiles = augment_tiles(exp, img, n=4, seed=0)
    assert len(tiles) == 4 and all(t.shape == (16, 16, 3) and t.dtype == np.uint8
                                   for t in tiles)
    assert eval_view(exp, img).shape == (16, 16, 3)


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")  # none printed
def test_odd_images_are_predicted_and_broken_ones_get_errors(tmp_path, small_bomb_limit):
    import torch

    from workbench.core.bundle import save_bundle
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component
    from workbench.core.model.builder import build_network
    from workbench.core.predict import Predictor

    exp = Experiment()
    exp.data.input_size = [8, 8]
    exp.model.layers = [Component("Flatten"), Component("Linear")]
    exp.validate()
    torch.manual_seed(0)
    model, _ = build_network(exp.model.layers, (3, 8, 8), 2)
    bundle = save_bundle(tmp_path / "b.pt", exp, ["a", "b"], model.state_dict())
    _write(tmp_path / "odd", ODD)
    _write(tmp_path / "broken", BROKEN)
    odd = sorted((tmp_path / "odd").iterdir())
    broken = sorted((tmp_path / "broken").iterdir())
    results = Predictor(bundle).predict(odd + broken, top_k=2)
    for r in results[:len(odd)]:
        assert r.error is None and len(r.top) == 2, r
    for r in results[len(odd):]:
        assert r.error and not r.top, r
