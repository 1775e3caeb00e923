"""Normalisation statistics: presets, and the per-channel mean and std of a training split;
and the class imbalance of a training split (:func:`imbalance`), with the rule that calls it
strong and the advice for it, shared by the Data tab and ``workbench check``.

:func:`compute_mean_std` decodes every training image the way the evaluation pipeline
does (the experiment's channel count, resized to ``data.input_size``, scaled to [0, 1])
and accumulates per-channel sums in float64, so the result is what ``data.mean`` and
``data.std`` should hold for the network to see zero-mean, unit-variance inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from workbench.core.errors import ImageDecodeError, WorkbenchError

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

#: Preset name -> ``(mean, std)`` for RGB images, values in [0, 1]. For grayscale use
#: :func:`normalization_preset` (ImageNet gray: the mean of the three channels' values).
NORMALIZATION_PRESETS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "0.5 / 0.5": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "ImageNet": (_IMAGENET_MEAN, _IMAGENET_STD),
}


class Cancelled(WorkbenchError):
    """A long computation (e.g. :func:`compute_mean_std`) was cancelled by the user."""


def class_imbalance(counts: dict) -> float:
    """Largest over smallest class count (``inf`` when a class has none; 1.0 for no classes).

    1.0 when all counts are equal (defined here, not in :mod:`workbench.core.data.dataset`:
    ``check`` uses it without importing torch).
    """
    values = [int(v) for v in counts.values()]
    if not values:
        return 1.0
    if min(values) <= 0:
        return float("inf") if max(values) > 0 else 1.0
    return max(values) / min(values)


#: Largest over smallest training class above this is imbalanced: accuracy misleads and
#: class balance is advised (the Data tab's imbalance line and ``workbench check`` say so).
IMBALANCE_WARNING = 3.0

#: ``data.balance`` values, as the advice names them.
BALANCE_NAMES = {"weighted_loss": "the class-weighted loss",
                 "weighted_sampler": "the weighted sampler"}


@dataclass(frozen=True)
class Imbalance:
    """How unequal the classes of a training split are (see :func:`imbalance`).

    Attributes
    ----------
    ratio
        Largest over smallest class count (:func:`class_imbalance`; ``inf`` when a class
        has no training image).
    largest, smallest
        ``(class, images)`` of the largest and the smallest class (the first in class
        order among equals).
    small
        The classes with fewer than ``1 / IMBALANCE_WARNING`` of the largest's images, in
        class order: one outlier or most classes.
    classes
        How many classes were counted.
    """

    ratio: float
    largest: tuple[str, int]
    smallest: tuple[str, int]
    small: tuple[str, ...]
    classes: int

    @property
    def strong(self) -> bool:
        """Whether it is beyond :data:`IMBALANCE_WARNING` (a class without images too)."""
        return self.ratio > IMBALANCE_WARNING

    def extremes(self) -> str:
        """``'big' 240 / 'x' 1``: the two classes that make the ratio, with their images."""
        (big, n), (few, m) = self.largest, self.smallest
        return f"{big!r} {n:,} / {few!r} {m:,}"

    def summary(self) -> str:
        """``240x in training ('big' 240 / 'x' 1; 87 of 90 classes have less than 1/3 as
        many images as 'big')``; for a class without images, that it has none."""
        if math.isinf(self.ratio):
            return f"class {self.smallest[0]!r} has no training images"
        spread = (f"; {len(self.small)} of {self.classes} classes have less than "
                  f"1/{IMBALANCE_WARNING:g} as many images as {self.largest[0]!r}"
                  if len(self.small) > 1 else "")
        return f"{self.ratio:.1f}x in training ({self.extremes()}{spread})"


def imbalance(counts: dict[str, int]) -> Imbalance | None:
    """The imbalance of ``counts`` (class -> training images, e.g.
    ``DataUse.per_class``'s first part); None without classes."""
    if not counts:
        return None
    names = list(counts)
    big = max(names, key=lambda c: counts[c])
    few = min(names, key=lambda c: counts[c])
    top = counts[big]
    small = tuple(c for c in names if counts[c] * IMBALANCE_WARNING < top)
    return Imbalance(float(class_imbalance(counts)), (big, int(top)),
                     (few, int(counts[few])), small, len(names))


def balance_advice(balance: str, cli: bool = False) -> str:
    """What to do about a strong imbalance, given the experiment's ``data.balance``:
    that it is compensated, or to consider class balance (``cli``: with the ``--set``
    that chooses it) and to judge the model per class."""
    if balance in BALANCE_NAMES:
        return f"compensated by {BALANCE_NAMES[balance]}" + \
            (f" (data.balance={balance})" if cli else "")
    if cli:
        how = ("a class-weighted loss (--set data.balance=weighted_loss) or the weighted "
               "sampler (--set data.balance=weighted_sampler)")
    else:
        how = "the class-weighted loss or the weighted sampler"
    return f"consider {how}, and judge the model per class, not by accuracy alone"


class NoImagesError(WorkbenchError):
    """None of the given images could be decoded, so there is nothing to compute from."""


def normalization_preset(name: str, channels: int) -> tuple[list[float], list[float]]:
    """``(mean, std)`` of the preset ``name`` for images with ``channels`` channels.

    Raises
    ------
    WorkbenchError
        For an unknown preset name (the message lists the known ones).
    """
    try:
        mean, std = NORMALIZATION_PRESETS[name]
    except KeyError:
        raise WorkbenchError(f"unknown normalisation preset {name!r}; choose one of "
                             f"{', '.join(NORMALIZATION_PRESETS)}") from None
    if int(channels) == 1:
        return [round(sum(mean) / len(mean), 4)], [round(sum(std) / len(std), 4)]
    return list(mean), list(std)


def compute_mean_std(samples: Sequence, exp: "Experiment",
                     progress: Callable[[int, int], None] | None = None,
                     is_cancelled: Callable[[], bool] | None = None
                     ) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of ``samples`` as the network will see them.

    Parameters
    ----------
    samples
        ``(path, label)`` pairs (or bare paths) of the TRAINING split, e.g. the first part
        of :func:`~.split.split_samples`.
    exp
        Supplies ``data.channels`` and ``data.input_size``: each image is converted to
        that many channels and resized to that size before counting.
    progress
        Called as ``progress(done, total)`` after each image (and once with ``(0, total)``).
    is_cancelled
        Polled before each image; when it returns True, :class:`Cancelled` is raised.

    Returns
    -------
    (mean, std)
        Lists of ``exp.data.channels`` floats, for values scaled to [0, 1]; std is the
        population standard deviation over every pixel, floored at 1e-6.

    Raises
    ------
    Cancelled
        When ``is_cancelled()`` returned True.
    NoImagesError
        When no image could be decoded (files that fail are skipped).
    """
    from PIL import Image

    from workbench.core.data.images import load_image

    channels = int(exp.data.channels)
    h, w = (int(v) for v in exp.data.input_size)
    total = len(samples)
    # Per image: exact mean and sum of squared deviations (two-pass, float64); images are
    # merged with Chan et al.'s parallel form of Welford's update, stable for any count.
    n = 0
    mean = np.zeros(channels, dtype=np.float64)
    m2 = np.zeros(channels, dtype=np.float64)
    if progress is not None:
        progress(0, total)
    for i, sample in enumerate(samples):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled(f"computing the mean and std was cancelled after {i} of {total} "
                            f"images; nothing was changed")
        path = sample[0] if isinstance(sample, (tuple, list)) else sample
        try:
            img = load_image(path, channels, min_side=2 * max(h, w))
        except ImageDecodeError:
            img = None
        if img is not None:
            if img.size != (w, h):
                img = img.resize((w, h), Image.BILINEAR)
            a = np.asarray(img, dtype=np.float64).reshape(h * w, channels) / 255.0
            k = h * w
            mean_b = a.mean(axis=0)
            m2_b = np.square(a - mean_b).sum(axis=0)
            delta = mean_b - mean
            tot = n + k
            mean = mean + delta * (k / tot)
            m2 = m2 + m2_b + np.square(delta) * (n * k / tot)
            n = tot
        if progress is not None:
            progress(i + 1, total)
    if n == 0:
        raise NoImagesError(f"cannot compute the mean and std: none of the {total} training "
                            f"images could be decoded; check the dataset folder or pick a "
                            f"preset instead")
    std = np.sqrt(m2 / n)
    return [float(v) for v in mean], [max(float(v), 1e-6) for v in std]
