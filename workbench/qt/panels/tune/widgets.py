"""Small widgets of the Tune panel: its file dialogs, the Metric chooser, a message line
that takes no room while it has nothing to say, and a frame that shows a table's rows whole.

:func:`metric_combo` lists the metrics by the key SPACE.json and the results use
(``val_bal_acc``), each explained in words in its tooltip and, once chosen, in the box's.

:class:`HidingMessageLabel` is hidden while its text is empty: two empty message lines
under the toolbar left a blank band of about 40 px above the fields table.

:class:`WholeRows` holds a table: the table is as tall as its rows when they fit (no
scrollbar, no blank area under the last row) and otherwise as tall as a whole number of
rows, scrolling a row at a time, so the bottom row is never cut in half.

:class:`SplitFit` gives the fields table the width it wants beside the trials: choices
loaded longer than the optimizers' were cut while the trials took half the window.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QSizePolicy,
                               QSplitter, QTableView, QWidget)

from workbench.core.train.metric_words import METRIC_WORDS
from workbench.core.tune.space import METRICS
from workbench.qt.common import MessageLabel

#: The Metric chooser's tooltip after the chosen metric's words.
METRIC_TIP = "The number each trial reports to Optuna after every epoch, and is ranked by."


def ask_open_path(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Load a search space", "",
                                          "Search spaces (*.json);;All files (*)")
    return path


def ask_save_path(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save the search space", suggested,
                                          "Search spaces (*.json)")
    return path


def metric_combo() -> QComboBox:
    """The Metric chooser: :data:`~workbench.core.tune.space.METRICS` by key (its
    ``currentText`` is the metric), each explained in its item's tooltip."""
    combo = QComboBox()
    for metric in METRICS:
        combo.addItem(metric)
        combo.setItemData(combo.count() - 1, METRIC_WORDS[metric], Qt.ItemDataRole.ToolTipRole)

    def show_tip() -> None:
        words = METRIC_WORDS.get(combo.currentText(), "")
        combo.setToolTip(f"{words}\n\n{METRIC_TIP}" if words else METRIC_TIP)

    combo.currentIndexChanged.connect(show_tip)
    show_tip()
    return combo


class HidingMessageLabel(MessageLabel):
    """A :class:`~workbench.qt.common.MessageLabel` shown only while it has text."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setHidden(not text)

    def setText(self, text: str) -> None:  # noqa: N802  (Qt override)
        super().setText(text)
        # Shown with no parent it would open as a window of its own.
        if not text or self.parentWidget() is not None:
            self.setHidden(not text)


class WholeRows(QWidget):
    """Shows ``table`` at the height of its rows when they fit, else at a whole number of
    rows (at least ``min_rows``). Its size policy never asks for more than the rows need:
    a layout puts whatever is left below the widgets that follow it."""

    def __init__(self, table: QTableView, min_rows: int = 3, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = table
        self.min_rows = max(1, min_rows)
        table.setParent(self)
        # A scroll step is a whole row: scrolled to the end, the last row is whole too.
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        model = table.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset,
                       model.layoutChanged):
            signal.connect(self._rows_changed)
        table.verticalHeader().sectionResized.connect(self._rows_changed)
        table.horizontalScrollBar().rangeChanged.connect(self._rows_changed)

    # -- heights -----------------------------------------------------------------------
    def row_step(self) -> int:
        """The height of a row (the tallest, should they differ)."""
        table = self.table
        heights = [table.rowHeight(r) for r in range(table.model().rowCount())]
        return max(heights, default=0) or table.verticalHeader().defaultSectionSize()

    def overhead(self) -> int:
        """The table's height that is not rows: frame, header, horizontal scrollbar."""
        table = self.table
        height = 2 * table.frameWidth()
        if not table.horizontalHeader().isHidden():
            height += table.horizontalHeader().sizeHint().height()
        bar = table.horizontalScrollBar()
        if bar.maximum() > bar.minimum():
            height += bar.sizeHint().height()
        return height

    def full_height(self) -> int:
        """The height that shows every row."""
        table = self.table
        rows = sum(table.rowHeight(r) for r in range(table.model().rowCount()))
        return self.overhead() + max(rows, self.row_step())

    def table_height(self, room: int) -> int:
        """The table's height in ``room`` pixels: all rows, or as many whole rows as fit."""
        full = self.full_height()
        if full <= room:
            return full
        step = max(1, self.row_step())
        rows = max(1, (room - self.overhead()) // step)
        return min(room, self.overhead() + rows * step)

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(self.table.sizeHint().width(), self.full_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        rows = min(self.min_rows, max(1, self.table.model().rowCount()))
        return QSize(self.table.minimumSizeHint().width(),
                     min(self.full_height(), self.overhead() + rows * self.row_step()))

    # -- placing -------------------------------------------------------------------------
    def _rows_changed(self, *_args) -> None:
        self.updateGeometry()
        self._place()

    def _place(self) -> None:
        self.table.setGeometry(0, 0, self.width(), self.table_height(self.height()))

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        self._place()


class SplitFit(QObject):
    """Sizes ``split``'s first side, the fields table ``editor``, to the width it wants
    (its names and choices whole, at most 60% of the split): when :meth:`fit` is called
    (the tab first shown), then again whenever that width changes (a space loaded with
    longer choices) or the window is resized, until the user drags the handle."""

    def __init__(self, split: QSplitter, editor: QWidget):
        super().__init__(split)
        self.split, self.editor = split, editor
        self.following = False  # sized here and not dragged since: keeps fitting
        split.splitterMoved.connect(self._dragged)
        editor.width_wanted.connect(self._wanted)
        split.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and self.following:
            QTimer.singleShot(0, self, self._wanted)  # once the split has spread its sizes
        return False

    def fit(self) -> None:
        total = sum(self.split.sizes()) or self.split.width()
        left = min(self.editor.preferred_width(), int(0.6 * total))
        self.split.setSizes([left, max(0, total - left)])
        self.following = True

    def _dragged(self, *_: object) -> None:
        self.following = False

    def _wanted(self) -> None:
        if self.following and self.split.isVisible():
            self.fit()
