"""The ring that marks the hover read-out's point in the training plots, one per plot."""

from __future__ import annotations

import pyqtgraph as pg  # after PySide6 (see workbench.qt)


class HoverMarks:
    """A ring per plot, made when first needed: every item in a plot adds to the cost of
    its repaints."""

    def __init__(self) -> None:
        self.rings: dict[pg.PlotItem, pg.PlotDataItem] = {}

    def show(self, plot: pg.PlotItem, point: tuple[float, float]) -> None:
        """Ring ``point`` (data coordinates) of ``plot``."""
        if plot not in self.rings:
            self.rings[plot] = plot.plot(pen=None, symbol="o", symbolSize=11,
                                         symbolBrush=None, symbolPen=pg.mkPen("k", width=1.5))
        self.rings[plot].setData([point[0]], [point[1]])

    def hide(self, plot: pg.PlotItem) -> None:
        if plot in self.rings:
            self.rings[plot].setData([], [])

    def hide_all_but(self, plot: pg.PlotItem | None) -> None:
        """Hide every ring but ``plot``'s (``None``: all)."""
        for other in self.rings:
            if other is not plot:
                self.hide(other)
