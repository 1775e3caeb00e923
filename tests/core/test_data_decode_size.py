"""Decoding at the size needed: a phone-sized JPEG is decoded at 1/2, 1/4 or 1/8 of its size
(Pillow's draft mode) when the pipeline resizes it far smaller, and what the network sees
stays within a stated tolerance of a full decode; a run trained that way scores the same,
and its bundle is evaluated on exactly the pixels it was trained on."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import workbench.core.data.images as images
from workbench.core.data.augment.pipeline import decode_side, split_pipeline
from workbench.core.data.images import load_image
from workbench.core.evaluate.evaluation import evaluate
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.runs.recorder import RunRecorder
from workbench.core.train.trainer import Trainer

#: What "close to a full decode" means here, in grey levels of 255, for every pixel the
#: network sees (the cached prefix's uint8 output at the input size), on a noisy photo.
MEAN_TOLERANCE = 1.0
MAX_TOLERANCE = 8


def photo(path: Path, width: int = 1600, height: int = 1200, seed: int = 0,
          orientation: int | None = None) -> Path:
    """A JPEG (quality 90) with smooth gradients, fine stripes and sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([(np.sin(x / 37.0) + 1) * 100 + (y % 97), (np.cos(y / 23.0) + 1) * 110,
                       (x * y) % 251], -1)
    pixels = np.clip(pixels + rng.normal(0, 12, pixels.shape), 0, 255).astype(np.uint8)
    kwargs = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif
    Image.fromarray(pixels).save(path, quality=90, **kwargs)
    return path


def _prefix(exp: Experiment, path: Path, full: bool) -> torch.Tensor:
    split = split_pipeline(exp)
    img = load_image(path, exp.data.channels, min_side=None if full else split.decode_side)
    return torch.as_tensor(split.prefix(img)).int()


@pytest.mark.parametrize("size, reduced", [(32, (200, 150)), (112, (400, 300)),
                                           (224, (800, 600))])
def test_a_large_jpeg_is_decoded_smaller_and_the_network_sees_nearly_the_same(
        tmp_path, size, reduced):
    path = photo(tmp_path / "photo.jpg")
    exp = Experiment()
    exp.data.input_size = [size, size]
    side = decode_side(exp)
    assert side == 2 * size
    # The smallest of 1/8, 1/4, 1/2 that keeps both sides at least twice the input size.
    decoded = load_image(path, 3, min_side=side)
    assert decoded.size == reduced and min(decoded.size) >= side
    drafted, full = _prefix(exp, path, full=False), _prefix(exp, path, full=True)
    assert drafted.shape == full.shape == (3, size, size)
    diff = (drafted - full).abs().float()
    assert diff.mean().item() <= MEAN_TOLERANCE and diff.max().item() <= MAX_TOLERANCE


def test_a_phone_photo_is_turned_upright_after_the_reduced_decode(tmp_path):
    path = photo(tmp_path / "portrait.jpg", orientation=6)  # taken holding the phone upright
    full = load_image(path, 3)
    small = load_image(path, 3, min_side=100)
    assert full.size == (1200, 1600) and small.size == (150, 200)  # portrait both ways
    exp = Experiment()
    exp.data.input_size = [48, 36]
    diff = (_prefix(exp, path, full=False) - _prefix(exp, path, full=True)).abs().float()
    assert diff.mean().item() <= MEAN_TOLERANCE and diff.max().item() <= MAX_TOLERANCE


def test_other_formats_are_reduced_by_a_whole_factor_and_small_images_kept_whole(tmp_path):
    png = tmp_path / "big.png"
    Image.new("RGB", (800, 600), (10, 20, 30)).save(png)
    assert load_image(png, 3, min_side=50).size == (100, 75)  # by 12, capped at 8
    assert load_image(png, 3, min_side=100).size == (134, 100)  # by 6 (sides rounded up)
    assert load_image(png, 3, min_side=250).size == (800, 600)  # by 2: not worth it
    palette = tmp_path / "palette.png"
    Image.new("P", (800, 600), 3).save(palette)
    assert load_image(palette, 3, min_side=50).size == (800, 600)  # converted whole
    big_jpeg = photo(tmp_path / "big.jpg")  # 1600x1200: 1/8 leaves 200x150, then by 7
    assert load_image(big_jpeg, 3, min_side=20).size == (29, 22)
    small = photo(tmp_path / "small.jpg", width=120, height=90)
    assert load_image(small, 3, min_side=64).size == (120, 90)  # 1/2 would be under 64
    gray = tmp_path / "gray.jpg"
    Image.new("L", (800, 600), 77).save(gray)
    reduced = load_image(gray, 1, min_side=50)
    assert reduced.size == (100, 75) and reduced.mode == "L"  # the file's own mode


@pytest.mark.parametrize("size", [32, 112])
def test_a_large_png_reduced_first_gives_nearly_what_the_full_image_gives(tmp_path, size):
    path = tmp_path / "scan.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.open(photo(tmp_path / "source.jpg")).save(path, exif=exif)
    exp = Experiment()
    exp.data.input_size = [size, size]
    assert load_image(path, 3, min_side=decode_side(exp)).size[1] > \
        load_image(path, 3, min_side=decode_side(exp)).size[0]  # still turned upright
    diff = (_prefix(exp, path, full=False) - _prefix(exp, path, full=True)).abs().float()
    assert diff.mean().item() <= MEAN_TOLERANCE and diff.max().item() <= MAX_TOLERANCE


def test_the_decoding_size_covers_every_resize_and_crop():
    exp = Experiment()
    exp.data.input_size = [28, 40]
    assert decode_side(exp) == 80
    exp.data.input_size = [224, 224]
    exp.augment.transforms = [Component("Resize", {"size": [256]}), Component("CenterCrop")]
    assert decode_side(exp) == 512  # the shorter side before the crop
    exp.augment.transforms = [Component("RandomResizedCrop", {"size": [160, 160]})]
    assert decode_side(exp) == 448  # then resized up to the input size: that is larger
    # The cache of one decoding size is not taken for another's.
    exp.data.input_size = [160, 160]
    smaller = split_pipeline(exp)
    assert smaller.decode_side == 320 and smaller.key != split_pipeline(Experiment()).key


def _jpeg_folder(root: Path, per_class: int = 8) -> str:
    """Three colour classes of 640x480 JPEGs, noisy enough that accuracy is not trivial."""
    rng = random.Random(3)
    np_rng = np.random.default_rng(3)
    bases = {"a": (160, 90, 90), "b": (90, 160, 90), "c": (90, 90, 160)}
    for name, base in bases.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            shift = np.array([rng.randint(-70, 70) for _ in range(3)])
            pixels = np.clip(np.array(base) + shift + np_rng.normal(0, 50, (480, 640, 3)),
                             0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:02d}.jpg", quality=90)
    return str(root)


def test_training_on_reduced_decodes_scores_as_full_decodes_and_its_bundle_as_reported(
        tmp_path, monkeypatch):
    exp = Experiment(name="photos")
    exp.data.folder = _jpeg_folder(tmp_path / "data")
    exp.data.input_size = [16, 16]
    exp.data.batch_size = 6
    exp.data.val_fraction = 0.25
    exp.data.cache = "off"
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("ReLU"), Component("Linear")]
    exp.augment.transforms = []
    exp.training.epochs = 3
    exp.training.device = "cpu"

    reduced = Trainer(exp, [RunRecorder(tmp_path / "reduced")]).fit()
    # The bundle, evaluated as Evaluate and Predict do, sees the training pixels exactly.
    result = evaluate(tmp_path / "reduced" / "bundle.pt")
    last = reduced.history[-1]
    assert result.accuracy == pytest.approx(last["val_acc"], abs=1e-9)
    assert float(result.losses.mean()) == pytest.approx(last["val_loss"], rel=1e-4)

    monkeypatch.setattr(images, "_draft", lambda im, min_side: None)  # decode in full
    full = Trainer(exp, []).fit()
    assert [m["val_acc"] for m in reduced.history] == [m["val_acc"] for m in full.history]
    for a, b in zip(reduced.history, full.history):
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=0.02)
