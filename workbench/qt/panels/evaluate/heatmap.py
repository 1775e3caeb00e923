"""The confusion matrix heatmap of the Evaluate panel.

A pyqtgraph :class:`~pyqtgraph.ImageItem` (one pixel per cell), so it stays fast with
hundreds of classes. What it writes follows what is on screen, not the number of classes:

- the axes name as many of the visible classes as their labels have room for (every one
  once zoomed in far enough), each name cut so that the part telling it apart from the
  others stays (:mod:`workbench.core.evaluate.labels`); column names too wide for their
  cell are written on two staggered lines (every other one a line lower), so each has the
  width of two cells before it is cut;
- the cells show their count (or share) as soon as they are large enough on screen;
- the wheel zooms and dragging pans only where there is something to gain
  (:meth:`ConfusionHeatmap.zoomable`); :meth:`ConfusionHeatmap.reset_zoom` shows all again;
- a cell chosen outside the matrix (a most-confused pair) is outlined and, when it is out
  of view, centred by panning, the zoom kept (:meth:`ConfusionHeatmap.show_cell`);
- the colours follow :func:`~workbench.core.evaluate.confusion_figure.shades`: counts on a
  log scale when they are very uneven, so a cell of one image beside a class of hundreds
  still shows.

The cell under the mouse is named in full in a tooltip ("true X → predicted Y: n (p%)").
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QToolTip, QWidget

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.core.evaluate.confusion_figure import cell_tip, shades
from workbench.core.evaluate.labels import elide, shared_starts
from workbench.qt.plots import style as plots_style  # white background, like the other plots

#: Above this many classes the columns are labelled by class number, not name.
MAX_NAMED_COLUMNS = 8
#: Names this short ("7", "a", "cat") label the columns themselves, however many classes.
SHORT_NAME = 3
#: Row labels take at most this share of the widget's width, within these pixels.
ROW_LABEL_SHARE, ROW_LABEL_PX = 0.3, (80, 240)
#: A numbered column shows its name too once it is this wide on screen (room for the
#: number and about ten characters).
COLUMN_NAME_PX = 110
#: Pixels between two column labels, and around a number in its cell.
LABEL_GAP, NUMBER_GAP = 10, 4
#: Label every n-th class, n one of these (rounded up): regular and easy to follow.
STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
#: Margin around the matrix in the full view, as a share of its side.
PAD = 0.02
#: The colour of a full cell (share 1, or the largest count); empty cells are white.
FULL = (8, 48, 107)
_CMAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), FULL])
#: pyqtgraph's height for one line of tick labels (its default ``tickTextHeight``).
TEXT_HEIGHT = 18
cell_text = cell_tip


def axis_labels(classes: list[str]) -> tuple[list[str], list[str], bool]:
    """(row labels, column labels, numbered): the names in full, as the axes would show
    them with room for everything.

    Few classes, or names short enough to sit side by side (digits "0"-"9", letters), are
    labelled by name alone on both axes. Otherwise the columns get class numbers, which the
    rows translate as ``"7: cat"`` (``numbered`` is True): with a colon, a number and a
    class named by a number never read as one ("0 0").
    """
    if len(classes) <= MAX_NAMED_COLUMNS or all(len(n) <= SHORT_NAME for n in classes):
        return list(classes), list(classes), False
    return ([f"{i}: {name}" for i, name in enumerate(classes)],
            [str(i) for i in range(len(classes))], True)


def _step(needed: float) -> int:
    """The first of :data:`STEPS` at least ``needed`` (cells per label)."""
    return next((s for s in STEPS if s >= needed), STEPS[-1])


class CellNumbers(pg.GraphicsObject):
    """Writes each visible cell's number, in screen pixels, while it fits the cell."""

    def __init__(self, heatmap: "ConfusionHeatmap"):
        super().__init__()
        self.heatmap = heatmap

    def boundingRect(self) -> QRectF:  # noqa: N802  (Qt override)
        k = len(self.heatmap.classes)
        return QRectF(0, 0, k, k)

    def paint(self, painter: QPainter, *_args) -> None:
        cells = self.heatmap.shown_numbers()
        if not cells:
            return
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self.heatmap.tick_font)
        for row, col, text, dark in cells:
            painter.setPen(QColor("white") if dark else QColor(40, 40, 40))
            painter.drawText(transform.mapRect(QRectF(col, row, 1, 1)),
                             Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class ConfusionHeatmap(pg.GraphicsLayoutWidget):
    """Rows are true classes, columns predicted ones; counts or row-normalised shares.

    Signals
    -------
    cell_clicked(row, col)
        A cell was clicked (row = true class index, col = predicted class index).
    cell_hovered(text)
        The mouse is over a cell (its :func:`cell_text`) or left the matrix ("").
    view_changed()
        The part on show, or what zooming would gain, changed (:meth:`zoomed`,
        :meth:`zoomable`).
    """

    cell_clicked = Signal(int, int)
    cell_hovered = Signal(str)
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        plots_style.no_tab_stop(self)
        self.classes: list[str] = []
        self.row_labels: list[str] = []     # each row's and column's label, in full
        self.column_labels: list[str] = []
        self.numbered = False
        self.confusion = np.zeros((0, 0), dtype=np.int64)
        self.normalized = False
        self.log_scale = False  # the counts' colours are on a log scale
        self.selected: tuple[int, int] | None = None
        self._shared: list[int] = []
        self._short_rows: tuple[float, list[str]] = (-1.0, [])
        self._zoomable = False
        self._fractions = np.zeros((0, 0))
        self.tick_font = QFont(self.font())
        self._metrics = QFontMetricsF(self.tick_font)
        self._widest_column = 0.0  # the widest column label with room for all of them
        self.staggered = False  # the column names are on two staggered lines
        self.plot = self.addPlot()
        self.plot.setMenuEnabled(False, enableViewBoxMenu=True)
        self.plot.invertY(True)  # row 0 (the first class) at the top, as in a table
        self.plot.setAspectLocked(True)
        self.plot.hideButtons()
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setStyle(tickFont=self.tick_font)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(_CMAP.getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.numbers = CellNumbers(self)
        self.plot.addItem(self.numbers)
        self.highlight = QGraphicsRectItem(0, 0, 1, 1)
        pen = QPen(QColor(230, 120, 20))
        pen.setWidth(3)
        pen.setCosmetic(True)  # 3 screen pixels whatever the zoom
        self.highlight.setPen(pen)
        self.highlight.setVisible(False)
        self.plot.addItem(self.highlight)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.plot.vb.sigRangeChanged.connect(self._update_ticks)
        self.plot.vb.sigResized.connect(self._update_ticks)
        self.setMinimumSize(280, 240)
        self._set_axis_titles(False)

    # -- data ------------------------------------------------------------------------------
    def set_confusion(self, confusion: np.ndarray, classes: list[str]) -> None:
        """Show ``confusion`` (rows true, columns predicted) with class names."""
        self.confusion = np.asarray(confusion, dtype=np.int64)
        self.classes = [str(c) for c in classes]
        self.selected = None
        self.highlight.setVisible(False)
        self.row_labels, self.column_labels, self.numbered = axis_labels(self.classes)
        self._shared = shared_starts(self.classes)
        self._widest_column = max((self._width(t) for t in self.column_labels), default=0.0)
        self._short_rows = (-1.0, [])
        k = max(len(self.classes), 1)
        self.numbers.prepareGeometryChange()
        self._redraw()
        # Zooming in stops at two cells across (edges would fight the locked aspect).
        self.plot.vb.setLimits(minXRange=min(k, 2), minYRange=min(k, 2))
        self.reset_zoom()

    def set_normalized(self, normalized: bool) -> None:
        """Colour (and write) row-normalised shares instead of counts."""
        self.normalized = bool(normalized)
        self._redraw()
        self._update_ticks()  # the numbers' width changes ("100%")

    def values(self) -> np.ndarray:
        """What the cells show now: counts, or each row divided by its total."""
        m = self.confusion.astype(np.float64)
        if not self.normalized:
            return m
        rows = m.sum(axis=1, keepdims=True)
        return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)

    def _redraw(self) -> None:
        if not self.confusion.size:
            self.image.clear()
            self.log_scale = False
            return
        self._fractions, self.log_scale = shades(self.confusion, self.normalized)
        self.image.setImage(self._fractions, levels=(0.0, 1.0), autoLevels=False)
        self.image.setRect(QRectF(0, 0, *self.confusion.shape[::-1]))
        self.numbers.update()

    # -- zoom ------------------------------------------------------------------------------
    def reset_zoom(self) -> None:
        """Show the whole matrix."""
        k = max(len(self.classes), 1)
        self.plot.setRange(QRectF(0, 0, k, k), padding=PAD)

    def zoomed(self) -> bool:
        """Whether part of the matrix is out of view."""
        k = len(self.classes)
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        return bool(k) and (x0 > 1e-6 or y0 > 1e-6 or x1 < k - 1e-6 or y1 < k - 1e-6)

    def zoomable(self) -> bool:
        """Whether the whole matrix, as large as it is on screen, leaves classes unnamed
        on an axis or cells without their number: zooming in would show them."""
        return self._zoomable

    def cell_pixels(self, full: bool = False) -> float:
        """The side of a cell on screen, in pixels (``full``: in the view of the whole
        matrix); infinite before the view has a size."""
        vb = self.plot.vb
        w, h = vb.width(), vb.height()
        if w < 2 or h < 2:
            return math.inf
        if full:
            side = max(len(self.classes), 1) * (1 + 2 * PAD)
            return min(w, h) / side
        (x0, x1), (y0, y1) = vb.viewRange()
        return min(w / max(x1 - x0, 1e-9), h / max(y1 - y0, 1e-9))

    def _visible(self) -> tuple[range, range]:
        """The rows and columns (partly) on show."""
        k = len(self.classes)
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        return (range(max(0, math.floor(y0)), min(k, math.ceil(y1))),
                range(max(0, math.floor(x0)), min(k, math.ceil(x1))))

    # -- what is written -------------------------------------------------------------------
    def _width(self, text: str) -> float:
        return self._metrics.horizontalAdvance(text)

    def _number_text(self, value: float) -> str:
        return f"{value:.0%}" if self.normalized else str(int(value))

    def _numbers_fit(self, cell: float) -> bool:
        if not self.confusion.size:
            return False
        widest = "100%" if self.normalized else str(int(self.confusion.max()))
        return (cell >= self._width(widest) + NUMBER_GAP
                and cell >= self._metrics.height())

    def shown_numbers(self) -> list[tuple[int, int, str, bool]]:
        """``(row, col, text, dark)`` of every cell written now: the visible ones, while
        their numbers fit their size on screen (``dark``: white text on a dark cell)."""
        if not self._numbers_fit(self.cell_pixels()):
            return []
        rows, cols = self._visible()
        values = self.values()
        return [(r, c, self._number_text(values[r, c]), bool(self._fractions[r, c] > 0.5))
                for r in rows for c in cols]

    def _row_texts(self) -> list[str]:
        """Every row's label, the names cut to the room the rows' labels have."""
        limit = min(max(self.width() * ROW_LABEL_SHARE, ROW_LABEL_PX[0]), ROW_LABEL_PX[1])
        if self._short_rows[0] != limit:
            texts = []
            for i, (name, shared) in enumerate(zip(self.classes, self._shared)):
                prefix = f"{i}: " if self.numbered else ""
                texts.append(prefix + elide(name, shared, limit - self._width(prefix),
                                            self._width))
            self._short_rows = (limit, texts)
        return self._short_rows[1]

    def _column_text(self, i: int, cell: float, lines: int = 1,
                     limit: float = math.inf) -> str:
        """Column ``i``'s label for cells ``cell`` pixels wide; ``lines``: 2 when the
        names are staggered (each then has the width of two cells); at most ``limit``
        pixels wide."""
        room = min(lines * cell - LABEL_GAP, limit)
        if self.numbered:
            if cell < COLUMN_NAME_PX or math.isinf(cell):  # no size yet: numbers
                return str(i)
            prefix = f"{i}: "
            return prefix + elide(self.classes[i], self._shared[i],
                                  room - self._width(prefix), self._width)
        return elide(self.classes[i], self._shared[i], max(room, self._width("W…")),
                     self._width)

    def _update_ticks(self, *_args) -> None:
        """Label the visible rows and columns that have room, and say what changed."""
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        k = len(self.classes)
        if not k:
            left.setTicks([[]])
            bottom.setTicks([[]])
            return
        cell, full = self.cell_pixels(), self.cell_pixels(full=True)
        line = self._metrics.height()
        rows, cols = self._visible()
        row_texts = self._row_texts()
        width = math.ceil(max(self._width(t) for t in row_texts)) + 4
        if left.style["tickTextWidth"] != width:  # fixed: the matrix stays put as rows show
            left.setStyle(autoExpandTextSpace=False, tickTextWidth=width)
        row_step = _step(line / cell)
        left.setTicks([[(i + 0.5, row_texts[i]) for i in rows if i % row_step == 0]])
        texts = {i: self._column_text(i, cell) for i in cols}
        staggered = self._staggered_texts(texts, cell)
        self.staggered = staggered is not None
        if staggered is not None:  # every other name a line lower: two cells' width each
            texts = {i: ("\n" if i % 2 else "") + t for i, t in staggered.items()}
        if (bottom.style["autoExpandTextSpace"], bottom.style["tickTextHeight"]) != \
                ((False, math.ceil(2 * line)) if self.staggered else (True, TEXT_HEIGHT)):
            bottom.setStyle(autoExpandTextSpace=not self.staggered,
                            tickTextHeight=math.ceil(2 * line) if self.staggered
                            else TEXT_HEIGHT)
        widest = max((self._width(t) for t in texts.values()), default=0)
        column_step = 1 if self.staggered else _step((widest + LABEL_GAP) / cell)
        bottom.setTicks([[(i + 0.5, t) for i, t in texts.items() if i % column_step == 0]])
        self._set_axis_titles(self.numbered, named=self.numbered and cell >= COLUMN_NAME_PX)
        across = 1 if self.numbered else 2  # named columns can be staggered
        self._zoomable = (_step(line / full) > 1 or not self._numbers_fit(full)
                          or _step((self._widest_column + LABEL_GAP) / (across * full)) > 1)
        can_zoom = self._zoomable or self.zoomed()
        self.plot.setMouseEnabled(x=can_zoom, y=can_zoom)
        self.view_changed.emit()

    def _staggered_texts(self, texts: dict[int, str], cell: float) -> dict[int, str] | None:
        """The column names to write on two staggered lines, each with the width of two
        cells, when ``texts`` (one line) cuts a name and every column still gets a label
        that way; None to keep one line (numbers, names that fit, cells too small)."""
        if self.numbered or math.isinf(cell) or len(texts) < 2 or all(
                t == self.classes[i] for i, t in texts.items()):
            return None
        two = {i: self._column_text(i, cell, 2, self._axis_room(i)) for i in texts}
        widest = max(self._width(t) for t in two.values())
        return two if widest + LABEL_GAP <= 2 * cell else None

    def _axis_room(self, i: int) -> float:
        """The widest label column ``i`` can have, centred on it, inside the bottom axis
        (pyqtgraph leaves out a label that crosses its ends: a wide first or last name
        beside a matrix that fills the view's width)."""
        ends = self.plot.getAxis("bottom").sceneBoundingRect()
        x = self.plot.vb.mapViewToScene(QPointF(i + 0.5, 0)).x()
        return 2 * min(x - ends.left(), ends.right() - x) - 2

    def column_label_texts(self) -> list[str]:
        """The column labels on show now, as written (a staggered one on its own line)."""
        ticks = self.plot.getAxis("bottom")._tickLevels or [[]]
        return [t.lstrip("\n") for _, t in ticks[0]]

    def _set_axis_titles(self, numbered: bool, named: bool = False) -> None:
        self.plot.setLabel("left", "true class (number: name)" if numbered else "true class")
        self.plot.setLabel("bottom", "predicted class (number)" if numbered and not named
                           else "predicted class (number: name)" if named
                           else "predicted class")

    # -- cells -----------------------------------------------------------------------------
    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (row, col) under a scene position, or None outside the matrix."""
        k = len(self.classes)
        if not k or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        col, row = math.floor(p.x()), math.floor(p.y())
        if 0 <= row < k and 0 <= col < k:
            return row, col
        return None

    def cell_center(self, row: int, col: int) -> QPointF:
        """Where cell (row, col) is, in the view's viewport coordinates (for tests)."""
        scene = self.plot.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5))
        return QPointF(self.mapFromScene(scene))

    def select_cell(self, row: int, col: int, show: bool = True) -> None:
        """Outline the cell, bring it into view (:meth:`show_cell`; ``show`` False for a
        cell clicked on screen, which stays under the mouse) and say so through
        :attr:`cell_clicked`."""
        self.selected = (row, col)
        self.highlight.setRect(QRectF(col, row, 1, 1))
        self.highlight.setVisible(True)
        if show:
            self.show_cell(row, col)
        self.cell_clicked.emit(row, col)

    def show_cell(self, row: int, col: int) -> None:
        """Pan, keeping the zoom, so that cell (row, col) is centred when part of it is
        out of view (a most-confused pair chosen while zoomed in elsewhere); a cell in
        full view is left where it is. The view stays on the matrix where it can."""
        k = len(self.classes)
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        if x0 <= col and col + 1 <= x1 and y0 <= row and row + 1 <= y1:
            return

        def centred(i: int, width: float) -> tuple[float, float]:
            if width >= k:  # the whole of this axis fits: all of it, in the middle
                start = (k - width) / 2
            else:  # the cell in the middle, short of going past the matrix's edge
                start = min(max(i + 0.5 - width / 2, 0.0), k - width)
            return start, start + width

        self.plot.vb.setRange(xRange=centred(col, x1 - x0), yRange=centred(row, y1 - y0),
                              padding=0)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        text = cell_text(self.classes, self.confusion, *cell) if cell else ""
        self.setToolTip(text)
        if text:
            QToolTip.showText(self.mapToGlobal(self.mapFromScene(scene_pos)), text, self)
        self.cell_hovered.emit(text)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.select_cell(*cell, show=False)
