"""The Tune panel's plots (pyqtgraph): the optimisation history and parameter importances.

Both are drawn from plain values (trial dicts, an importance dict), created once and
updated with ``setData`` / ``setOpts``. They are the pages of a tab widget (the tab names
each): side by side, on a laptop's screen, the importance bars were a few pixels long
beside their names.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.header import MIN_PLOT_HEIGHT, add_header
from workbench.qt.plots.style import BLUE, GREEN, ORANGE, no_tab_stop, style_plot


class TrialAxis(pg.AxisItem):
    """An axis of trial numbers: ticks on whole numbers from 0 only (never "-0.4" or
    "0.2"), at any zoom."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802
        levels = []
        for spacing, _offset in super().tickSpacing(minVal, maxVal, size):
            whole = float(max(1, round(spacing)))
            if (whole, 0) not in levels:
                levels.append((whole, 0))
        return levels

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802
        return [(spacing, [v for v in values if v >= 0 and float(v).is_integer()])
                for spacing, values in super().tickValues(minVal, maxVal, size)]


class HistoryPlot(pg.PlotWidget):
    """Each complete trial's value (dots) and the best value so far (a step line)."""

    def __init__(self, metric: str = "val_acc", parent: QWidget | None = None):
        super().__init__(parent, axisItems={"bottom": TrialAxis("bottom")})
        no_tab_stop(self)
        self.plot_item = self.getPlotItem()
        # Not ``self.metric``: that would hide QWidget.metric(), which Qt calls on a font
        # change ("'str' object is not callable").
        self.metric_name = metric
        style_plot(self.plot_item, metric)
        self.plot_item.setLabel("bottom", "trial")
        # The legend on a line above the plot (lay out ``header`` above this widget),
        # where it covers no trial; the plot's tab gives its title.
        self.header = add_header(self, "")
        self.values = self.plot_item.plot(pen=None, symbol="o", symbolSize=7,
                                          symbolBrush=BLUE, symbolPen=None, name="trial")
        self.pruned = self.plot_item.plot(pen=None, symbol="x", symbolSize=7,
                                          symbolBrush=ORANGE, symbolPen=pg.mkPen(ORANGE),
                                          name="pruned (last value)")
        self.best = self.plot_item.plot(pen=pg.mkPen(GREEN, width=2), stepMode=None,
                                        name="best so far")
        self.points: list[tuple[int, float]] = []

    def set_metric(self, metric: str) -> None:
        self.metric_name = metric
        self.plot_item.setLabel("left", metric)

    def set_trials(self, trials: list[dict[str, Any]], maximize: bool = True) -> None:
        """Show ``trials`` (dicts with number, state, value)."""
        done = sorted((int(t["number"]), float(t["value"])) for t in trials
                      if t.get("state") == "complete" and t.get("value") is not None)
        self.points = done
        self.values.setData([n for n, _ in done], [v for _, v in done])
        pruned = [(int(t["number"]), float(t["value"])) for t in trials
                  if t.get("state") == "pruned" and t.get("value") is not None]
        self.pruned.setData([n for n, _ in pruned], [v for _, v in pruned])
        xs, ys, best = [], [], None
        for n, v in done:
            best = v if best is None else (max(best, v) if maximize else min(best, v))
            xs.append(n)
            ys.append(best)
        self.best.setData(xs, ys)
        self._set_ranges([n for n, _ in done + pruned], [v for _, v in done + pruned])

    def _set_ranges(self, numbers: list[int], values: list[float]) -> None:
        """Trials from 0 to the last (half a trial either side: whole dots); values with a
        margin, never below 0 (no metric is), and for an accuracy never above 1."""
        if not numbers:
            return
        self.plot_item.setXRange(-0.5, max(max(numbers), 1) + 0.5, padding=0)
        accuracy = "acc" in self.metric_name
        lo, hi = min(values), max(values)
        margin = max(0.1 * (hi - lo), 0.05 if accuracy else 0.05 * max(abs(hi), 1e-3))
        lo, hi = max(0.0, lo - margin), hi + margin
        self.plot_item.setYRange(lo, min(1.0, hi) if accuracy else hi, padding=0.02)


class ImportancePlot(pg.PlotWidget):
    """Horizontal bars: each searched parameter's importance (Optuna's estimate, 0 to 1),
    its value at the bar's end, the parameters' names on the left in an axis as wide as
    the longest, and a row of text height for each bar (at least: the widget's minimum
    height follows the number of bars, up to :data:`MAX_ROWS`)."""

    #: Bars the minimum height makes room for (more share it: a window that must fit on
    #: a laptop's screen cannot grow with them).
    MAX_ROWS = 12

    def __init__(self, label: Callable[[str], str] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        no_tab_stop(self)
        self.label = label or (lambda path: path)  # a field's name, as the table heads it
        self.plot_item = self.getPlotItem()
        style_plot(self.plot_item, "")
        self.plot_item.setLabel("bottom", "importance")
        self.plot_item.getAxis("left").setStyle(tickFont=self.font())  # as name_width measures
        self.setMinimumHeight(MIN_PLOT_HEIGHT)
        self.plot_item.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6, brush=BLUE)
        self.plot_item.addItem(self.bars)
        self.values: list[pg.TextItem] = []  # each bar's value, at its end
        self.importances: dict[str, float] = {}
        self.note = pg.TextItem("needs 2 complete trials", color=(120, 120, 120),
                                anchor=(0.5, 0.5))
        self.plot_item.addItem(self.note)
        self.note.setPos(0.5, 0)
        self.plot_item.getViewBox().sigResized.connect(self._fit_x)

    def row_height(self) -> int:
        """The least height of a bar's row: its name's line and a little space."""
        return QFontMetrics(self.font()).height() + 4

    def name_width(self) -> int:
        """The width of the left axis: the longest name shown, and the tick's offset."""
        names = [self.label(k) for k in self.importances] or [""]
        axis = self.plot_item.getAxis("left")
        return max(QFontMetrics(self.font()).horizontalAdvance(n) for n in names) + \
            axis.style["tickTextOffset"][0] + 6

    def set_importances(self, importances: dict[str, float]) -> None:
        """Show ``{param: importance}`` (empty: the note that more trials are needed)."""
        self.importances = dict(importances)
        items = sorted(importances.items(), key=lambda kv: kv[1])  # most important on top
        ys = list(range(len(items)))
        self.bars.setOpts(x0=[0] * len(items), y=ys, width=[v for _, v in items],
                          height=0.6)
        axis = self.plot_item.getAxis("left")
        axis.setTicks([[(y, self.label(k)) for y, (k, _) in zip(ys, items)]])
        axis.setWidth(self.name_width() if items else None)
        for text in self.values:
            self.plot_item.removeItem(text)
        self.values = []
        for y, (_k, v) in zip(ys, items):
            text = pg.TextItem(value_text(v), color=(60, 60, 60), anchor=(0, 0.5))
            text.setPos(v, y)
            self.plot_item.addItem(text)
            self.values.append(text)
        bottom = self.plot_item.getAxis("bottom")
        rows = min(len(items), self.MAX_ROWS)
        self.setMinimumHeight(max(MIN_PLOT_HEIGHT,
                                  (rows + 1) * self.row_height() + bottom.height()))
        self.note.setVisible(not items)
        if items:
            self.plot_item.setYRange(-0.6, len(items) - 0.4)
            self._fit_x()

    def _fit_x(self) -> None:
        """The longest bar across the plot, but for the room its value needs after it."""
        if not self.values:
            return
        top = max(1e-9, max(self.importances.values()))
        room = max(t.boundingRect().width() for t in self.values) + 4  # pixels
        width = self.plot_item.getViewBox().width()
        share = max(0.5, 1 - room / width) if width > 0 else 0.8
        self.plot_item.setXRange(0, top / share, padding=0)

    def clear_importances(self, note: str = "needs 2 complete trials") -> None:
        self.note.setText(note)
        self.set_importances({})


def value_text(importance: float) -> str:
    """A bar's value: two decimals ("0.51"), "<0.01" for a smaller one above 0."""
    return "<0.01" if 0 < importance < 0.005 else f"{importance:.2f}"
