"""How the training plots look: colours, axes and grid, epoch curves, the best-epoch line."""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsView

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

# Antialiasing off by default: with it, repainting the per-batch and norm curves during a
# run took about twice as long (scripts/bench_ui.py: p99 stall 20 ms against 11 ms), time
# the training thread also wants the interpreter for. The per-epoch curves, a few points
# each, keep it (epoch_curve).
pg.setConfigOptions(antialias=False, background="w", foreground="k")

View = TypeVar("View", bound=QGraphicsView)

BLUE, ORANGE, GREEN = (31, 119, 180), (230, 120, 20), (30, 150, 60)
BEST, GRID = (90, 90, 90), (228, 228, 228)


#: A log axis whose whole range lies within these is labelled with plain numbers (0.001 to
#: 10000); one reaching beyond, with powers of ten throughout.
PLAIN_LOG_RANGE = (1e-3, 1e4)
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def log_tick_strings(values: list[float], plain: bool) -> list[str]:
    """Labels of log-axis ticks at ``log10`` positions ``values`` (one significant digit, as
    pyqtgraph's): plain numbers ("0.002", "10") or powers of ten ("2·10⁻³", "10¹"), never
    a mix (pyqtgraph wrote "10⁻⁷" and "0.0001" on one axis)."""
    labels = []
    for value in values:
        mantissa, exponent = f"{10 ** float(value):.0e}".split("e")
        if plain:
            labels.append(f"{int(mantissa) * 10.0 ** int(exponent):g}")
        else:
            power = "10" + str(int(exponent)).translate(_SUPERSCRIPTS)
            labels.append(power if mantissa == "1" else f"{mantissa}·{power}")
    return labels


class LogFriendlyAxis(pg.AxisItem):
    """An axis whose log scale marks 1, 2 and 5 times the powers of ten only, labelled all
    in one style (:func:`log_tick_strings`).

    pyqtgraph labels every integer multiple (1 to 9) between powers of ten, and within
    less than a decade the labels of 6 to 9 overlap into an unreadable block.
    """

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's)
        lo, hi = sorted(float(v) for v in self.range)  # log10 of the range's ends
        plain = lo >= math.log10(PLAIN_LOG_RANGE[0]) - 1e-3 \
            and hi <= math.log10(PLAIN_LOG_RANGE[1]) + 1e-3
        return log_tick_strings(values, plain)

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802,N803 (pyqtgraph's)
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        if maxVal - minVal < 0.25:  # too little of a decade for 1-2-5 to show any tick
            return ticks
        mantissa = np.log10([1.0, 2.0, 5.0, 10.0])
        return [(spacing, [v for v in values if spacing is not None
                           or np.isclose(v - np.floor(v), mantissa).any()])
                for spacing, values in ticks]


class WholeNumberAxis(pg.AxisItem):
    """An axis of whole numbers (epochs): no ticks between them ("1.5", "2.5" read as
    half epochs on a plot of 3 epochs)."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802,N803 (pyqtgraph's)
        levels = super().tickSpacing(minVal, maxVal, size)
        whole = [(spacing, 0.0) for spacing, _offset in levels if spacing >= 1 - 1e-9]
        return whole or [(1.0, 0.0)]


def plot_axes(whole_x: bool) -> dict[str, pg.AxisItem]:
    """The axes of one of the training plots: ``whole_x`` for a plot of epochs."""
    axes: dict[str, pg.AxisItem] = {"left": LogFriendlyAxis("left")}
    if whole_x:
        axes["bottom"] = WholeNumberAxis("bottom")
    return axes


def no_tab_stop(view: View) -> View:
    """``view`` (a plot) taking the focus when clicked, but no Tab stop: a plot shows no
    focus, so Tab seemed to go nowhere there. Every plot of the app is made with it."""
    view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    return view


def style_plot(plot: pg.PlotItem, ylabel: str) -> None:
    """Labels, downsampling, clipping and the grid of one of the training plots."""
    plot.setLabel("left", ylabel)
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)
    # pyqtgraph's "Plot Options" menu (log axes, FFT, downsampling...) would bypass the
    # controls above the plots; the view menu (view all, export) stays.
    plot.setMenuEnabled(False, enableViewBoxMenu=True)
    # An opaque light grid: pyqtgraph's default translucent one costs ~20 ms a repaint of
    # these five plots (blending every grid pixel), more than all the curves together.
    plot.showGrid(x=True, y=True, alpha=1.0)
    for side in ("bottom", "left"):
        axis = plot.getAxis(side)
        axis.setTickPen(pg.mkPen(GRID))
        axis.setTextPen(pg.mkPen("k"))
        axis.setStyle(tickAlpha=255, maxTickLevel=1)
        axis.setZValue(-1)  # the grid goes under the curves, not over them
        # "epoch (x0.001)" early in a run reads as a bug: keep plain numbers.
        axis.enableAutoSIPrefix(False)


def epoch_curve(plot: pg.PlotItem, colour: tuple, name: str | None) -> pg.PlotDataItem:
    """A per-epoch curve: a line with a dot at each epoch."""
    return plot.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                     symbolBrush=colour, symbolPen=None, name=name, antialias=True)


def best_line(plot: pg.PlotItem) -> pg.InfiniteLine:
    """A hidden vertical dashed line added to ``plot`` (the best epoch). It has no label in
    the plot, where a label covers the curves: the plot's header names it."""
    line = pg.InfiniteLine(angle=90, movable=False,
                           pen=pg.mkPen(BEST, width=1.5, style=Qt.PenStyle.DashLine))
    line.hide()
    plot.addItem(line, ignoreBounds=True)
    return line
