"""A lazy, virtualised thumbnail grid for any number of images.

:class:`ThumbnailModel` lists ``(path, label)`` samples; the view asks it for the icons of
the rows it paints, and only those are decoded, off the GUI thread, by a
:class:`ThumbnailLoader`. Until an icon is ready the row shows a placeholder. Decoded
thumbnails live in a bounded LRU cache, so a folder of 100k images opens at once (nothing is
decoded up front) and scrolling back is instant.

The loader serves the newest requests first and forgets the oldest when its queue is long:
after a fast scroll the rows now on screen are decoded before those scrolled past.
"""

from __future__ import annotations

import collections
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import (QAbstractListModel, QEvent, QModelIndex, QObject,
                            QPersistentModelIndex, QRect, QSize, Qt, Signal, Slot)
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QListView, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QWidget)

from workbench.core.filenames import NOT_UTF8_NOTE, is_valid, readable

THUMB_SIZE = 88
#: A phone's file name: a cell is at least as wide as its caption at the view's font.
CAPTION_SAMPLE = "IMG_0000.jpg"
#: Thumbnails kept in memory (about 37 KB each at 96x96): a few screens' worth.
CACHE_SIZE = 2000
#: Requests waiting beyond this are dropped (oldest first); they are asked again if shown.
MAX_QUEUE = 400
PathRole = Qt.ItemDataRole.UserRole + 1


def path_at(index: QModelIndex | QPersistentModelIndex) -> Any:
    """The path of a :class:`ThumbnailModel` row, whole: ``index.data(PathRole)`` goes
    through a Qt string, which drops a file name's undecodable bytes (see
    :mod:`workbench.core.filenames`). None for an invalid index."""
    model = index.model()
    if isinstance(model, ThumbnailModel) and index.isValid():
        return model.path_at(index.row())
    return index.data(PathRole)


def decode_thumbnail(path: str, size: int = THUMB_SIZE) -> QImage:
    """Decode ``path`` into an RGB :class:`QImage` at most ``size`` pixels on a side.

    Safe to call from any thread (QImage, unlike QPixmap, needs no GUI thread). Decoded by
    :func:`~workbench.core.data.images.load_image` at reduced size, as for training: JPEGs
    in draft mode, EXIF orientation honoured, odd colour modes converted, huge images one
    at a time.

    Raises
    ------
    ImageDecodeError
        When the file cannot be decoded.
    """
    from PIL import Image

    from workbench.core.data.images import load_image

    # The training loader's decode at reduced size (JPEG draft, or a box reduce of a big
    # PNG), EXIF and modes as in training, and its one-at-a-time rule for huge images (a
    # 200-megapixel PNG is 600 MB decoded; the thumbnail threads would hold several).
    rgb = load_image(path, 3, min_side=size)
    rgb.thumbnail((size, size))
    scale = size // max(rgb.width, rgb.height)
    if scale >= 2:  # tiny images (32x32): enlarge by a whole factor, pixels kept sharp
        rgb = rgb.resize((rgb.width * scale, rgb.height * scale), Image.Resampling.NEAREST)
    data = rgb.tobytes()
    image = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels: ``data`` goes away with this frame


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


class _LoaderSignals(QObject):
    # Paths travel as Python objects: a str signal drops a file name's undecodable bytes
    # (a lone surrogate), and the thumbnail would be filed under a name no row asks for.
    decoded = Signal(object, object)   # path, QImage or None (undecodable)


class ThumbnailLoader(QObject):
    """Decodes thumbnails on a small private thread pool, newest request first.

    The pool is a plain Python one: nothing in Qt's object tree waits for it when a window
    is deleted, so closing a window never blocks on a decode in progress.

    Signals
    -------
    thumbnail_ready(path)
        The thumbnail of ``path`` is now in the cache (:meth:`get`), or is known to be
        undecodable (:meth:`is_broken`).
    """

    thumbnail_ready = Signal(object)  # a path: a str, kept whole (see _LoaderSignals)

    def __init__(self, parent: QObject | None = None, size: int = THUMB_SIZE,
                 cache_size: int = CACHE_SIZE, threads: int = 2):
        super().__init__(parent)
        self.size = size
        self.cache_size = cache_size
        self._cache: collections.OrderedDict[str, QPixmap] = collections.OrderedDict()
        self._broken: set[str] = set()
        self._lock = threading.Lock()
        self._queue: collections.deque[str] = collections.deque()
        self._pending: set[str] = set()
        self._active = 0
        self._stopped = False
        self._threads = max(1, threads)
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="wb-thumbs")
        self._signals = _LoaderSignals()
        self._signals.decoded.connect(self._on_decoded)
        self.decoded_count = 0  # how many files were decoded (tests: laziness)

    def get(self, path: str) -> QPixmap | None:
        """The cached thumbnail of ``path`` (marked as recently used), or None."""
        pix = self._cache.get(path)
        if pix is not None:
            self._cache.move_to_end(path)
        return pix

    def is_broken(self, path: str) -> bool:
        return path in self._broken

    def request(self, path: str) -> None:
        """Queue ``path`` for decoding unless it is cached, broken or already queued."""
        if path in self._cache or path in self._broken:
            return
        with self._lock:
            if self._stopped or path in self._pending:
                return
            self._pending.add(path)
            self._queue.append(path)
            while len(self._queue) > MAX_QUEUE:
                self._pending.discard(self._queue.popleft())
            start = self._active < self._threads
            if start:
                self._active += 1
        if start:
            self._pool.submit(self._work)

    def clear_queue(self) -> None:
        """Forget the requests not started yet (the shown rows changed entirely)."""
        with self._lock:
            self._queue.clear()
            self._pending.clear()

    def clear_cache(self) -> None:
        """Forget every thumbnail (files may have changed: a rescan)."""
        self.clear_queue()
        self._cache.clear()
        self._broken.clear()

    def shutdown(self) -> None:
        """Drop queued requests and wait for the decodes in progress."""
        with self._lock:
            self._stopped = True
            self._queue.clear()
            self._pending.clear()
        self._pool.shutdown(wait=True)

    def _work(self) -> None:
        # Runs on the pool: decode until the queue is empty, newest request first.
        while True:
            with self._lock:
                if not self._queue or self._stopped:
                    self._active -= 1
                    return
                path = self._queue.pop()
            try:
                image: QImage | None = decode_thumbnail(path, self.size)
            except Exception:  # noqa: BLE001  (any failure: shown as a broken icon)
                image = None
            try:
                self._signals.decoded.emit(path, image)
            except RuntimeError:  # the loader went away with its window
                return

    @Slot(object, object)
    def _on_decoded(self, path: str, image: Any) -> None:
        with self._lock:
            self._pending.discard(path)
        self.decoded_count += 1
        if image is None:
            self._broken.add(path)
        else:
            self._cache[path] = QPixmap.fromImage(image)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        self.thumbnail_ready.emit(path)


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
        square = self.icon_rect(cell)
        size = QSize(pixmap_size)
        if size.width() > self.size or size.height() > self.size:
            size = size.scaled(self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio)
        rect = QRect(0, 0, max(1, size.width()), max(1, size.height()))
        rect.moveCenter(square.center())
        return rect

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

    def selected_paths(self) -> list[str]:
        return [path_at(i) for i in self.selectionModel().selectedIndexes()]
