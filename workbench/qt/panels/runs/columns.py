"""The Runs table's column widths: fitted to the runs listed, and then to the window, the
columns of :data:`GIVE_WAY` giving way in turn, and then :data:`HIDDEN_FIRST` hidden, so
the Notes column stays in sight."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QStyledItemDelegate,
                               QStyleOptionViewItem, QTableView, QToolTip)

from workbench.qt.panels.runs.model import COLUMN

#: Room added to a column fitted to its cells, so no text touches the column's border.
COLUMN_PADDING = 16
#: The Name column's width, fitted to the names: at least, at most.
NAME_WIDTH = (160, 300)
#: The Dataset column's widest: a longer folder name is cut ("…"); its tooltip is whole.
DATASET_WIDTH = 160
#: The Notes column (the last) keeps at least this much of the window: a Name column of
#: 300 px pushed it out of sight at 1100x706.
NOTES_ROOM = 120
#: The columns that give way, in this order, where the window would otherwise hide the
#: Notes column: the Name column down to its least, the others down to their header's
#: width, their text cut ("…"). A backbone run's "seed-cnn · pretrained" kept the Preset
#: column wide and pushed Notes out of sight at 1100x706 (tooltips hold the whole text).
GIVE_WAY = ("name", "dataset", "preset")
#: Hidden where the columns of :data:`GIVE_WAY` have given way and the Notes column still
#: lacks :data:`NOTES_ROOM` (the 1100x706 window the app opens at): the balanced accuracy,
#: which the Val acc % tooltip gives too; shown again when the window has room for it.
HIDDEN_FIRST = "bal_acc"


def set_up_columns(table: QTableView) -> None:
    """The last column (Notes) stretched, the short numbers' columns sized to them (never
    cut to "0.0…"), and a cut Preset cell's whole text in its tooltip
    (:class:`CutTextTip`)."""
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    for key in ("epochs", "val_acc", "bal_acc", "lr", "batch"):
        header.setSectionResizeMode(COLUMN[key], QHeaderView.ResizeMode.ResizeToContents)
    table.setItemDelegateForColumn(COLUMN["preset"], CutTextTip(table))


class CutTextTip(QStyledItemDelegate):
    """Cells whose text is wider than their column (cut, "…", or wrapped) show it whole on
    their tooltip's first line, above the cell's own tooltip."""

    def tooltip(self, view: QAbstractItemView, index: QModelIndex) -> str:
        text, tip = index.data(), index.data(Qt.ItemDataRole.ToolTipRole) or ""
        if not text or (view.fontMetrics().horizontalAdvance(text) + COLUMN_PADDING
                        <= view.visualRect(index).width()):
            return tip
        return f"{text}\n{tip}" if tip else text

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,  # noqa: N802
                  option: QStyleOptionViewItem, index: QModelIndex) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid():
            QToolTip.showText(event.globalPos(), self.tooltip(view, index), view)
            return True
        return super().helpEvent(event, view, option, index)


class WindowFit:
    """The columns of ``table`` fitted to the runs when first listed (:meth:`fit`), and
    then to the window (:meth:`follow_window`) until the user sizes one of
    :data:`GIVE_WAY` by hand: their widths stay then."""

    def __init__(self, table: QTableView):
        self.table = table
        self.sized = self.by_hand = self._fitting = False
        self.wanted: dict[int, int] = {}
        table.horizontalHeader().sectionResized.connect(self._on_section_resized)

    def fit(self) -> None:
        """Fit the columns to the runs listed, the first time there are some."""
        if not self.sized:
            self.sized = True
            self._fitting = True
            self.wanted = fit_columns(self.table)
            self._fitting = False

    def follow_window(self) -> None:
        """Fit the columns to the window again (:func:`fit_to_window`)."""
        if self.sized and not self.by_hand:
            self._fitting = True
            fit_to_window(self.table, self.wanted)
            self._fitting = False

    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        if column in self.wanted and not self._fitting:
            self.by_hand = True  # the user's widths stay


def fit_columns(table: QTableView) -> dict[int, int]:
    """Fit the columns the user may resize to the runs listed, with :data:`COLUMN_PADDING`
    to spare beyond their cells (a name such as "shapesA-seed-cnn-1" touched the border),
    and no narrower than their header (which keeps room for the sort arrow: padding on top
    of it made "Duration" 100 px wide for "11 s"); the columns sized to their numbers, and
    the last (stretched), keep their own width. Returns the widths the columns of
    :data:`GIVE_WAY` would like, for :func:`fit_to_window`."""
    table.resizeColumnsToContents()
    header = table.horizontalHeader()
    for c in range(header.count() - 1):
        if header.sectionResizeMode(c) == QHeaderView.ResizeMode.Interactive:
            header.resizeSection(c, max(header.sectionSizeHint(c),
                                        table.sizeHintForColumn(c) + COLUMN_PADDING))
    header.resizeSection(COLUMN["dataset"], _dataset_width(table))
    wanted = {COLUMN[key]: header.sectionSize(COLUMN[key]) for key in GIVE_WAY}
    low, high = NAME_WIDTH
    wanted[COLUMN["name"]] = min(high, max(low, wanted[COLUMN["name"]]))
    fit_to_window(table, wanted)
    return wanted


def fit_to_window(table: QTableView, wanted: dict[int, int]) -> None:
    """Size the columns of :data:`GIVE_WAY` to their ``wanted`` widths, narrower (in turn,
    not below their least) where the window would otherwise leave the Notes column less
    than :data:`NOTES_ROOM`; where that is not enough, hide :data:`HIDDEN_FIRST`."""
    header = table.horizontalHeader()
    widths = dict(wanted)
    hidden = COLUMN[HIDDEN_FIRST]
    if table.isVisible():
        others = sum(header.sectionSize(c) for c in range(header.count())
                     if c not in widths and c not in (COLUMN["notes"], hidden))
        short = others + sum(widths.values()) + NOTES_ROOM - table.viewport().width()
        extra = max(header.sectionSizeHint(hidden), table.sizeHintForColumn(hidden))
        hide = _given_way(header, wanted, short + extra)[1] > 0
        table.setColumnHidden(hidden, hide)
        widths = _given_way(header, wanted, short + (0 if hide else extra))[0]
    for c, width in widths.items():
        header.resizeSection(c, width)


def _given_way(header: QHeaderView, wanted: dict[int, int],
               short: int) -> tuple[dict[int, int], int]:
    """The ``wanted`` widths with the columns of :data:`GIVE_WAY` narrower, in turn and not
    below their least, by up to ``short`` pixels; and how short they leave the window."""
    widths = dict(wanted)
    for key in GIVE_WAY:
        c = COLUMN[key]
        least = NAME_WIDTH[0] if key == "name" else header.sectionSizeHint(c)
        give = max(0, min(short, widths[c] - least))
        widths[c] -= give
        short -= give
    return widths, short


def _dataset_width(table: QTableView) -> int:
    """The Dataset column fitted to the datasets listed, within :data:`DATASET_WIDTH`."""
    column = COLUMN["dataset"]
    return max(table.horizontalHeader().sectionSizeHint(column),
               min(DATASET_WIDTH, table.sizeHintForColumn(column) + COLUMN_PADDING))
