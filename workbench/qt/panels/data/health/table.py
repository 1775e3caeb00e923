"""The Health view's table: one row per :class:`~.findings.Finding`, its images painted
side by side (each with its class and side of the split), sortable by kind, class and
score and filtered by kind. Class names are cut keeping the part that tells them apart
(:class:`~workbench.qt.class_names.ClassNameDelegate`), a caption's side always whole:
"Ama…13 · test".

Thumbnails are decoded off the GUI thread by a
:class:`~workbench.qt.thumbnails.ThumbnailLoader`, only for the rows painted. Clicking an
image of a row chooses it, as Alt+Right / Alt+Left (:data:`CHOOSE_KEYS`) choose the next
or previous image of the current row: the actions (exclude, reveal) apply to the chosen
image, and with several rows selected Exclude applies to the chosen image of each.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint,
                            QRect, QSize, QSortFilterProxyModel, Qt, Signal, Slot)
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHeaderView, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QTableView)

from workbench.qt.accessible import name_field
from workbench.qt.class_names import ClassNameDelegate
from workbench.qt.keyboard import tab_leaves
from workbench.qt.panels.data.health.cells import (
    CAPTION, DETAILS_MIN, GAP, MAX_SHOWN, MORE_WIDTH, ROW_HEIGHT, THUMB, cell_width, image_at,
    image_rects, images_width, score_text, shown_images)
from workbench.qt.panels.data.health.findings import ORDER, Finding
from workbench.qt.thumbnails import ThumbnailLoader, _placeholder, fitted_rect

FindingRole = Qt.ItemDataRole.UserRole + 10
SortRole = Qt.ItemDataRole.UserRole + 11
COLUMNS = ("Finding", "Class", "Score", "Images", "Details")
IMAGES = COLUMNS.index("Images")
#: The keys that choose the next or previous image of the current row (a click's choice).
CHOOSE_KEYS = {Qt.Key.Key_Right: 1, Qt.Key.Key_Left: -1}
CHOOSE_HINT = "Alt+Left/Right or a click chooses another image"


class FindingsModel(QAbstractTableModel):
    """The findings, and what became of their images since the check: excluded from
    training (the experiment's ``data.exclude``, told by :meth:`set_excluded`) or moved to
    another class (:meth:`set_moved`)."""

    def __init__(self, loader: ThumbnailLoader, parent: Any = None):
        super().__init__(parent)
        self.loader = loader
        self.findings: list[Finding] = []
        self.classes: list[str] = []  # the dataset's, and every class a finding names
        self.excluded: set[str] = set()
        self.moved: dict[str, str] = {}   # path -> class it was moved to
        self.chosen: dict[int, int] = {}  # row -> image of it chosen (default: the last)
        self._rows_of: dict[str, list[int]] = {}
        loader.thumbnail_ready.connect(self._on_thumbnail_ready)

    def set_findings(self, findings: list[Finding], classes: Any = ()) -> None:
        """``classes``: the dataset's, which the names shown are told apart from (the
        classes the findings name are added)."""
        self.beginResetModel()
        self.findings = list(findings)
        self.classes = list(dict.fromkeys(
            [*classes, *(c for f in self.findings for c in
                         (*f.classes, *(c for _, c in f.examples), f.suggested) if c)]))
        self.chosen = {}
        self.moved = {}
        self._rows_of = {}
        for r, f in enumerate(self.findings):
            for p in f.paths + tuple(p for p, _ in f.examples):
                self._rows_of.setdefault(p, []).append(r)
        self.endResetModel()

    def chosen_image(self, row: int) -> int:
        """The image of ``row`` the actions apply to: the one clicked, else a leak's first
        test/ copy, else its first validation copy (excluding it ends the leak and keeps
        the training images), else a conflict's odd one out (its class the group's least
        common), else the last shown (a copy's name usually sorts after its original's)."""
        if row in self.chosen:
            return self.chosen[row]
        f = self.findings[row]
        side = next((s for s in ("test", "val") if s in f.sides[:MAX_SHOWN]), None)
        if f.kind == "leak" and side:
            return f.sides.index(side)
        shown = range(min(len(f.paths), MAX_SHOWN))  # never one under "+N more"
        if f.kind == "conflict":  # the odd one out: of the group's least common class
            fewest = min(f.classes.count(c) for c in f.classes)
            return max(i for i in shown if f.classes.count(f.classes[i]) == fewest)
        return shown[-1]

    def choose(self, row: int, image: int) -> None:
        self.chosen[row] = image
        self._changed_rows([row])

    def set_excluded(self, paths: set[str]) -> None:
        changed = paths ^ self.excluded
        self.excluded = set(paths)
        self._changed_rows({r for p in changed for r in self._rows_of.get(p, [])})

    def set_moved(self, path: str, to_class: str | None) -> None:
        if to_class is None:
            self.moved.pop(path, None)
        else:
            self.moved[path] = to_class
        self._changed_rows(self._rows_of.get(path, []))

    def _changed_rows(self, rows: Any) -> None:
        """One signal for the rows from the first to the last of ``rows`` (an exclusion of
        500 rows' images: one repaint and one update of the actions, not 500)."""
        rows = list(rows)
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0),
                                  self.index(max(rows), len(COLUMNS) - 1))

    def _on_thumbnail_ready(self, path: str) -> None:
        for r in self._rows_of.get(path, []):
            cell = self.index(r, IMAGES)
            self.dataChanged.emit(cell, cell)

    # -- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                 ) -> int:  # noqa: N802  (Qt override)
        return 0 if parent.isValid() else len(self.findings)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                    ) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f, col = self.findings[index.row()], index.column()
        if role == FindingRole:
            return f
        if role == Qt.ItemDataRole.DisplayRole:
            return (f.title, f.class_text, "" if f.score is None else score_text(f.score),
                    None, f.detail)[col]
        if role == SortRole:
            return (ORDER[f.kind] * 10 - (f.score or 0.0), f.class_text,
                    -1.0 if f.score is None else f.score, index.row(), f.detail)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            sizes = f.sizes or (None,) * len(f.paths)
            return "\n".join([f"{p}  ({c}, {s or 'not in the split'}"
                              + (f", {z[0]}×{z[1]} px)" if z else ")")
                              for p, c, s, z in zip(f.paths, f.classes, f.sides, sizes)]
                             + ([CHOOSE_HINT] if len(f.paths) > 1 else []))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None


class FindingsProxy(QSortFilterProxyModel):
    """Sorts by :data:`SortRole` and shows one kind (``kind`` None: every kind)."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.kind: str | None = None
        self.setSortRole(SortRole)

    def set_kind(self, kind: str | None) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9: invalidateFilter() is deprecated
            self.beginFilterChange()
            self.kind = kind
            self.endFilterChange()
        else:
            self.kind = kind
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex
                         ) -> bool:  # noqa: N802  (Qt override)
        if self.kind is None:
            return True
        return self.sourceModel().findings[row].kind == self.kind


class ImagesDelegate(QStyledItemDelegate):
    """Paints the Images cell: each image with ``class · side`` under it (and a copy's
    pixel size on its foot), the chosen one framed, excluded ones greyed, moved ones
    marked; a label issue's example images of the suggested and the given class after a
    gap. Only the images that fit the cell are drawn
    (:func:`~workbench.qt.panels.data.health.cells.shown_images`), the others
    counted in "+K more", nothing outside the cell (the Details column's text)."""

    def __init__(self, model: FindingsModel, parent: Any, names: ClassNameDelegate):
        super().__init__(parent)
        self.model = model
        self.names = names  # the Class column's (told the names): cuts the captions' too
        self._placeholder = _placeholder(THUMB)
        self._broken = _placeholder(THUMB, broken=True)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex  # noqa: N802
                 ) -> QSize:
        return QSize(cell_width(index.data(FindingRole)), ROW_HEIGHT)

    def _pixmap(self, path: str) -> Any:
        pix = self.model.loader.get(path)
        if pix is not None:
            return pix
        if self.model.loader.is_broken(path):
            return self._broken
        self.model.loader.request(path)
        return self._placeholder

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter,
                            opt.widget)
        f: Finding = index.data(FindingRole)
        source_row = _source_row(index)
        chosen = self.model.chosen_image(source_row) if source_row is not None else -1
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        shown = shown_images(f, opt.rect.width(), chosen)
        rects = image_rects(f, opt.rect, chosen)
        own = len(shown)
        painter.save()
        painter.setClipRect(opt.rect)
        font = painter.font()
        small = QApplication.font()
        small.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(small)
        for i, rect in enumerate(rects):
            example = i >= own
            if not example:
                i = shown[i]  # the image drawn in the i-th place
            path, cls = (f.examples[i - own] if example
                         else (f.paths[i], f.classes[i]))
            self._draw_image(painter, rect, path)
            text = opt.palette.color(opt.palette.ColorGroup.Normal,
                                     opt.palette.ColorRole.HighlightedText if selected
                                     else opt.palette.ColorRole.Text)
            if example:
                caption = self._caption(painter, cls, before="e.g. ")
                text.setAlpha(215 if selected else 150)  # fainter than the row's own images
            else:
                side = {"val": "val", "train": "train", "test": "test"}.get(f.sides[i], "")
                caption = self._caption(painter, cls, after=f" · {side}" if side else "")
                if f.sizes and f.sizes[i]:
                    _draw_size(painter, rect, f.sizes[i])
                self._draw_state(painter, rect, path, selected and i == chosen)
            painter.setPen(text)
            text_rect = QRect(rect.left() - GAP // 2, rect.bottom() + 4, THUMB + GAP, CAPTION)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter,
                             painter.fontMetrics().elidedText(
                                 caption, Qt.TextElideMode.ElideRight, THUMB + GAP))
        if len(f.paths) > own:
            x = rects[own - 1].right() + GAP // 2
            painter.drawText(QRect(x, opt.rect.top(), MORE_WIDTH, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter, f"+{len(f.paths) - own} more")
        painter.restore()

    def _caption(self, painter: QPainter, cls: str, before: str = "", after: str = "") -> str:
        """``before + cls + after`` in a caption's width, only the class cut: the side of
        a leak's copy ("· test") is what its row is about."""
        metrics = painter.fontMetrics()
        room = THUMB + GAP - metrics.horizontalAdvance(before + after)
        return before + self.names.cut(cls, room, metrics.horizontalAdvance) + after

    def _draw_image(self, painter: QPainter, rect: QRect, path: str) -> None:
        pix = self._pixmap(path)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(fitted_rect(pix, rect), pix)  # 1:1 on a HiDPI screen too
        painter.restore()

    def _draw_state(self, painter: QPainter, rect: QRect, path: str, chosen: bool) -> None:
        pen = painter.pen()
        label = ("excluded" if path in self.model.excluded else
                 f"moved to {self.model.moved[path]}" if path in self.model.moved else "")
        if label:
            painter.fillRect(rect, QColor(255, 255, 255, 170))
            band = QRect(rect.left(), rect.center().y() - 9, rect.width(), 18)
            painter.fillRect(band, QColor("#c62828") if label == "excluded"
                             else QColor("#1565c0"))
            painter.setPen(QColor("white"))
            painter.drawText(band, Qt.AlignmentFlag.AlignCenter, label)
        if chosen:
            painter.setPen(QPen(QColor("#ff9800"), 3))
            painter.drawRect(rect.adjusted(-2, -2, 2, 2))
        painter.setPen(pen)


def _draw_size(painter: QPainter, rect: QRect, size: tuple[int, int]) -> None:
    """``4032×3024`` over the foot of a thumbnail: which copy is the big one."""
    band = QRect(rect.left(), rect.bottom() - 14, rect.width(), 15)
    pen = painter.pen()
    painter.fillRect(band, QColor(0, 0, 0, 150))
    painter.setPen(QColor("white"))
    painter.drawText(band, Qt.AlignmentFlag.AlignCenter, f"{size[0]}×{size[1]}")
    painter.setPen(pen)


def _source_row(index: QModelIndex) -> int | None:
    model = index.model()
    if isinstance(model, QSortFilterProxyModel):
        index = model.mapToSource(index)
    return index.row() if index.isValid() else None


class FindingsTable(QTableView):
    """The findings' table: fixed-height rows, whole-row selection of one row or several,
    sortable columns.

    Signals
    -------
    image_pressed(row, image)
        An image of a row was pressed (``row`` of the source model): it becomes the
        chosen one before the row is selected. Alt+Right / Alt+Left on the current row
        (:data:`CHOOSE_KEYS`) say its next or previous image, round the row, the same way.
    """

    image_pressed = Signal(int, int)

    def __init__(self, model: FindingsModel, parent: Any = None):
        super().__init__(parent)
        tab_leaves(self)  # Tab goes on to the buttons under it
        name_field(None, self, "Findings")
        self.proxy = FindingsProxy(self)
        self.proxy.setSourceModel(model)
        self.setModel(self.proxy)
        self.names = ClassNameDelegate(self)  # the Class column and the captions
        self.setItemDelegateForColumn(COLUMNS.index("Class"), self.names)
        self.setItemDelegateForColumn(IMAGES, ImagesDelegate(model, self, self.names))
        self._on_reset()
        model.modelReset.connect(self._on_reset)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows (Shift/Ctrl-click, Shift+arrows, Ctrl+A): Exclude acts on each.
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setWordWrap(True)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        rows = self.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(ROW_HEIGHT)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in ((0, 130), (1, 80), (2, 56), (IMAGES, images_width([]))):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(col, width)
        self._keep_rows = False  # a press chose an image of one of several rows selected
        self._hand_width: int | None = None  # the Images column's width dragged by hand
        self._fitting = False
        header.sectionResized.connect(self._on_section_resized)

    def fit_images_column(self) -> None:
        """The Images column as wide as the rows shown need, but leaving the Details column
        at least :data:`DETAILS_MIN` of the table's width (at 1366x768 one group of ten
        copies made it 530 px wide and pushed the details out of sight).

        A width the user dragged is kept instead of the fitted one (only narrowed while
        the table is too narrow to leave the Details column its room), through resizes,
        filters and new checks."""
        if self._hand_width is not None:
            wanted = self._hand_width
        else:
            shown = [self.proxy.index(r, IMAGES).data(FindingRole)
                     for r in range(self.proxy.rowCount())]
            wanted = images_width([f for f in shown if f])
        room = self.viewport().width() - sum(self.columnWidth(c) for c in range(IMAGES)) \
            - DETAILS_MIN
        self._fitting = True
        try:
            self.setColumnWidth(IMAGES, max(images_width([]), min(wanted, room)))
        finally:
            self._fitting = False

    @Slot()
    def _on_reset(self) -> None:
        self.names.set_names(self.proxy.sourceModel().classes)

    @Slot(int, int, int)
    def _on_section_resized(self, column: int, _old: int, new: int) -> None:
        if column == IMAGES and not self._fitting:
            self._hand_width = new

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        self.fit_images_column()  # the room for the Details column changed

    def source_row(self, index: QModelIndex) -> int | None:
        return _source_row(index) if index.isValid() else None

    def image_at(self, pos: QPoint) -> tuple[int, int] | None:
        """``(source row, image)`` under ``pos`` (viewport coordinates), or None."""
        index = self.indexAt(pos)
        if not index.isValid() or index.column() != IMAGES:
            return None
        row = self.source_row(index)
        if row is None:
            return None
        image = image_at(index.data(FindingRole), self.visualRect(index), pos,
                         self.proxy.sourceModel().chosen_image(row))
        return None if image is None else (row, image)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802  (Qt override)
        pos = event.position().toPoint()
        hit = self.image_at(pos)
        if hit is not None:
            self.image_pressed.emit(*hit)
            rows = self.selectionModel()
            if event.button() == Qt.MouseButton.LeftButton and \
                    event.modifiers() == Qt.KeyboardModifier.NoModifier and \
                    len(rows.selectedRows()) > 1 and rows.isRowSelected(self.indexAt(pos).row()):
                self._keep_rows = True  # another image of a selected row: the rows stay
                return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802  (Qt override)
        step = CHOOSE_KEYS.get(Qt.Key(event.key()))
        if step is None or event.modifiers() != Qt.KeyboardModifier.AltModifier:
            super().keyPressEvent(event)
            return
        row = self.source_row(self.currentIndex())
        if row is not None:
            model = self.proxy.sourceModel()
            n = len(model.findings[row].paths)
            if n > 1:  # every image, those under "+K more" too (the chosen one is shown)
                self.image_pressed.emit(row, (model.chosen_image(row) + step) % n)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802  (Qt override)
        if self._keep_rows:
            self._keep_rows = False
            return
        super().mouseReleaseEvent(event)
