"""Near copies of small images (32-64 px, CIFAR-sized) are found, cropped ones too, and
pictures that merely look alike (a 0 and a 9, a navy dot and a teal one, the same
checkerboard in other colours, a black dot and a grey one) are not called copies."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from workbench.core.data.health import fpcache
from workbench.core.data.health.duplicates import find_copies, near_pairs
from workbench.core.data.health.fingerprint import CROP_PIXELS, fingerprints


def _picture(kind: str, side: int, seed: int) -> Image.Image:
    """A noisy picture: coloured circles, a smooth colour field or a bright shape."""
    rng = np.random.default_rng(seed)
    if kind == "field":
        small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((side, side), Image.BICUBIC)
    else:
        img = Image.new("RGB", (side, side), tuple(int(v) for v in rng.integers(0, 90, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(2 if kind == "circles" else 1):
            r = rng.uniform(0.15, 0.3) * side
            x, y = rng.uniform(r, side - r, 2)
            box = [x - r, y - r, x + r, y + r]
            colour = tuple(int(v) for v in rng.integers(120, 256, 3))
            if kind == "circles":
                draw.ellipse(box, fill=colour)
            else:
                draw.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=colour)
    noisy = np.asarray(img, np.int16) + rng.integers(-8, 9, (side, side, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _found(tmp_path, side: int, change, count: int = 12) -> int:
    """How many of ``count`` pictures of ``side`` px near_pairs pairs with ``change(img)``
    (saved as a PNG unless ``change`` saves it itself and returns the path)."""
    tmp_path.mkdir()
    paths = []
    for i in range(count):
        img = _picture(("circles", "field", "shape")[i % 3], side, seed=100 + i)
        orig = tmp_path / f"{i}.png"
        img.save(orig)
        copy = change(img, tmp_path / f"{i}_copy")
        if isinstance(copy, Image.Image):
            copy.save(tmp_path / f"{i}_copy.png")
            copy = tmp_path / f"{i}_copy.png"
        paths += [str(orig), str(copy)]
    pairs = set(near_pairs(fingerprints(paths)))
    assert all(a // 2 == b // 2 for a, b in pairs), pairs  # no two pictures confused
    return sum((2 * k, 2 * k + 1) in pairs for k in range(count))


def _jpeg(quality: int):
    def save(img, stem):
        img.save(f"{stem}.jpg", quality=quality)
        return f"{stem}.jpg"
    return save


def test_jpeg_copies_of_cifar_sized_pictures_are_found(tmp_path):
    # JPEG keeps colour at half resolution: at 32 px that moved the 32x32 version of a
    # copy past the old limit (none of these was found at quality 75).
    for name, side, quality in (("q75", 32, 75), ("q95", 32, 95), ("q60", 48, 60)):
        assert _found(tmp_path / name, side, _jpeg(quality)) == 12, name


def test_blurred_resized_and_cropped_copies_of_small_pictures_are_found(tmp_path):
    cases = {
        "blur": (48, lambda img, _: img.filter(ImageFilter.GaussianBlur(1))),
        "resized": (32, lambda img, _: img.resize((24, 24), Image.LANCZOS)),
        # 2 px cut from each side: what is left, resized, is 7-14% larger.
        "cropped": (64, lambda img, _: img.crop((2, 2, img.width - 2, img.height - 2))),
        "cropped back": (32, lambda img, _: img.crop((3, 3, 29, 29)).resize((32, 32))),
    }
    for name, (side, change) in cases.items():
        assert _found(tmp_path / name, side, change) == 12, name
    assert CROP_PIXELS == (2, 3)


def _digits(root) -> list[str]:
    """60 digits (i % 10) in the default font, at random places in 28 px (as the tester's
    set: a 0 and a 9, a 5 and an 8 there were called the same picture)."""
    rng = np.random.default_rng(1)
    root.mkdir()
    paths = []
    for i in range(60):
        img = Image.new("L", (28, 28), 0)
        ImageDraw.Draw(img).text((int(rng.integers(4, 14)), int(rng.integers(2, 12))),
                                 str(i % 10), fill=255, font=ImageFont.load_default(11))
        img.save(root / f"{i:02d}.png")
        paths.append(str(root / f"{i:02d}.png"))
    return paths


def test_pictures_that_look_alike_are_not_copies(tmp_path):
    digits = _digits(tmp_path / "digits")
    pairs = near_pairs(fingerprints(digits))
    assert [(a, b) for a, b in pairs if a % 10 != b % 10] == []
    # Dots on white: navy against teal, black against grey, in one place and size.
    dots = []
    for name, colour in (("navy", (0, 0, 128)), ("teal", (0, 128, 128)),
                         ("black", (0, 0, 0)), ("grey", (100, 100, 100))):
        img = Image.new("RGB", (96, 96), (245, 245, 245))
        ImageDraw.Draw(img).ellipse([40, 40, 56, 56], fill=colour)
        img.save(tmp_path / f"{name}.jpg", quality=90)
        dots.append(str(tmp_path / f"{name}.jpg"))
    # The same checkerboard in steel blue and mustard, and in indigo and lemon: one mean
    # colour, one normalised pattern.
    yy, xx = np.mgrid[0:64, 0:64]
    squares = (((xx // 8) + (yy // 8)) % 2 == 0)[..., None]
    boards = []
    for name, (a, b) in (("steel", ((65, 88, 114), (190, 167, 24))),
                         ("indigo", ((58, 57, 148), (197, 198, 20)))):
        arr = np.where(squares, np.array(a), np.array(b)) + np.random.default_rng(2).integers(
            -10, 11, (64, 64, 3))
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(tmp_path / f"{name}.png")
        boards.append(str(tmp_path / f"{name}.png"))
    assert near_pairs(fingerprints(dots + boards)) == []


def test_conflicting_copies_among_small_images_are_found_and_look_alikes_are_not(tmp_path):
    # A CIFAR-sized picture re-saved as a JPEG into another class: a conflict.
    (tmp_path / "cats").mkdir()
    (tmp_path / "dogs").mkdir()
    paths = []
    for i in range(8):
        _picture("circles", 32, seed=i).save(tmp_path / "cats" / f"{i}.png")
        paths.append(str(tmp_path / "cats" / f"{i}.png"))
    Image.open(paths[3]).save(tmp_path / "dogs" / "3.jpg", quality=80)
    paths.append(str(tmp_path / "dogs" / "3.jpg"))
    groups = find_copies(fingerprints(paths))
    assert groups.near == [sorted([paths[3], paths[-1]])]


def test_the_fingerprint_cache_keeps_every_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "d"
    root.mkdir()
    paths = []
    for i in range(3):
        _picture("shape", 40, seed=i).save(root / f"{i}.png")
        paths.append(str(root / f"{i}.png"))
    fresh = fpcache.cached_fingerprints(str(root), paths)
    again = fpcache.cached_fingerprints(str(root), paths)  # read back from the cache
    for a, b in zip(fresh, again):
        assert (a.phash, a.lhash, a.crop_hashes) == (b.phash, b.lhash, b.crop_hashes)
        assert a.lhash and len(a.crop_hashes) == len(CROP_PIXELS) and all(a.crop_hashes)
    assert fpcache.FORMAT >= 3


def test_pairs_that_only_just_agree_are_marked_as_looking_alike(tmp_path, monkeypatch):
    from sklearn.datasets import load_digits

    from workbench.core.data.health import duplicates

    # Two pairs of different handwritten digits (8x8, stored at 32 px) so alike that the
    # search pairs them, near its limits; and a photo-like picture with its JPEG copy.
    digits = load_digits()
    paths = []
    for i in (522, 611, 1076, 1134):
        img = Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8))
        img.resize((32, 32), Image.BICUBIC).save(tmp_path / f"{i}.png")
        paths.append(str(tmp_path / f"{i}.png"))
    _picture("field", 64, seed=5).save(tmp_path / "field.png")
    Image.open(tmp_path / "field.png").save(tmp_path / "field.jpg", quality=90)
    paths += [str(tmp_path / "field.png"), str(tmp_path / "field.jpg")]
    groups = find_copies(fingerprints(paths))
    assert sorted(groups.near) == sorted([paths[:2], paths[2:4], sorted(paths[4:])])
    assert sorted(groups.look_alike) == sorted([paths[:2], paths[2:4]])
    # A group with one firm link is not only alike, whatever its other links.
    fps = fingerprints(paths[:3])
    monkeypatch.setattr(duplicates, "near_scores",
                        lambda _: {(0, 1): duplicates.LOOK_ALIKE + 0.1, (1, 2): 0.2})
    assert duplicates.find_copies(fps).look_alike == []
    monkeypatch.setattr(duplicates, "near_scores",
                        lambda _: {(0, 1): duplicates.LOOK_ALIKE + 0.1, (1, 2): 0.9})
    assert duplicates.find_copies(fps).look_alike == [sorted(paths[:3])]
