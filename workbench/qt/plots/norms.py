"""The per-layer norms plot: gradient or weight L2 norms as lines (log y) or a heatmap.

Norms of different layers span several decades, and what matters is their trend (a layer's
gradient shrinking towards zero: vanishing; growing by decades: exploding), so the lines are
drawn on a log axis and the heatmap colours ``log10(norm)``. Samples come from a
:class:`~workbench.qt.plots.data.NormHistory`, whose size is bounded.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.data import NormHistory, log10_or_nan, nearest_index
from workbench.qt.plots.header import PlotHeader

NORM_MODES = ("lines", "heatmap")
NORM_KINDS = ("grad", "weight")
_KIND_TITLES = {"grad": "Gradient norm per layer", "weight": "Weight norm per layer"}
_MAX_LEGEND = 8  # a legend of more layers would be a paragraph; the hover read-out names them


class NormsView:
    """Draws a :class:`NormHistory` into ``plot``; one of :data:`NORM_MODES` at a time.

    Parameters
    ----------
    plot
        The plot to draw in; this view owns its items, log mode and left-axis ticks.
    header
        The plot's title and legend line (:class:`~workbench.qt.plots.header.PlotHeader`).
    """

    def __init__(self, plot: pg.PlotItem, header: PlotHeader):
        self.plot = plot
        self.header = header
        self.mode = "lines"
        self.kind = "grad"
        self.curves: list[pg.PlotDataItem] = []
        self._names: list[str] = []
        self._x = np.empty(0)
        self.legend = header.legend
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.image.hide()
        plot.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"),
                                          interactive=False, width=12)
        self.colour_bar.setImageItem(self.image, insert_in=plot)
        self.colour_bar.hide()
        self._apply_mode()

    # -- settings --------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """``"lines"`` (one curve per layer, log y) or ``"heatmap"`` (layers x samples)."""
        if mode not in NORM_MODES:
            raise ValueError(f"norms mode must be one of {NORM_MODES}, not {mode!r}")
        self.mode = mode
        self._apply_mode()

    def set_kind(self, kind: str) -> None:
        """``"grad"`` (gradient norms) or ``"weight"`` (weight norms)."""
        if kind not in NORM_KINDS:
            raise ValueError(f"norms kind must be one of {NORM_KINDS}, not {kind!r}")
        self.kind = kind
        self._apply_mode()

    def _apply_mode(self) -> None:
        lines = self.mode == "lines"
        scale = "log scale" if lines else "colour: log10"
        self.header.set_title(f"{_KIND_TITLES[self.kind]} ({scale})")
        for c in self.curves:
            c.setVisible(lines)
        self.legend.setVisible(lines and len(self.curves) <= _MAX_LEGEND)
        self.image.setVisible(not lines)
        self.colour_bar.setVisible(not lines)
        self.plot.setLogMode(x=False, y=lines)
        self.plot.setLabel("left", "norm" if lines else "layer")
        self.plot.getAxis("left").setTicks(None)

    # -- drawing ---------------------------------------------------------------------------
    def clear(self) -> None:
        self._set_layers([])
        self._x = np.empty(0)
        self.image.clear()

    def update(self, history: NormHistory, x_scale: float) -> None:
        """Redraw from ``history``, with x = step / ``x_scale``."""
        if history.names != self._names:
            self._set_layers(history.names)
        self._x = history.steps / x_scale
        values = self._values(history)
        if self.mode == "lines":
            for i, curve in enumerate(self.curves):
                curve.setData(self._x, values[:, i])
            return
        self._draw_heatmap(values)

    def _values(self, history: NormHistory) -> np.ndarray:
        return history.grad if self.kind == "grad" else history.weight

    def _set_layers(self, names: list[str]) -> None:
        for c in self.curves:
            self.legend.removeItem(c)
            self.plot.removeItem(c)
        self._names = list(names)
        colours = pg.colormap.get("plasma").mapToQColor(
            np.linspace(0.0, 0.85, max(2, len(names))))  # the light end is unreadable on white
        self.curves = []
        lines = self.mode == "lines"
        for i, name in enumerate(names):
            # The plot applies its log mode to a new curve: no need to set it again (on
            # every item) here, while training is going on.
            curve = self.plot.plot(pen=pg.mkPen(colours[i], width=1.5))
            curve.setVisible(lines)
            if len(names) <= _MAX_LEGEND:
                self.legend.addItem(curve, name)
            self.curves.append(curve)
        self.legend.setVisible(lines and len(names) <= _MAX_LEGEND)

    def _draw_heatmap(self, values: np.ndarray) -> None:
        n, layers = values.shape if values.ndim == 2 else (0, 0)
        if n == 0 or layers == 0:
            self.image.clear()
            return
        # First layer at the top: rows are drawn bottom-up, so flip the layer axis.
        logs = log10_or_nan(values)[:, ::-1]
        finite = logs[np.isfinite(logs)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        self.image.setImage(logs, autoLevels=False, levels=(lo, hi))
        self.colour_bar.setLevels(values=(lo, hi))
        dx = float(self._x[1] - self._x[0]) if n > 1 else 1.0
        self.image.setRect(QRectF(float(self._x[0]) - dx / 2, 0.0, float(self._x[-1]
                                  - self._x[0]) + dx, float(layers)))
        self.plot.getAxis("left").setTicks(
            [[(layers - i - 0.5, name) for i, name in enumerate(self._names)]])

    def bounds(self, history: NormHistory) -> tuple[tuple[float, float] | None,
                                                    tuple[float, float] | None]:
        """The drawn data's extent in view coordinates (as last drawn by :meth:`update`)."""
        if self._x.size == 0 or self._x.size != len(history) or not self._names:
            return None, None
        if self.mode == "heatmap":
            dx = float(self._x[1] - self._x[0]) if self._x.size > 1 else 1.0
            return ((float(self._x[0]) - dx / 2, float(self._x[-1]) + dx / 2),
                    (0.0, float(len(self._names))))
        logs = log10_or_nan(self._values(history))
        finite = logs[np.isfinite(logs)]
        if finite.size == 0:
            return None, None
        return ((float(self._x[0]), float(self._x[-1])),
                (float(finite.min()), float(finite.max())))

    # -- hover -----------------------------------------------------------------------------
    def readout(self, history: NormHistory, x: float,
                y: float) -> tuple[str, tuple[float, float] | None] | None:
        """What is under view point (``x``, ``y``): text and, in lines mode, the point to mark
        (in view coordinates); ``None`` with nothing there."""
        if len(history) == 0 or self._x.size != len(history) or not self._names:
            return None
        col = nearest_index(self._x, x)
        values = self._values(history)[col]
        step = int(history.steps[col])
        if self.mode == "heatmap":
            row = int(math.floor(y))
            if not 0 <= row < len(self._names):
                return None
            layer = len(self._names) - 1 - row
            return (f"step {step:,} · layer {self._names[layer]}: "
                    f"{self._kind_word()} {_fmt(values[layer])}", None)
        logs = log10_or_nan(values)
        if not np.isfinite(logs).any():
            return (f"step {step:,}: no finite {self._kind_word()} (all 0 or NaN)", None)
        layer = int(np.nanargmin(np.abs(logs - y)))  # y is log10 on this axis
        return (f"step {step:,} · layer {self._names[layer]}: {self._kind_word()} "
                f"{_fmt(values[layer])}", (float(self._x[col]), float(values[layer])))

    def _kind_word(self) -> str:
        return "gradient norm" if self.kind == "grad" else "weight norm"


def _fmt(value: float) -> str:
    return "NaN" if not math.isfinite(value) else f"{value:.4g}"
