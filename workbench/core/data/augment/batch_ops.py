"""Per-sample random transforms applied to a whole batch at once.

A torchvision v2 transform called on a batch ``(B, C, H, W)`` draws its random parameters
once, so every image of the batch gets the same flip, crop or colour change. Training needs
a draw per image. :func:`vectorize` turns a transform of a pipeline into a batch operation
that keeps per-image draws while doing the work in a few tensor operations over the batch
(on the GPU when the batch is there):

* the result for each image is what the v2 transform gives that image for the same random
  parameters (tests compare them image by image; where rounding can differ, the module
  that implements the op says by how much);
* parameters are drawn on the CPU from torch's global generator, so a seeded run gives the
  same draws on every device; only the pixel work runs on the batch's device;
* transforms without a vectorised form return ``None``; :class:`PerSample` then applies
  them image by image, which is exact but slower.

Every vectorised op is a :class:`BatchTransform`: ``op.draw(shape)`` draws the parameters
of a batch and ``op.apply(x, params)`` applies them, so the two can be checked separately;
``op(x)`` does both (the base and the draw helpers are in :mod:`.batch_base`). The colour
ops live in :mod:`.batch_color`, the geometric ones (and RandomErasing, which shares the
crop's box drawing) in :mod:`.batch_geometry`.

Deterministic transforms need nothing of this: v2 applies them to a batch as to one image.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torchvision.transforms import v2

from workbench.core.data.augment import batch_color, batch_geometry
from workbench.core.data.augment.batch_base import (BatchOp, BatchTransform, Params, coin,
                                                   each_image, where_selected)
from workbench.core.data.augment.more_transforms import _GaussianNoise, _RandomGrayscale

class Masked(BatchTransform):
    """Apply a deterministic ``fn`` to the images a per-image coin selects (flips,
    RandomGrayscale); the others are kept. ``params["apply"]`` is the coin."""

    def __init__(self, p: float, fn: Callable[[torch.Tensor], torch.Tensor], name: str):
        self.p, self.fn, self.name = float(p), fn, name

    def draw(self, shape: torch.Size) -> Params:
        return {"apply": coin(shape[0], self.p)}

    cpu_batched_up_to = 96

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return where_selected(x, params["apply"], lambda imgs, idx: self.fn(imgs))

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        on = params["apply"].tolist()
        return each_image(x, lambda i, img: self.fn(img[None])[0] if on[i] else img)

    def __repr__(self) -> str:
        return f"Batch{self.name}(p={self.p:g})"


def _to_gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[-3] == 1:
        return x
    return v2.functional.rgb_to_grayscale(x, num_output_channels=x.shape[-3])


def vectorize(transform: Any) -> BatchOp | None:
    """A batch operation with a draw per image for ``transform``, or ``None``.

    Vectorised: RandomHorizontalFlip, RandomVerticalFlip, RandomGrayscale, GaussianNoise
    (here); ColorJitter and GaussianBlur (:mod:`.batch_color`); RandomResizedCrop,
    RandomRotation, RandomAffine, RandomPerspective and RandomErasing
    (:mod:`.batch_geometry`), each for the options the registry uses (bilinear or nearest
    interpolation, a constant fill, no ``expand`` or ``center``). The policies
    (RandAugment, TrivialAugmentWide, AutoAugment) pick a different op per image and stay
    per sample.

    Parameters
    ----------
    transform
        A step of a pipeline built by :mod:`.transforms` (a v2 transform or one of our
        wrappers).

    Returns
    -------
    callable or None
        ``op(x) -> x`` on a batch ``(B, C, H, W)`` (uint8 or float, any device; a
        :class:`BatchTransform` except for GaussianNoise), or ``None`` when the transform
        has no vectorised form.
    """
    if isinstance(transform, v2.RandomHorizontalFlip):
        return Masked(transform.p, lambda x: x.flip(-1), "HorizontalFlip")
    if isinstance(transform, v2.RandomVerticalFlip):
        return Masked(transform.p, lambda x: x.flip(-2), "VerticalFlip")
    if isinstance(transform, _RandomGrayscale):
        return Masked(transform.p, _to_gray, "RandomGrayscale")
    if isinstance(transform, _GaussianNoise) or type(transform).__name__ == "GaussianNoise":
        # Noise is drawn per pixel, so a batch call already gives each image its own draw.
        return transform
    return batch_color.vectorize(transform) or batch_geometry.vectorize(transform)


class PerSample:
    """Apply ``transform`` to each image of a batch on its own (the exact fallback).

    The images must come out with one shape (the pipelines guarantee it: a fixed-size step
    ends every pipeline).
    """

    def __init__(self, transform: Callable[[torch.Tensor], torch.Tensor]):
        self.transform = transform

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) == 0:
            return x
        return torch.stack([torch.as_tensor(self.transform(img)) for img in x.unbind(0)])

    def __repr__(self) -> str:
        return f"PerSample({self.transform!r})"
