"""Result views of the Evaluate panel: per-class table, calibration histogram, largest losses.

Each view is built empty and filled with ``set_result(result)`` (an
:class:`~workbench.core.evaluate.evaluation.EvaluationResult`); none of them imports torch.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPointF,
                            QSortFilterProxyModel, QSize, Qt, Slot)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QSizePolicy, QTableView,
                               QTableWidget, QTableWidgetItem, QWidget)

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.core.evaluate.report import NOT_MEASURED
from workbench.core.filenames import readable
from workbench.qt.accessible import name_field
from workbench.qt.class_names import ClassNameDelegate
from workbench.qt.keyboard import tab_leaves
from workbench.qt.plots import style as plots_style  # white background, like the other plots
from workbench.qt.plots.header import add_header
from workbench.qt.thumbnails import ThumbnailLoader

#: Role holding a cell's raw value: numbers sort as numbers, not as their text.
SORT_ROLE = Qt.ItemDataRole.UserRole + 10
#: Role that is True on the macro-average row, which stays last however the table sorts.
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 11
#: The class column of the summary row, as ``workbench evaluate`` names it.
MACRO_AVERAGE = "macro average"
PER_CLASS_COLUMNS = ("class", "precision", "recall", "f1", "support")
_HEADERS = {"class": "Class", "precision": "Precision", "recall": "Recall", "f1": "F1",
            "support": "Support"}
CORRECT_COLOUR, WRONG_COLOUR = (30, 150, 60), (200, 50, 50)
WORST_THUMB = 64
#: The largest-loss table: the widest a class or file name column grows to its words, and
#: the room added to a column fitted to its cells.
CLASS_WIDTH, CELL_PADDING = 200, 12
#: Top probabilities keeps at least this width, and its widest entry ("class 12.3%"), when
#: True and Predicted take its spare room.
TOPS_WIDTH = 360


class PerClassModel(QAbstractTableModel):
    """Precision, recall, F1 and support per class (rows in class order), then the macro
    average row when one is given (as ``workbench evaluate`` prints it)."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self.summary: dict | None = None

    def set_rows(self, rows: list[dict], summary: dict | None = None) -> None:
        """``rows``: one per class; ``summary``: the macro-average row (``class``,
        ``precision``, ``recall``, ``f1``, ``support``) shown last, or None."""
        self.beginResetModel()
        self.rows = list(rows) + ([summary] if summary is not None else [])
        self.summary = summary
        self.endResetModel()

    def is_summary(self, row: int) -> bool:
        return self.summary is not None and row == len(self.rows) - 1

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
        summary = self.is_summary(index.row())
        if role == SORT_ROLE:
            return value
        if role == SUMMARY_ROLE:
            return summary
        if summary and role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if summary and role == Qt.ItemDataRole.ToolTipRole:
            return ("Macro average: the plain mean over the classes, each class counting "
                    "the same however many images it has (as workbench evaluate prints it). "
                    f"Recall and F1 leave out a class with no images ({NOT_MEASURED}). "
                    "Support: every image evaluated.")
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return NOT_MEASURED
            return f"{value:.3f}" if isinstance(value, float) else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and key != "class":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and key == "class":
            return value  # the whole name, however the cell cuts it
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
        descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
        first, second = bool(left.data(SUMMARY_ROLE)), bool(right.data(SUMMARY_ROLE))
        if first or second:  # the macro-average row: last in either order
            return first != second and first == descending
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None:
            return a is not b and (a is None) == descending
        return super().lessThan(left, right)


class PerClassTable(QTableView):
    """The sortable per-class table (click a header to sort by it)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        tab_leaves(self)
        name_field(None, self, "Per-class results")
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
        self.names = ClassNameDelegate(self)  # long names cut as the matrix cuts them
        self.setItemDelegateForColumn(0, self.names)

    def set_result(self, result) -> None:
        self.names.set_names(result.classes)
        self.source.set_rows(result.per_class(), {"class": MACRO_AVERAGE,
                                                  **result.macro_average(),
                                                  "support": result.num_images})

    def column_values(self, key: str) -> list:
        """The classes' values of a column in the order shown (for tests and exports);
        the macro-average row is left out (see :meth:`summary_texts`)."""
        col = PER_CLASS_COLUMNS.index(key)
        return [self.proxy.index(r, col).data(SORT_ROLE) for r in range(self.proxy.rowCount())
                if not self.proxy.index(r, col).data(SUMMARY_ROLE)]

    def summary_texts(self) -> list[str]:
        """The macro-average row's cells as shown (empty without a result)."""
        if self.source.summary is None:
            return []
        last = self.proxy.rowCount() - 1
        return [self.proxy.index(last, c).data() for c in range(len(PER_CLASS_COLUMNS))]


class CalibrationPlot(pg.PlotWidget):
    """Confidence of correct against wrong predictions: per confidence range (bin), a bar
    of the correct images with the wrong ones stacked on it, each bar spanning exactly its
    range on the x axis.

    The title gives the expected calibration error (ECE, in percentage points): the gap
    between how sure the model says it is and how often it is right, averaged over the
    bins; :attr:`note`, a line under the title, says so in words (and whether the model is over- or
    under-confident).
    """

    def __init__(self, parent: QWidget | None = None, bins: int = 10):
        super().__init__(parent)
        plots_style.no_tab_stop(self)
        self.bins = bins
        self.histogram: dict | None = None
        self.plot = self.getPlotItem()
        self.plot.setMenuEnabled(False, enableViewBoxMenu=True)
        self.plot.setLabel("bottom", "confidence (probability of the predicted class)")
        self.plot.setLabel("left", "images")
        self.plot.showGrid(y=True, alpha=0.3)
        # The legend is a line above the plot (``header``), where it covers no bar.
        self.header = add_header(self, "Confidence of correct and wrong predictions")
        self.note = QLabel()  # what the ECE means, in words; laid out under the header
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.note.setStyleSheet("background: white; color: black; padding: 0px 2px 2px;")
        self.header.setToolTip(ECE_TIP)
        self.note.setToolTip(ECE_TIP)
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
        width = edges[1] - edges[0]
        centres = (edges[:-1] + edges[1:]) / 2
        # One bar per bin, over the whole bin (0.9-1.0 drawn from 0.9 to 1.0): the correct
        # images, the wrong ones stacked on top (the red share is the bin's error rate).
        correct = np.asarray(h["correct"], dtype=float)
        self.correct_bars.setOpts(x=centres, height=correct, width=width, y0=0)
        self.wrong_bars.setOpts(x=centres, height=h["wrong"], width=width, y0=correct)
        # The ECE said once, in one unit (it read as two numbers: "ECE 0.053" above "5.3
        # points"); the line under the title says what it means.
        self.header.set_title(f"Confidence of correct and wrong predictions · "
                              f"ECE {100 * float(h['ece']):.1f} percentage points")
        self.note.setText(ece_words(h))
        self.plot.setXRange(0, 1, padding=0.02)
        top = max([1, *(correct + np.asarray(h["wrong"]))])
        self.plot.setYRange(0, top * 1.1, padding=0)

    def title_text(self) -> str:
        return self.header.title

    def bar_ranges(self, which: str = "correct") -> list[tuple[float, float]]:
        """The x range each bar of ``which`` ("correct", "wrong") covers, bin by bin."""
        bars = self.correct_bars if which == "correct" else self.wrong_bars
        x, width = np.asarray(bars.opts["x"]), bars.opts["width"]
        return [(float(c - width / 2), float(c + width / 2)) for c in x]


ECE_TIP = ("Expected calibration error (ECE): the images are grouped by the model's "
           "confidence (0.0-0.1, 0.1-0.2, ...); in each group, the gap between the mean "
           "confidence and the share the model got right is taken, and the gaps are "
           "averaged, each weighted by its group's images. 0 is perfect: a model that says "
           "80% is right 80% of the time. 5 percentage points (an ECE of 0.05 as a "
           "fraction) means the confidence is 5 percentage points off the accuracy on "
           "average.")


def ece_words(h: dict) -> str:
    """What a histogram's ECE (its number is in the title) means, in one sentence: how far
    the confidence is off the accuracy on average, 0 being perfect, and in which
    direction."""
    ece = float(h["ece"])
    text = ("Expected calibration error (ECE): how far, on average, the confidence is from "
            "the accuracy; 0 is perfect")
    counts = np.asarray(h["correct"]) + np.asarray(h["wrong"])
    if ece < 0.005 or not counts.sum():
        return text + "."
    # The image-weighted mean of confidence - accuracy: > 0 is surer than right. Gaps of
    # both signs that mostly cancel give no one direction.
    gap = sum(n * (c - a) for n, c, a in zip(counts, h["mean_confidence"], h["accuracy"])
              if n) / counts.sum()
    if abs(gap) < ece / 2:
        return text + " (over-confident in some ranges, under-confident in others)."
    return text + (" (mostly over-confident: surer than it is right)." if gap > 0 else
                   " (mostly under-confident: right more often than it is sure).")


class WorstLossesTable(QTableWidget):
    """The images the model got most wrong: thumbnail, true and predicted class, loss and
    the top probabilities. Thumbnails are decoded off the GUI thread, and again when a
    row painted is of a file changed since (a photo rotated in a viewer), as in the Data
    tab's grid (:class:`~workbench.qt.thumbnail_loader.ThumbnailLoader`)."""

    COLUMNS = ("Image", "True", "Predicted", "Loss", "Top probabilities")

    def __init__(self, parent: QWidget | None = None, count: int = 32):
        super().__init__(0, len(self.COLUMNS), parent)
        tab_leaves(self)  # (Shift+F10 and Enter: image_menu.install)
        name_field(None, self, "Largest losses")
        self.count = count
        self.entries: list[dict] = []
        self._tops_width = TOPS_WIDTH  # what Top probabilities keeps (its names whole)
        self._fitted: dict[int, int] = {}  # the widths :meth:`_fit_columns` last set
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
        self.names = ClassNameDelegate(self)  # long names cut as the matrix cuts them
        for c in (1, 2):
            self.setItemDelegateForColumn(c, self.names)

    def set_result(self, result) -> None:
        self.names.set_names(result.classes)
        self.entries = result.worst(self.count, top=3)
        self.loader.clear_queue()
        self.setRowCount(len(self.entries))
        widest = 0
        for r, e in enumerate(self.entries):
            image = QTableWidgetItem(readable(os.path.basename(e["path"])))
            image.setToolTip(readable(e["path"]))
            pix = self.loader.get(e["path"])
            image.setIcon(square_icon(pix))  # blank until the thumbnail is decoded
            if pix is None:
                self.loader.request(e["path"])
            entries = [f"{t['class']} {t['prob']:.1%}" for t in e["top"]]
            tops = "   ".join(entries)
            widest = max([widest, *map(self.fontMetrics().horizontalAdvance, entries)])
            cells = [image, QTableWidgetItem(e["true"]), QTableWidgetItem(e["predicted"]),
                     QTableWidgetItem(f"{e['loss']:.3f}"), QTableWidgetItem(tops)]
            cells[1].setToolTip(e["true"])  # the whole name, however the cell cuts it
            cells[2].setToolTip(e["predicted"])
            cells[4].setToolTip(f"probability of the true class ({e['true']}): "
                                f"{e['true_prob']:.1%}")
            if e["predicted"] != e["true"]:
                cells[2].setForeground(QBrush(QColor(*WRONG_COLOUR)))
            for c, item in enumerate(cells):
                self.setItem(r, c, item)
        self._tops_width = max(TOPS_WIDTH, widest + CELL_PADDING)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """The image name, True, Predicted and Loss as wide as their words (up to
        :data:`CLASS_WIDTH`, the thumbnail too for the image), Top probabilities the rest:
        "northern_car…" in True and Predicted could not be told apart while the last
        column had 350 px to spare. True and Predicted grow past :data:`CLASS_WIDTH` into
        the room Top probabilities has beyond :data:`TOPS_WIDTH` and its widest entry; a
        name still too long is cut keeping the part that tells it apart (:attr:`names`)."""
        header = self.horizontalHeader()
        wanted = {c: max(header.sectionSizeHint(c), self.sizeHintForColumn(c) + CELL_PADDING)
                  for c in range(4)}
        widths = {c: min(most, wanted[c]) for c, most in (
            (0, WORST_THUMB + CLASS_WIDTH), (1, CLASS_WIDTH), (2, CLASS_WIDTH),
            (3, CLASS_WIDTH))}
        spare = self.viewport().width() - sum(widths.values()) - self._tops_width
        # Each its share of the room, the narrower first: the other takes what it leaves.
        for i, c in enumerate(sorted((1, 2), key=lambda c: wanted[c])):
            grow = max(0, min(wanted[c] - widths[c], spare // (2 - i)))
            widths[c] += grow
            spare -= grow
        for c, width in widths.items():
            self.setColumnWidth(c, width)
        self._fitted = {c: self.columnWidth(c) for c in widths}

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        # The room True and Predicted may take changed; a column sized by hand keeps its
        # width (until the next result).
        if (self.entries and event.size().width() != event.oldSize().width()
                and all(self.columnWidth(c) == w for c, w in self._fitted.items())):
            self._fit_columns()

    def showEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        self.loader.recheck()  # back from another tab or program: a photo rotated?
        super().showEvent(event)

    def paintEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        last = self.rowAt(self.viewport().height() - 1)
        for e in self.entries[max(0, self.rowAt(0)):last + 1 if last >= 0 else None]:
            path = e["path"]
            if self.loader.get(path) is None and not self.loader.is_broken(path):
                self.loader.request(path)  # changed since its icon was set: decoded again
        super().paintEvent(event)

    @Slot(object)
    def _on_thumbnail_ready(self, path: str) -> None:
        pix = self.loader.get(path)
        if pix is None:
            return
        for r in range(self.rowCount()):
            item = self.item(r, 0)  # entries, not the item's path: Qt drops a bad byte
            if item is not None and r < len(self.entries) and self.entries[r]["path"] == path:
                item.setIcon(square_icon(pix))

    def shutdown(self) -> None:
        self.loader.shutdown()


def square_icon(pix: QPixmap | None, side: int = WORST_THUMB) -> QIcon:
    """``pix`` centred on a transparent ``side`` x ``side`` square (blank for None): a
    table draws an icon's own width before the text, so thumbnails of other shapes (and
    rows still waiting for theirs) would start their file names at different places."""
    dpr = pix.devicePixelRatio() if pix is not None else 1.0
    canvas = QPixmap(round(side * dpr), round(side * dpr))
    canvas.setDevicePixelRatio(dpr)
    canvas.fill(Qt.GlobalColor.transparent)
    if pix is not None and not pix.isNull():
        if max(pix.width(), pix.height()) / dpr > side:
            pix = pix.scaled(round(side * dpr), round(side * dpr),
                             Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
        painter = QPainter(canvas)
        try:
            painter.drawPixmap(QPointF((side - pix.width() / dpr) / 2,
                                       (side - pix.height() / dpr) / 2), pix)
        finally:
            painter.end()
    return QIcon(canvas)
