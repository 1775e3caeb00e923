"""The model doctor's checks of a pretrained Backbone: a weights file training stops on,
frozen on random weights, and fed images prepared otherwise than its weights were trained
on.

A pretrained backbone's features are only as good as the match between the images it gets
and those it learned from: ImageNet's normalisation and (for torchvision's networks)
224x224 (:func:`~workbench.core.data.defaults.pretrained_preprocessing`). Choosing a
backbone preset sets them; a later edit on the Data tab (or ``--set``) is the user's to
make, and :func:`check_backbone_preprocessing` then says what it costs, with the fix.
"""

from __future__ import annotations

from typing import Any, Iterable

from workbench.core.experiment import Experiment
from workbench.core.model.findings import BACKBONES, Context, Finding, Fix, layers_of

#: Two normalisation values closer than this are the same (files round them).
TOLERANCE = 1e-3


def check_frozen_random_backbone(ctx: Context) -> Iterable[Finding]:
    """A frozen backbone (feature_extraction) that would start from random weights."""
    from workbench.core.model.backbone_weights import frozen_without_weights

    for i, t in enumerate(ctx.types):
        if t not in BACKBONES or not frozen_without_weights(dict(ctx.params(i))):
            continue

        def apply(exp: Experiment, i: int = i) -> None:
            layer = layers_of(exp)[i]
            params = layer.params if isinstance(layer.params, dict) else {}
            layer.params = {**params, "mode": "fine_tune"}

        yield Finding(
            "frozen-random-backbone", "warning", i,
            f"{ctx.name(i)} is frozen but has no pretrained weights",
            "In feature_extraction mode the backbone is never trained: it is worth keeping "
            "only for the ImageNet features its pretrained weights give. With random "
            "weights (none are on this machine, or weights is random) it turns every image "
            "into random features, and only the layers after it learn: expect little better "
            "than guessing. Train it too (mode fine_tune), or put its weights file where its "
            "card says.",
            Fix("Train the backbone too (mode fine_tune)", apply))


def check_backbone_weights_file(ctx: Context) -> Iterable[Finding]:
    """A Backbone whose weights file training will stop on (an error): named but missing,
    a folder, not weights, or cut short (:func:`~.backbone_weights.weights_stop`). The
    Backbone card says the same, and what to do first: correct the path. The fix points
    weights_file at the file it most likely meant, when its folder has one
    (:func:`~.backbone_weights.weights_file_near`: ``resnet18.pth`` for a typed
    ``resnt18.pth``); else it trains from random weights, its label naming the cost."""
    from workbench.core.model.backbone_weights import weights_file_near, weights_stop

    for i, t in enumerate(ctx.types):
        if t not in BACKBONES:
            continue
        params = dict(ctx.params(i))
        stop = weights_stop(params, i)
        if stop is None:
            continue
        named = str(params.get("weights_file") or "")
        near = weights_file_near(named, str(params.get("arch") or "resnet18")) if named \
            else None

        def apply(exp: Experiment, i: int = i, near: Any = near) -> None:
            layer = layers_of(exp)[i]
            params = layer.params if isinstance(layer.params, dict) else {}
            layer.params = {**params, "weights_file": str(near)} if near is not None else \
                {**params, "weights": "random", "mode": "fine_tune"}

        then = (f"The fix points weights_file at {near}, the likeliest weights file there."
                if near is not None else
                "The fix trains from random weights instead, for when you have no weights "
                "file: they need many more images and epochs to do as well as pretrained "
                "ones.")
        yield Finding(
            "backbone-weights-file", "error", i,
            f"{ctx.name(i)}'s weights file stops training",
            f"{stop}. Training stops on this before its first step (the layer's card says "
            f"the same; its Choose… button picks a file). {then}",
            Fix(f"Use the weights file {near.name}", apply) if near is not None else
            Fix("Train from random weights (needs far more images)", apply))


def _close(a: Any, b: Any) -> bool:
    a, b = [float(v) for v in a], [float(v) for v in b]
    if len(a) == 1:  # one value for every channel
        a = a * len(b)
    return len(a) == len(b) and all(abs(x - y) <= TOLERANCE for x, y in zip(a, b))


def check_backbone_preprocessing(ctx: Context) -> Iterable[Finding]:
    """A first-layer Backbone with pretrained weights whose images are normalised otherwise
    than its weights expect (a warning), or have another input size (a warning when a side
    is under half the expected one, else a note: a smaller input is a fair trade of
    accuracy for speed)."""
    from workbench.core.data.defaults import hw_text, pretrained_preprocessing, values_text
    from workbench.core.model.backbone_weights import expects_pretrained

    if not ctx.types or ctx.types[0] not in BACKBONES:
        return
    params = dict(ctx.params(0))
    if not expects_pretrained(params):
        return  # random weights (the frozen check speaks of those): nothing to match
    arch = str(params.get("arch") or "resnet18")
    pre = pretrained_preprocessing(arch)
    data = getattr(ctx.experiment, "data", None)
    if pre is None or data is None:
        return
    mean, std, size = pre["mean"], pre["std"], [int(v) for v in pre["input_size"]]
    try:
        have = [int(v) for v in data.input_size]
        norm_off = not (_close(data.mean, mean) and _close(data.std, std))
    except (TypeError, ValueError):  # a malformed data section: validation says so
        return
    size_off = have != size
    small = size_off and min(a / b for a, b in zip(have, size)) < 0.5
    if not norm_off and not size_off:
        return
    parts: list[str] = []
    fix: dict[str, Any] = {}
    if norm_off:
        parts.append(f"normalised with mean {values_text(data.mean)} and std "
                     f"{values_text(data.std)} where its pretrained {arch} weights expect mean "
                     f"{values_text(mean)} and std {values_text(std)}")
        fix["mean"], fix["std"] = list(mean), list(std)
    if size_off:
        parts.append(f"{hw_text(have)} where its {'' if norm_off else f'pretrained {arch} '}"
                     f"weights were trained at {hw_text(size)}")
        if small or not norm_off:
            fix["input_size"] = list(size)
    words = " and ".join(w for w, key in (("input size", "input_size"),
                                          ("normalisation", "mean")) if key in fix)
    label = f"Use {arch}'s {words}" + (f" ({hw_text(size)})" if "input_size" in fix else "")

    def apply(exp: Experiment, values: dict = fix) -> None:
        for name, value in values.items():
            setattr(exp.data, name, list(value))

    why = ["Pretrained features are only as good as the images match those they were "
           "learned from."]
    if norm_off:
        why.append("Other normalisation shifts every value the backbone sees.")
    if small:
        why.append(f"At {hw_text(have)} most of what it learned to recognise is too small to "
                   f"see.")
    elif size_off and have[0] * have[1] < size[0] * size[1]:
        why.append("A smaller input trains faster, with weaker features.")
    elif size_off:
        why.append("A larger input trains slower and changes the scale of what it sees.")
    if norm_off or small:
        why.append("Expect transfer learning to do worse than it should.")
    why.append("The fix sets the Data tab's settings to what the weights expect.")
    yield Finding(
        "backbone-preprocessing", "warning" if norm_off or small else "info", 0,
        f"{ctx.name(0)} gets images {'; '.join(parts)}", " ".join(why),
        Fix(label, apply))


__all__ = ["check_backbone_preprocessing", "check_frozen_random_backbone"]
