"""The run's own curves on the loss and accuracy per epoch plots, and the best epoch marked
on both, named with the metric that picked it (the run's ``training.monitor``).

"best: epoch 3" on plots of the loss and the accuracy read as arbitrary when the balanced
accuracy (``val_bal_acc``) had picked it: the legend says "best: epoch 3 (val_bal_acc)",
and while that metric picks the best epoch the accuracy plot draws it too, dashed in the
validation curve's colour ("balanced"), as the Train tab's status line then says it. The
monitor comes with each epoch (its ``best``), and from run.json for a run shown again
(:func:`~workbench.qt.plots.earlier.load_run`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import Qt

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.hover import history_column
from workbench.qt.plots.style import BLUE, ORANGE, best_line, epoch_curve

#: The monitor for which the accuracy plot draws the validation balanced accuracy.
BALANCED = "val_bal_acc"
#: Its curve's name in the legend (the read-out says "validation balanced accuracy").
BALANCED_NAME = "balanced"
#: How far (percentage points) the accuracy axis may reach past 0 and 100 %: room for a
#: dot at 100 %, never an axis down to -20 % (pyqtgraph's margin around a flat run).
ACC_MARGIN = 3.0


def best_entry(epoch: int, monitor: str | None) -> str:
    """The best-epoch line's legend entry: "best: epoch 3 (val_bal_acc)"."""
    return f"best: epoch {epoch}" + (f" ({monitor})" if monitor else "")


class EpochCurves:
    """Train and validation curves on ``loss_plot`` and ``acc_plot``, the balanced accuracy
    on ``acc_plot`` (drawn while it is the monitor), and the best-epoch lines.

    Attributes
    ----------
    train_loss, val_loss, train_acc, val_acc, bal_acc : pyqtgraph.PlotDataItem
    best_lines : list of pyqtgraph.InfiniteLine
        The loss plot's, then the accuracy plot's.
    best_epoch : int or None
    monitor : str or None
        The metric that picks the best epoch, where known.
    """

    def __init__(self, loss_plot: pg.PlotItem, acc_plot: pg.PlotItem):
        self.loss_plot, self.acc_plot = loss_plot, acc_plot
        self.train_loss = epoch_curve(loss_plot, BLUE, "train")
        self.val_loss = epoch_curve(loss_plot, ORANGE, "validation")
        # Accuracy is 0-100 %, whatever the auto-range, a zoom or the overlays ask for.
        acc_plot.vb.setLimits(yMin=-ACC_MARGIN, yMax=100 + ACC_MARGIN)
        self.train_acc = epoch_curve(acc_plot, BLUE, "train")
        self.val_acc = epoch_curve(acc_plot, ORANGE, "validation")
        # Validation's colour, dashed, with filled dots: an overlaid run's curves are
        # other colours, with rings.
        self.bal_acc = epoch_curve(acc_plot, ORANGE, None)
        self.bal_acc.setPen(pg.mkPen(ORANGE, width=2, style=Qt.PenStyle.DashLine))
        acc_plot.legend.addItem(self.bal_acc, BALANCED_NAME, shown=False)
        self.best_lines = [best_line(loss_plot), best_line(acc_plot)]
        for plot, line in zip((loss_plot, acc_plot), self.best_lines):
            plot.legend.addItem(line, "best", shown=False)  # named when there is one
        self.best_epoch: int | None = None
        self.monitor: str | None = None

    def clear(self) -> None:
        """Forget the run's best epoch and monitor."""
        self.best_epoch = self.monitor = None

    def set_best(self, epoch: int | None, monitor: str | None = None) -> None:
        """Mark ``epoch`` (``None``: none); ``monitor``, when given, picked it."""
        self.best_epoch = None if epoch is None else int(epoch)
        if monitor:
            self.monitor = str(monitor)

    def note_epoch(self, m: dict) -> None:
        """Take the monitor from an epoch's metrics (their ``best``, as training sends
        them)."""
        best = m.get("best")
        if isinstance(best, dict) and isinstance(best.get("metric"), str):
            self.monitor = best["metric"]

    @property
    def shows_balanced(self) -> bool:
        """Whether the accuracy plot draws the validation balanced accuracy."""
        return self.monitor == BALANCED

    def draw(self, kind: str, history: list[dict],
             epochs_x: Callable[[list[dict]], np.ndarray], scale: float) -> None:
        """Set the ``kind`` ("loss" or "acc") plot's curves to ``history`` (x of its epochs
        from ``epochs_x``) and its best-epoch line (x: epoch x ``scale``)."""
        val = [m for m in history if m.get("val_loss") is not None]
        factor = 100.0 if kind == "acc" else 1.0
        train_curve, val_curve = ((self.train_loss, self.val_loss) if kind == "loss"
                                  else (self.train_acc, self.val_acc))
        train_curve.setData(epochs_x(history), factor * history_column(history, f"train_{kind}"))
        val_curve.setData(epochs_x(val), factor * history_column(val, f"val_{kind}"))
        plot = self.loss_plot if kind == "loss" else self.acc_plot
        if kind == "acc":
            balanced = [m for m in val if m.get(BALANCED) is not None] \
                if self.shows_balanced else []
            self.bal_acc.setData(epochs_x(balanced), 100.0 * history_column(balanced, BALANCED))
            plot.legend.set_entry(self.bal_acc, shown=bool(balanced))
        line = self.best_lines[0 if kind == "loss" else 1]
        best = self.best_epoch
        line.setVisible(best is not None)
        if best is not None:
            line.setPos(best * scale)
        # Named in the header, where it covers nothing (re-rendered only when it changes).
        plot.legend.set_entry(line, None if best is None else best_entry(best, self.monitor),
                              shown=best is not None)
