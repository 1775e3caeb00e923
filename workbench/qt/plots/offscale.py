"""Overlaid runs whose loss is far above the others' (a diverged run: 4e6 where the others
end near 0.1) are clipped at the top of the loss plot instead of setting its range, which
flattened every other curve onto the axis.

A run is off the scale when its largest loss is more than :data:`OFF_SCALE_FACTOR` times
the median of the other curves' largest (the other overlaid runs and the live run), or is
not finite. Its points above the ceiling (just above the largest loss of the rest) are
drawn at the ceiling, so pyqtgraph's auto-range fits the rest; the loss header's tooltip
names it (:func:`off_scale_line`). On a log scale nothing is clipped: there it fits.
"""

from __future__ import annotations

import math
import statistics
from typing import Any, Iterable

import numpy as np

#: How many times the median of the other curves' largest loss makes a run off the scale.
OFF_SCALE_FACTOR = 100.0
#: The clipped curves are drawn this much above the largest loss of the rest.
_CEILING_ROOM = 1.1
_KEYS = ("train_loss", "val_loss")


def loss_peak(history: Iterable[dict[str, Any]]) -> float | None:
    """The largest loss (train or validation) of ``history``; ``inf`` when one is not
    finite; None without any."""
    values = []
    for m in history:
        for key in _KEYS:
            v = m.get(key)
            if v is None:
                continue
            try:
                values.append(float(v))
            except (TypeError, ValueError):
                continue
    if not values:
        return None
    return max(values) if all(math.isfinite(v) for v in values) else math.inf


def off_scale(peaks: list[float | None], others: list[float | None]) -> tuple[set[int], float]:
    """Which of the overlaid runs (their :func:`loss_peak` ``peaks``) are off the scale,
    given the ``others`` curves' peaks (the live run's), and the ceiling to clip them at
    (``inf``: none are)."""
    off: set[int] = set()
    for i, peak in enumerate(peaks):
        if peak is None:
            continue
        rest = [q for j, q in enumerate(peaks) if j != i] + list(others)
        rest = [q for q in rest if q is not None and math.isfinite(q)]
        if not rest:
            continue
        median = statistics.median(rest)
        if not math.isfinite(peak) or (median > 0 and peak > OFF_SCALE_FACTOR * median):
            off.add(i)
    kept = [q for j, q in enumerate(peaks) if j not in off] + list(others)
    kept = [q for q in kept if q is not None and math.isfinite(q)]
    if not off or not kept:
        return set(), math.inf
    top = max(kept)
    return off, top * _CEILING_ROOM if top > 0 else 1.0


def clip(y: np.ndarray, ceiling: float) -> np.ndarray:
    """``y`` with what is above ``ceiling``, or not finite, drawn at ``ceiling``."""
    if not math.isfinite(ceiling):
        return y
    return np.where(np.isfinite(y), np.minimum(y, ceiling), ceiling)


def off_scale_line(name: str) -> str:
    """What the loss plot's tooltip says of an off-scale run."""
    return f"{name} goes off the scale: use Log scale to see it"
