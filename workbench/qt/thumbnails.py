"""A lazy, virtualised thumbnail grid for any number of images.

:class:`ThumbnailModel` lists ``(path, label)`` samples; the view asks it for the icons of
the rows it paints, and only those are decoded, off the GUI thread, by a
:class:`~workbench.qt.thumbnail_loader.ThumbnailLoader`. Until an icon is ready the row
shows a placeholder. Decoded thumbnails live in a bounded LRU cache, so a folder of 100k
images opens at once (nothing is decoded up front) and scrolling back is instant; a file
changed since its thumbnail was made (rotated in a photo viewer) is decoded again when its
cell is next painted.

The loader serves the newest requests first and forgets the oldest when its queue is long:
after a fast scroll the rows now on screen are decoded before those scrolled past.
"""

from __future__ import annotations

import os
import re
from typing import Any

from PySide6.QtCore import (QAbstractListModel, QEvent, QModelIndex, QObject,
                            QPersistentModelIndex, QRect, QSize, Qt, Slot)
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QListView, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QWidget)

from workbench.core.filenames import NOT_UTF8_NOTE, is_valid, readable
from workbench.qt.thumbnail_loader import (THUMB_SIZE, ThumbnailLoader,  # noqa: F401
                                           decode_thumbnail)  # (their home before)

#: A phone's file name: a cell is at least as wide as its caption at the view's font.
CAPTION_SAMPLE = "IMG_0000.jpg"
PathRole = Qt.ItemDataRole.UserRole + 1


def path_at(index: QModelIndex | QPersistentModelIndex) -> Any:
    """The path of a :class:`ThumbnailModel` row, whole: ``index.data(PathRole)`` goes
    through a Qt string, which drops a file name's undecodable bytes (see
    :mod:`workbench.core.filenames`). None for an invalid index."""
    model = index.model()
    if isinstance(model, ThumbnailModel) and index.isValid():
        return model.path_at(index.row())
    return index.data(PathRole)


def elide_file_name(metrics: QFontMetrics, name: str, width: int) -> str:
    """``name`` cut to ``width`` keeping what tells files apart: its stem's last digits (a
    phone's counter or time: "…23456.jpg", where cut in the middle all read "IMG_….jpg")
    and its extension; a stem without digits is cut in the middle."""
    if metrics.horizontalAdvance(name) <= width:
        return name
    stem, ext = os.path.splitext(name)
    if not stem or len(ext) > 6:
        stem, ext = name, ""
    room = width - metrics.horizontalAdvance(ext)
    last = ([None] + list(re.finditer(r"\d+", stem)))[-1]  # the stem's last digits
    text = metrics.elidedText(stem, Qt.TextElideMode.ElideLeft, room)
    if last is None:
        text = metrics.elidedText(stem, Qt.TextElideMode.ElideMiddle, room)
    elif last.end() < len(stem) and len(text.lstrip("…")) < len(stem) - last.start():
        # A long tail after them (img_10_from_a_camera.png): up to them, "…g_10….png".
        room -= metrics.horizontalAdvance("…")
        text = metrics.elidedText(stem[:last.end()], Qt.TextElideMode.ElideLeft, room) + "…"
    if text.strip("…"):
        return text + ext
    return metrics.elidedText(name, Qt.TextElideMode.ElideLeft, width)


def fitted_rect(pix: QPixmap | QSize, box: QRect) -> QRect:
    """Where a pixmap (or one of this logical size) is drawn in ``box``: at its logical
    size (a HiDPI thumbnail's pixels over its device pixel ratio: drawn 1:1 on the
    screen), shrunk to fit ``box`` where larger (never enlarged), centred in it."""
    size = QSize(pix) if isinstance(pix, QSize) else pix.deviceIndependentSize().toSize()
    if size.width() > box.width() or size.height() > box.height():
        size = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    rect = QRect(0, 0, max(1, size.width()), max(1, size.height()))
    rect.moveCenter(box.center())
    return rect


def _placeholder(size: int, broken: bool = False) -> QPixmap:
    pix = QPixmap(size, size)
    pix.fill(QColor("#eeeeee") if not broken else QColor("#fbe9e7"))
    painter = QPainter(pix)
    painter.setPen(QPen(QColor("#cccccc"), 1))
    painter.drawRect(0, 0, size - 1, size - 1)
    if broken:
        painter.setPen(QPen(QColor("#c62828"), 3))
        m = size // 3
        painter.drawLine(m, m, size - m, size - m)
        painter.drawLine(size - m, m, m, size - m)
    painter.end()
    return pix


class ThumbnailModel(QAbstractListModel):
    """The samples of one class (or all) as a list of thumbnails with file names.

    Rows are ``(path, label)`` samples; ``data()`` asks the loader for the thumbnail of a
    row only when the view asks for its icon, i.e. when the row is painted.
    """

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader
        self._samples: list[tuple[str, int]] = []
        self._classes: list[str] = []
        self._name_classes = False
        self._rows: dict[str, int] = {}
        self._placeholder = _placeholder(loader.size)
        self._broken = _placeholder(loader.size, broken=True)
        loader.thumbnail_ready.connect(self._on_thumbnail_ready)

    def set_samples(self, samples: list[tuple[str, int]], classes: list[str],
                    name_classes: bool = False) -> None:
        """Show ``samples`` (labels index ``classes``); nothing is decoded here. With
        ``name_classes`` (images of several classes) each caption is the image's class
        over its file name (two lines: see :meth:`ThumbnailView.set_caption_lines`)."""
        self.beginResetModel()
        self.loader.clear_queue()
        self._samples = list(samples)
        self._classes = list(classes)
        self._name_classes = bool(name_classes)
        self._rows = {}
        self.endResetModel()

    def samples(self) -> list[tuple[str, int]]:
        return list(self._samples)

    def path_at(self, row: int) -> str | None:
        return self._samples[row][0] if 0 <= row < len(self._samples) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                 ) -> int:  # noqa: N802  (Qt override)
        return 0 if parent.isValid() else len(self._samples)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or not 0 <= row < len(self._samples):
            return None
        path, label = self._samples[row]
        if role == Qt.ItemDataRole.DisplayRole:  # a bad byte shows as "\ufffd", not dropped
            if self._name_classes and 0 <= label < len(self._classes):
                return readable(f"{self._classes[label]}\n{os.path.basename(path)}")
            return readable(os.path.basename(path))
        if role == Qt.ItemDataRole.DecorationRole:
            pix = self.loader.get(path)
            if pix is not None:
                return pix
            if self.loader.is_broken(path):
                return self._broken
            self._rows[path] = row
            self.loader.request(path)
            return self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            name = self._classes[label] if 0 <= label < len(self._classes) else str(label)
            broken = " (cannot be decoded)" if self.loader.is_broken(path) else ""
            note = "" if is_valid(path) else f"\nNote: {NOT_UTF8_NOTE}"
            return readable(f"{path}\nclass: {name}{broken}{note}")
        if role == PathRole:
            return path
        return None

    @Slot(object)
    def _on_thumbnail_ready(self, path: str) -> None:
        row = self._rows.pop(path, None)
        if row is not None and row < len(self._samples) and self._samples[row][0] == path:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a cell as an icon square over a caption of :attr:`lines` lines (one unless
    set), whatever the image's shape.

    The stock delegate sizes the icon area by the pixmap it is given; with uniform item
    sizes the view then takes the first row's height for every row, so after a wide first
    image a portrait one covered its caption. Here every cell has the same geometry: the
    thumbnail is scaled to fit the ``size`` square (both sides) and centred in it, and the
    caption, elided to the cell's width, has a line of its own below (each line of a text
    of several lines, up to :attr:`lines`, its own).
    """

    #: Gap around the icon square and between it and the caption.
    PAD = 3

    def __init__(self, size: int = THUMB_SIZE, parent: QObject | None = None):
        super().__init__(parent)
        self.size = size
        self.lines = 1

    def cell_size(self, metrics: QFontMetrics) -> QSize:
        """The size of every cell for captions drawn with ``metrics``: as wide as the icon
        square or a phone's file name (:data:`CAPTION_SAMPLE`), whichever is wider."""
        width = max(self.size, metrics.horizontalAdvance(CAPTION_SAMPLE) + 2 * self.PAD)
        return QSize(width + 2 * self.PAD + 2,
                     self.size + 3 * self.PAD + self.lines * metrics.height())

    def icon_rect(self, cell: QRect) -> QRect:
        """The square the thumbnail is fitted into, in a cell whose rect is ``cell``."""
        left = cell.x() + (cell.width() - self.size) // 2
        return QRect(left, cell.y() + self.PAD, self.size, self.size)

    def caption_rect(self, cell: QRect, metrics: QFontMetrics) -> QRect:
        """Where the caption goes: its text lines under the icon square."""
        top = cell.y() + 2 * self.PAD + self.size
        return QRect(cell.x() + 1, top, cell.width() - 2, self.lines * metrics.height())

    def pixmap_rect(self, pixmap_size: QSize, cell: QRect) -> QRect:
        """The rect a pixmap of ``pixmap_size`` is drawn in: fitted to, and centred in,
        :meth:`icon_rect` (never enlarged: tiny images are enlarged when decoded)."""
        return fitted_rect(pixmap_size, self.icon_rect(cell))

    def caption_lines(self, opt: QStyleOptionViewItem, width: int) -> list[str]:
        """The caption's lines (at most :attr:`lines`), each elided on its own to ``width``:
        the last, the file name, by :func:`elide_file_name`, a class above it in the middle.

        ``opt`` is as :meth:`initStyleOption` fills it, which turns the model's "\\n" into
        the Unicode line separator (U+2028): both end a line.
        """
        lines = (opt.text or "").replace("\u2028", "\n").split("\n")
        return [elide_file_name(opt.fontMetrics, line, width) if i == len(lines) - 1
                else opt.fontMetrics.elidedText(line, opt.textElideMode, width)
                for i, line in enumerate(lines[:self.lines])]

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802  (Qt override)
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return self.cell_size(option.fontMetrics)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        # Selection and hover background, as the style draws them.
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)
        pix = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pix, QPixmap) and not pix.isNull():
            target = self.pixmap_rect(pix.deviceIndependentSize().toSize(), opt.rect)
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(target, pix)
            painter.restore()
        caption = self.caption_rect(opt.rect, opt.fontMetrics)
        text = "\n".join(self.caption_lines(opt, caption.width()))
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(opt.palette.color(role))
        painter.drawText(caption, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                         text)
        painter.restore()


class ThumbnailView(QListView):
    """An icon-mode list laid out as a grid of equal cells (cheap for 100k rows).

    Cells are drawn by a :class:`ThumbnailDelegate`: any aspect ratio fits the icon square
    and the caption always has its own line.
    """

    def __init__(self, parent: QWidget | None = None, size: int = THUMB_SIZE):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        # Equal cells: the view lays out 100k rows without asking each one its size (the
        # delegate gives every row the same size, so the first row's is right for all).
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.delegate = ThumbnailDelegate(size, self)
        self.setItemDelegate(self.delegate)
        self.setIconSize(QSize(size, size))
        self.setSpacing(2)
        self._update_grid()
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)

    def _update_grid(self) -> None:
        # The caption line's height follows the font, so the grid does too.
        cell = self.delegate.cell_size(self.fontMetrics())
        self.setGridSize(QSize(cell.width() + 2 * self.spacing() + 2,
                               cell.height() + 2 * self.spacing() + 2))

    def set_caption_lines(self, lines: int) -> None:
        """Give every caption ``lines`` lines (a class over a file name: 2)."""
        if lines != self.delegate.lines:
            self.delegate.lines = max(1, int(lines))
            self._update_grid()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802  (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._update_grid()

    def showEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        model = self.model()
        if isinstance(model, ThumbnailModel):  # back from another tab: a photo rotated?
            model.loader.recheck()
        super().showEvent(event)

    def selected_paths(self) -> list[str]:
        return [path_at(i) for i in self.selectionModel().selectedIndexes()]
