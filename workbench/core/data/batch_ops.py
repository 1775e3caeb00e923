"""Per-sample random transforms applied to a whole batch at once.

A torchvision v2 transform called on a batch ``(B, C, H, W)`` draws its random parameters
once, so every image of the batch gets the same flip, crop or colour change. Training needs
a draw per image. :func:`vectorize` turns a transform of a pipeline into a batch operation
that keeps per-image draws while doing the work in a few tensor operations over the batch
(on the GPU when the batch is there):

* the result for each image is what the v2 transform gives that image for the same random
  parameters (tests compare them image by image);
* parameters are drawn on the CPU from torch's global generator, so a seeded run gives the
  same draws on every device;
* transforms without a vectorised form return ``None``; :class:`PerSample` then applies
  them image by image, which is exact but slower.

Deterministic transforms need nothing of this: v2 applies them to a batch as to one image.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torchvision.transforms import v2

BatchOp = Callable[[torch.Tensor], torch.Tensor]


def _coin(batch: int, p: float) -> torch.Tensor:
    """A CPU bool mask of ``batch`` independent draws that are true with probability p
    (v2's own test: ``torch.rand(1) < p`` per call)."""
    return torch.rand(batch) < p


class _Masked:
    """Apply ``fn`` to the images a per-image coin selects, keep the others."""

    def __init__(self, p: float, fn: Callable[[torch.Tensor], torch.Tensor], name: str):
        self.p, self.fn, self.name = float(p), fn, name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        mask = _coin(len(x), self.p)
        if not bool(mask.any()):
            return x
        if bool(mask.all()):
            return self.fn(x)
        idx = mask.nonzero().squeeze(1).to(x.device)
        out = x.clone()
        out[idx] = self.fn(x.index_select(0, idx))
        return out

    def __repr__(self) -> str:
        return f"Batch{self.name}(p={self.p:g})"


def _to_gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[-3] == 1:
        return x
    return v2.functional.rgb_to_grayscale(x, num_output_channels=x.shape[-3])


def vectorize(transform: Any) -> BatchOp | None:
    """A batch operation with a draw per image for ``transform``, or ``None``.

    Parameters
    ----------
    transform
        A step of a pipeline built by :mod:`.transforms` (a v2 transform or one of our
        wrappers).

    Returns
    -------
    callable or None
        ``op(x) -> x`` on a batch ``(B, C, H, W)`` (uint8 or float, any device), or
        ``None`` when the transform has no vectorised form.
    """
    from .augments import _GaussianNoise, _RandomGrayscale

    if isinstance(transform, v2.RandomHorizontalFlip):
        return _Masked(transform.p, lambda x: x.flip(-1), "HorizontalFlip")
    if isinstance(transform, v2.RandomVerticalFlip):
        return _Masked(transform.p, lambda x: x.flip(-2), "VerticalFlip")
    if isinstance(transform, _RandomGrayscale):
        return _Masked(transform.p, _to_gray, "RandomGrayscale")
    if isinstance(transform, _GaussianNoise) or type(transform).__name__ == "GaussianNoise":
        # Noise is drawn per pixel, so a batch call already gives each image its own draw.
        return transform
    return None


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
