"""The Augment preview's 16 draws and its Batch tab are made the way training makes them:
with RandomResizedCrop the pipeline is "presized" (the cache holds each image resized to
the crop's size and the crop is taken from that), so the preview must crop from the same
resized image, not from the full photo (a walk-through: the preview kept a photo's top
band and lost its sides where training did the opposite)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.core.data.augment.pipeline import NotSplittable, split_pipeline
from workbench.core.data.augment.preview import augment_tiles, batch_preview, to_display
from workbench.core.data.augment.transforms import TRANSFORMS, build_train_transform
from workbench.core.experiment import Experiment
from workbench.core.registry import Component


def _exp(*steps, size=(40, 30)):
    exp = Experiment()
    exp.data.input_size = list(size)
    exp.augment.transforms = [
        Component(name, {**TRANSFORMS.get(name).defaults(), **params}) for name, params in steps]
    return exp


def _landscape() -> Image.Image:
    """300x200: red, green, blue thirds under a yellow band 20 px tall."""
    a = np.zeros((200, 300, 3), np.uint8)
    a[:, :100], a[:, 100:200], a[:, 200:] = (255, 0, 0), (0, 255, 0), (0, 0, 255)
    a[:20] = (255, 255, 0)
    return Image.fromarray(a)


def _training(exp, image, n, seed):
    """What training feeds the network: the cached prefix, then the batch-wise rest."""
    split = split_pipeline(exp)
    assert split.mode == "presized"
    cached = torch.as_tensor(split.prefix(image)).as_subclass(torch.Tensor)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        x = split.train(torch.stack([cached] * n))
    return [to_display(x[i], exp) for i in range(n)]


def _yellow(tile):
    return float(((tile[..., 0] > 200) & (tile[..., 1] > 200) & (tile[..., 2] < 60)).mean())


def test_a_whole_image_crop_keeps_what_training_keeps():
    # Scale 1 and ratio 1 at a 40x30 input: training squashes the 3:2 photo to 4:3 first
    # and its crop of the whole area loses the top band; a crop of the full photo keeps it.
    exp = _exp(("RandomResizedCrop", {"scale": [1.0, 1.0], "ratio": [1.0, 1.0]}))
    image = _landscape()
    tiles = augment_tiles(exp, image, n=4, seed=0)
    assert [_yellow(t) for t in tiles] == [_yellow(t) for t in _training(exp, image, 4, 0)]
    assert all(_yellow(t) == 0.0 for t in tiles)


def test_the_draws_equal_the_training_path_on_a_non_square_image():
    exp = _exp(("RandomResizedCrop", {"scale": [0.3, 1.0]}), ("RandomHorizontalFlip", {}),
               ("ColorJitter", {"brightness": 0.4}))
    image = _landscape()
    tiles = augment_tiles(exp, image, n=8, seed=3)
    expected = _training(exp, image, 8, 3)
    assert all(np.array_equal(a, b) for a, b in zip(tiles, expected))
    assert any(not np.array_equal(tiles[0], t) for t in tiles[1:])  # still 8 draws


def test_the_batch_tab_equals_the_training_path(tmp_path):
    exp = _exp(("RandomResizedCrop", {"scale": [0.3, 1.0]}), ("RandomHorizontalFlip", {}))
    path = tmp_path / "landscape.png"
    _landscape().save(path)
    batch = batch_preview(exp, [(str(path), 0)] * 6, ["arrow"], n=6, seed=2, shuffle=False)
    expected = _training(exp, Image.open(path).convert("RGB"), 6, 2)
    assert [label for _, label in batch] == ["arrow"] * 6
    assert all(np.array_equal(a, b) for (a, _), b in zip(batch, expected))


def test_a_pipeline_that_does_not_split_still_previews_as_it_trains():
    # A rotation before a crop of fixed size: training runs it whole, per image.
    exp = _exp(("RandomRotation", {"degrees": 10}), ("CenterCrop", {"size": [40, 30]}))
    with pytest.raises(NotSplittable):
        split_pipeline(exp)
    a = np.asarray(_landscape()).copy()
    a[:, 148:152] = 0  # a black line down the middle: a rotation tilts it
    image = Image.fromarray(a)
    tiles = augment_tiles(exp, image, n=3, seed=0)
    assert [t.shape for t in tiles] == [(40, 30, 3)] * 3
    # Each draw is the whole training transform's, per image, under the same seed: the
    # rotation applied (no split path, no rotation left out).
    transform = build_train_transform(exp)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        expected = [to_display(transform(image), exp) for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(tiles, expected))
    unrotated = augment_tiles(_exp(("CenterCrop", {"size": [40, 30]})), image, n=1)[0]
    assert not all(np.array_equal(t, unrotated) for t in tiles)  # the line tilted
    assert not np.array_equal(tiles[1], tiles[2])  # a draw each
