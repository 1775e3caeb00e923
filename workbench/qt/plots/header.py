"""A plot's title and legend on a line above it, so the legend never covers the data.

pyqtgraph draws a legend inside the plot's view, over the curves and the axes' labels; in
a plot ~150 px high it hid half of the data and its own last entries ("smoothed",
"validation"). :class:`PlotHeader` is a word-wrapped label above the plot that reads
"**Loss per epoch**  ━●━ train  ━●━ validation  ┆ best: epoch 7". Its :class:`HeaderLegend`
is set as the plot's ``legend``, so pyqtgraph adds a curve made with ``name=`` to it and
removes a curve taken out of the plot from it, as it would with its own legend.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

#: Smallest height of a plot's own widget (axes and data, without the header): below it
#: the tick labels crowd out the curves.
MIN_PLOT_HEIGHT = 110


@dataclass
class LegendEntry:
    """One entry of a :class:`HeaderLegend`: ``text`` (the name shown) and whether it is
    shown."""

    text: str
    shown: bool = True


class HeaderLegend:
    """The legend part of a :class:`PlotHeader`, with the calls pyqtgraph makes on a plot's
    ``legend`` (``addItem``, ``removeItem``) and ``items``: (item, entry) pairs."""

    def __init__(self, header: "PlotHeader"):
        self._header = header
        self.items: list[tuple[Any, LegendEntry]] = []
        self._visible = True

    def addItem(self, item: Any, name: str, shown: bool = True) -> None:  # noqa: N802
        """Add an entry for ``item`` (pyqtgraph calls this for a curve given a name)."""
        self.items.append((item, LegendEntry(str(name), bool(shown))))
        self._header.refresh_text()

    def removeItem(self, item: Any) -> None:  # noqa: N802  (pyqtgraph's name)
        kept = [(i, e) for i, e in self.items if i is not item]
        if len(kept) != len(self.items):
            self.items = kept
            self._header.refresh_text()

    def entry(self, item: Any) -> LegendEntry | None:
        return next((e for i, e in self.items if i is item), None)

    def set_entry(self, item: Any, text: str | None = None, shown: bool | None = None) -> None:
        """Rename and/or show or hide ``item``'s entry (re-rendered only if it changed)."""
        entry = self.entry(item)
        if entry is None:
            return
        new = (entry.text if text is None else str(text),
               entry.shown if shown is None else bool(shown))
        if new != (entry.text, entry.shown):
            entry.text, entry.shown = new
            self._header.refresh_text()

    def setVisible(self, visible: bool) -> None:  # noqa: N802  (like a widget's)
        """Show or hide every entry (the title stays)."""
        if bool(visible) != self._visible:
            self._visible = bool(visible)
            self._header.refresh_text()

    def isVisible(self) -> bool:  # noqa: N802
        return self._visible

    def shown_texts(self) -> list[str]:
        """The names the header shows now, in order."""
        return [e.text for _, e in self.items if e.shown] if self._visible else []


class PlotHeader(QLabel):
    """The title and legend of one plot, centred on a line above it (two when narrow).

    Parameters
    ----------
    title
        Shown in bold, first.
    """

    def __init__(self, title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.legend = HeaderLegend(self)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.setStyleSheet("background: white; color: black; padding: 1px 2px;")
        self.refresh_text()

    def set_title(self, title: str) -> None:
        if title != self.title:
            self.title = title
            self.refresh_text()

    def refresh_text(self) -> None:
        """Show the title and the shown entries again."""
        parts = [f"<b>{html.escape(self.title)}</b>"] if self.title else []
        if self.legend.isVisible():
            parts += [entry_html(item, entry) for item, entry in self.legend.items
                      if entry.shown]
        self.setText("&nbsp;&nbsp; ".join(parts))


def add_header(view: pg.PlotWidget, title: str) -> PlotHeader:
    """A :class:`PlotHeader` for ``view``, made its plot's legend; the view is given
    :data:`MIN_PLOT_HEIGHT`. Lay the header out above the view (in a grid, a row of its
    own: the plots of a row then start at one height, however their headers wrap)."""
    header = PlotHeader(title)
    view.getPlotItem().legend = header.legend
    view.setMinimumHeight(MIN_PLOT_HEIGHT)
    return header


def stacked(header: PlotHeader, view: QWidget) -> QWidget:
    """One widget: ``header`` above ``view`` (for a plot laid out on its own)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(header)
    layout.addWidget(view, 1)
    return box


def entry_html(item: Any, entry: LegendEntry) -> str:
    """One entry as the header shows it: the item's sample and the entry's text, kept on
    one line; or the item's own ``legend_html`` (rich text that draws its samples and
    names itself, and says where it may break), when it has one."""
    if isinstance(getattr(item, "legend_html", None), str):
        return item.legend_html
    return (f"<span style='white-space:nowrap'>{sample_html(item)}&nbsp;"
            f"{html.escape(entry.text)}</span>")


def sample_html(item: Any) -> str:
    """A few characters drawn like ``item``: its colour, line style and symbol; a block of
    its fill colour for a filled item (bars), whose outline is not what the eye sees; or
    the item's own ``legend_sample`` (rich text), when it has one."""
    if isinstance(getattr(item, "legend_sample", None), str):
        return item.legend_sample
    opts = getattr(item, "opts", None)
    if isinstance(opts, dict) and "symbol" not in opts and opts.get("brush") is not None:
        return _span(pg.mkBrush(opts["brush"]).color(), "■")  # a BarGraphItem
    if isinstance(opts, dict):  # a PlotDataItem
        pen = pg.mkPen(opts.get("pen")) if opts.get("pen") is not None else None
        symbol = opts.get("symbol")
        if pen is None and symbol is not None:  # dots (or crosses) alone
            brush = opts.get("symbolBrush")
            colour = pg.mkBrush(brush).color() if brush is not None else QColor("black")
            return _span(colour, "×" if symbol == "x" else "●")
    else:  # an InfiniteLine, or anything with a pen
        pen, symbol = getattr(item, "pen", None), None
    if pen is None:
        return ""
    style = pen.style()
    line = ("╌╌" if style == Qt.PenStyle.DashLine else
            "┄┄" if style in (Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine) else "━━")
    if getattr(item, "angle", None) == 90:  # a vertical marker line
        line = "┆"
    text = f"{line[0]}●{line[-1]}" if symbol is not None and len(line) > 1 else line
    return _span(pen.color(), text)


def _span(colour: QColor, text: str) -> str:
    c = QColor(colour)
    if c.alpha() < 255:  # drawn translucent on white: show the colour it looks
        a = c.alphaF()
        c = QColor(*(round(255 * (1 - a) + v * a) for v in (c.red(), c.green(), c.blue())))
    return f"<span style='color:{c.name()}'>{text}</span>"
