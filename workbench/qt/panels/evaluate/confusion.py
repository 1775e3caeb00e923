"""The confusion matrix of the Evaluate panel: a heatmap, its cells' images, the worst pairs.

The heatmap is a pyqtgraph :class:`~pyqtgraph.ImageItem` (one pixel per cell), so it stays
readable and fast with hundreds of classes: it scales to the space it has, zooms with the
wheel, labels a readable subset of the classes on its axes and names any cell under the
mouse ("true X → predicted Y: n (p%)"). Numbers are written in the cells only while they
fit (few classes).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (QButtonGroup, QGraphicsRectItem, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QRadioButton, QToolTip,
                               QVBoxLayout, QWidget)

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots import style as plots_style  # noqa: F401  (white background, like the other plots)
from workbench.qt.thumbnails import ThumbnailLoader, ThumbnailModel, ThumbnailView

#: Above this many classes the cells get no numbers (they would not fit).
MAX_ANNOTATED = 16
#: At most this many class names per axis; the others are named on hover.
MAX_TICKS = 25
#: Above this many classes the columns are labelled by class number, not name.
MAX_NAMED_COLUMNS = 8
#: Class names on the axes are cut to this many characters.
TICK_CHARS = 14
#: Names this short ("7", "a", "cat") label the columns themselves, however many classes.
SHORT_NAME = 3
_CMAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (8, 48, 107)])


def cell_text(classes: list[str], confusion: np.ndarray, row: int, col: int) -> str:
    """``"true X → predicted Y: n (p%)"`` where p is the share of the true class's images."""
    n = int(confusion[row, col])
    support = int(confusion[row].sum())
    share = f" ({n / support:.1%})" if support else ""
    return f"true {classes[row]} → predicted {classes[col]}: {n}{share}"


def _short(name: str) -> str:
    # Cut in the middle: names often share a prefix ("n01440764_...") or a suffix.
    if len(name) <= TICK_CHARS:
        return name
    head = (TICK_CHARS - 1) // 2
    return name[:head] + "…" + name[-(TICK_CHARS - 1 - head):]


def axis_labels(classes: list[str]) -> tuple[list[str], list[str], bool]:
    """(row labels, column labels, numbered) for the matrix's axes.

    Few classes, or names short enough to sit side by side (digits "0"-"9", letters), are
    labelled by name alone on both axes. Otherwise the columns get class numbers, which the
    rows translate as ``"7: cat"`` (``numbered`` is True): with a colon, a number and a
    class named by a number never read as one ("0 0").
    """
    short = all(len(name) <= SHORT_NAME for name in classes)
    if len(classes) <= MAX_NAMED_COLUMNS or short:
        names = [_short(name) for name in classes]
        return names, list(names), False
    # Side by side, many long names overlap into a smear.
    return ([f"{i}: {_short(name)}" for i, name in enumerate(classes)],
            [str(i) for i in range(len(classes))], True)


class ConfusionHeatmap(pg.GraphicsLayoutWidget):
    """Rows are true classes, columns predicted ones; counts or row-normalised shares.

    Signals
    -------
    cell_clicked(row, col)
        A cell was clicked (row = true class index, col = predicted class index).
    cell_hovered(text)
        The mouse is over a cell (its :func:`cell_text`) or left the matrix ("").
    """

    cell_clicked = Signal(int, int)
    cell_hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.classes: list[str] = []
        self.row_labels: list[str] = []     # what each row and column is labelled on its axis
        self.column_labels: list[str] = []
        self.confusion = np.zeros((0, 0), dtype=np.int64)
        self.normalized = False
        self.selected: tuple[int, int] | None = None
        self.plot = self.addPlot()
        self.plot.setMenuEnabled(False, enableViewBoxMenu=True)
        self.plot.invertY(True)  # row 0 (the first class) at the top, as in a table
        self.plot.setAspectLocked(True)
        self.plot.setLabel("left", "true class")
        self.plot.setLabel("bottom", "predicted class")
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(_CMAP.getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.highlight = QGraphicsRectItem(0, 0, 1, 1)
        pen = QPen(QColor(230, 120, 20))
        pen.setWidth(3)
        pen.setCosmetic(True)  # 3 screen pixels whatever the zoom
        self.highlight.setPen(pen)
        self.highlight.setVisible(False)
        self.plot.addItem(self.highlight)
        self._labels: list[pg.TextItem] = []
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.setMinimumSize(280, 240)

    # -- data ------------------------------------------------------------------------------
    def set_confusion(self, confusion: np.ndarray, classes: list[str]) -> None:
        """Show ``confusion`` (rows true, columns predicted) with class names."""
        self.confusion = np.asarray(confusion, dtype=np.int64)
        self.classes = list(classes)
        self.selected = None
        self.highlight.setVisible(False)
        rows, columns, numbered = axis_labels(self.classes)
        self.row_labels, self.column_labels = rows, columns
        k = len(self.classes)
        step = max(1, math.ceil(k / MAX_TICKS))
        shown = [i for i in range(k) if i % step == 0]
        self.plot.getAxis("left").setTicks([[(i + 0.5, rows[i]) for i in shown]])
        self.plot.getAxis("bottom").setTicks([[(i + 0.5, columns[i]) for i in shown]])
        self.plot.setLabel("left", "true class (number: name)" if numbered else "true class")
        self.plot.setLabel("bottom", "predicted class (number)" if numbered
                           else "predicted class")
        self._redraw()
        self.plot.setRange(QRectF(0, 0, max(k, 1), max(k, 1)), padding=0.02)

    def set_normalized(self, normalized: bool) -> None:
        """Colour (and write) row-normalised shares instead of counts."""
        self.normalized = bool(normalized)
        self._redraw()

    def values(self) -> np.ndarray:
        """What the cells show now: counts, or each row divided by its total."""
        m = self.confusion.astype(np.float64)
        if not self.normalized:
            return m
        rows = m.sum(axis=1, keepdims=True)
        return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)

    def _redraw(self) -> None:
        for item in self._labels:
            self.plot.removeItem(item)
        self._labels = []
        values = self.values()
        if not values.size:
            self.image.clear()
            return
        top = 1.0 if self.normalized else max(1.0, float(values.max()))
        self.image.setImage(values, levels=(0.0, top), autoLevels=False)
        self.image.setRect(QRectF(0, 0, values.shape[1], values.shape[0]))
        if len(self.classes) > MAX_ANNOTATED:
            return
        for (r, c), v in np.ndenumerate(values):
            text = f"{v:.0%}" if self.normalized else str(int(v))
            dark = v / top > 0.5
            item = pg.TextItem(text, color="w" if dark else (40, 40, 40), anchor=(0.5, 0.5))
            item.setPos(c + 0.5, r + 0.5)
            self.plot.addItem(item)
            self._labels.append(item)

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

    def select_cell(self, row: int, col: int) -> None:
        """Outline the cell and say so through :attr:`cell_clicked`."""
        self.selected = (row, col)
        self.highlight.setRect(QRectF(col, row, 1, 1))
        self.highlight.setVisible(True)
        self.cell_clicked.emit(row, col)

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
            self.select_cell(*cell)


class ConfusionView(QWidget):
    """The heatmap with its counts/normalised toggle, the most-confused pairs, and the
    thumbnails of the selected cell's images (decoded off the GUI thread)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result = None
        self.cell_paths: list[str] = []
        self.heatmap = ConfusionHeatmap()
        self.heatmap.cell_clicked.connect(self._on_cell_clicked)
        self.heatmap.cell_hovered.connect(self._on_cell_hovered)
        self.counts_button = QRadioButton("Counts")
        self.normalized_button = QRadioButton("Row-normalised (share of each true class)")
        self.counts_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.counts_button)
        group.addButton(self.normalized_button)
        self.normalized_button.toggled.connect(self.heatmap.set_normalized)
        self.hover_label = QLabel("Hover over a cell to read it; click it to see its images.")
        self.hover_label.setStyleSheet("color: #555;")
        toggles = QHBoxLayout()
        toggles.addWidget(self.counts_button)
        toggles.addWidget(self.normalized_button)
        toggles.addStretch(1)
        left = QVBoxLayout()
        left.addLayout(toggles)
        left.addWidget(self.heatmap, 1)
        left.addWidget(self.hover_label)

        self.pairs = QListWidget()
        self.pairs.setToolTip("The most frequent mistakes; click one to see its images")
        self.pairs.setWordWrap(True)
        self.pairs.itemClicked.connect(self._on_pair_clicked)
        self.loader = ThumbnailLoader(self)
        self.cell_model = ThumbnailModel(self.loader, self)
        self.cell_images = ThumbnailView()
        self.cell_images.setModel(self.cell_model)
        self.cell_label = QLabel("No cell selected.")
        self.cell_label.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>Most confused</b> (true → predicted)"))
        right.addWidget(self.pairs, 1)
        right.addWidget(self.cell_label)
        right.addWidget(self.cell_images, 3)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    def set_result(self, result) -> None:
        """Show an :class:`~workbench.core.evaluate.evaluation.EvaluationResult`."""
        self.result = result
        self.heatmap.set_confusion(result.confusion, result.classes)
        self.pairs.clear()
        for pair in result.most_confused(10):
            row, col = result.classes.index(pair["true"]), result.classes.index(pair["predicted"])
            item = QListWidgetItem(cell_text(result.classes, result.confusion, row, col))
            item.setData(Qt.ItemDataRole.UserRole, (row, col))
            self.pairs.addItem(item)
        if not self.pairs.count():
            self.pairs.addItem("No mistakes.")
        self.cell_paths = []
        self.cell_model.set_samples([], result.classes)
        self.cell_label.setText("No cell selected: click one in the matrix.")

    def shutdown(self) -> None:
        self.loader.shutdown()

    @Slot(int, int)
    def _on_cell_clicked(self, row: int, col: int) -> None:
        r = self.result
        if r is None:
            return
        hits = np.flatnonzero((r.y_true == row) & (r.y_pred == col))
        self.cell_paths = [r.paths[i] for i in hits.tolist()]
        self.cell_model.set_samples([(p, row) for p in self.cell_paths], r.classes)
        self.cell_label.setText(f"{cell_text(r.classes, r.confusion, row, col)}; "
                                f"{'its image' if len(hits) == 1 else 'its images'} below"
                                if len(hits) else
                                f"{cell_text(r.classes, r.confusion, row, col)}: no images")

    @Slot(str)
    def _on_cell_hovered(self, text: str) -> None:
        if text:
            self.hover_label.setText(text)

    @Slot(QListWidgetItem)
    def _on_pair_clicked(self, item: QListWidgetItem) -> None:
        cell = item.data(Qt.ItemDataRole.UserRole)
        if cell:
            self.heatmap.select_cell(*cell)
