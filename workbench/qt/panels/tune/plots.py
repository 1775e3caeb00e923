"""The Tune panel's plots (pyqtgraph): the optimisation history and parameter importances.

Both are drawn from plain values (trial dicts, an importance dict), created once and
updated with ``setData`` / ``setOpts``.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QWidget

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.header import add_header
from workbench.qt.plots.style import BLUE, GREEN, ORANGE, style_plot


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
        self.plot_item = self.getPlotItem()
        self.metric = metric
        style_plot(self.plot_item, metric)
        self.plot_item.setLabel("bottom", "trial")
        # Title and legend on a line above the plot (lay out ``header`` above this
        # widget), where the legend covers no trial.
        self.header = add_header(self, "Optimisation history")
        self.values = self.plot_item.plot(pen=None, symbol="o", symbolSize=7,
                                          symbolBrush=BLUE, symbolPen=None, name="trial")
        self.pruned = self.plot_item.plot(pen=None, symbol="x", symbolSize=7,
                                          symbolBrush=ORANGE, symbolPen=pg.mkPen(ORANGE),
                                          name="pruned (last value)")
        self.best = self.plot_item.plot(pen=pg.mkPen(GREEN, width=2), stepMode=None,
                                        name="best so far")
        self.points: list[tuple[int, float]] = []

    def set_metric(self, metric: str) -> None:
        self.metric = metric
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
        accuracy = "acc" in self.metric
        lo, hi = min(values), max(values)
        margin = max(0.1 * (hi - lo), 0.05 if accuracy else 0.05 * max(abs(hi), 1e-3))
        lo, hi = max(0.0, lo - margin), hi + margin
        self.plot_item.setYRange(lo, min(1.0, hi) if accuracy else hi, padding=0.02)


class ImportancePlot(pg.PlotWidget):
    """Horizontal bars: each searched parameter's importance (Optuna's estimate, 0 to 1)."""

    def __init__(self, label: Callable[[str], str] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.label = label or (lambda path: path)  # a field's name, as the table heads it
        self.plot_item = self.getPlotItem()
        style_plot(self.plot_item, "")
        self.plot_item.setLabel("bottom", "importance")
        self.header = add_header(self, "Parameter importance")
        self.plot_item.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6, brush=BLUE)
        self.plot_item.addItem(self.bars)
        self.importances: dict[str, float] = {}
        self.note = pg.TextItem("needs 2 complete trials", color=(120, 120, 120),
                                anchor=(0.5, 0.5))
        self.plot_item.addItem(self.note)
        self.note.setPos(0.5, 0)

    def set_importances(self, importances: dict[str, float]) -> None:
        """Show ``{param: importance}`` (empty: the note that more trials are needed)."""
        self.importances = dict(importances)
        items = sorted(importances.items(), key=lambda kv: kv[1])  # most important on top
        ys = list(range(len(items)))
        self.bars.setOpts(x0=[0] * len(items), y=ys, width=[v for _, v in items],
                          height=0.6)
        self.plot_item.getAxis("left").setTicks([[(y, self.label(k)) for y, (k, _) in
                                                  zip(ys, items)]])
        self.note.setVisible(not items)
        if items:
            self.plot_item.setXRange(0, max(1e-9, max(v for _, v in items)) * 1.05)
            self.plot_item.setYRange(-0.6, len(items) - 0.4)

    def clear_importances(self, note: str = "needs 2 complete trials") -> None:
        self.note.setText(note)
        self.set_importances({})

