"""The learning-rate finder's plot: loss against learning rate on a log axis.

Raw batch losses are faint points, the smoothed loss a bold line, and a vertical line marks
the chosen rate with its value. The user picks another rate by clicking on the plot or
dragging the line; the choice snaps to the nearest rate the sweep measured.

Before a sweep the x axis spans the rates it will sweep and a note says there is no curve
yet (the loss axis, with nothing to measure, shows no numbers); the rates are labelled as
powers of ten throughout (:class:`~workbench.qt.plots.style.LogFriendlyAxis`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QWidget

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.header import add_header
from workbench.qt.plots.notes import NO_DATA, PlotNote
from workbench.qt.plots.style import LogFriendlyAxis, no_tab_stop

_BLUE, _RED = (31, 119, 180), (200, 40, 40)
#: What the plot says before a sweep.
NO_SWEEP = "No sweep yet: press Start"


class LRCurvePlot(pg.PlotWidget):
    """Loss against learning rate (log x axis), with a movable marker at the chosen rate.

    Signals
    -------
    lr_picked(float)
        The user clicked on the plot or dragged the marker: the measured rate nearest
        to it. The marker has already moved there.
    """

    lr_picked = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, axisItems={"bottom": LogFriendlyAxis("bottom")})
        no_tab_stop(self)
        self.lrs: list[float] = []
        self.setBackground("w")
        item = self.getPlotItem()
        item.setLogMode(x=True, y=False)
        item.setLabel("bottom", "learning rate")
        item.setLabel("left", "loss")
        item.showGrid(x=True, y=True, alpha=0.2)
        for side in ("bottom", "left"):  # "(x1e-09)" on a log axis reads as a bug
            item.getAxis(side).enableAutoSIPrefix(False)
        item.setMenuEnabled(False)  # its log/transform options would fight the fixed axes
        # The legend is a line above the plot (``header``): inside, the loss rising at large
        # rates ran under it.
        self.header = add_header(self, "Loss against learning rate")
        self.raw_curve = item.plot(pen=None, symbol="o", symbolSize=4, symbolPen=None,
                                   symbolBrush=pg.mkBrush(*_BLUE, 70), name="batch loss")
        self.smooth_curve = item.plot(pen=pg.mkPen(_BLUE, width=3), name="smoothed")
        # An InfiniteLine lives in view coordinates: with the log x axis, those are
        # log10(lr), so positions are converted both ways.
        self.marker = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(_RED, width=2),
                                      hoverPen=pg.mkPen(_RED, width=4),
                                      label="", labelOpts={"position": 0.92,
                                                           "color": _RED,
                                                           "fill": (255, 255, 255, 200)})
        self.marker.setZValue(10)
        self.marker.hide()
        item.addItem(self.marker, ignoreBounds=True)
        self.marker.sigPositionChangeFinished.connect(self._on_marker_dragged)
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self.note = PlotNote(item, axes=("left",))  # the rates' axis keeps its numbers
        self.note.set(NO_SWEEP)

    # -- data ----------------------------------------------------------------------------
    def clear_curves(self) -> None:
        self.lrs = []
        self.raw_curve.setData([], [])
        self.smooth_curve.setData([], [])
        self.marker.hide()
        self.note.set(NO_SWEEP)

    def frame(self, start_lr: float, end_lr: float) -> None:
        """Span the rates from ``start_lr`` to ``end_lr`` (valid ones) on the x axis."""
        if 0 < start_lr < end_lr:
            self.getPlotItem().setXRange(math.log10(start_lr), math.log10(end_lr),
                                         padding=0.02)

    def begin_sweep(self, start_lr: float, end_lr: float) -> None:
        """Clear the curves and frame the whole sweep, so the curve grows left to right."""
        self.clear_curves()
        self.note.set(NO_DATA)
        self.frame(start_lr, end_lr)
        self.getPlotItem().enableAutoRange(y=True)

    def show_live(self, lrs: Sequence[float], smoothed: Sequence[float]) -> None:
        """The smoothed loss so far, while the sweep runs."""
        self.smooth_curve.setData(np.asarray(lrs, float), np.asarray(smoothed, float))
        self.note.set(None if len(lrs) else NO_DATA)

    def show_sweep(self, lrs: Sequence[float], losses: Sequence[float],
                   smoothed: Sequence[float]) -> None:
        """Every measured point (raw and smoothed) of a finished or stopped sweep."""
        self.lrs = [float(v) for v in lrs]
        x = np.asarray(self.lrs, float)
        self.raw_curve.setData(x, np.asarray(losses, float))
        self.smooth_curve.setData(x, np.asarray(smoothed, float))
        self.note.set(None if self.lrs else "No finite loss was measured")
        if self.lrs:
            self.marker.setBounds((math.log10(self.lrs[0]), math.log10(self.lrs[-1])))
            # The raw losses of the last steps can be huge (divergence): frame the
            # smoothed curve, which the choice is read from, and the raw points below it.
            low = float(min(np.min(smoothed), np.min(losses)))
            high = float(np.max(smoothed))
            pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.1
            self.getPlotItem().setYRange(low - pad, high + pad, padding=0)
            self.getPlotItem().setXRange(math.log10(self.lrs[0]), math.log10(self.lrs[-1]))

    def show_lr(self, lr: float | None) -> None:
        """Put the marker at ``lr`` with its value (hide it for None)."""
        if lr is None:
            self.marker.hide()
            return
        self.marker.blockSignals(True)
        try:
            self.marker.setValue(math.log10(lr))
        finally:
            self.marker.blockSignals(False)
        self.marker.show()  # first: a hidden line's label ignores new text
        self.marker.label.setFormat(f"lr {lr:.3g}")

    def marker_lr(self) -> float | None:
        return 10 ** self.marker.value() if self.marker.isVisible() else None

    def nearest_lr(self, lr: float) -> float | None:
        """The measured rate nearest to ``lr`` (on the log scale), or None before a sweep."""
        if not self.lrs or not lr > 0:
            return None
        target = math.log10(lr)
        return min(self.lrs, key=lambda v: abs(math.log10(v) - target))

    def lr_at(self, scene_x: float, scene_y: float) -> float | None:
        """The measured rate nearest to a point of the scene, or None outside the plot."""
        vb = self.getPlotItem().getViewBox()
        point = pg.QtCore.QPointF(scene_x, scene_y)
        if not vb.sceneBoundingRect().contains(point):
            return None
        return self.nearest_lr(10 ** vb.mapSceneToView(point).x())

    # -- the user's choice ---------------------------------------------------------------
    def pick(self, lr: float) -> float | None:
        """Choose the measured rate nearest to ``lr`` as if the user had clicked it."""
        chosen = self.nearest_lr(lr)
        if chosen is not None:
            self.show_lr(chosen)
            self.lr_picked.emit(chosen)
        return chosen

    @Slot(object)
    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        pos = event.scenePos()
        lr = self.lr_at(pos.x(), pos.y())
        if lr is not None:
            self.pick(lr)

    @Slot()
    def _on_marker_dragged(self) -> None:
        self.pick(10 ** self.marker.value())  # snaps onto a measured rate
