"""The Data tab's bar chart: images per class, one bar per class in label order.

Each class is named under its bar: upright where every name fits the width of its bar (at
the axis font, or a point smaller), else turned to read upwards, which a name of a dozen
characters does at the default window size; only a name longer than :data:`LONGEST`
characters is cut, keeping the part that tells it apart from the other classes, as the
class table and the confusion matrix cut it (:func:`~workbench.core.evaluate.labels.elide`:
"Ama…48", not "Amanita_musc…" under five bars). Hovering a bar or its name shows the
class, whole, and its count.

The count axis is logarithmic when the largest class has more than :data:`LOG_RATIO` times
the images of the smallest (a linear axis then draws the small classes as flat lines at 0,
a class of 1 image invisible): the "Log scale" box says so and turns it off or on, and the
axis is titled "images (log scale)" (shortened where the axis is short: the box above says
it). The choice is made afresh for each new set of classes.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from workbench.core.evaluate.labels import elide, shared_starts
from workbench.qt.startup import after_first_paint

_BLUE = (31, 119, 180)
_MAX_TICK_LABELS = 40  # beyond this the class names overlap: label every n-th bar only
#: Characters a turned name shows whole; a longer one is cut (its tooltip has it all).
LONGEST = 14
_GAP = 8  # pixels at least between two upright names
#: The count axis's titles, longest first: the longest its height holds is shown.
COUNT_TITLES = ("images (log scale)", "images (log)", "images")
#: Largest over smallest class count beyond which the count axis is logarithmic.
LOG_RATIO = 20
#: Where the bars start on the log axis (0.5 images): a class of 1 image has a bar too.
_LOG_FLOOR = math.log10(0.5)


def wants_log(counts: list[int]) -> bool:
    """Whether counts this uneven are drawn on a log axis (see :data:`LOG_RATIO`)."""
    nonzero = [n for n in counts if n > 0]
    return bool(nonzero) and max(nonzero) > LOG_RATIO * min(nonzero)


def log_ticks(top: int) -> list[tuple[float, str]]:
    """Ticks of a log count axis up to ``top``: 1, 2, 5, 10, 20, 50, ... (only the powers
    of ten when those are too many to read)."""
    values, decade = [], 1
    while decade <= max(1, top):
        values += [v for v in (decade, 2 * decade, 5 * decade) if v <= max(1, top)]
        decade *= 10
    if len(values) > 7:
        values = [v for v in values if str(v).strip("0") == "1"]
    return [(math.log10(v), f"{v:,}") for v in values]


class ClassBarChart(QWidget):
    """Images per class as vertical bars, one per class in label order.

    The plot is pyqtgraph's, whose import takes about 0.2 s: it is made after the window's
    first frame (:func:`~workbench.qt.startup.after_first_paint`), and counts set before
    then are drawn when it is.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumHeight(140)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip(
            f"Count axis in powers of ten, so classes of a few images show beside a large "
            f"one. On by itself when the largest class has more than {LOG_RATIO}× the "
            f"images of the smallest.")
        self.log_box.setEnabled(False)
        self.log_box.toggled.connect(lambda _on: self._draw() if self.plot_widget else None)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.log_box)
        layout.addLayout(row)
        self.plot_widget: Any = None
        self.axis: Any = None  # the bottom axis, naming the bars
        self._bars: Any = None
        self._shown: list[int] = []  # the counts of the bars drawn
        self._pad = 0.6  # bars of room left of the first bar and right of the last
        self._counts: dict[str, int] = {}
        after_first_paint(self._make_plot, self)

    def _make_plot(self) -> None:
        import pyqtgraph as pg  # after PySide6 (see workbench.qt)

        from workbench.qt.plots import style  # black on white, like the others

        self.axis = _names_axis()
        self.plot_widget = style.no_tab_stop(pg.PlotWidget(background="w",
                                                           axisItems={"bottom": self.axis}))
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(y=True, alpha=0.2)
        plot.setLabel("left", "images")
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.getViewBox().sigResized.connect(self._label_bars)  # names fit the bars' width
        plot.getViewBox().sigResized.connect(self._title_counts)  # and the title its height
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.layout().addWidget(self.plot_widget)
        self._draw()

    def set_counts(self, counts: dict[str, int]) -> None:
        """Draw one bar per class; an empty dict clears the chart."""
        new = {str(c): int(n) for c, n in counts.items()}
        classes_changed = list(new) != list(self._counts)
        self._counts = new
        self.log_box.setEnabled(bool(new))
        if classes_changed:  # a new dataset: its own scale (a rescan keeps the user's)
            self.log_box.blockSignals(True)
            self.log_box.setChecked(wants_log(list(new.values())))
            self.log_box.blockSignals(False)
        if self.plot_widget is not None:
            self._draw()

    def log_scale(self) -> bool:
        """Whether the count axis is logarithmic."""
        return self.log_box.isChecked()

    def _draw(self) -> None:
        import pyqtgraph as pg

        plot = self.plot_widget.getPlotItem()
        if self._bars is not None:
            plot.removeItem(self._bars)
            self._bars = None
        heights = list(self._counts.values())
        if not heights:
            self.axis.show_names([], self.plot_widget.font(), turned=False)
            return
        log, left = self.log_scale(), plot.getAxis("left")
        if log:
            bars = [math.log10(n) - _LOG_FLOOR if n > 0 else 0.0 for n in heights]
            floor, top = _LOG_FLOOR, math.log10(max(max(heights), 1))
            top += 0.08 * (top - floor)
            left.setTicks([log_ticks(max(heights))])
        else:
            bars, floor, top = heights, 0.0, max(heights) * 1.08 or 1
            left.setTicks(None)
        self._title_counts()
        self._bars = pg.BarGraphItem(x=list(range(len(heights))), y0=floor, height=bars,
                                     width=0.7, brush=pg.mkBrush(*_BLUE), pen=pg.mkPen(None))
        self._shown = list(heights)
        plot.addItem(self._bars)
        self._label_bars()
        plot.setYRange(floor, top, padding=0)

    def _label_bars(self, *_: Any) -> None:
        """The class names under the bars: upright when each fits its bar's width (at the
        axis font or a point smaller), else turned (pyqtgraph leaves out an upright name
        that overhangs the axis or its neighbour, and the default window size cut
        "triangle" to "trian…")."""
        classes = list(self._counts)
        if not classes or self.plot_widget is None:
            return
        step = max(1, -(-len(classes) // _MAX_TICK_LABELS))
        slot = self._fit_x_range(self.plot_widget.getPlotItem().getViewBox().width())
        base = QFont(self.plot_widget.font())
        shared = shared_starts(classes)
        if slot <= 0:  # not laid out yet
            self.axis.show_names([(i, elide(c, shared[i], 12, len)) for i, c in
                                  enumerate(classes) if i % step == 0], base, turned=False)
            return
        small = QFont(base)
        small.setPointSizeF(max(7.0, base.pointSizeF() - 1))
        shown = [(i, c) for i, c in enumerate(classes) if i % step == 0]
        for font in (base, small):
            if _fit_upright([QFontMetrics(font).horizontalAdvance(c) for _, c in shown],
                            slot * step, self._pad * slot):
                self.axis.show_names(shown, font, turned=False)
                return
        # Turned, a point smaller, and at most half the chart's height: the bars keep theirs.
        metrics = QFontMetrics(small)
        step = max(step, math.ceil((metrics.height() + 1) / slot))
        room = min(metrics.horizontalAdvance("n" * LONGEST),
                   max(40, self.plot_widget.height() // 2))
        self.axis.show_names([(i, elide(c, shared[i], room, metrics.horizontalAdvance))
                              for i, c in enumerate(classes) if i % step == 0],
                             small, turned=True)

    def _title_counts(self, *_: Any) -> None:
        """Title the count axis "images (log scale)" on a log scale, or as much of it as
        the axis is tall ("images (log)", "images"), centred on it: a longer title is cut
        (at the default window size, with turned names under the bars, "images (log
        scal")."""
        plot = self.plot_widget.getPlotItem()
        left = plot.getAxis("left")
        titles = COUNT_TITLES if self.log_scale() else COUNT_TITLES[-1:]
        room = left.size().height()  # the title's text, centred on the axis (its margins
        # are blank: they may be cut)
        metrics = QFontMetrics(left.label.font())
        title = next((t for t in titles if metrics.horizontalAdvance(t) <= room), titles[-1])
        if left.labelText != title:
            plot.setLabel("left", title)
            left.resizeEvent(None)  # centre it again: pyqtgraph centres it on resizes only

    def _fit_x_range(self, width: float) -> float:
        """Show every bar across ``width`` pixels, leaving room at each end for half a
        turned name's line (the first name, centred on a bar 2 px from the edge, was cut
        in half); returns the pixels from one bar to the next (0 before layout)."""
        n = len(self._counts)
        edge = QFontMetrics(self.plot_widget.font()).height() / 2 + 2
        # The first bar's middle is pad * width / (n - 1 + 2 pad) pixels in: at least edge.
        pad = 0.6 if width <= 4 * edge else max(0.6, edge * (n - 1) / (width - 2 * edge))
        self.plot_widget.getPlotItem().setXRange(-pad, n - 1 + pad, padding=0)
        self._pad = pad
        return max(0.0, width) / (n - 1 + 2 * pad)

    def _on_mouse_moved(self, pos: Any) -> None:
        plot = self.plot_widget.getPlotItem()
        plot.setToolTip(self.tip_at(plot.getViewBox().mapSceneToView(pos).x()))

    def tip_at(self, x: float) -> str:
        """The tooltip over ``x`` (in bars: 0 is the first bar's middle): its class and
        count, or "" beside the bars."""
        i = round(x)
        if not 0 <= i < len(self._counts) or abs(x - i) > 0.5:
            return ""
        name, n = list(self._counts.items())[i]
        return f"{name}: {n:,} image{'s' if n != 1 else ''}"

    def is_turned(self) -> bool:
        """Whether the names under the bars are turned (they do not fit upright)."""
        return bool(self.axis is not None and self.axis.turned)

    def tick_labels(self) -> list[str]:
        """The labels shown under the bars (for tests)."""
        return [text for _pos, text in self.axis.names] if self.axis is not None else []

    def heights(self) -> dict[str, int]:
        """What the chart shows: class name -> bar height (nothing before it is drawn)."""
        if self._bars is None:
            return {}
        return dict(zip(self._counts, self._shown))


def _fit_upright(widths: list[int], room: float, edge: float) -> bool:
    """Whether upright names of ``widths``, ``room`` pixels apart, leave :data:`_GAP`
    between neighbours and stay within the axis (the first name's middle is ``edge``
    pixels from its end, and the last one's at least as far)."""
    ends = max(widths[0], widths[-1]) / 2 <= edge
    return ends and all((a + b) / 2 + _GAP <= room for a, b in zip(widths, widths[1:]))


_AXIS_CLASS: Any = None


def _names_axis() -> Any:
    """A bottom axis that names the bars (:meth:`show_names`), upright or turned."""
    global _AXIS_CLASS
    if _AXIS_CLASS is None:
        import pyqtgraph as pg

        class NamesAxis(pg.AxisItem):
            def __init__(self) -> None:
                super().__init__("bottom")
                self.names: list[tuple[int, str]] = []  # (bar, name) as shown
                self.turned = False

            def show_names(self, names: list[tuple[int, str]], font: QFont,
                           turned: bool) -> None:
                self.names, self.turned = list(names), turned and bool(names)
                self.setStyle(tickFont=font)
                if self.turned:  # the ticks stay; the names are drawn in drawPicture
                    self.setTicks([[(i, "") for i, _ in self.names]])
                    longest = max(QFontMetrics(font).horizontalAdvance(t) for _, t in names)
                    self.setHeight(longest + self._text_top() + 4)
                else:  # a height of its own: pyqtgraph's measure cut the descenders
                    self.setTicks([self.names])
                    self.setHeight(QFontMetrics(font).height() + self._text_top() + 3)

            def _text_top(self) -> int:
                return max(0, self.style["tickLength"]) + self.style["tickTextOffset"][1]

            def drawPicture(self, p: Any, axisSpec: Any, tickSpecs: Any,  # noqa: N802,N803
                            textSpecs: Any) -> None:  # noqa: N803  (pyqtgraph's names)
                super().drawPicture(p, axisSpec, tickSpecs, [] if self.turned else textSpecs)
                view = self.linkedView()
                if not self.turned or view is None:
                    return
                top = self.mapRectFromParent(self.geometry()).top() + self._text_top()
                line = QFontMetrics(p.font()).height()
                for pos, text in self.names:
                    x = self.mapFromScene(view.mapViewToScene(QPointF(pos, 0))).x()
                    p.save()
                    p.translate(x, top)
                    p.rotate(-90)  # reads upwards, ending under its bar
                    p.drawText(QRectF(-4000, -line / 2, 4000, line),
                               int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                               text)
                    p.restore()

        _AXIS_CLASS = NamesAxis
    return _AXIS_CLASS()
