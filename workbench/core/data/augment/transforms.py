"""Image transforms: the registry, and the training and evaluation pipelines built from it.

An experiment lists its training-time transforms in ``augment.transforms``. From that one
list come two pipelines:

* training: every listed step, in order;
* evaluation (validation, prediction, export): only the deterministic steps, each random
  step replaced by its declared evaluation counterpart (``entry.meta["eval"]``, e.g.
  ``RandomResizedCrop`` becomes a ``Resize`` to the same size) or dropped.

Both start by converting the image to the experiment's channel count and end with the
same fixed steps: a resize to ``data.input_size`` when the list does not already produce
it, scaling to float32 in [0, 1], and normalisation by ``data.mean`` / ``data.std``. So a
model always sees what it was trained on, whoever builds the pipeline.

Each entry's ``meta`` holds:

``random`` (bool)
    Whether the step draws random numbers (and so is left out of evaluation).
``eval`` (callable(params, exp) -> transform or None)
    Its evaluation counterpart.
``describe`` (callable(params, exp) -> str)
    One line for the read-only pipeline view.
``output_size`` (callable(params, exp) -> (h, w) or None), sizing steps only
    The exact size the step produces, or None when it depends on the image.
``float`` (bool), optional
    The step needs float input in [0, 1]: scaling from uint8 is placed just before it.
``batch`` (bool), optional
    A batch-level step (MixUp, CutMix; see :mod:`.batch`): skipped by both per-image
    pipelines, applied to whole training batches by the Trainer.
``check`` (callable(params)), optional
    Checks across parameters that a single :class:`~workbench.core.registry.Param` cannot
    express (a range given low-high); raises :class:`SpecError` naming the parameter.

Builders take the validated parameters and the experiment as keyword ``exp``; parameters
declared ``auto`` (a size of ``None``) are filled from ``exp.data.input_size``. Without an
experiment the defaults of :class:`~workbench.core.experiment.DataConfig` apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch
from PIL import Image
from torchvision.transforms import v2

from workbench.core.errors import SpecError
from workbench.core.registry import Param, Registry
from workbench.core.data.steps import ToChannelsImage  # noqa: F401  (re-exported: the first step)

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

TRANSFORMS = Registry("transform")

_AUTO_SIZE = "data.input_size"


# -- helpers shared by the entries -------------------------------------------------------
def _data(exp: "Experiment | None") -> Any:
    if exp is None:
        from workbench.core.experiment import DataConfig

        return DataConfig()
    return exp.data


def _size(size: list[int] | None, exp: "Experiment | None") -> list[int]:
    return list(_data(exp).input_size) if size is None else list(size)


def _exact(size: list[int]) -> tuple[int, int]:
    return (size[0], size[0]) if len(size) == 1 else (size[0], size[1])


def _hw(size: tuple[int, int] | list[int]) -> str:
    return f"{size[0]}x{size[1]}"


def _per_channel(values: list[float], channels: int, where: str) -> list[float]:
    if len(values) == 1:
        return [float(values[0])] * channels
    if len(values) != channels:
        raise SpecError(where, f"has {len(values)} values but images have {channels} "
                               f"channel(s): give 1 or {channels} values")
    return [float(v) for v in values]


def _size_param(what: str) -> Param:
    return Param("size", list, None, min=1, max=4096, item_type=int, length=(1, 2),
                 auto=_AUTO_SIZE, help=f"{what} as [height, width], or [n] for n x n. "
                                       f"Empty (auto): the experiment's input size.")


def _same(builder: Callable[..., Any]) -> Callable[[dict, Any], Any]:
    """Evaluation counterpart of a deterministic step: the step itself."""
    return lambda params, exp: builder(**params, exp=exp)


# -- the entries -------------------------------------------------------------------------
def _resize(size: list[int] | None = None, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.Resize(_size(size, exp), antialias=True)


def _describe_resize(params: dict, exp: Any) -> str:
    size = _size(params["size"], exp)
    if len(size) == 1:
        return f"Resize: shorter side to {size[0]} pixels (keeps the aspect ratio)"
    return f"Resize to {_hw(size)}"


TRANSFORMS.register(
    "Resize", params=[_size_param("Output size")], group="size",
    help="Resize the image; one number resizes the shorter side and keeps the aspect ratio.",
    random=False, eval=_same(_resize), describe=_describe_resize,
    output_size=lambda p, exp: None if len(_size(p["size"], exp)) == 1
    else _exact(_size(p["size"], exp)))(_resize)


def _center_crop(size: list[int] | None = None, *,
                 exp: "Experiment | None" = None) -> v2.Transform:
    return v2.CenterCrop(_size(size, exp))


TRANSFORMS.register(
    "CenterCrop", params=[_size_param("Crop size")], group="size",
    help="Cut the central region out (padding with black when the image is smaller); "
         "usually after a Resize to a slightly larger size.",
    random=False, eval=_same(_center_crop),
    describe=lambda p, exp: f"Crop the centre {_hw(_exact(_size(p['size'], exp)))}",
    output_size=lambda p, exp: _exact(_size(p["size"], exp)))(_center_crop)


def _check_ranges(params: dict) -> None:
    for name in ("scale", "ratio"):
        lo, hi = params[name]
        if lo > hi:
            raise SpecError(name, f"[{lo:g}, {hi:g}] is not a range: put the smaller value "
                                  f"first")


def _random_resized_crop(size: list[int] | None = None, scale: list[float] = (0.5, 1.0),
                         ratio: list[float] = (0.75, 4 / 3), *,
                         exp: "Experiment | None" = None) -> v2.Transform:
    _check_ranges({"scale": scale, "ratio": ratio})
    return v2.RandomResizedCrop(_size(size, exp), scale=tuple(scale), ratio=tuple(ratio),
                                antialias=True)


def _describe_rrc(p: dict, exp: Any) -> str:
    lo, hi = p["scale"]
    r0, r1 = p["ratio"]
    return (f"Random crop of {lo:.0%}-{hi:.0%} of the area, aspect ratio {r0:.2f}-{r1:.2f}, "
            f"resized to {_hw(_exact(_size(p['size'], exp)))}")


TRANSFORMS.register(
    "RandomResizedCrop",
    params=[_size_param("Output size"),
            Param("scale", list, [0.5, 1.0], min=0.01, max=1.0, item_type=float, length=(2,),
                  help="Range of the crop's area as a share of the image. torchvision's "
                       "ImageNet default [0.08, 1.0] is too aggressive for small or centred "
                       "objects; [0.5, 1.0] is a safer start."),
            Param("ratio", list, [0.75, 4 / 3], min=0.1, max=10.0, item_type=float,
                  length=(2,), help="Range of the crop's width/height ratio before resizing; "
                                    "[0.75, 1.333] is the usual choice.")],
    group="size",
    help="Crop a random part of the image and resize it; evaluation resizes the whole "
         "image to the same size instead.",
    random=True, check=_check_ranges,
    eval=lambda p, exp: v2.Resize(list(_exact(_size(p["size"], exp))), antialias=True),
    describe=_describe_rrc,
    output_size=lambda p, exp: _exact(_size(p["size"], exp)))(_random_resized_crop)


def _hflip(p: float = 0.5, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.RandomHorizontalFlip(p)


def _vflip(p: float = 0.5, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.RandomVerticalFlip(p)


def _p_param(what: str) -> Param:
    return Param("p", float, 0.5, min=0.0, max=1.0,
                 help=f"Probability of {what}; 0.5 flips half the images.")


TRANSFORMS.register(
    "RandomHorizontalFlip", params=[_p_param("flipping an image left-right")],
    group="geometry",
    help="Mirror images left-right at random; right for most photos, wrong for text or "
         "digits.", random=True, eval=None,
    describe=lambda p, exp: f"Flip left-right with probability {p['p']:g}")(_hflip)

TRANSFORMS.register(
    "RandomVerticalFlip", params=[_p_param("flipping an image upside-down")],
    group="geometry",
    help="Flip images upside-down at random; for views with no natural up (microscopy, "
         "satellite images).", random=True, eval=None,
    describe=lambda p, exp: f"Flip upside-down with probability {p['p']:g}")(_vflip)


def _rotation(degrees: float = 15.0, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.RandomRotation(degrees=(-degrees, degrees))


TRANSFORMS.register(
    "RandomRotation",
    params=[Param("degrees", float, 15.0, min=0.0, max=180.0,
                  help="Largest rotation either way, in degrees; 10-20 suits photos. "
                       "Corners that come into view are black.")],
    group="geometry", help="Rotate images by a random angle.", random=True, eval=None,
    describe=lambda p, exp: f"Rotate by a random angle between -{p['degrees']:g} and "
                            f"{p['degrees']:g} degrees")(_rotation)


def _color_jitter(brightness: float = 0.2, contrast: float = 0.2, saturation: float = 0.2,
                  hue: float = 0.0, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.ColorJitter(brightness=brightness, contrast=contrast, saturation=saturation,
                          hue=hue)


def _describe_jitter(p: dict, exp: Any) -> str:
    parts = [f"{k} up to {p[k]:g}" for k in ("brightness", "contrast", "saturation", "hue")
             if p[k] > 0]
    return "Colour jitter: " + (", ".join(parts) if parts else "none (all amounts are 0)")


def _jitter_param(name: str, what: str) -> Param:
    return Param(name, float, 0.2, min=0.0, max=5.0,
                 help=f"How much to vary {what}: a factor drawn from [1 - x, 1 + x]; "
                      f"0 leaves it, 0.1-0.4 is typical.")


TRANSFORMS.register(
    "ColorJitter",
    params=[_jitter_param("brightness", "brightness"), _jitter_param("contrast", "contrast"),
            _jitter_param("saturation", "colour saturation (no effect on grayscale)"),
            Param("hue", float, 0.0, min=0.0, max=0.5,
                  help="Shift of the hue, up to x of a full turn either way; 0 keeps "
                       "colours (keep it 0 when colour is what tells classes apart).")],
    group="colour", help="Vary brightness, contrast, saturation and hue at random.",
    random=True, eval=None, describe=_describe_jitter)(_color_jitter)


def _grayscale(*, exp: "Experiment | None" = None) -> v2.Transform:
    # The output keeps the experiment's channel count so the network's input never changes.
    return v2.Grayscale(num_output_channels=_data(exp).channels)


def _describe_gray(p: dict, exp: Any) -> str:
    n = _data(exp).channels
    return "Convert to grayscale" + (" (kept as 3 equal channels)" if n == 3 else "")


TRANSFORMS.register(
    "Grayscale", params=[], group="colour",
    help="Drop colour (also at evaluation); the number of channels stays the experiment's.",
    random=False, eval=_same(_grayscale), describe=_describe_gray)(_grayscale)


def _normalize(mean: list[float] = (0.0,), std: list[float] = (1.0,), *,
               exp: "Experiment | None" = None) -> v2.Transform:
    n = _data(exp).channels
    return v2.Normalize(_per_channel(mean, n, "Normalize.mean"),
                        _per_channel(std, n, "Normalize.std"))


TRANSFORMS.register(
    "Normalize",
    params=[Param("mean", list, [0.0], item_type=float, length=(1, 3),
                  help="Subtracted per channel (1 value: every channel)."),
            Param("std", list, [1.0], item_type=float, length=(1, 3), min=1e-6,
                  help="Divided by per channel (1 value: every channel).")],
    group="normalisation",
    help="An extra (x - mean) / std at this point, on values in [0, 1]. Rarely needed: "
         "every pipeline already ends with data.mean and data.std. Put it last.",
    random=False, eval=_same(_normalize), float=True,
    describe=lambda p, exp: f"Normalize: mean {p['mean']}, std {p['std']}")(_normalize)


# -- fixed steps of every pipeline -------------------------------------------------------
@dataclass
class _Step:
    text: str
    transform: Callable[[Any], Any]
    to_float: bool = False  # the step needs float input (placed after scaling to [0, 1])
    random: bool = False  # draws random numbers (so a batch needs a draw per image)
    #: The (h, w) every image has after this step; None when it depends on the image;
    #: "keep" when the step does not change the size.
    size: Any = "keep"
    #: "channels", "fit", "scale" or "normalize" for the fixed steps; else the entry name.
    role: str = ""


def _plan(exp: "Experiment", train: bool) -> list[_Step]:
    data = exp.data
    if data.channels not in (1, 3):
        raise SpecError("data.channels", f"must be 1 or 3, got {data.channels!r}")
    mean = _per_channel(data.mean, data.channels, "data.mean")
    std = _per_channel(data.std, data.channels, "data.std")
    target = (int(data.input_size[0]), int(data.input_size[1]))

    listed = []
    for i, comp in enumerate(exp.augment.transforms):
        where = f"augment.transforms[{i}]"
        entry = TRANSFORMS.get(comp.type, f"{where}.type")
        if entry.meta.get("batch"):  # MixUp/CutMix: whole batches, see build_batch_transform
            continue
        listed.append((where, entry, entry.validate(comp.params, f"{where}.params")))

    # Decided on the training list for both pipelines, so they agree on sizes.
    sizing = [(e, p) for _, e, p in listed if "output_size" in e.meta]
    last_size = sizing[-1][0].meta["output_size"](sizing[-1][1], exp) if sizing else None
    seen_normalize = False
    for where, entry, params in listed:
        if entry.name == "Normalize":
            seen_normalize = True
        elif entry.name == "ColorJitter" and seen_normalize:
            raise SpecError(f"{where}.type", "ColorJitter must come before Normalize: it "
                                             "works on pixel values in [0, 1]")

    chan = "RGB (3 channels)" if data.channels == 3 else "grayscale (1 channel)"
    steps = [_Step(f"Convert to {chan}", ToChannelsImage(data.channels), role="channels")]
    fit = f"Resize to {_hw(target)} (data.input_size)"
    if not sizing:
        steps.append(_Step(fit, v2.Resize(list(target), antialias=True), size=target,
                           role="fit"))
    for where, entry, params in listed:
        try:
            if "check" in entry.meta:  # in both pipelines, so both reject the same specs
                entry.meta["check"](params)
            if train or not entry.meta.get("random", False):
                step = entry.builder(**params, exp=exp)
                text = entry.meta["describe"](params, exp)
            else:
                counterpart = entry.meta.get("eval")
                step = counterpart(params, exp) if counterpart else None
                if step is None:
                    continue
                text = f"Resize to {_hw(entry.meta['output_size'](params, exp))} " \
                       f"(evaluation counterpart of {entry.name})" \
                    if "output_size" in entry.meta else f"{entry.name} (evaluation form)"
        except SpecError as e:
            raise SpecError(f"{where}.params.{e.field.split('.')[-1]}", e.problem) from None
        random = train and bool(entry.meta.get("random", False))
        size = entry.meta["output_size"](params, exp) if "output_size" in entry.meta else "keep"
        steps.append(_Step(text, step, to_float=bool(entry.meta.get("float")), random=random,
                           size=size, role=entry.name))
    if sizing and last_size != target:
        steps.append(_Step(fit, v2.Resize(list(target), antialias=True), size=target,
                           role="fit"))

    # Steps run on uint8 (cheaper, and ColorJitter expects [0, 1] values) until one needs
    # floats; the scaling step goes just before it, or at the end.
    out: list[_Step] = []
    scale = _Step("Scale pixel values to [0, 1] (float32)",
                  v2.ToDtype(torch.float32, scale=True), role="scale")
    for step in steps:
        if step.to_float and not any(s is scale for s in out):
            out.append(scale)
        out.append(step)
    if not any(s is scale for s in out):
        out.append(scale)
    out.append(_Step(f"Normalize with data.mean {mean} and data.std {std}",
                     v2.Normalize(mean, std), role="normalize"))
    return out


def _compose(exp: "Experiment", train: bool) -> v2.Compose:
    return v2.Compose([s.transform for s in _plan(exp, train)] + [v2.ToPureTensor()])


def build_train_transform(exp: "Experiment") -> Callable[[Image.Image], torch.Tensor]:
    """The training pipeline of ``exp``: PIL image -> float32 tensor (C, H, W).

    (H, W) is ``exp.data.input_size`` and C ``exp.data.channels``; values are scaled to
    [0, 1], then normalised by ``exp.data.mean`` and ``exp.data.std``. Random steps draw
    from torch's global generator (seeded per DataLoader worker by PyTorch).

    Raises
    ------
    SpecError
        Naming the field, for an unknown transform, a bad parameter, or mean/std whose
        length fits neither 1 nor the channel count.
    """
    return _compose(exp, train=True)


def build_eval_transform(exp: "Experiment") -> Callable[[Image.Image], torch.Tensor]:
    """The evaluation pipeline of ``exp``: like :func:`build_train_transform` with only
    the deterministic steps (random ones replaced by their counterpart or dropped), so
    the same image always gives the same tensor."""
    return _compose(exp, train=False)


def describe_pipeline(exp: "Experiment", train: bool) -> list[str]:
    """The steps of the training (``train=True``) or evaluation pipeline, one line each.

    The lines come from the same plan the pipelines are built from, so they cannot
    disagree with what the model sees. The training lines end with the batch-level
    steps (MixUp, CutMix) the Trainer applies after collation.
    """
    lines = [s.text for s in _plan(exp, train)]
    if train:
        from workbench.core.data.augment.mixing import batch_entries

        batch = batch_entries(exp)
        if len(batch) > 1:
            lines.append("Then, per batch, one of:")
        lines += [e.meta["describe"](p, exp) for e, p in batch]
    return lines


# More entries (affine, blur, noise, erasing, auto-augment policies) and the batch-level
# ones (MixUp, CutMix) register themselves in TRANSFORMS.
from workbench.core.data.augment import more_transforms as _augments  # noqa: E402,F401
from workbench.core.data.augment import mixing as _batch  # noqa: E402,F401


def build_batch_transform(exp: "Experiment", num_classes: int | None = None) -> Any:
    """:func:`.batch.build_batch_transform` (MixUp/CutMix), or None."""
    return _batch.build_batch_transform(exp, num_classes)
