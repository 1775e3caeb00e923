"""Read-only views of a scanned dataset for the Data panel: the table of classes with their
split counts, and the tabs of image summary and unreadable files (each of which can be
revealed in the file manager); the per-class bar chart is :mod:`.chart`'s."""

from __future__ import annotations

import os
import sys
from typing import Any

from PySide6.QtCore import QPoint, QProcess, QSize, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QStyle, QTabWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from workbench.core.filenames import readable
from workbench.qt.class_names import ClassNameDelegate
from workbench.qt.colours import muted_rows_brush
from workbench.qt.common import short_path, show_error
from workbench.qt.keyboard import menu_keys, tab_leaves
from workbench.qt.panels.data.chart import ClassBarChart  # noqa: F401  (its home before)


class _Header(QHeaderView):
    """A horizontal header that keeps room for the sort arrow in the sorted column only.

    Qt keeps it in every column once sorting is on: about 20 px each, so at 1100 px the
    count columns (sized to their contents) took most of the table and the Class column,
    which takes the rest, was about 55 px ("speci…" on every row)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionsClickable(True)  # as a table's own header: a click sorts
        self.setHighlightSections(True)
        self.sortIndicatorChanged.connect(lambda *_: self.resizeSections())

    def sectionSizeFromContents(self, logical: int) -> QSize:  # noqa: N802  (Qt override)
        size = super().sectionSizeFromContents(logical)
        if self.isSortIndicatorShown() and logical != self.sortIndicatorSection():
            margin = self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, self)
            size.setWidth(max(1, size.width() - size.height() - margin))
        return size


class ClassTable(QTableWidget):
    """Class, images, and how many of them train and validate under the current split.

    A click on a header sorts by that column (the counts as numbers, the names without
    regard to case); the rows start in label order. Each name is one line, cut with "…"
    when too long keeping the part that tells it apart from the others, as the confusion
    matrix does (:class:`~workbench.qt.class_names.ClassNameDelegate`), its tooltip whole,
    so rows keep one height however long the names."""

    COLUMNS = ("Class", "Images", "Train", "Val")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(self.COLUMNS), parent)
        tab_leaves(self)  # Tab goes on to the settings beside it
        self.setHorizontalHeader(_Header(self))
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.names = ClassNameDelegate(self)
        self.setItemDelegateForColumn(0, self.names)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        # The class names take the room the counts (as wide as their numbers) leave.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(self.COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # label order at first
        header.setToolTip("Click a column's title to sort by it.")
        self.setSortingEnabled(True)

    def set_rows(self, counts: dict[str, int], empty: list[str]) -> None:
        """One row per class with its count, then the empty (left out) class folders
        (sorted as the table is sorted, if it is)."""
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)  # rows must not move while they are filled
        self.setRowCount(0)
        rows = [(c, n, False) for c, n in counts.items()] + [(c, 0, True) for c in empty]
        grey = muted_rows_brush(self)
        self.names.set_names(name for name, _, _ in rows)
        self.setRowCount(len(rows))
        for r, (name, n, is_empty) in enumerate(rows):
            name_item = _Name(name)
            name_item.setData(Qt.ItemDataRole.UserRole, r)  # label order, ties after sorts
            name_item.setToolTip(name)
            count_item = _number(n, "0 (no images: left out)" if is_empty else None)
            items = [name_item, count_item, _number(None), _number(None)]
            for c, item in enumerate(items):
                if is_empty:
                    item.setForeground(grey)
                self.setItem(r, c, item)
        self.setSortingEnabled(sorting)

    def set_split(self, train: dict[str, int] | None, val: dict[str, int] | None) -> None:
        """Fill the Train and Val columns (``None``: unknown, shown empty)."""
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)  # a sorted column re-sorts as each cell changes
        for r in range(self.rowCount()):
            name = self.item(r, 0).text()
            for col, counts in ((2, train), (3, val)):
                n = None if counts is None or name not in counts else counts[name]
                item = self.item(r, col)
                item.setText("" if n is None else f"{n:,}")
                item.setData(Qt.ItemDataRole.UserRole, n)
        self.setSortingEnabled(sorting)

    def column_values(self, col: int) -> dict[str, int | None]:
        return {self.item(r, 0).text(): self.item(r, col).data(Qt.ItemDataRole.UserRole)
                for r in range(self.rowCount())}


class _Name(QTableWidgetItem):
    """A class name cell: sorts by the name without regard to case, then label order."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.text(), other.text()
        if mine.casefold() != theirs.casefold():
            return mine.casefold() < theirs.casefold()
        return (self.data(Qt.ItemDataRole.UserRole) or 0) < \
            (other.data(Qt.ItemDataRole.UserRole) or 0)


class _Number(QTableWidgetItem):
    """A count cell: sorts by its number (an unknown one first), not by its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine = self.data(Qt.ItemDataRole.UserRole)
        theirs = other.data(Qt.ItemDataRole.UserRole)
        return (-1 if mine is None else mine) < (-1 if theirs is None else theirs)


def _number(n: int | None, text: str | None = None) -> QTableWidgetItem:
    item = _Number(text if text is not None else ("" if n is None else f"{n:,}"))
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    item.setData(Qt.ItemDataRole.UserRole, n)
    return item


def reveal_command(path: str, platform: str | None = None) -> tuple[str, list[str]] | None:
    """The program and arguments that show ``path`` selected in the platform's file
    manager (Explorer, Finder); None where opening its folder is the way (Linux)."""
    platform = sys.platform if platform is None else platform
    if platform.startswith("win"):
        return "explorer.exe", ["/select,", os.path.normpath(path)]
    if platform == "darwin":
        return "open", ["-R", path]
    return None


def reveal_in_file_manager(path: str, parent: QWidget | None = None) -> bool:
    """Show ``path`` in the file manager: selected where the platform allows (Windows,
    macOS), else its folder opened (a folder: itself).

    When that cannot be done (no file manager on a minimal desktop or a headless box, or
    the file is gone), a message says so and names the path, which is also copied to the
    clipboard. Returns whether a file manager was opened.
    """
    path = str(path)
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    if not os.path.exists(path) and not os.path.isdir(folder):
        _cannot_reveal(parent, path, f"{path} no longer exists (moved or deleted since the "
                                     f"folder was scanned): scan the folder again.")
        return False
    command = reveal_command(path) if os.path.exists(path) else None
    if command is not None and QProcess.startDetached(*command)[0]:
        return True
    if QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
        return True
    _cannot_reveal(parent, path, f"No file manager could be opened to show {folder}: this "
                                 f"system has none set up to open folders (on Linux, "
                                 f"install one, or set the default with xdg-mime).")
    return False


#: Messages shown without a parent window, kept alive until closed (else Python frees them).
_OPEN_BOXES: set = set()


def _cannot_reveal(parent: QWidget | None, path: str, why: str) -> None:
    QApplication.clipboard().setText(path)
    parent = parent or QApplication.activeWindow()
    box = show_error(parent, "Cannot reveal in file manager",
                     f"{why}\n\nThe path was copied to the clipboard:\n{path}")
    if parent is None:
        _OPEN_BOXES.add(box)
        box.finished.connect(lambda _result: _OPEN_BOXES.discard(box))


def reveal_menu(parent: QWidget, path: str, where: QPoint) -> None:
    """A context menu with "Reveal in file manager" for ``path``."""
    menu = QMenu(parent)
    menu.addAction("Reveal in file manager", lambda: reveal_in_file_manager(path, parent))
    menu.exec(where)


class DatasetDetails(QTabWidget):
    """Two tabs: the image size/mode summary, and the unreadable files with their reasons."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setContentsMargins(6, 6, 6, 6)
        self.unreadable_list = QListWidget()
        self.unreadable_list.setWordWrap(True)
        self.unreadable_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.unreadable_list.customContextMenuRequested.connect(self._on_menu_requested)
        menu_keys(self.unreadable_list)  # Shift+F10 opens a file's menu (Reveal)
        self.unreadable_list.itemDoubleClicked.connect(
            lambda item: reveal_in_file_manager(self._path(item), self))
        self.unreadable_list.currentItemChanged.connect(
            lambda item, _prev: self.reveal_button.setEnabled(item is not None))
        self.reveal_button = QPushButton("Reveal in file manager")
        self.reveal_button.setToolTip("Open the folder of the selected file")
        self.reveal_button.setEnabled(False)
        self.reveal_button.clicked.connect(self.reveal_selected)
        self.unreadable_box = QWidget()
        lay = QVBoxLayout(self.unreadable_box)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.unreadable_list)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.reveal_button)
        lay.addLayout(row)
        self.addTab(self.summary_label, "Sizes and modes")
        self.addTab(self.unreadable_box, "")
        self._set_title(0)

    def set_unreadable(self, index: Any) -> None:
        """List ``index.unreadable`` (None: clear); the tab comes forward when there are any,
        and gives way to the image summary when there are none."""
        self.unreadable_list.clear()
        root = index.root if index is not None and os.path.isdir(index.root) else \
            os.path.dirname(index.root) if index is not None else ""  # a CSV file's folder
        # The paths by row: an item's data (a Qt string) would drop a bad byte of a name.
        self._bad_paths = [bad.path for bad in (index.unreadable if index is not None else [])]
        for bad in (index.unreadable if index is not None else []):
            item = QListWidgetItem(readable(f"{short_path(bad.path, root)}: {bad.reason}"))
            item.setToolTip(readable(f"{bad.path}\nDouble-click to show it in the file manager"))
            self.unreadable_list.addItem(item)
        n = self.unreadable_list.count()
        self._set_title(n)
        if n:
            self.setCurrentWidget(self.unreadable_box)
        elif self.currentWidget() is self.unreadable_box:  # an empty box: nothing to see
            self.setCurrentWidget(self.summary_label)
        self.reveal_button.setEnabled(False)

    def _path(self, item: QListWidgetItem) -> str | None:
        row = self.unreadable_list.row(item)
        return self._bad_paths[row] if 0 <= row < len(getattr(self, "_bad_paths", [])) else None

    @Slot()
    def reveal_selected(self) -> None:
        item = self.unreadable_list.currentItem()
        if item is not None:
            reveal_in_file_manager(self._path(item), self)

    def _set_title(self, n: int) -> None:
        self.setTabText(self.indexOf(self.unreadable_box),
                        f"Unreadable files: {n}" + (" (skipped in training)" if n else ""))

    @Slot(QPoint)
    def _on_menu_requested(self, pos: QPoint) -> None:
        item = self.unreadable_list.itemAt(pos)
        if item is not None:
            reveal_menu(self, self._path(item), self.unreadable_list.viewport().mapToGlobal(pos))
