"""Image transforms: the registry, and the training and evaluation pipelines built from it.

:data:`TRANSFORMS` holds every entry, gathered here from the modules that declare them
(:mod:`.basic_transforms`, :mod:`.more_transforms`, :mod:`.mixing`), so whoever imports it
gets it complete.

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
``eval_describe`` (callable(params, exp) -> str), optional
    The counterpart's line in the evaluation pipeline view (else "Resize to ... (evaluation
    counterpart of ...)" for sizing steps).
``describe`` (callable(params, exp) -> str)
    One line for the read-only pipeline view.
``output_size`` (callable(params, exp) -> (h, w) or None), sizing steps only
    The exact size the step produces, or None when it depends on the image.
``float`` (bool), optional
    The step needs float input in [0, 1]: scaling from uint8 is placed just before it.
``batch`` (bool), optional
    A batch-level step (MixUp, CutMix; see :mod:`.mixing`): skipped by both per-image
    pipelines, applied to whole training batches by the Trainer
    (:func:`build_batch_transform`).
``check`` (callable(params)), optional
    Checks across parameters that a single :class:`~workbench.core.registry.Param` cannot
    express (a range given low-high); raises :class:`SpecError` naming the parameter.

A built step with a ``where`` attribute gets its field (``augment.transforms[0]``), for
the :class:`~.common.ImageTooSmall` it raises on an image too small for it (RandomCrop).

Builders take the validated parameters and the experiment as keyword ``exp``; parameters
declared ``auto`` (a size of ``None``) are filled from ``exp.data.input_size``. Without an
experiment the defaults of :class:`~workbench.core.experiment.DataConfig` apply
(:data:`.common.DEFAULT_DATA`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch
from PIL import Image
from torchvision.transforms import v2

from workbench.core.data.augment import basic_transforms, mixing, more_transforms
from workbench.core.data.augment.common import _per_channel
from workbench.core.data.sizes import hw_text
from workbench.core.data.steps import ToChannelsImage  # noqa: F401  (re-exported: the first step)
from workbench.core.errors import SpecError
from workbench.core.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

#: Every transform entry, in the order the Augment tab lists them.
TRANSFORMS = Registry("transform")
TRANSFORMS.extend(basic_transforms.ENTRIES)
TRANSFORMS.extend(more_transforms.ENTRIES)  # affine, blur, noise, erasing, policies
TRANSFORMS.extend(mixing.ENTRIES)  # batch-level: MixUp, CutMix


#: Steps that assume pixel values (in [0, 1], or uint8), so they cannot follow an extra
#: Normalize step, and why. GaussianBlur may: a blur commutes with (x - mean) / std.
_PIXEL_STEPS = {
    "ColorJitter": "works on pixel values in [0, 1]",
    "GaussianNoise": "clips the values to [0, 1], which cuts off every normalised value "
                     "below 0",
    **{name: "expects pixel values in [0, 1] (its contrast, solarize, posterize and "
             "equalize operations are meaningless on normalised values)"
       for name in ("RandAugment", "TrivialAugmentWide", "AutoAugment")},
}


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
        elif seen_normalize and entry.name in _PIXEL_STEPS:
            raise SpecError(f"{where}.type", f"{entry.name} must come before Normalize: it "
                                             f"{_PIXEL_STEPS[entry.name]}; move it above "
                                             f"the Normalize step")

    chan = "RGB (3 channels)" if data.channels == 3 else "grayscale (1 channel)"
    steps = [_Step(f"Convert to {chan}", ToChannelsImage(data.channels), role="channels")]
    fit = f"Resize to {hw_text(target)} (data.input_size)"
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
                text = entry.meta["eval_describe"](params, exp) \
                    if "eval_describe" in entry.meta else \
                    f"Resize to {hw_text(entry.meta['output_size'](params, exp))} " \
                    f"(evaluation counterpart of {entry.name})" \
                    if "output_size" in entry.meta else f"{entry.name} (evaluation form)"
        except SpecError as e:
            raise SpecError(f"{where}.params.{e.field.split('.')[-1]}", e.problem) from None
        if hasattr(step, "where"):  # its errors on an image (one too small) name the step
            step.where = where
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


def eval_sees_whole_image(exp: "Experiment") -> bool:
    """Whether the evaluation pipeline keeps the whole picture (it only resizes, perhaps
    changing the aspect ratio), so a position in the network's input is the same fraction
    of the width and height of the original image; False when a step crops (CenterCrop, or
    RandomCrop's centre crop)."""
    return not any(s.role in ("CenterCrop", "RandomCrop") for s in _plan(exp, False))


def describe_pipeline(exp: "Experiment", train: bool) -> list[str]:
    """The steps of the training (``train=True``) or evaluation pipeline, one line each.

    The lines come from the same plan the pipelines are built from, so they cannot
    disagree with what the model sees. The training lines end with the batch-level
    steps (MixUp, CutMix) the Trainer applies after collation.
    """
    lines = [s.text for s in _plan(exp, train)]
    if train:
        batch = batch_entries(exp)
        if len(batch) > 1:
            lines.append("Then, per batch, one of:")
        lines += [e.meta["describe"](p, exp) for e, p in batch]
    return lines


def augments_randomly(exp: "Experiment") -> bool:
    """Whether training draws random augmentation: a random transform, MixUp or CutMix."""
    return any(s.random for s in _plan(exp, True)) or bool(batch_entries(exp))


# -- batch-level steps (MixUp, CutMix), applied by the Trainer after collation -----------
def batch_entries(exp: "Experiment") -> list[tuple[Any, dict]]:
    """The batch-level ``(entry, validated params)`` listed in ``exp.augment.transforms``."""
    out = []
    for i, comp in enumerate(exp.augment.transforms):
        entry = TRANSFORMS.get(comp.type, f"augment.transforms[{i}].type")
        if entry.meta.get("batch"):
            out.append((entry, entry.validate(comp.params, f"augment.transforms[{i}].params")))
    return out


def build_batch_transform(exp: "Experiment", num_classes: int | None = None
                          ) -> mixing.BatchAugment | None:
    """The batch-level augmentation of ``exp``, or None when it lists none.

    Parameters
    ----------
    exp
        Its ``augment.transforms`` may list MixUp and/or CutMix (anywhere in the list).
    num_classes
        Width of the soft targets; without it, ``fn(x, y, num_classes=K)`` may give it
        per call, else the largest label + 1 is used.

    Returns
    -------
    callable or None
        ``fn(x, y) -> (x, y_soft)``: ``x`` a float batch ``(B, C, H, W)``, ``y`` class
        indices ``(B,)``; ``y_soft`` is float ``(B, num_classes)``, each row summing to 1.
        Random draws use torch's global generator, or ``generator=`` when given.
    """
    choices = [entry.builder(**params, exp=exp) for entry, params in batch_entries(exp)]
    for c in choices:
        c.num_classes = num_classes
    return mixing.BatchAugment(choices, num_classes) if choices else None
