"""Preview arrays: what the Augment panel shows of the pipelines."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import make_image_folder
from workbench.core.data.augment.preview import augment_tiles, batch_preview, eval_view, mix_label
from workbench.core.experiment import Experiment
from workbench.core.registry import Component


def _exp(transforms, size=(8, 8), channels=3):
    exp = Experiment()
    exp.data.input_size = list(size)
    exp.data.channels = channels
    exp.data.mean, exp.data.std = [0.5], [0.5]
    exp.augment.transforms = [Component(t, p) for t, p in transforms]
    return exp


def _gradient(w=12, h=10):
    a = np.zeros((h, w, 3), np.uint8)
    a[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    a[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    return Image.fromarray(a)


def test_tiles_have_input_size_and_channels_and_depend_on_seed():
    exp = _exp([("RandomHorizontalFlip", {"p": 0.5}), ("RandomRotation", {"degrees": 90})])
    tiles = augment_tiles(exp, _gradient(), n=6, seed=1)
    assert len(tiles) == 6
    assert all(t.shape == (8, 8, 3) and t.dtype == np.uint8 for t in tiles)
    # Independent draws: not all the same; the same seed repeats them.
    assert any(not np.array_equal(tiles[0], t) for t in tiles[1:])
    again = augment_tiles(exp, _gradient(), n=6, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(tiles, again))


def test_preview_leaves_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    augment_tiles(_exp([("RandomRotation", {"degrees": 30})]), _gradient(), n=2, seed=5)
    assert torch.equal(torch.rand(3), expected)


def test_eval_view_is_unnormalised_pixels():
    exp = _exp([], size=(4, 4))
    img = Image.new("RGB", (4, 4), (200, 100, 0))
    out = eval_view(exp, img)
    assert out.shape == (4, 4, 3)
    assert np.abs(out.astype(int) - [200, 100, 0]).max() <= 1


def test_grayscale_experiment_gives_one_channel():
    tiles = augment_tiles(_exp([], channels=1), _gradient(), n=1, seed=0)
    assert tiles[0].shape == (8, 8, 1)


def test_mix_label_text():
    assert mix_label([0.0, 1.0], ["cat", "dog"]) == "dog"
    assert mix_label([0.3, 0.7], ["cat", "dog"]) == "0.70 dog + 0.30 cat"


def test_batch_preview_plain_and_mixup(tmp_path):
    root = make_image_folder(tmp_path / "d", per_class=3, size=8)
    from workbench.core.data.scan import scan_folder

    index = scan_folder(root)
    exp = _exp([])
    plain = batch_preview(exp, index.samples, index.classes, n=4, seed=0)
    assert len(plain) == 4
    assert all(text in index.classes for _, text in plain)
    exp = _exp([("MixUp", {"alpha": 1.0})])
    mixed = batch_preview(exp, index.samples, index.classes, n=6, seed=0)
    assert len(mixed) == 6 and all(img.shape == (8, 8, 3) for img, _ in mixed)
    assert any(" + " in text for _, text in mixed)


def test_batch_preview_skips_unreadable(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    good = tmp_path / "good.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(good)
    out = batch_preview(_exp([]), [(str(bad), 0), (str(good), 1)], ["a", "b"], n=4)
    assert [t for _, t in out] == ["b"]


def test_bad_spec_raises_spec_error():
    from workbench.core.errors import SpecError

    with pytest.raises(SpecError):
        augment_tiles(_exp([("RandomRotation", {"degrees": -5})]), _gradient(), n=1)


def _imbalanced(tmp_path):
    from workbench.core.data.scan import scan_folder

    make_image_folder(tmp_path / "d", classes=("big",), per_class=40, size=8)
    make_image_folder(tmp_path / "d", classes=[f"small{i}" for i in range(6)], per_class=3,
                      size=8)
    return scan_folder(str(tmp_path / "d"))


def test_training_draw_is_the_training_split_drawn_as_training_draws_it(tmp_path):
    from workbench.core.data.augment.preview import training_draw
    from workbench.core.data.split import split_for

    index = _imbalanced(tmp_path)
    exp = _exp([])
    exp.data.val_fraction = 0.3
    train, val = split_for(index, exp.data)
    drawn = training_draw(exp, index, seed=0)
    assert sorted(drawn) == sorted(train)  # a shuffle of the training split: no val image
    assert not set(drawn) & set(val)
    exp.data.balance = "weighted_sampler"
    drawn = training_draw(exp, index, seed=0)
    assert len(drawn) == len(train) and set(drawn) <= set(train)
    # Every class equally likely: the big class (32 of 44 training images) gets ~1/7.
    big = sum(label == index.classes.index("big") for _, label in drawn)
    assert big < len(drawn) / 3


def test_training_batch_with_the_weighted_sampler_is_balanced(tmp_path):
    from workbench.core.data.augment.preview import training_batch

    index = _imbalanced(tmp_path)
    exp = _exp([])
    plain = [t for _, t in training_batch(exp, index, n=16, seed=0)]
    exp.data.balance = "weighted_sampler"
    balanced = [t for _, t in training_batch(exp, index, n=16, seed=0)]
    assert len(plain) == len(balanced) == 16
    assert plain.count("big") >= 8 and balanced.count("big") <= 5
