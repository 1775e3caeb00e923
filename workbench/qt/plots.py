"""Live training plots: per-batch loss, per-epoch loss and accuracy (train and validation).

Data arrive in plain Python buffers (:meth:`TrainingPlots.add_batches`,
:meth:`TrainingPlots.add_epoch`); a QTimer pushes them into the curves at about 15 Hz while
:meth:`TrainingPlots.start` is in effect, so drawing cost does not grow with the number of
batches per second. Each curve is created once and only ever updated with ``setData``.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QWidget

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

pg.setConfigOptions(antialias=True, background="w", foreground="k")

PLOT_INTERVAL_MS = 66  # ~15 Hz
_BLUE, _ORANGE = (31, 119, 180), (230, 120, 20)


class TrainingPlots(pg.GraphicsLayoutWidget):
    """Three plots: loss per batch (x in epochs), loss per epoch, accuracy per epoch (%)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.batch_plot = self.addPlot(row=0, col=0, colspan=2, title="Loss per batch")
        self.loss_plot = self.addPlot(row=1, col=0, title="Loss per epoch")
        self.acc_plot = self.addPlot(row=1, col=1, title="Accuracy per epoch (%)")
        for plot, ylabel in ((self.batch_plot, "loss"), (self.loss_plot, "loss"),
                             (self.acc_plot, "accuracy (%)")):
            plot.setLabel("bottom", "epoch")
            plot.setLabel("left", ylabel)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            for side in ("bottom", "left"):
                # "epoch (x0.001)" early in a run reads as a bug: keep plain numbers.
                plot.getAxis(side).enableAutoSIPrefix(False)
        self.batch_plot.addLegend(offset=(-10, 10))
        self.loss_plot.addLegend(offset=(-10, 10))
        self.acc_plot.addLegend(offset=(-10, -10))
        self.acc_plot.setYRange(0, 100)
        self.batch_curve = self.batch_plot.plot(pen=pg.mkPen((*_BLUE, 90), width=1),
                                                name="batch")
        self.batch_smooth_curve = self.batch_plot.plot(pen=pg.mkPen(_BLUE, width=2),
                                                       name="smoothed")
        self.train_loss_curve = _epoch_curve(self.loss_plot, _BLUE, "train")
        self.val_loss_curve = _epoch_curve(self.loss_plot, _ORANGE, "validation")
        self.train_acc_curve = _epoch_curve(self.acc_plot, _BLUE, "train")
        self.val_acc_curve = _epoch_curve(self.acc_plot, _ORANGE, "validation")
        self._timer = QTimer(self)
        self._timer.setInterval(PLOT_INTERVAL_MS)
        self._timer.timeout.connect(self.update_curves)
        self.clear_data()

    def clear_data(self) -> None:
        self.batch_x: list[float] = []
        self.batch_y: list[float] = []
        self.smooth_y: list[float] = []
        self.epochs_x: list[float] = []
        self.train_loss: list[float] = []
        self.train_acc: list[float] = []
        self.val_epochs: list[float] = []
        self.val_loss: list[float] = []
        self.val_acc: list[float] = []
        self._dirty = True
        self.update_curves()

    def start(self) -> None:
        """Redraw periodically (while a run is going)."""
        self._timer.start()

    def stop(self) -> None:
        """Stop redrawing, after drawing what is buffered."""
        self._timer.stop()
        self.update_curves()

    def add_batches(self, steps: list[int], losses: list[float], batches_per_epoch: int) -> None:
        """Buffer per-batch losses; ``steps`` are global 1-based batch numbers."""
        per_epoch = max(1, batches_per_epoch)
        smooth = self.smooth_y[-1] if self.smooth_y else None
        for step, loss in zip(steps, losses):
            self.batch_x.append(step / per_epoch)
            self.batch_y.append(loss)
            # Exponential moving average: the trend through noisy per-batch losses.
            smooth = loss if smooth is None else 0.9 * smooth + 0.1 * loss
            self.smooth_y.append(smooth)
        self._dirty = True

    def add_epoch(self, m: dict) -> None:
        """Buffer one epoch's metrics (accuracies as fractions; val_* None without a split)."""
        epoch = m["epoch"]
        self.epochs_x.append(epoch)
        self.train_loss.append(_num(m.get("train_loss")))
        self.train_acc.append(100 * _num(m.get("train_acc")))
        if m.get("val_loss") is not None:
            self.val_epochs.append(epoch)
            self.val_loss.append(_num(m["val_loss"]))
            self.val_acc.append(100 * _num(m.get("val_acc")))
        self._dirty = True

    @Slot()
    def update_curves(self) -> None:
        """Push the buffers into the curves (cheap when nothing changed)."""
        if not self._dirty:
            return
        self._dirty = False

        def arr(values: list[float]) -> np.ndarray:
            return np.asarray(values, dtype=float)

        self.batch_curve.setData(arr(self.batch_x), arr(self.batch_y))
        self.batch_smooth_curve.setData(arr(self.batch_x), arr(self.smooth_y))
        self.train_loss_curve.setData(arr(self.epochs_x), arr(self.train_loss))
        self.val_loss_curve.setData(arr(self.val_epochs), arr(self.val_loss))
        self.train_acc_curve.setData(arr(self.epochs_x), arr(self.train_acc))
        self.val_acc_curve.setData(arr(self.val_epochs), arr(self.val_acc))


def _epoch_curve(plot: pg.PlotItem, colour: tuple, name: str) -> pg.PlotDataItem:
    return plot.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                     symbolBrush=colour, symbolPen=None, name=name)


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)
