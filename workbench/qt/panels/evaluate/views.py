"""Result views of the Evaluate panel: per-class table, calibration histogram, largest losses.

Each view is built empty and filled with ``set_result(result)`` (an
:class:`~workbench.core.evaluate.evaluation.EvaluationResult`); none of them imports torch.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QPersistentModelIndex,
                            QSortFilterProxyModel, QSize, Qt, Slot)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QTableView, QTableWidget,
                               QTableWidgetItem, QWidget)

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.core.evaluate.report import NOT_MEASURED
from workbench.qt.keyboard import tab_leaves
from workbench.qt.plots import style as plots_style  # noqa: F401  (white background, like the other plots)
from workbench.qt.plots.header import add_header
from workbench.qt.thumbnails import ThumbnailLoader

#: Role holding a cell's raw value: numbers sort as numbers, not as their text.
SORT_ROLE = Qt.ItemDataRole.UserRole + 10
PER_CLASS_COLUMNS = ("class", "precision", "recall", "f1", "support")
_HEADERS = {"class": "Class", "precision": "Precision", "recall": "Recall", "f1": "F1",
            "support": "Support"}
CORRECT_COLOUR, WRONG_COLOUR = (30, 150, 60), (200, 50, 50)
WORST_THUMB = 64


class PerClassModel(QAbstractTableModel):
    """Precision, recall, F1 and support per class (rows in class order)."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rows: list[dict] = []

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                 ) -> int:  # noqa: N802  (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                    ) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(PER_CLASS_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[PER_CLASS_COLUMNS[section]]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole \
                and PER_CLASS_COLUMNS[section] in ("recall", "f1"):
            return (f"{NOT_MEASURED} for a class with no images (support 0): not measured. "
                    f"The macro average leaves such classes out of recall and F1 "
                    f"(scikit-learn's default would count them as 0).")
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = PER_CLASS_COLUMNS[index.column()]
        value = self.rows[index.row()][key]
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return NOT_MEASURED
            return f"{value:.3f}" if isinstance(value, float) else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and key != "class":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and key != "class" and \
                self.rows[index.row()]["support"] == 0:
            return (f"No image of this class in the evaluated data: its recall and F1 are "
                    f"not measured ({NOT_MEASURED}) and the macro average leaves them out.")
        return None


class _UnmeasuredLast(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE`, a value that was not measured (``None``: the recall of a
    class with no images) last in either order, apart from the measured ones."""

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,  # noqa: N802
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None:
            descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
            return a is not b and (a is None) == descending
        return super().lessThan(left, right)


class PerClassTable(QTableView):
    """The sortable per-class table (click a header to sort by it)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        tab_leaves(self)
        self.source = PerClassModel(self)
        self.proxy = _UnmeasuredLast(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # class order until asked
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def set_result(self, result) -> None:
        self.source.set_rows(result.per_class())

    def column_values(self, key: str) -> list:
        """The values of a column in the order shown (for tests and exports)."""
        col = PER_CLASS_COLUMNS.index(key)
        return [self.proxy.index(r, col).data(SORT_ROLE) for r in range(self.proxy.rowCount())]


class CalibrationPlot(pg.PlotWidget):
    """Confidence of correct against wrong predictions, as two bar series per bin.

    The title gives the expected calibration error (ECE): the gap between how sure the
    model says it is and how often it is right, averaged over the bins.
    """

    def __init__(self, parent: QWidget | None = None, bins: int = 10):
        super().__init__(parent)
        self.bins = bins
        self.histogram: dict | None = None
        self.plot = self.getPlotItem()
        self.plot.setMenuEnabled(False, enableViewBoxMenu=True)
        self.plot.setLabel("bottom", "confidence (probability of the predicted class)")
        self.plot.setLabel("left", "images")
        self.plot.showGrid(y=True, alpha=0.3)
        # The legend is a line above the plot (``header``), where it covers no bar.
        self.header = add_header(self, "Confidence of correct and wrong predictions")
        self.plot.setMouseEnabled(x=False, y=False)
        self.correct_bars = pg.BarGraphItem(x=[], height=[], width=0.04,
                                            brush=pg.mkBrush(*CORRECT_COLOUR), name="correct")
        self.wrong_bars = pg.BarGraphItem(x=[], height=[], width=0.04,
                                          brush=pg.mkBrush(*WRONG_COLOUR), name="wrong")
        self.plot.addItem(self.correct_bars)
        self.plot.addItem(self.wrong_bars)

    def set_result(self, result) -> None:
        h = result.confidence_histogram(self.bins)
        self.histogram = h
        edges = np.asarray(h["edges"])
        width = (edges[1] - edges[0]) * 0.4
        centres = (edges[:-1] + edges[1:]) / 2
        # Side by side in each bin: correct on the left half, wrong on the right.
        self.correct_bars.setOpts(x=centres - width / 2, height=h["correct"], width=width)
        self.wrong_bars.setOpts(x=centres + width / 2, height=h["wrong"], width=width)
        self.header.set_title(f"Confidence of correct and wrong predictions · "
                              f"ECE {h['ece']:.3f}")
        self.plot.setXRange(0, 1, padding=0.02)
        top = max([1, *h["correct"], *h["wrong"]])
        self.plot.setYRange(0, top * 1.1, padding=0)

    def title_text(self) -> str:
        return self.header.title


class WorstLossesTable(QTableWidget):
    """The images the model got most wrong: thumbnail, true and predicted class, loss and
    the top probabilities. Thumbnails are decoded off the GUI thread."""

    COLUMNS = ("Image", "True", "Predicted", "Loss", "Top probabilities")

    def __init__(self, parent: QWidget | None = None, count: int = 32):
        super().__init__(0, len(self.COLUMNS), parent)
        tab_leaves(self)
        self.count = count
        self.entries: list[dict] = []
        self.loader = ThumbnailLoader(self, size=WORST_THUMB)
        self.loader.thumbnail_ready.connect(self._on_thumbnail_ready)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.setIconSize(QSize(WORST_THUMB, WORST_THUMB))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setDefaultSectionSize(WORST_THUMB + 8)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.setColumnWidth(0, WORST_THUMB + 120)

    def set_result(self, result) -> None:
        self.entries = result.worst(self.count, top=3)
        self.loader.clear_queue()
        self.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            image = QTableWidgetItem(os.path.basename(e["path"]))
            image.setToolTip(e["path"])
            image.setData(Qt.ItemDataRole.UserRole, e["path"])
            pix = self.loader.get(e["path"])
            if pix is not None:
                image.setIcon(pix)
            else:
                self.loader.request(e["path"])
            tops = "   ".join(f"{t['class']} {t['prob']:.1%}" for t in e["top"])
            cells = [image, QTableWidgetItem(e["true"]), QTableWidgetItem(e["predicted"]),
                     QTableWidgetItem(f"{e['loss']:.3f}"), QTableWidgetItem(tops)]
            cells[4].setToolTip(f"probability of the true class ({e['true']}): "
                                f"{e['true_prob']:.1%}")
            if e["predicted"] != e["true"]:
                cells[2].setForeground(QBrush(QColor(*WRONG_COLOUR)))
            for c, item in enumerate(cells):
                self.setItem(r, c, item)

    @Slot(str)
    def _on_thumbnail_ready(self, path: str) -> None:
        pix = self.loader.get(path)
        if pix is None:
            return
        for r in range(self.rowCount()):
            item = self.item(r, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == path:
                item.setIcon(pix)

    def shutdown(self) -> None:
        self.loader.shutdown()
