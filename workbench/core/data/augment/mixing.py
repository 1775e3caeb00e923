"""Batch-level augmentations: MixUp and CutMix.

They blend pairs of images in a batch and their labels with the same weights, so they
work on whole batches after collation rather than on single images. They are listed in
``augment.transforms`` like the others (registry entries with ``meta["batch"] = True``,
skipped by the per-image pipelines; their place in the list does not matter) and
:func:`~.transforms.build_batch_transform` turns them into one callable the Trainer
applies to training batches only.

With both MixUp and CutMix listed, each batch gets one of them, chosen at random.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import torch

from workbench.core.registry import Param, Registry

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

#: The batch-level entries of :data:`~.transforms.TRANSFORMS` (``meta["batch"]``).
ENTRIES = Registry("transform")

BatchFn = Callable[..., tuple[torch.Tensor, torch.Tensor]]


def _alpha(default: float) -> Param:
    return Param("alpha", float, default, min=0.01, max=10.0,
                 help="Concentration of the Beta(alpha, alpha) the mixing weight is drawn "
                      "from: small values (0.1-0.4) mostly keep one image, 1.0 mixes "
                      "uniformly. Try 0.2 for MixUp, 1.0 for CutMix.")


def soft_targets(y: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """Class indices ``(B,)`` -> one-hot float ``(B, num_classes)``; soft ``(B, K)`` as is.

    Without ``num_classes`` the largest label + 1 is used.
    """
    if y.ndim == 2:
        return y.float()
    k = int(num_classes) if num_classes is not None else (int(y.max()) + 1 if len(y) else 1)
    return torch.nn.functional.one_hot(y.long(), k).float()


def _beta(alpha: float, generator: torch.Generator | None) -> float:
    """One draw of Beta(alpha, alpha) as X / (X + Y), X, Y ~ Gamma(alpha): unlike
    torch.distributions.Beta this can use a given generator (seeded previews)."""
    conc = torch.full((2,), float(alpha), dtype=torch.float64)
    g = torch._standard_gamma(conc, generator=generator)
    s = float(g.sum())
    return 0.5 if s <= 0 or not math.isfinite(s) else float(g[0]) / s


class _BatchMix:
    """What MixUp and CutMix share: soft targets, a ``Beta(alpha, alpha)`` weight and the
    permutation that pairs each image with another of the batch."""

    def __init__(self, alpha: float, num_classes: int | None = None):
        self.alpha = float(alpha)
        self.num_classes = num_classes

    def _draw(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None
              ) -> tuple[torch.Tensor, float | None, torch.Tensor | None]:
        """(soft targets, lam, perm); lam and perm are None for a batch of one."""
        t = soft_targets(y, self.num_classes).to(x.device)
        if len(x) < 2:
            return t, None, None
        lam = _beta(self.alpha, generator)
        perm = torch.randperm(len(x), generator=generator).to(x.device)
        return t, lam, perm

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha:g})"


class MixUp(_BatchMix):
    """``x = lam * x + (1 - lam) * x[perm]`` and the same for the targets,
    ``lam ~ Beta(alpha, alpha)``.

    Parameters
    ----------
    alpha
        Beta concentration.
    num_classes
        Width of the soft targets (None: largest label + 1).
    """

    def __init__(self, alpha: float = 0.2, num_classes: int | None = None):
        super().__init__(alpha, num_classes)

    def __call__(self, x: torch.Tensor, y: torch.Tensor,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        t, lam, perm = self._draw(x, y, generator)
        if perm is None:
            return x, t
        return lam * x + (1 - lam) * x[perm], lam * t + (1 - lam) * t[perm]


class CutMix(_BatchMix):
    """Paste a random box of ``x[perm]`` into each image; targets weighted by area.

    The box covers about ``1 - lam`` of the image, ``lam ~ Beta(alpha, alpha)``; the
    target weight is the exact share of pixels each image keeps after clipping.
    """

    def __init__(self, alpha: float = 1.0, num_classes: int | None = None):
        super().__init__(alpha, num_classes)

    def __call__(self, x: torch.Tensor, y: torch.Tensor,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        t, lam, perm = self._draw(x, y, generator)
        if perm is None:
            return x, t
        h, w = x.shape[-2:]
        r = math.sqrt(1.0 - lam)
        ch, cw = int(round(h * r)), int(round(w * r))
        cy, cx = (int(v) for v in torch.randint(0, 1 << 30, (2,), generator=generator))
        cy, cx = cy % h, cx % w
        y0, y1 = max(cy - ch // 2, 0), min(cy + (ch - ch // 2), h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + (cw - cw // 2), w)
        out = x.clone()
        out[..., y0:y1, x0:x1] = x[perm][..., y0:y1, x0:x1]
        kept = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
        return out, kept * t + (1.0 - kept) * t[perm]


class BatchAugment:
    """Apply one of ``choices`` (picked uniformly) to a batch: ``(x, y) -> (x, y_soft)``.

    ``y`` holds class indices ``(B,)`` (or soft targets ``(B, K)``); ``y_soft`` is a
    float ``(B, num_classes)`` tensor whose rows sum to 1.
    """

    def __init__(self, choices: list[Any], num_classes: int | None = None):
        self.choices = list(choices)
        self.num_classes = num_classes

    def __call__(self, x: torch.Tensor, y: torch.Tensor, num_classes: int | None = None,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        k = num_classes if num_classes is not None else self.num_classes
        if y.ndim == 1:
            y = soft_targets(y, k)
        i = int(torch.randint(len(self.choices), (1,), generator=generator))
        return self.choices[i](x, y, generator=generator)

    def __repr__(self) -> str:
        return f"BatchAugment({', '.join(map(repr, self.choices))})"


def _mixup(alpha: float = 0.2, *, exp: "Experiment | None" = None) -> MixUp:
    return MixUp(alpha)


def _cutmix(alpha: float = 1.0, *, exp: "Experiment | None" = None) -> CutMix:
    return CutMix(alpha)


ENTRIES.register(
    "MixUp", params=[_alpha(0.2)], group="batch",
    help="Blend pairs of training images and their labels (whole batches, training only); "
         "a strong regulariser for longer runs. Its place in the list does not matter.",
    random=True, batch=True, eval=None,
    describe=lambda p, exp: f"MixUp (per batch): blend image pairs and their labels, "
                            f"weight ~ Beta({p['alpha']:g}, {p['alpha']:g})")(_mixup)

ENTRIES.register(
    "CutMix", params=[_alpha(1.0)], group="batch",
    help="Paste a random box from another training image; labels mixed by area (whole "
         "batches, training only). Its place in the list does not matter.",
    random=True, batch=True, eval=None,
    describe=lambda p, exp: f"CutMix (per batch): paste a box of another image, labels "
                            f"mixed by area, weight ~ Beta({p['alpha']:g}, "
                            f"{p['alpha']:g})")(_cutmix)
