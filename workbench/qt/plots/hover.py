"""The hover read-out of the training plots: what the point nearest the mouse says.

Pure functions of the plotted data (no widgets), so what the read-out says is easy to check;
:class:`~workbench.qt.plots.training.TrainingPlots` finds the plot under the mouse, calls one of them
and shows the text (and marks the point they return).
"""

from __future__ import annotations

import math
from typing import Any, Optional, Tuple

import numpy as np

from workbench.qt.plots.data import nearest_index
from workbench.qt.plots.overlays import Overlays

#: (text, point to mark in data coordinates or None), or None when nothing is there.
Readout = Optional[Tuple[str, Optional[Tuple[float, float]]]]


def batch_readout(x: float, xs: np.ndarray, steps: np.ndarray, losses: np.ndarray,
                  smoothed: np.ndarray, batches_per_epoch: int) -> Readout:
    """The batch nearest ``x`` (``xs``: the batches' x values, ascending)."""
    if xs.size == 0:
        return None
    i = nearest_index(xs, x)
    step, loss = steps[i], losses[i]
    text = (f"step {int(step):,} (epoch {step / max(1, batches_per_epoch):.2f}): loss "
            f"{fmt(loss)}, smoothed {fmt(smoothed[i])}")
    return text, (float(xs[i]), float(loss))


def epoch_readout(epoch_x: float, kind: str, history: list[dict], overlays: Overlays,
                  scale: float, balanced: bool = False) -> Readout:
    """The epoch nearest ``epoch_x`` (in epochs) on a ``kind`` plot ("loss", "acc" or
    "lr"): the live run's values (``balanced``: the validation balanced accuracy too, as
    the accuracy plot draws it), then the overlaid runs' at that epoch. The marked point
    is the validation value when there is one; its x is ``epoch * scale``."""
    epochs = np.array([m["epoch"] for m in history], dtype=float)
    if epochs.size == 0:  # only overlaid runs to read
        epoch = max(1, round(epoch_x))
        extra = overlays.readout(epoch, kind) if kind != "lr" else ""
        return (f"epoch {epoch}: {extra}", None) if extra else None
    m = history[nearest_index(epochs, epoch_x)]
    key = None
    if kind == "lr":
        values = [f"lr {fmt(m.get('lr'))}"]
        key = "lr" if m.get("lr") is not None else None
    else:
        values = []
        for split, word in (("train", "train"), ("val", "validation")):
            v = m.get(f"{split}_{kind}")
            values.append(f"{word} loss {fmt(v)}" if kind == "loss"
                          else f"{word} accuracy {pct(v)}")
            if v is not None:
                key = f"{split}_{kind}"
        if balanced and m.get("val_bal_acc") is not None:
            values.append(f"validation balanced accuracy {pct(m['val_bal_acc'])}")
    text = f"epoch {m['epoch']}: " + ", ".join(values)
    extra = overlays.readout(int(m["epoch"]), kind) if kind != "lr" else ""
    if extra:
        text += " · " + extra
    value = num(m.get(key)) if key else math.nan
    if not math.isfinite(value):
        return text, None
    return text, (float(m["epoch"]) * scale, 100 * value if kind == "acc" else value)


def history_column(history: list[dict], key: str) -> np.ndarray:
    """``key`` of each of ``history``'s dicts, as floats (None is NaN)."""
    return np.array([num(m.get(key)) for m in history], dtype=float)


def num(value: Any) -> float:
    """``value`` as a float; None is NaN."""
    return math.nan if value is None else float(value)


def fmt(value: Any) -> str:
    return "n/a" if value is None or not math.isfinite(float(value)) else f"{float(value):.4g}"


def pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"
