"""The model doctor's dropout-rate checks: a rate so high the layers after it see nothing.

Dropout zeroes a random share ``p`` of its inputs at each training step. 0.2-0.5 is the
usual range between learned layers; at 0.8 and above the layers after it learn from scraps,
and at 1 from nothing at all (the registry allows ``p = 1``, as PyTorch does: it is then
reported here, not refused). On the raw pixels even 0.5 throws half of every image away.
A dropout layer after the last learned layer is :func:`~.doctor_checks.check_dropout_at_end`'s
(removing it is the fix, whatever its rate), so it is not reported here as well.
"""

from __future__ import annotations

from typing import Iterable

from workbench.core.experiment import Experiment
from workbench.core.model.findings import DROPOUTS, RESHAPES, Context, Finding, Fix, layers_of
from workbench.core.model.layers import LAYERS

#: A dropout rate at or above this is flagged wherever the layer is.
HIGH_P = 0.8
#: ... and at or above this on the raw pixels (before any learned layer).
INPUT_P = 0.5
#: What the fixes set the rate to on the input (the value the original dropout paper used).
INPUT_FIX_P = 0.2
#: Dropout types that zero whole channels rather than single values.
CHANNEL_DROPOUTS = frozenset({"Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"})

_TYPICAL = ("0.2-0.5 is typical before a Linear layer, 0.1-0.3 for Dropout2d after a "
            "convolution.")
_ON_INPUT = (" On the raw pixels, before any layer has looked at them, 0.1-0.2 is the most: "
             "more hides the detail that tells the classes apart.")


def _rate(ctx: Context, i: int) -> float | None:
    """Layer ``i``'s dropout rate (its declared default when unset); None when unreadable."""
    params = ctx.params(i)
    if "p" in params:
        p = params["p"]
    else:
        t = ctx.types[i]
        p = LAYERS.get(t).defaults().get("p") if t in LAYERS else 0.5  # PyTorch's default
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        return None
    return float(p)


def _share(p: float) -> str:
    return f"{100 * p:.3g}%"


def _what(t: str) -> str:
    return "channels" if t in CHANNEL_DROPOUTS else "inputs"


def safe_rate(t: str) -> float:
    """The rate the fix sets a ``t`` layer to: its registry default (0.5 for Dropout, 0.2
    for Dropout2d), or 0.5 for a type without one."""
    p = LAYERS.get(t).defaults().get("p") if t in LAYERS else None
    return float(p) if isinstance(p, (int, float)) and 0 < p < HIGH_P else 0.5


def set_rate(i: int, kind: str, p: float, name: str) -> Fix:
    """Set ``p`` of layer ``i`` to ``p``, provided it is still a ``kind`` layer."""

    def apply(exp: Experiment) -> None:
        layers = layers_of(exp)
        if i < len(layers) and layers[i].type == kind:
            params = layers[i].params if isinstance(layers[i].params, dict) else {}
            layers[i].params = {**params, "p": p}

    return Fix(f"Set p of {name} to {p:g}", apply)


def _on_input(ctx: Context) -> set[int]:
    """The dropout layers that see the raw pixels (before any layer but a reshape)."""
    found = set()
    for i, t in enumerate(ctx.types):
        if t in DROPOUTS:
            found.add(i)
        elif t not in RESHAPES:
            break
    return found


def check_high_dropout(ctx: Context) -> Iterable[Finding]:
    """A dropout layer with ``p`` of 0.8 or more before the last learned layer.

    On the raw pixels the fix sets the rate :func:`check_input_dropout` asks for there
    (:data:`INPUT_FIX_P`), so one click is enough rather than a second finding after it.
    """
    on_input = _on_input(ctx)
    for i in range(min(ctx.tail_start, len(ctx.types))):
        t = ctx.types[i]
        p = _rate(ctx, i) if t in DROPOUTS else None
        if p is None or p < HIGH_P:
            continue
        name, what = ctx.name(i), _what(t)
        safe = INPUT_FIX_P if i in on_input else safe_rate(t)
        typical = _TYPICAL + (_ON_INPUT if i in on_input else "")
        fix = set_rate(i, t, safe, name)
        if p >= 1:
            yield Finding(
                "dropout-drops-everything", "warning", i,
                f"{name} drops all of its {what} (p = 1): nothing passes during training",
                f"With p = 1 every value {name} passes on is 0 at every training step, so the "
                f"network's output no longer depends on the image: the layers after it can "
                f"only learn one fixed answer from their biases, and the layers before it "
                f"get no gradient and never learn. Validation, where dropout is off, then "
                f"sees their untrained weights. {typical} Set p to {safe:g}.", fix)
            continue
        kept = 1 - p
        yield Finding(
            "dropout-too-high", "warning", i,
            f"{name} drops {_share(p)} of its {what}: the layers after it see almost "
            f"nothing",
            f"Dropout zeroes a random share p of its {what} at each training step (and "
            f"scales the rest up), so the layers after it cannot rely on any one of them. "
            f"At p = {p:g} only {_share(kept)} get through, a different few at each "
            f"step, so training is slow and noisy (the loss falls slowly and jumps about), "
            f"and validation, where dropout is off, sees a network trained on scraps. "
            f"{typical} Set p to {safe:g} or less.", fix)


def check_input_dropout(ctx: Context) -> Iterable[Finding]:
    """Dropout of 0.5 or more on the raw pixels (before any layer but a reshape).

    0.8 and more is :func:`check_high_dropout`'s warning, so the same layer is not told
    twice that its rate is too high.
    """
    for i in sorted(_on_input(ctx)):
        t = ctx.types[i]
        p = _rate(ctx, i)
        if p is not None and INPUT_P <= p < HIGH_P and i < ctx.tail_start:
            name = ctx.name(i)
            unit = "colour channels" if t in CHANNEL_DROPOUTS else "pixels"
            yield Finding(
                "dropout-on-input", "info", i,
                f"{name} drops {_share(p)} of the image's {unit} before any layer "
                f"has looked at it",
                f"Dropout on the input hides part of every training image: a little "
                f"(p = 0.1-0.2) acts like an augmentation, but at p = {p:g} each "
                f"image loses {_share(p)} of its {unit}, with the detail that tells "
                f"the classes apart, so training is slower and noisier. Dropout usually "
                f"goes between learned layers, before a Linear layer; to make the "
                f"network robust to missing parts of the image, RandomErasing on the "
                f"Augment tab is the usual tool. Set p to {INPUT_FIX_P:g}, or move the "
                f"layer.", set_rate(i, t, INPUT_FIX_P, name))


__all__ = ["check_high_dropout", "check_input_dropout", "safe_rate", "set_rate"]
