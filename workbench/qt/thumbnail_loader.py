"""Thumbnails decoded off the GUI thread, newest request first, kept while their file is.

A :class:`ThumbnailLoader` decodes the thumbnails the views ask for (only the cells they
paint: see :mod:`workbench.qt.thumbnails`) on a small private thread pool and keeps them in
a bounded LRU cache. Each thumbnail (and each file found undecodable) is filed with the
file's stamp (:func:`~workbench.core.io.file_stamp`: modification time, size, inode) taken
before its decode, and checked against the file when a cell asks for it: a photo rotated or
saved again in another program while the app is open is decoded again the next time its
cell is painted, as the training loader's cache does. Only the cells painted pay that stat,
so a folder of 100k images costs nothing more to list, and a file's stat is reused for
:data:`RECHECK_S` (views repaint on every hover and scroll; a stat on a network share takes
milliseconds) unless the view is shown again (:meth:`ThumbnailLoader.recheck`).

On a HiDPI screen (150% or 200% scaling) a thumbnail is decoded at its size in device
pixels and carries the screen's device pixel ratio, so it is drawn as sharp as the text
beside it; one made for another ratio (the window moved to another screen) is decoded again
when its cell is next painted. At a ratio of 1 nothing changes.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QWidget

from workbench.core.io import file_stamp

THUMB_SIZE = 88
#: Thumbnails kept in memory (about 37 KB each at 96x96): a few screens' worth. At a device
#: pixel ratio of 2 each has 4 times the pixels, and a quarter as many are kept.
CACHE_SIZE = 2000
#: Requests waiting beyond this are dropped (oldest first); they are asked again if shown.
MAX_QUEUE = 400
#: Seconds a file's stat is reused for when its cell is painted again.
RECHECK_S = 2.0


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


class _LoaderSignals(QObject):
    # Paths travel as Python objects: a str signal drops a file name's undecodable bytes
    # (a lone surrogate), and the thumbnail would be filed under a name no row asks for.
    # path, its stamp, QImage or None (undecodable), the device pixel ratio it is made for
    decoded = Signal(object, object, object, object)


class ThumbnailLoader(QObject):
    """Decodes thumbnails on a small private thread pool, newest request first.

    The pool is a plain Python one: nothing in Qt's object tree waits for it when a window
    is deleted, so closing a window never blocks on a decode in progress.

    :meth:`get` and :meth:`is_broken` answer only for the file as it is now (see the
    module's docstring); a changed file's thumbnail is forgotten there, so the cell asks
    for it again (:meth:`request`). So is one made for another device pixel ratio than
    :meth:`pixel_ratio`'s now: thumbnails are ``size`` logical pixels on a side, decoded
    at ``ceil(size * ratio)`` device pixels and drawn with that ratio.

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
        # path -> (the file's stamp when decoded, its thumbnail); path -> stamp
        self._cache: collections.OrderedDict[str, tuple[Any, QPixmap]] = \
            collections.OrderedDict()
        self._broken: dict[str, Any] = {}
        # path -> (when, the file's stamp then): the stats reused, oldest first
        self._checked: collections.OrderedDict[str, tuple[float, Any]] = \
            collections.OrderedDict()
        self.clock = time.monotonic  # replaceable (tests: time passing)
        self._lock = threading.Lock()
        self._queue: collections.deque[tuple[str, float]] = collections.deque()
        self._pending: set[str] = set()
        self._active = 0
        self._stopped = False
        self._threads = max(1, threads)
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="wb-thumbs")
        self._signals = _LoaderSignals()
        self._signals.decoded.connect(self._on_decoded)
        self.decoded_count = 0  # how many files were decoded (tests: laziness)

    def get(self, path: str, stamp: tuple | None = None) -> QPixmap | None:
        """The cached thumbnail of ``path`` (marked as recently used), or None: also when
        the file changed since it was decoded (then it is forgotten).

        ``stamp``: the file's stamp when the caller's result of it was made (a Predict
        row's classification); a thumbnail of that version is kept without a stat, so the
        picture beside a result is the one it is of until the file is classified again.
        """
        entry = self._cache.get(path)
        if entry is None:
            return None
        if entry[1].devicePixelRatio() != self.pixel_ratio() or \
                not self._current(path, entry[0], stamp):
            del self._cache[path]
            return None
        self._cache.move_to_end(path)
        return entry[1]

    def pixel_ratio(self) -> float:
        """The device pixels per logical pixel where the thumbnails are shown (2 at 200%
        scaling): the parent widget's screen's, else the highest of the screens'.
        Replaceable (tests)."""
        parent = self.parent()
        if isinstance(parent, QWidget):
            return parent.devicePixelRatioF()
        app = QGuiApplication.instance()
        return app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0

    def is_broken(self, path: str, stamp: tuple | None = None) -> bool:
        """Whether ``path`` could not be decoded, and is unchanged since (``stamp``: as
        for :meth:`get`)."""
        if path not in self._broken:
            return False
        if not self._current(path, self._broken[path], stamp):
            del self._broken[path]
            return False
        return True

    def _current(self, path: str, decoded: tuple | None, stamp: tuple | None) -> bool:
        # What was decoded is of the version the caller holds, or of the file as it is now.
        return (stamp is not None and decoded == stamp) or decoded == self._stamp(path, stamp)

    def _stamp(self, path: str, seen: tuple | None) -> Any:
        """The file's stamp now: a stat made within :data:`RECHECK_S` is reused, unless
        the caller has seen another version of the file (``seen``) since."""
        now = self.clock()
        checked = self._checked.get(path)
        if checked is not None and now - checked[0] < RECHECK_S and seen in (None, checked[1]):
            return checked[1]
        stamp = self._checked[path] = (now, file_stamp(path))
        self._checked.move_to_end(path)
        while self._checked and now - next(iter(self._checked.values()))[0] >= RECHECK_S:
            self._checked.popitem(last=False)  # expired: the memory of a path scrolled past
        return stamp[1]

    def recheck(self) -> None:
        """Stat each file again when its cell is next painted: the view is shown again,
        after another tab or program (where a photo may have been rotated)."""
        self._checked.clear()

    def request(self, path: str) -> None:
        """Queue ``path`` for decoding unless it is cached, broken or already queued."""
        if path in self._cache or path in self._broken:
            return
        ratio = self.pixel_ratio()
        with self._lock:
            if self._stopped or path in self._pending:
                return
            self._pending.add(path)
            self._queue.append((path, ratio))
            while len(self._queue) > MAX_QUEUE:
                self._pending.discard(self._queue.popleft()[0])
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
        """Forget every thumbnail (a rescan: the memory of files no longer listed)."""
        self.clear_queue()
        self._cache.clear()
        self._broken.clear()
        self._checked.clear()

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
                path, ratio = self._queue.pop()
            # Stamped before the decode: a file changed while it is decoded differs from
            # its stamp, and is decoded again when next asked for.
            stamp = file_stamp(path)
            try:
                image: QImage | None = decode_thumbnail(path, math.ceil(self.size * ratio))
            except Exception:  # noqa: BLE001  (any failure: shown as a broken icon)
                image = None
            try:
                self._signals.decoded.emit(path, stamp, image, ratio)
            except RuntimeError:  # the loader went away with its window
                return

    @Slot(object, object, object, object)
    def _on_decoded(self, path: str, stamp: Any, image: Any, ratio: float) -> None:
        with self._lock:
            self._pending.discard(path)
        self.decoded_count += 1
        self._checked.pop(path, None)  # stat afresh: the decode's stamp may be newer
        if image is None:
            self._cache.pop(path, None)
            self._broken[path] = stamp
        else:
            self._broken.pop(path, None)
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(ratio)  # drawn at ``size`` logical pixels, 1:1
            self._cache[path] = (stamp, pixmap)
            self._cache.move_to_end(path)
            while len(self._cache) > max(1, int(self.cache_size / ratio ** 2)):
                self._cache.popitem(last=False)
        self.thumbnail_ready.emit(path)
