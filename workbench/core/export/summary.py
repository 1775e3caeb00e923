"""The summary of an export's preprocessing: the one ``mean``/``std`` and the colour that the
ONNX JSON (:func:`workbench.core.export.preprocessing.preprocessing_document`) and the code
export's ``MEAN``/``STD`` and header (:mod:`workbench.core.model.codegen`) give beside the
full list of steps (:func:`workbench.core.data.eval_steps.evaluation_steps`).

An Augment-tab Normalize runs before the experiment's own: consecutive ``normalize`` steps
fold into one, ``(x - m1) / s1`` then ``(y - m2) / s2`` being ``(x - (m1 + s1 m2)) / (s1
s2)``, so ``mean``/``std`` stay the whole normalisation. Where they do not fold (a step
between them, or a step the summary has no field for), the summary says it is partial and
the steps are the truth. A Grayscale step on a 3-channel model gives grayscale images kept
as 3 equal channels, and the colour says so. Torch-free.
"""

from __future__ import annotations

from typing import Any

#: The ops the summary (input size, colour, mean, std) describes whole.
_SUMMED = ("convert", "resize", "center_crop", "grayscale", "scale", "normalize")


def input_summary(steps: list[dict[str, Any]], channels: int) -> dict[str, Any]:
    """``{"mean", "std", "color", "complete"}`` of the evaluation ``steps`` (their plain
    data, in order) for a model of ``channels`` input channels.

    ``mean``/``std``: the trailing run of ``normalize`` steps folded into one (per channel;
    a single step's own values, as given); ``complete``: False when another step follows or
    sits between normalize steps, or a step has no summary field (the last step's
    ``mean``/``std`` are given then, and only the steps say the rest); ``color``:
    ``"RGB"``, ``"grayscale"`` (1 channel) or ``"grayscale (3 equal channels)"``.
    """
    ops = [step.get("op") for step in steps]
    run = len(ops)
    while run and ops[run - 1] == "normalize":
        run -= 1
    trailing = steps[run:]
    complete = bool(trailing) and "normalize" not in ops[:run] and all(
        op in _SUMMED for op in ops)
    last = ([s for s in steps if s.get("op") == "normalize"] or [{"mean": [], "std": []}])[-1]
    mean, std = list(last["mean"]), list(last["std"])
    if len(trailing) > 1:
        mean, std = list(trailing[0]["mean"]), list(trailing[0]["std"])
        for step in trailing[1:]:  # (x - m) / s, then (y - m2) / s2
            mean = [m + s * m2 for m, s, m2 in _per_channel(mean, std, step["mean"])]
            std = [s * s2 for s, s2 in _per_channel(std, step["std"])]
        mean, std = [_tidy(v) for v in mean], [_tidy(v) for v in std]
    gray = any(op == "grayscale" for op in ops)
    color = ("grayscale" if channels == 1 else
             f"grayscale ({channels} equal channels)" if gray else "RGB" if channels == 3 else
             f"{channels} channels")
    return {"mean": mean, "std": std, "color": color, "complete": complete}


def _per_channel(*values: list[float]) -> list[tuple[float, ...]]:
    """The lists side by side, one of length 1 standing for every channel."""
    n = max(len(v) for v in values)
    return list(zip(*(list(v) * n if len(v) == 1 else list(v) for v in values)))


def _tidy(value: float) -> float:
    """``0.1 + 0.9 * 0.485`` as ``0.5365``, not ``0.5365000000000001``."""
    return float(f"{value:.12g}")


__all__ = ["input_summary"]
