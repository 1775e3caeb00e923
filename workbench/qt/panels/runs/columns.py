"""The Runs table's column widths: fitted to the runs listed, the Name column to the
window too, and then the Dataset column, so the Notes column stays in sight."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTableView

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


def fit_columns(table: QTableView) -> int:
    """Fit the columns the user may resize to the runs listed, with :data:`COLUMN_PADDING`
    to spare beyond their cells (a name such as "shapesA-seed-cnn-1" touched the border),
    and no narrower than their header (which keeps room for the sort arrow: padding on top
    of it made "Duration" 100 px wide for "11 s"); the columns sized to their numbers, and
    the last (stretched), keep their own width. Returns the width the names would like
    (:func:`fit_name`)."""
    table.resizeColumnsToContents()
    header = table.horizontalHeader()
    for c in range(header.count() - 1):
        if header.sectionResizeMode(c) == QHeaderView.ResizeMode.Interactive:
            header.resizeSection(c, max(header.sectionSizeHint(c),
                                        table.sizeHintForColumn(c) + COLUMN_PADDING))
    header.resizeSection(COLUMN["dataset"], _dataset_width(table))
    wanted = header.sectionSize(COLUMN["name"])
    fit_name(table, wanted)
    return wanted


def fit_name(table: QTableView, wanted: int) -> None:
    """Size the Name column to ``wanted`` within :data:`NAME_WIDTH`, narrower (not below
    its least) where the window would otherwise hide the Notes column; where that is not
    enough, the Dataset column gives way too, down to its header's width."""
    header = table.horizontalHeader()
    low, high = NAME_WIDTH
    width = min(high, max(low, wanted))
    if table.isVisible():
        dataset, fitted = COLUMN["dataset"], _dataset_width(table)
        others = sum(header.sectionSize(c) for c in range(header.count())
                     if c not in (COLUMN["name"], COLUMN["notes"], dataset))
        room = table.viewport().width() - others - NOTES_ROOM
        width = max(low, min(width, room - fitted))
        header.resizeSection(dataset, max(header.sectionSizeHint(dataset),
                                          min(fitted, room - width)))
    header.resizeSection(COLUMN["name"], width)


def _dataset_width(table: QTableView) -> int:
    """The Dataset column fitted to the datasets listed, within :data:`DATASET_WIDTH`."""
    column = COLUMN["dataset"]
    return max(table.horizontalHeader().sectionSizeHint(column),
               min(DATASET_WIDTH, table.sizeHintForColumn(column) + COLUMN_PADDING))
