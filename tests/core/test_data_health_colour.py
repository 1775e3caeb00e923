"""Data health sees colour: a picture whose colours differ but whose brightness does not
is neither blank nor left out of the copy search, and two pictures that differ only in
colour are not copies (while a slightly brightened copy still is)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from helpers import make_photo_folder
from workbench.core.data.health import fpcache
from workbench.core.data.health.report import check_dataset
from workbench.core.experiment import Experiment

LUMA = np.array([0.299, 0.587, 0.114])


def _experiment(folder) -> Experiment:
    exp = Experiment(name="health")
    exp.data.folder = str(folder)
    exp.data.input_size = [32, 32]
    exp.data.val_fraction = 0.5
    exp.training.device = "cpu"
    return exp.validate()


def _shape(path, ground, colour, seed, box=(20, 16, 76, 80), triangle=False):
    """A 96 px shape of ``colour`` on a ``ground``, with specks of noise, as a JPEG."""
    img = Image.new("RGB", (96, 96), ground)
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    if triangle:
        draw.polygon([((x0 + x1) / 2, y0), (x0, y1), (x1, y1)], fill=colour)
    else:
        draw.ellipse(box, fill=colour)
    rng = np.random.default_rng(seed)
    for x, y in rng.integers(0, 96, (40, 2)):
        draw.point((int(x), int(y)), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    img.filter(ImageFilter.GaussianBlur(0.6)).save(path, quality=90)
    return img


def test_an_evenly_bright_colourful_picture_is_not_blank_and_its_copies_are_found(
        tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    # A blue triangle on a green ground of the same brightness: nearly flat in grey.
    blue, green = (40, 60, 220), (40, 95, 40)
    assert abs(LUMA @ blue - LUMA @ green) < 1
    tri = root / "owls" / "triangle.jpg"
    _shape(tri, green, blue, seed=1, triangle=True)
    grey = np.asarray(Image.open(tri).convert("L"), dtype=float)
    assert grey.std() < 4  # what the check used to call blank
    again = Image.open(tri)
    again.save(root / "owls" / "triangle_again.jpg", quality=75)  # re-encoded
    again.resize((95, 95), Image.BICUBIC).save(root / "cats" / "triangle_small.png")
    # A truly blank picture (one colour, JPEG noise) is still reported.
    Image.new("RGB", (96, 96), green).save(root / "dogs" / "blank.jpg", quality=90)
    report = check_dataset(_experiment(root))
    assert report.blank_images == [str(root / "dogs" / "blank.jpg")]
    group = sorted(str(root / p) for p in ("cats/triangle_small.png",
                                           "owls/triangle.jpg", "owls/triangle_again.jpg"))
    assert report.near_duplicates == [group]
    assert report.conflicting_labels == [group]  # a copy filed as a cat


def test_pictures_that_differ_only_in_colour_are_not_copies(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    red = (220, 40, 40)
    # Two grounds of one brightness but different colours: the same picture in grey.
    teal, brown = np.array([0, 62, 90]), np.array([105, 26, 0])
    assert abs(LUMA @ teal - LUMA @ brown) < 0.5
    for cls, ground in (("cats", teal), ("dogs", brown)):
        _shape(root / cls / "circle.jpg", tuple(int(v) for v in ground), red, seed=3)
    a = np.asarray(Image.open(root / "cats" / "circle.jpg").convert("L"), dtype=float)
    b = np.asarray(Image.open(root / "dogs" / "circle.jpg").convert("L"), dtype=float)
    assert np.abs(a - b).mean() < 2  # alike in grey: what the check used to compare
    # A copy 8% brighter and one a little less contrasted still are copies.
    circle = Image.open(root / "cats" / "circle.jpg")
    ImageEnhance.Brightness(circle).enhance(1.08).save(root / "cats" / "circle_bright.png")
    ImageEnhance.Contrast(circle).enhance(0.9).save(root / "owls" / "circle_flat.png")
    report = check_dataset(_experiment(root))
    cats = sorted(str(root / p) for p in ("cats/circle.jpg", "cats/circle_bright.png",
                                          "owls/circle_flat.png"))
    assert report.near_duplicates == [cats]
    assert report.conflicting_labels == [cats]  # not the brown-ground circle filed as a dog
    assert all(str(root / "dogs" / "circle.jpg") not in g for g in report.train_val_leaks)
    assert report.blank_images == []


def test_fingerprints_kept_by_an_older_version_are_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    root = make_photo_folder(tmp_path / "d", per_class=2)
    old = fpcache._file(str(root), fmt=1)  # 32x32 grey versions: not what is compared now
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an older cache")
    paths = sorted(str(p) for p in root.rglob("*.png"))
    fps = fpcache.cached_fingerprints(str(root), paths)
    assert [f.rgb.shape for f in fps] == [(32, 32, 3)] * len(paths)
    assert not old.exists() and fpcache._file(str(root)).is_file()
