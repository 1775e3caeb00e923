"""What the batch-wise random transforms share: the :class:`BatchTransform` base (draw, then
apply) and the per-image draws and masking they are built from.

The ops themselves: flips and RandomGrayscale in :mod:`.batch_ops`, colour in
:mod:`.batch_color`, geometry in :mod:`.batch_geometry`; :func:`.batch_ops.vectorize` picks
one for a pipeline step.
"""

from __future__ import annotations

from typing import Callable

import torch

BatchOp = Callable[[torch.Tensor], torch.Tensor]
Params = dict[str, torch.Tensor]


class BatchTransform:
    """A random transform with one draw per image of a batch ``(B, C, H, W)``.

    Subclasses implement :meth:`draw` and :meth:`apply`; calling the op does both. Those
    that set :attr:`cpu_batched_up_to` also implement :meth:`apply_each`, and calling the op
    on the CPU with larger images takes that path instead (:meth:`path_for`): the same
    draws, torchvision's kernels image by image, which beat the batched arithmetic there.
    """

    #: On the CPU, the largest image side (pixels) up to which :meth:`apply` is faster than
    #: :meth:`apply_each`, as ``scripts/bench_augment.py`` measures (batches of 64, one
    #: thread; the figures are in that script's table in the README). None: always batched.
    cpu_batched_up_to: int | None = None

    def draw(self, shape: torch.Size) -> Params:
        """Random parameters for a batch of ``shape``: CPU tensors with one row per image."""
        raise NotImplementedError

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """The batch ``x`` (uint8, or float in [0, 1]; any device) transformed with
        ``params``; ``x`` itself is left untouched."""
        raise NotImplementedError

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """What :meth:`apply` gives, computed image by image with torchvision v2's own
        kernels and ``params`` (so exactly v2's result for those parameters)."""
        raise NotImplementedError

    def path_for(self, x: torch.Tensor) -> str:
        """``"per image"`` when :meth:`apply_each` is the faster way to do ``x``, else
        ``"batched"``."""
        limit = self.cpu_batched_up_to
        if limit is not None and x.device.type == "cpu" and max(x.shape[-2:]) > limit:
            return "per image"
        return "batched"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"expected a batch (B, C, H, W), got shape {tuple(x.shape)}")
        if len(x) == 0:
            return x
        params = self.draw(x.shape)  # the same draws whichever path does the work
        if self.path_for(x) == "per image":
            return self.apply_each(x, params)
        return self.apply(x, params)


def each_image(x: torch.Tensor, fn: Callable[[int, torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``fn(i, image)`` for every image of the batch ``x``, stacked back into a batch."""
    return torch.stack([fn(i, img) for i, img in enumerate(x.unbind(0))])

    def __repr__(self) -> str:
        return type(self).__name__


def coin(batch: int, p: float) -> torch.Tensor:
    """A CPU bool mask of ``batch`` independent draws that are true with probability p
    (v2's own test per call: ``torch.rand(1) < p``)."""
    return torch.rand(batch) < p


def uniform(batch: int, lo: float, hi: float) -> torch.Tensor:
    """``batch`` draws from U(lo, hi), as float64 holding float32 values: v2 draws
    ``torch.empty(1).uniform_(lo, hi).item()``, a float32 it then uses as a Python float."""
    return torch.empty(batch).uniform_(lo, hi).double()


def randint(high: torch.Tensor) -> torch.Tensor:
    """One integer in ``[0, high)`` per element of the CPU tensor ``high`` (all >= 1)."""
    u = torch.rand(high.shape, dtype=torch.float64)
    return torch.minimum((u * high).long(), high.long() - 1)


def where_selected(x: torch.Tensor, selected: torch.Tensor,
                   fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                   inplace: bool = False) -> torch.Tensor:
    """``fn(images, index)`` on the images ``selected`` (a CPU bool mask) picks; the others
    unchanged. ``index`` (CPU, long) says which images ``fn`` got, to pick their parameters.

    Only the selected images are computed, so a mask that is mostly false costs little.
    ``inplace`` writes them into ``x`` (for a caller that owns ``x``) instead of a copy.
    """
    if not bool(selected.any()):
        return x
    if bool(selected.all()):
        return fn(x, torch.arange(len(x)))
    idx = selected.nonzero().squeeze(1)
    idx_dev = idx.to(x.device)
    out = fn(x.index_select(0, idx_dev), idx)
    if out.shape[1:] != x.shape[1:]:
        raise ValueError("a masked op must keep the image size")
    return (x if inplace else x.clone()).index_copy_(0, idx_dev, out.to(x.dtype))
