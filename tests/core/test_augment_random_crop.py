"""RandomCrop (torchvision v2's: size, padding, pad_if_needed, fill, padding_mode), the
policies and noise refused after a Normalize step, ColorJitter's colour on grayscale, and
the rotation's text at 0 degrees."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.core.data.augment.fixes import apply_fix
from workbench.core.data.augment.pipeline_hints import all_hints, pipeline_hints
from workbench.core.data.augment.preview import augment_tiles
from workbench.core.data.augment.transforms import (TRANSFORMS, build_eval_transform,
                                                    build_train_transform, describe_pipeline)
from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.trainer import Trainer


def _exp(transforms, size=(16, 16), channels=3):
    exp = Experiment()
    exp.data.input_size = list(size)
    exp.data.channels = channels
    exp.augment.transforms = [Component(t, dict(p)) for t, p in transforms]
    return exp


def test_random_crop_is_declared_as_torchvision_has_it():
    entry = TRANSFORMS.get("RandomCrop")
    assert [p.name for p in entry.params] == ["size", "padding", "pad_if_needed", "fill",
                                              "padding_mode"]
    assert entry.group == "size" and entry.meta["random"]
    assert "RandomCrop" in TRANSFORMS.groups()["size"][3].name


def test_random_crop_with_padding_shifts_the_image_and_evaluation_keeps_it_whole():
    exp = _exp([("RandomCrop", {"padding": 4})])
    train = describe_pipeline(exp, train=True)
    assert "Random crop of 16x16 after padding each side by 4 pixels (pixel value 0); " \
           "smaller images padded up to it" in train
    evals = describe_pipeline(exp, train=False)
    assert "Crop the centre 16x16 (evaluation counterpart of RandomCrop)" in evals
    img = Image.fromarray(np.full((16, 16, 3), 200, np.uint8))
    torch.manual_seed(0)
    outs = [build_train_transform(exp)(img) for _ in range(12)]
    assert all(o.shape == (3, 16, 16) for o in outs)
    assert any((o == o.min()).any() and o.min() < o.max() for o in outs)  # black borders
    ev = build_eval_transform(exp)(img)
    assert torch.allclose(ev, ev.flatten()[0])  # the centre crop of a 16x16 image: all of it


def test_a_pipeline_with_random_crop_trains_and_previews(tiny_experiment):
    exp = tiny_experiment.copy()
    exp.augment.transforms = [Component("RandomCrop", {"padding": 4})]
    exp.training.epochs = 1
    result = Trainer(exp.validate(), []).fit()
    assert len(result.history) == 1 and result.error is None
    tiles = augment_tiles(exp, Image.new("RGB", (12, 10), (255, 0, 0)), n=4, seed=1)
    assert all(t.shape == (8, 8, 3) for t in tiles)


def test_a_crop_larger_than_the_image_gets_a_hint_with_a_fix_and_a_clear_error():
    exp = _exp([("RandomCrop", {"size": [24, 24], "pad_if_needed": False})], size=(24, 24))
    hints = pipeline_hints(exp.augment.transforms, (16, 16), (24, 24))
    assert len(hints) == 1
    assert "RandomCrop (step 1) cuts 24x24" in hints[0].text
    assert "larger than the image" in hints[0].text and "pad_if_needed" in hints[0].text
    assert hints[0].fix.edits[0].params == {"pad_if_needed": True}
    with pytest.raises(ValueError, match="RandomCrop: the crop 24x24 .* larger than the "
                                         "16x16 image: turn on pad_if_needed"):
        build_train_transform(exp)(Image.new("RGB", (16, 16)))
    exp.augment.transforms[0].params["pad_if_needed"] = True
    assert build_train_transform(exp)(Image.new("RGB", (16, 16))).shape == (3, 24, 24)
    assert not pipeline_hints(exp.augment.transforms, (16, 16), (24, 24))
    padded = [Component("RandomCrop", {"size": [24, 24], "padding": 4,
                                       "pad_if_needed": False})]
    assert not pipeline_hints(padded, (16, 16), (24, 24))  # 16 + 2 * 4 = 24: it fits


@pytest.mark.parametrize("name", ["TrivialAugmentWide", "AutoAugment", "RandAugment",
                                  "GaussianNoise"])
def test_steps_that_need_pixel_values_are_refused_after_normalize(name):
    exp = _exp([("Normalize", {"mean": [0.5], "std": [0.5]}), (name, {})])
    with pytest.raises(SpecError, match=f"{name} must come before Normalize: .*move it "
                                        f"above the Normalize step") as e:
        describe_pipeline(exp, train=True)
    assert e.value.field == "augment.transforms[1].type"
    describe_pipeline(_exp([(name, {}), ("Normalize", {})]), train=True)  # before: fine


def test_a_blur_after_normalize_is_fine_it_commutes_with_it():
    exp = _exp([("Normalize", {"mean": [0.5], "std": [0.5]}), ("GaussianBlur", {})])
    assert any(line.startswith("Gaussian blur") or "blur" in line.lower()
               for line in describe_pipeline(exp, train=True))


def test_color_jitter_hue_and_saturation_on_grayscale_get_a_hint_that_zeroes_them():
    exp = _exp([("ColorJitter", {"saturation": 0.3, "hue": 0.1})], channels=1)
    hints = all_hints(exp)
    assert len(hints) == 1
    assert "ColorJitter (step 1) varies saturation and hue" in hints[0].text
    assert "grayscale" in hints[0].text
    fix = hints[0].fix
    assert fix.label == "Set hue and saturation to 0"
    assert fix.edits[0].params == {"saturation": 0.0, "hue": 0.0}
    assert not all_hints(_exp([("ColorJitter", {"saturation": 0.3})], channels=3))
    assert not all_hints(_exp([("ColorJitter", {"saturation": 0.0, "hue": 0.0})], channels=1))


def test_rotation_text_at_zero_degrees_says_no_rotation():
    assert "No rotation (degrees 0)" in describe_pipeline(
        _exp([("RandomRotation", {"degrees": 0.0})]), train=True)
    assert "between -15 and 15 degrees" in " ".join(describe_pipeline(
        _exp([("RandomRotation", {"degrees": 15.0})]), train=True))
    assert "±" in TRANSFORMS.get("RandomRotation").params[0].help


def test_gaussian_blur_kernel_size_steps_by_two():
    p = TRANSFORMS.get("GaussianBlur").params[0]
    assert (p.name, p.min, p.step) == ("kernel_size", 1, 2)


def test_the_batch_dispatch_runs_random_crop_per_image():
    from workbench.core.data.augment.pipeline import NotSplittable, split_pipeline

    exp = _exp([("Resize", {"size": [20, 20]}), ("RandomCrop", {"padding": 2})])
    split = split_pipeline(exp)  # cached at 20x20, the crop per image of each batch
    assert split.size == (20, 20)
    x = torch.randint(0, 256, (4, 3, 20, 20), dtype=torch.uint8)
    assert split.train(x).shape == (4, 3, 16, 16)
    assert split.eval(x).shape == (4, 3, 16, 16)
    with pytest.raises(NotSplittable):  # the crop needs each whole image: no cache
        split_pipeline(_exp([("RandomCrop", {"padding": 4})]))


def test_a_random_crop_of_a_small_patch_of_large_photos_offers_a_resize_first():
    steps = [Component("RandomCrop", {})]  # the default size: the 64x64 input size
    hints = pipeline_hints(steps, (640, 640), (64, 64))
    assert len(hints) == 1
    assert "RandomCrop (step 1) keeps 64x64" in hints[0].text
    assert "1% of each image" in hints[0].text and "Resize before it" in hints[0].text
    fix = hints[0].fix
    assert fix.label == "Resize to 74 first"
    assert fix.describe() == "RandomCrop (step 1): put Resize (size [74]) before it."
    fixed = apply_fix(steps, fix)
    assert [(t.type, t.params) for t in fixed] == [("Resize", {"size": [74]}),
                                                  ("RandomCrop", {})]
    assert not pipeline_hints(fixed, (640, 640), (64, 64))
    as_dicts = apply_fix([{"type": "RandomCrop", "params": {}}], fix)
    assert as_dicts[0] == {"type": "Resize", "params": {"size": [74]}}
    # Images under twice the crop, or a RandomResizedCrop first: no hint.
    assert not pipeline_hints(steps, (120, 640), (64, 64))
    assert not pipeline_hints([Component("RandomResizedCrop", {}), *steps], (640, 640),
                              (64, 64))
