"""The learning-rate plot's curve: the rate of each epoch on a log axis.

A log axis has no place for a rate of 0, and pyqtgraph left such an epoch out, a gap at the
one point that showed a problem (a schedule continued past its end trained an epoch at 0).
:class:`LrCurve` draws an epoch at 0 at the plot's floor, a decade under the lowest rate
drawn, with a marker of its own named in the plot's header ("▼ lr 0"); the hover read-out
says "lr 0" for it, and rings it there (:meth:`LrCurve.on_axis`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.style import GREEN, epoch_curve

#: The colour of an epoch trained at a rate of 0.
ZERO = (200, 40, 40)


class LrCurve:
    """The rate per epoch in ``plot`` (log axis), and the epochs at 0 at its floor.

    Attributes
    ----------
    curve : pyqtgraph.PlotDataItem
        The rates, an epoch at 0 drawn at the floor.
    zeros : pyqtgraph.PlotDataItem
        A marker on each epoch at 0, and the header's entry for them.
    """

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.curve = epoch_curve(plot, GREEN, None)
        self.zeros = plot.plot(pen=None, symbol="t", symbolSize=11, symbolBrush=ZERO,
                               symbolPen=None, name="lr 0 (at the floor)")
        self.zeros.legend_sample = f"<span style='color:rgb{ZERO}'>▼</span>"
        self.floor = 1e-6  # where a rate of 0 is drawn
        self._show_entry(False)

    def draw(self, x: np.ndarray, rates: np.ndarray) -> None:
        """Draw ``rates`` (NaN: not known, left out) at the epochs ``x``."""
        zero = rates == 0
        positive = rates[np.isfinite(rates) & (rates > 0)]
        self.floor = floor = float(positive.min()) / 10 if positive.size else 1e-6
        self.curve.setData(x, np.where(zero, floor, rates))
        self.zeros.setData(x[zero], np.full(int(zero.sum()), floor))
        self._show_entry(bool(zero.any()))

    def on_axis(self, readout: Any) -> Any:
        """The hover ``readout`` (text, point) with a point at a rate of 0 moved to the
        floor, where it is drawn (the log axis has no place for 0)."""
        if readout is None or readout[1] is None or readout[1][1] > 0:
            return readout
        return readout[0], (readout[1][0], self.floor)

    def _show_entry(self, shown: bool) -> None:
        legend = getattr(self.plot, "legend", None)
        if hasattr(legend, "set_entry"):
            legend.set_entry(self.zeros, shown=shown)
