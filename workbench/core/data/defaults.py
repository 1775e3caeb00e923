"""Defaults an experiment takes from its dataset: input size, channels, and no mirror flips.

A preset is written for no dataset in particular (32x32 RGB with a horizontal flip). Told
the dataset, :func:`data_defaults` decides, from the scanned index and the images' headers
(sizes and colour modes, :mod:`.summary`; of an index whose scan did not decode, the
sampled files are decoded once to leave out the damaged ones):

- the input size: the images' common size when it is a sensible input (at most
  :data:`MAX_INPUT_SIDE` on the long side); larger photos keep the experiment's size, and a
  pretrained backbone keeps the size and the three channels it was set up with;
- the channels: 1 when every image read is grayscale (or 1-bit), else 3;
- no ``RandomHorizontalFlip`` / ``RandomVerticalFlip`` when a mirror may change the label
  (digits, letters, text: :func:`~.augment.hints.mirror_sensitivity`), and no flip that
  swaps the only difference between two class names ("turn_left"/"turn_right": no
  horizontal flip; "up"/"down": no vertical one; :func:`~.augment.hints.direction_sensitivity`).

Each choice comes with a plain-words reason, so the CLI and the app can say what they chose
and why: ``input 28x28 and 1 channel: the size and colour mode of the images (all 28x28,
grayscale); no horizontal flip: the classes ('0', '1', ...) look like digits, which a mirror
changes``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from workbench.core.data.augment.hints import direction_sensitivity, mirror_sensitivity
from workbench.core.data.sizes import hw_text  # noqa: F401  (re-exported)

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment
    from workbench.core.data.index import DatasetIndex
    from workbench.core.data.summary import ImageSummary

#: Images whose long side is at most this many pixels are trained at their own size.
MAX_INPUT_SIDE = 224
#: Images with a side under this keep the experiment's size (pooling layers need room).
MIN_INPUT_SIDE = 8
#: The input size torchvision's ImageNet networks were trained at ([height, width]).
PRETRAINED_INPUT = (224, 224)
#: The input size chosen from images of mixed sizes (their median) is a multiple of this.
MIXED_STEP = 8
#: Headers read by :func:`data_defaults` when it is given no summary (evenly spread).
SAMPLE_LIMIT = 1000
#: Pillow modes without colour: 1-bit, 8-bit gray (with alpha), 16/32-bit integer, float.
GRAYSCALE_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N",
                             "F"})
FLIPS = ("RandomHorizontalFlip", "RandomVerticalFlip")


@dataclass
class DataDefaults:
    """What :func:`data_defaults` chose for an experiment, and why.

    Attributes
    ----------
    input_size
        ``[height, width]`` the experiment should have.
    channels
        1 or 3.
    transforms
        The training transforms with the flips left out (copies; the rest unchanged).
    removed
        Names of the transforms left out (``["RandomHorizontalFlip"]``), in order.
    reasons
        One plain-words line per choice, e.g. ``"input 28x28 and 1 channel: the size and
        colour mode of the images (all 28x28, grayscale)"``.
    changes
        Field -> new value for what differs from the experiment it was decided for
        (``"data.input_size"``, ``"data.channels"``, ``"augment.transforms"``); empty when
        the experiment already fits the data.
    """

    input_size: list[int]
    channels: int
    transforms: list[Any]
    removed: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """The reasons as one sentence: ``"input 28x28 and 1 channel: ...; no horizontal
        flip: ..."``."""
        return "; ".join(self.reasons)


def is_grayscale(summary: "ImageSummary") -> bool:
    """True when images were read and every one of them has a colourless mode."""
    return summary.count > 0 and all(m in GRAYSCALE_MODES for m, n in summary.modes.items()
                                     if n)


def has_backbone(experiment: "Experiment") -> str | None:
    """The arch of the experiment's pretrained backbone (its first), or None."""
    for layer in experiment.model.layers:
        if layer.type == "Backbone":
            return str((layer.params or {}).get("arch", "resnet18"))
    return None


def pretrained_preprocessing(arch: str) -> dict[str, Any] | None:
    """The input size, mean and std ``arch``'s pretrained weights expect (see
    :func:`~workbench.core.model.backbone_weights.backbone_preprocessing`), None when they
    cannot be told. torchvision's networks all take ImageNet's at 224x224 (said here, so
    that opening a folder on the GUI thread imports no torchvision); a timm model's are
    its own (timm is asked)."""
    if not arch.startswith("timm/"):
        from workbench.core.data.stats import NORMALIZATION_PRESETS

        mean, std = NORMALIZATION_PRESETS["ImageNet"]
        return {"input_size": list(PRETRAINED_INPUT), "mean": list(mean), "std": list(std)}
    try:
        from workbench.core.model.backbone_weights import backbone_preprocessing

        return backbone_preprocessing(arch)
    except Exception:  # noqa: BLE001  (no timm, an unknown arch: keep what is there)
        return None


def values_text(values: Sequence[float]) -> str:
    """Values in words: ``"0.485, 0.456, 0.406"``."""
    return ", ".join(f"{float(v):g}" for v in values)


def grayscale_suggestion(experiment: "Experiment", summary: "ImageSummary") -> str | None:
    """``"All images are grayscale: use 1 channel"`` when the data is grayscale but kept as
    RGB (and no pretrained backbone needs RGB); else None."""
    if int(experiment.data.channels) == 3 and is_grayscale(summary) and \
            has_backbone(experiment) is None:
        return "All images are grayscale: use 1 channel"
    return None


def sample_paths(index: "DatasetIndex", limit: int = SAMPLE_LIMIT,
                 readable: bool = False) -> list[str]:
    """At most ``limit`` image paths of ``index`` (training and validation parts), spread
    evenly over them, so every class is represented in a sorted listing. ``readable``:
    without the files that do not decode, when the scan did not decode them (a damaged
    JPEG's header reads, so its mode would be counted for an image no run uses), so that
    the images counted are those the Data tab's verifying scan counts."""
    paths = [p for p, _ in index.samples] + [p for p, _ in (index.val_samples or [])]
    if len(paths) > limit:
        step = len(paths) / limit
        paths = [paths[int(i * step)] for i in range(limit)]
    if readable and not getattr(index, "verified", True):
        from workbench.core.data.index import unreadable_of

        bad = unreadable_of(paths)
        paths = [p for p in paths if p not in bad]
    return paths


def data_defaults(experiment: "Experiment", index: "DatasetIndex",
                  summary: "ImageSummary | None" = None,
                  is_cancelled: Callable[[], bool] | None = None) -> DataDefaults:
    """Decide the input size, channels and flips ``experiment`` should have for ``index``.

    Parameters
    ----------
    experiment
        The experiment to fit (read, not changed); its current values are what is kept
        where the data says nothing (large photos, unreadable images, a backbone).
    index
        The scanned dataset (:func:`~.scan.scan_folder`; nothing needs decoding).
    summary
        The images' sizes and modes (:func:`~.summary.summarize_images`); None: the headers
        of up to :data:`SAMPLE_LIMIT` readable images spread over the dataset are read now
        (:func:`sample_paths`).
    is_cancelled
        Passed to the header reading when ``summary`` is None.

    Returns
    -------
    DataDefaults
        The choices, their reasons and the changes against ``experiment``.
    """
    if summary is None:
        from workbench.core.data.summary import summarize_images

        summary = summarize_images(sample_paths(index, readable=True),
                                   is_cancelled=is_cancelled)
    d = experiment.data
    size, channels = [int(v) for v in d.input_size], int(d.channels)
    reasons: list[str] = []
    arch = has_backbone(experiment)
    mean = std = None
    if arch is not None:
        channels = 3
        pre = pretrained_preprocessing(arch)
        if pre is None:
            reasons.append(f"input stays {hw_text(size)} and 3 channels: the network starts "
                           f"with a pretrained {arch}, which takes RGB images (grayscale "
                           f"ones are converted)")
        else:
            size, mean, std = list(pre["input_size"]), pre["mean"], pre["std"]
            reasons.append(f"input {hw_text(size)}, 3 channels and {arch}'s normalisation "
                           f"(mean {values_text(mean)}, std {values_text(std)}): what the "
                           f"pretrained {arch} was trained with (grayscale images are "
                           f"converted; a smaller input trains faster, with weaker "
                           f"features)")
    elif summary.count == 0:
        reasons.append(f"input stays {hw_text(size)} and {_channels(channels)}: no image header "
                       f"could be read to measure")
    else:
        size, size_why = _size(summary, size)
        gray = is_grayscale(summary)
        channels = 1 if gray else 3
        mode_why = (f"grayscale, {_modes(summary)}" if gray else
                    f"in colour, {_modes(summary)}")
        if size_why is None:
            rounded = (f", rounded to a multiple of {MIXED_STEP}"
                       if [summary.median_height, summary.median_width] != size
                       and "median" in _common(summary) else "")
            reasons.append(f"input {hw_text(size)} and {_channels(channels)}: the size and colour "
                           f"mode of the images ({_common(summary)}{rounded}, {mode_why})")
        else:
            reasons.append(size_why)
            reasons.append(f"{_channels(channels)}: the colour mode of the images "
                           f"({mode_why})")

    transforms = [copy.deepcopy(t) for t in experiment.augment.transforms]
    removed: list[str] = []
    why = mirror_sensitivity(index.classes, getattr(index, "root", "") or "")
    if why is not None:
        removed = [t.type for t in transforms if t.type in FLIPS]
        transforms = [t for t in transforms if t.type not in FLIPS]
        if removed:
            kinds = sorted({name[len("Random"):-len("Flip")].lower() for name in removed},
                           key=("horizontal", "vertical").index)
            reasons.append(f"no {' or '.join(kinds)} flip: {why}, which a mirror changes")
    for flip, why_dir in direction_sensitivity(index.classes).items():
        if any(t.type == flip for t in transforms):
            removed.append(flip)
            transforms = [t for t in transforms if t.type != flip]
            kind = flip[len("Random"):-len("Flip")].lower()
            reasons.append(f"no {kind} flip: {why_dir}, which a {kind} flip swaps")

    changes: dict[str, Any] = {}
    if size != [int(v) for v in d.input_size]:
        changes["data.input_size"] = list(size)
    if channels != int(d.channels):
        changes["data.channels"] = channels
    if mean is not None and ([float(v) for v in d.mean], [float(v) for v in d.std]) != \
            (mean, std):
        changes["data.mean"], changes["data.std"] = list(mean), list(std)
    if removed:
        changes["augment.transforms"] = transforms
    return DataDefaults(list(size), channels, transforms, removed, reasons, changes)


def apply_data_defaults(experiment: "Experiment", defaults: DataDefaults) -> bool:
    """Write ``defaults`` into ``experiment`` (in place); True when anything changed.

    Changing the channels keeps ``data.mean`` and ``data.std`` valid (three values become
    their average; one value is repeated).
    """
    d = experiment.data
    changed = False
    if [int(v) for v in d.input_size] != defaults.input_size:
        d.input_size = list(defaults.input_size)
        changed = True
    if int(d.channels) != defaults.channels:
        d.channels = defaults.channels
        d.mean = adapt_values(d.mean, d.channels)
        d.std = adapt_values(d.std, d.channels)
        changed = True
    if "data.mean" in defaults.changes:
        d.mean, d.std = list(defaults.changes["data.mean"]), list(defaults.changes["data.std"])
        changed = True
    if defaults.removed:
        experiment.augment.transforms = [t for t in experiment.augment.transforms
                                         if t.type not in defaults.removed]
        changed = True
    return changed


def adopt_data_defaults(experiment: "Experiment", index: "DatasetIndex",
                        summary: "ImageSummary | None" = None) -> DataDefaults:
    """:func:`data_defaults`, then :func:`apply_data_defaults`; returns the choices."""
    defaults = data_defaults(experiment, index, summary)
    apply_data_defaults(experiment, defaults)
    return defaults


def adapt_values(values: Sequence[float], channels: int) -> list[float]:
    """Per-channel ``values`` valid for ``channels``: one value, or one per channel."""
    values = [float(v) for v in values]
    if len(values) in (1, channels):
        return values
    if channels == 1:
        return [round(sum(values) / len(values), 6)]
    return values[:1] * channels


def _size(summary: "ImageSummary", current: list[int]) -> tuple[list[int], str | None]:
    """``(input size, None)`` taken from the images, or ``(current, why it stays)``."""
    (w, h), n = summary.sizes.most_common(1)[0]
    if 2 * n < summary.count:
        # No size is most of them: the (lower) medians, to a multiple of MIXED_STEP. A
        # median of mixed sizes moves with the images read (the CLI reads a sample of
        # headers, the app all of them: 33x32 against 32x32 for one folder); rounded, both
        # choose the same, and the pooling layers halve it evenly.
        w, h = _round_to_step(summary.median_width), _round_to_step(summary.median_height)
    if max(w, h) > MAX_INPUT_SIDE:
        return current, (f"input stays {hw_text(current)}: the images are large "
                         f"({_common(summary)}) and are shrunk to it; a larger input sees "
                         f"more detail but trains slower")
    if min(w, h) < MIN_INPUT_SIDE:
        return current, (f"input stays {hw_text(current)}: the images ({_common(summary)}) are "
                         f"smaller than {MIN_INPUT_SIDE} pixels on a side, too small for "
                         f"most networks, and are enlarged to it")
    return [h, w], None


def _round_to_step(side: int) -> int:
    """``side`` to the nearest multiple of :data:`MIXED_STEP` (halves up), at least one
    step; a side under a step stays (it is refused as too small with its own size)."""
    if side < MIXED_STEP:
        return int(side)
    return max(MIXED_STEP, int((side + MIXED_STEP // 2) // MIXED_STEP * MIXED_STEP))


def _common(summary: "ImageSummary") -> str:
    """``"all 28x28"``, ``"900 of 1,000 are 28x28"`` or ``"mixed sizes, median 120x96"``."""
    (w, h), n = summary.sizes.most_common(1)[0]
    if n == summary.count:
        return f"all {w}x{h}"
    if 2 * n >= summary.count:
        return f"{n:,} of {summary.count:,} are {w}x{h}"
    return (f"{len(summary.sizes):,} sizes, median {summary.median_width}x"
            f"{summary.median_height}")


def _modes(summary: "ImageSummary") -> str:
    modes = summary.modes.most_common()
    if len(modes) == 1:
        return f"mode {modes[0][0]}"
    shown = modes if len(modes) <= 4 else modes[:3]  # "and more" only for two or more
    rest = sum(n for _, n in modes[len(shown):])
    return "modes " + ", ".join(f"{m} {n:,}" for m, n in shown) + \
        (f" and {len(modes) - len(shown)} more ({rest:,} images)" if rest else "")


def _channels(n: int) -> str:
    return f"{n} channel{'s' if n != 1 else ''}"
