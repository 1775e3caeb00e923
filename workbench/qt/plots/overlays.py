"""Earlier runs' per-epoch curves drawn over the live ones, for comparison.

Each run gets one colour: validation dashed, training dotted, on the loss and the accuracy
plot, and one legend entry (on the loss plot). The live run keeps the solid blue and orange.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

# Distinct from the live run's blue and orange, and readable on white.
_PALETTE = [(44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194),
            (127, 127, 127), (188, 189, 34), (23, 190, 207), (0, 0, 128), (128, 0, 0)]


def overlay_colour(i: int) -> tuple[int, int, int]:
    """The colour of the ``i``-th overlaid run (the palette repeats, darker, past its end)."""
    r, g, b = _PALETTE[i % len(_PALETTE)]
    shade = 0.6 ** (i // len(_PALETTE))
    return int(r * shade), int(g * shade), int(b * shade)


class Overlays:
    """The overlaid runs and their curves on ``loss_plot`` and ``acc_plot``."""

    def __init__(self, loss_plot: pg.PlotItem, acc_plot: pg.PlotItem):
        self.loss_plot = loss_plot
        self.acc_plot = acc_plot
        self.runs: list[dict[str, Any]] = []
        self.curves: list[dict[str, pg.PlotDataItem]] = []

    def set_runs(self, runs: list[dict]) -> None:
        """Replace the overlaid runs (see :meth:`TrainingPlots.set_overlays`)."""
        self._remove_curves()
        self.runs = []
        for i, run in enumerate(runs):
            history = [dict(m) for m in (run.get("history") or [])
                       if isinstance(m, dict) and _is_number(m.get("epoch"))]
            history.sort(key=lambda m: float(m["epoch"]))
            self.runs.append({"name": str(run.get("name") or f"run {i + 1}"),
                              "history": history,
                              "batches_per_epoch": int(run.get("batches_per_epoch") or 0)})
        for i, run in enumerate(self.runs):
            colour = overlay_colour(i)
            dash = pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine)
            dots = pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DotLine)
            has_val = any(m.get("val_loss") is not None for m in run["history"])
            curves = {
                "val_loss": self.loss_plot.plot(pen=dash, name=run["name"] if has_val else None),
                "train_loss": self.loss_plot.plot(pen=dots,
                                                  name=None if has_val else run["name"]),
                "val_acc": self.acc_plot.plot(pen=dash),
                "train_acc": self.acc_plot.plot(pen=dots),
            }
            self.curves.append(curves)

    def _remove_curves(self) -> None:
        for curves in self.curves:
            for key, curve in curves.items():
                plot = self.loss_plot if key.endswith("loss") else self.acc_plot
                if plot.legend is not None:
                    plot.legend.removeItem(curve)
                plot.removeItem(curve)
        self.curves = []

    def draw(self, kind: str, steps_axis: bool, current_bpe: int) -> None:
        """Set the data of the ``kind`` ("loss" or "acc") curves; on the steps axis,
        x = epoch x batches per epoch."""
        for run, curves in zip(self.runs, self.curves):
            scale = float(run["batches_per_epoch"] or current_bpe or 1) if steps_axis else 1.0
            for key in (f"train_{kind}", f"val_{kind}"):
                rows = [m for m in run["history"] if m.get(key) is not None]
                x = np.array([float(m["epoch"]) for m in rows]) * scale
                y = np.array([_float(m[key]) for m in rows])
                curves[key].setData(x, 100 * y if kind == "acc" else y)

    def readout(self, epoch: int, kind: str) -> str:
        """Each run's ``kind`` ("loss" or "acc") values at ``epoch``, as text."""
        parts = []
        for run in self.runs:
            m = next((m for m in run["history"] if float(m["epoch"]) == epoch), None)
            if m is None:
                continue
            values = []
            for split, word in (("train", "train"), ("val", "validation")):
                v = m.get(f"{split}_{kind}")
                if v is not None:
                    values.append(f"{word} {'loss' if kind == 'loss' else 'accuracy'} "
                                  f"{_fmt(v, kind)}")
            if values:
                parts.append(f"{run['name']}: {', '.join(values)}")
        return " · ".join(parts)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _fmt(value: Any, kind: str) -> str:
    v = _float(value)
    if not math.isfinite(v):
        return "n/a"
    return f"{100 * v:.1f}%" if kind == "acc" else f"{v:.4g}"
