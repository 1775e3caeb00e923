"""The per-layer norms plot: gradient or weight L2 norms as lines (log y) or a heatmap.

Norms of different layers span several decades, and what matters is their trend (a layer's
gradient shrinking towards zero: vanishing; growing by decades: exploding), so the lines are
drawn on a log axis and the heatmap colours ``log10(norm)``. Samples come from a
:class:`~workbench.qt.plots.data.NormHistory`, whose size is bounded.

A norm of 0 or a non-finite one (NaN, inf: the run diverged) has no logarithm. A norm of 0
is drawn at the plot's floor, a decade under the smallest norm drawn, and its samples get a
red ▼ there, named in the legend ("gradients 0 from epoch 2: no layer learns" when every
layer's gradient stays 0 from a sample on: a network stuck after its first steps, not norms
measured once); a layer with no other value is named so in the legend ("8 Linear (no
gradient)", "8 Linear (weights 0)"). The samples holding a non-finite norm get a red cross
at the top of the lines, and when no value at all can be drawn (every norm 0 or not
finite) a note in the plot says why instead of a legend over an empty plot. A layer with a
single drawable value (after a 1-epoch run) is drawn as a dot: a line needs two.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.data import NormHistory, log10_or_nan, nearest_index
from workbench.qt.plots.header import PlotHeader
from workbench.qt.plots.notes import NO_DATA, PlotNote

NORM_MODES = ("lines", "heatmap")
NORM_KINDS = ("grad", "weight")
_KIND_TITLES = {"grad": "Gradient norm per layer", "weight": "Weight norm per layer"}
_MAX_LEGEND = 8  # a legend of more layers would be a paragraph; the hover read-out names them
_RED = (200, 30, 30)


class NormsView:
    """Draws a :class:`NormHistory` into ``plot``; one of :data:`NORM_MODES` at a time.

    Parameters
    ----------
    plot
        The plot to draw in; this view owns its items, log mode and left-axis ticks.
    header
        The plot's title and legend line (:class:`~workbench.qt.plots.header.PlotHeader`).
    note
        The plot's note (made here when not given).
    """

    def __init__(self, plot: pg.PlotItem, header: PlotHeader, note: PlotNote | None = None):
        self.plot = plot
        self.header = header
        self.note = note if note is not None else PlotNote(
            plot, ended="No layer norms: the run ended before the first sample")
        self.note.set(NO_DATA)
        self.mode = "lines"
        self.kind = "grad"
        self.curves: list[pg.PlotDataItem] = []
        self._names: list[str] = []
        self._x = np.empty(0)
        #: :meth:`bounds` as last drawn (kept: the batch plot's redraws read it too).
        self.drawn_bounds: tuple = (None, None)
        self.legend = header.legend
        self._nothing_drawn = False  # every value is 0 or not finite: the note says so
        # Samples with a NaN or infinite norm: crosses along the top of the lines.
        self.non_finite = plot.plot(pen=None, symbol="x", symbolSize=9,
                                    symbolPen=pg.mkPen(_RED, width=1.5), symbolBrush=_RED)
        self.legend.addItem(self.non_finite, "not finite (NaN, inf)", shown=False)
        # Samples with a norm of 0: a marker at the floor, where the 0 is drawn.
        self.zeros = plot.plot(pen=None, symbol="t", symbolSize=10, symbolBrush=_RED,
                               symbolPen=None)
        self.zeros.legend_sample = f"<span style='color:rgb{_RED}'>▼</span>"
        self.legend.addItem(self.zeros, "0 (at the floor)", shown=False)
        self.floor: float | None = None  # where a norm of 0 is drawn (None: none is)
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
        self.non_finite.setVisible(lines)
        self.zeros.setVisible(lines)
        self.legend.setVisible(lines and len(self.curves) <= _MAX_LEGEND
                               and not self._nothing_drawn)
        self.image.setVisible(not lines)
        self.colour_bar.setVisible(not lines)
        self.plot.setLogMode(x=False, y=lines)
        self.plot.setLabel("left", "norm" if lines else "layer")
        self.plot.getAxis("left").setTicks(None)

    # -- drawing ---------------------------------------------------------------------------
    def clear(self) -> None:
        self._set_layers([])
        self._x = np.empty(0)
        self.drawn_bounds = (None, None)
        self.image.clear()
        self.non_finite.setData([], [])
        self.zeros.setData([], [])
        self.floor = None
        self._show_state(np.empty((0, 0)))

    def update(self, history: NormHistory, x_scale: float) -> None:
        """Redraw from ``history``, with x = step / ``x_scale``."""
        if history.names != self._names:
            self._set_layers(history.names)
        self._x = history.steps / x_scale
        values = self._values(history)
        self.floor = zero_floor(values)
        self._show_state(values)
        self.drawn_bounds = self.bounds(history)
        if self.mode == "lines":
            shown = self._on_axis(values)  # a 0 at the floor
            # A layer with one drawable value (one sample so far: a 1-epoch run) has no
            # line to draw: a dot shows it.
            drawable = np.isfinite(shown) & (shown > 0) if values.size else \
                np.zeros((0, len(self.curves)), bool)
            for i, curve in enumerate(self.curves):
                if drawable[:, i].sum() == 1:  # that value alone (a NaN has no dot)
                    curve.setData(self._x[drawable[:, i]], shown[drawable[:, i], i],
                                  symbol="o")
                else:
                    curve.setData(self._x, shown[:, i], symbol=None)
            self._mark_non_finite(values)
            self._mark_zeros(values, x_scale)
            return
        self._draw_heatmap(values)

    def _show_state(self, values: np.ndarray) -> None:
        """The note (no data, or why nothing can be drawn) and the legend's layer names."""
        reason = (NO_DATA if values.size == 0
                  else nothing_drawn_reason(values, self._kind_word()))
        self.note.set(reason)
        nothing = values.size > 0 and reason is not None
        if nothing != self._nothing_drawn:
            self._nothing_drawn = nothing
            self._apply_mode()
        if nothing:
            return
        for i, curve in enumerate(self.curves[:_MAX_LEGEND]):
            self.legend.set_entry(curve, self._names[i] + _layer_suffix(values[:, i],
                                                                        self.kind))

    def _mark_non_finite(self, values: np.ndarray) -> None:
        bad = ~np.isfinite(values).all(axis=1) if values.size else np.zeros(0, bool)
        shown = bool(bad.any()) and not self._nothing_drawn
        if shown:
            # At the top of the lines (the log axis's data: the largest drawable norm).
            top = 10 ** float(np.nanmax(log10_or_nan(values)))
            self.non_finite.setData(self._x[bad], np.full(int(bad.sum()), top))
        elif self.non_finite.xData is not None and len(self.non_finite.xData):
            self.non_finite.setData([], [])
        self.legend.set_entry(self.non_finite, shown=shown)

    def _mark_zeros(self, values: np.ndarray, x_scale: float) -> None:
        """A ▼ at the floor on each sample holding a norm of 0, and its legend entry."""
        zero = (values == 0).any(axis=1) if self.floor is not None else np.zeros(0, bool)
        shown = bool(zero.any()) and not self._nothing_drawn
        self.zeros.setData(self._x[zero] if shown else [],
                           np.full(int(zero.sum()), self.floor) if shown else [])
        text = zero_text(values, self._x, x_scale, self.kind) if shown else None
        self.legend.set_entry(self.zeros, text, shown=shown)

    def _on_axis(self, values: np.ndarray) -> np.ndarray:
        """``values`` as drawn: a norm of 0 at the floor (the log axis has no place for 0)."""
        return values if self.floor is None else np.where(values == 0, self.floor, values)

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
            curve = self.plot.plot(pen=pg.mkPen(colours[i], width=1.5), symbolSize=6,
                                   symbolBrush=colours[i], symbolPen=None)
            curve.setVisible(lines)
            if len(names) <= _MAX_LEGEND:
                self.legend.addItem(curve, name)
            self.curves.append(curve)
        for item, text in ((self.zeros, "0 (at the floor)"),
                           (self.non_finite, "not finite (NaN, inf)")):
            self.legend.removeItem(item)  # last in the legend, after the layers
            self.legend.addItem(item, text, shown=False)
        self.legend.setVisible(lines and len(names) <= _MAX_LEGEND and not self._nothing_drawn)

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
        logs = log10_or_nan(self._on_axis(self._values(history)))
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
        shown = self._on_axis(values)
        logs = log10_or_nan(shown)
        if not np.isfinite(logs).any():
            return (f"step {step:,}: no finite {self._kind_word()} (all 0 or NaN)", None)
        layer = int(np.nanargmin(np.abs(logs - y)))  # y is log10 on this axis
        return (f"step {step:,} · layer {self._names[layer]}: {self._kind_word()} "
                f"{_fmt(values[layer])}", (float(self._x[col]), float(shown[layer])))

    def _kind_word(self) -> str:
        return "gradient norm" if self.kind == "grad" else "weight norm"


def nothing_drawn_reason(values: np.ndarray, word: str) -> str | None:
    """Why none of ``values`` (norms, any shape) can be drawn on a log scale, for a
    person; ``None`` when one can (a positive finite value)."""
    finite = np.isfinite(values)
    if (finite & (values > 0)).any():
        return None
    if not finite.any():
        return f"No finite {word}s (all NaN or inf):\nthe run diverged"
    if finite.all():
        if word.startswith("gradient"):
            return ("Every gradient norm is 0: no gradient reached the layers\n"
                    "(dead units, a saturated output, or frozen layers)")
        return f"Every {word} is 0"
    return f"No {word} to draw: each is 0 or not finite (NaN, inf)"


def zero_floor(values: np.ndarray) -> float | None:
    """Where a norm of 0 among ``values`` is drawn: a decade under the smallest positive
    finite norm; None when none is 0 or none can be drawn (the note says why)."""
    positive = values[np.isfinite(values) & (values > 0)]
    if not positive.size or not (values == 0).any():
        return None
    return float(positive.min()) / 10


def zero_text(values: np.ndarray, x: np.ndarray, x_scale: float, kind: str) -> str:
    """The legend's words for the norms of 0 (samples x layers ``values`` at ``x``): when
    every layer is 0 from a sample to the last, from where ("gradients 0 from epoch 2: no
    layer learns"; ``x_scale`` 1: x is the step)."""
    word = "gradients" if kind == "grad" else "weights"
    every = (values == 0).all(axis=1)
    if not every.size or not every[-1]:
        return f"{word} 0 (at the floor)"
    first = int(np.flatnonzero(~every)[-1]) + 1 if not every.all() else 0
    at = f"epoch {x[first]:g}" if x_scale != 1 else f"step {x[first]:,.0f}"
    return f"{word} 0 from {at}" + (": no layer learns" if kind == "grad" else "")


def _layer_suffix(column: np.ndarray, kind: str = "grad") -> str:
    """What a layer's legend entry adds when none of its values can be drawn (a norm of 0
    said in words: a gradient norm of 0 is no gradient at all)."""
    finite = np.isfinite(column)
    if column.size == 0 or (finite & (column > 0)).any():
        return ""
    zero = " (no gradient)" if kind == "grad" else " (weights 0)"
    return zero if finite.all() else " (not finite)" if not finite.any() \
        else " (0 or not finite)"


def _fmt(value: float) -> str:
    return "NaN" if not math.isfinite(value) else f"{value:.4g}"
