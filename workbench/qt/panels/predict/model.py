"""The Predict panel's data: one :class:`PredictionItem` per image, a list model over them,
and a sort/filter proxy.

A model/view instead of one widget per image: the view paints only the rows on screen, so a
drop of thousands of images adds rows in one go and scrolls smoothly. Thumbnails are decoded
lazily, for the rows painted, by a :class:`~workbench.qt.thumbnails.ThumbnailLoader`.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from PySide6.QtCore import (QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex,
                            QSortFilterProxyModel, Qt, Slot)
from PySide6.QtGui import QPixmap

from workbench.core.filenames import NOT_UTF8_NOTE, is_valid, readable
from workbench.qt.thumbnails import ThumbnailLoader, _placeholder

#: Classes shown (and exported) per image.
TOP_K = 5
ItemRole = Qt.ItemDataRole.UserRole + 1
#: Sort orders offered by the panel, in its combo's order.
SORT_MODES = ("added", "name", "class", "confidence")

# Item states: what the row says while it has no result.
WAITING, QUEUED, DONE, FAILED, CANCELLED = "waiting", "queued", "done", "error", "cancelled"


@dataclass(eq=False)  # identity, not value: a row is the same row after its result changes
class PredictionItem:
    """One image of the panel and what is known of it.

    Attributes
    ----------
    path
        The image file.
    top
        ``[(class, probability), ...]``, most likely first; empty until classified.
    error
        Why the file could not be classified (None when it was, or is not done yet).
    status
        ``waiting`` (no model yet), ``queued``, ``done``, ``error`` or ``cancelled``.
    message
        What the row says while it has no result ("Classifying…").
    classified_with
        What its result was asked with (:func:`~.intake.signature`: the model file and the
        image file); None until it is. A drop of the same file again is classified again
        only when this changed.
    """

    path: str
    top: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None
    status: str = WAITING
    message: str = ""
    row: int = -1  # position in the model (set by PredictionModel)
    classified_with: tuple | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def predicted(self) -> str | None:
        return self.top[0][0] if self.top else None

    @property
    def confidence(self) -> float | None:
        return self.top[0][1] if self.top else None

    @property
    def classified_stamp(self) -> tuple | None:
        """The image file's stamp when its result was asked for (the last part of
        :attr:`classified_with`); None until it was."""
        return self.classified_with[-1] if self.classified_with else None

    @property
    def said(self) -> str:
        """What the row says in place of a result: why the file could not be classified,
        or what it waits for ("Classifying…")."""
        return f"Cannot classify this file: {self.error}" if self.status == FAILED \
            else self.message

    def set_pending(self, status: str, message: str) -> None:
        self.top, self.error, self.status, self.message = [], None, status, message

    def set_result(self, top: list[tuple[str, float]], error: str | None) -> None:
        self.top = [(str(c), float(p)) for c, p in top]
        self.error = error
        self.status = FAILED if error else DONE
        self.message = ""


class PredictionModel(QAbstractListModel):
    """The panel's images, in the order they were added; one row per path (see
    :mod:`~.intake` for a path dropped again).

    ``data(index, ItemRole)`` is the :class:`PredictionItem`; ``DecorationRole`` its thumbnail
    (requested from ``loader`` the first time the row is painted); ``DisplayRole`` its file
    name, with as many of its folders as tell it apart from the other rows of that name
    (:func:`shown_names`); ``ToolTipRole`` its path and its whole top 5. A screen reader,
    which hears neither what the delegate paints nor the tooltip, gets the name and the
    top-1 class and confidence (or what the row says instead) as ``AccessibleTextRole``
    and the whole top 5 (or the path) as ``AccessibleDescriptionRole``.
    """

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader
        self.items: list[PredictionItem] = []
        self._row_of_path: dict[str, int] = {}
        self._shown: dict[str, str] = {}  # path -> the name its row shows
        #: The class names the rows' bars show (the bars' labels are as wide as these need).
        self.label_names: set[str] = set()
        self.labels_version = 0  # changes whenever label_names does
        self._placeholder = _placeholder(loader.size)
        self._broken = _placeholder(loader.size, broken=True)
        loader.thumbnail_ready.connect(self._on_thumbnail_ready)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                 ) -> int:  # noqa: N802  (Qt override)
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        if role == ItemRole:
            return item
        if role == Qt.ItemDataRole.DisplayRole:  # a bad byte of a name shows as "\ufffd"
            return readable(self._shown.get(item.path, item.name))
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(item)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            shown = readable(self._shown.get(item.path, item.name))
            return readable(f"{shown}: " + (f"{item.predicted} {item.confidence * 100:.1f}%"
                                            if item.top else item.said or item.status))
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            top = ", ".join(f"{c} {p * 100:.1f}%" for c, p in item.top[:TOP_K])
            return readable(f"Top {min(TOP_K, len(item.top))}: {top}" if top else item.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            top = "".join(f"\n{p * 100:.1f}%  {c}" for c, p in item.top[:TOP_K])
            note = "" if is_valid(item.path) else f"\nNote: {NOT_UTF8_NOTE}"
            return readable(item.path + (f"\n{item.error}" if item.error else "") + note +
                            (f"\n\nTop {min(TOP_K, len(item.top))}:{top}" if top else ""))
        return None

    def thumbnail(self, item: PredictionItem) -> QPixmap:
        """The thumbnail of the file as it was classified: a file changed since (rotated in
        a viewer) keeps its picture until it is classified again, then shows the new one."""
        stamp = item.classified_stamp
        pix = self.loader.get(item.path, stamp)
        if pix is not None:
            return pix
        if self.loader.is_broken(item.path, stamp):
            return self._broken
        self.loader.request(item.path)
        return self._placeholder

    def find(self, path: str) -> PredictionItem | None:
        """The row of ``path``, None when it is not listed."""
        row = self._row_of_path.get(str(path))
        return None if row is None else self.items[row]

    def add(self, paths: Iterable[str]) -> list[PredictionItem]:
        """Append one item per path not listed yet (one model insertion however many
        there are); returns the new items."""
        new, seen = [], set(self._row_of_path)
        for p in map(str, paths):
            if p not in seen:
                seen.add(p)
                new.append(PredictionItem(p))
        if not new:
            return []
        first = len(self.items)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for offset, item in enumerate(new):
            item.row = first + offset
            self._row_of_path[item.path] = item.row
        self.items.extend(new)
        self._name_rows()
        self.endInsertRows()
        return new

    def _name_rows(self) -> None:
        """What each row's name line shows: see :func:`shown_names`. Rows whose shown name
        changed (a new file of the same name) are told."""
        before, self._shown = self._shown, shown_names([i.path for i in self.items])
        rows = [i.row for i in self.items if i.path in before and
                before[i.path] != self._shown[i.path]]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)),
                                  [Qt.ItemDataRole.DisplayRole])

    def clear(self) -> None:
        self.beginResetModel()
        self.loader.clear_queue()
        self.items = []
        self._row_of_path = {}
        self._shown = {}
        self.label_names = set()
        self.labels_version += 1
        self.endResetModel()

    def items_changed(self, items: list[PredictionItem]) -> None:
        """Tell the views these items changed (one signal over the span they cover)."""
        rows = [i.row for i in items if 0 <= i.row < len(self.items) and self.items[i.row] is i]
        known = len(self.label_names)
        self.label_names.update(c for i in items for c, _ in i.top[:TOP_K])
        self.labels_version += len(self.label_names) != known
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))

    def classes(self) -> list[str]:
        """The predicted (top-1) classes among the items, sorted."""
        return sorted({i.predicted for i in self.items if i.predicted is not None})

    @Slot(object)
    def _on_thumbnail_ready(self, path: str) -> None:
        row = self._row_of_path.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def shown_names(paths: list[str]) -> dict[str, str]:
    """Path -> the name its row shows: the file name, or where other paths have that file
    name too, its fewest trailing folders that no other path ends with (``"cats/img_0.png"``,
    ``"train/cats/img_0.png"``), with forward slashes."""
    parts = {p: p.replace("\\", "/").split("/") for p in paths}
    shown: dict[str, str] = {}
    left = list(parts)
    for k in range(1, max((len(v) for v in parts.values()), default=0) + 1):
        tails = {p: "/".join(v[-k:]) for p, v in parts.items()}
        seen = Counter(tails.values())
        for p in left:
            if seen[tails[p]] == 1 or k >= len(parts[p]):
                shown[p] = tails[p]
        left = [p for p in left if p not in shown]
        if not left:
            break
    return shown


class PredictionFilter(QSortFilterProxyModel):
    """Sorts the items (added, name, class, confidence) and keeps those that match the
    predicted-class filter and reach the minimum confidence.

    With no filter every item shows, errors and pending ones included; a class or a
    confidence threshold keeps only classified items that meet it.
    """

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.sort_mode = "added"
        self.class_name: str | None = None
        self.min_confidence = 0.0
        self.setDynamicSortFilter(True)

    def set_sort_mode(self, mode: str) -> None:
        if mode not in SORT_MODES:
            raise ValueError(f"unknown sort {mode!r}: use one of {', '.join(SORT_MODES)}")
        self.sort_mode = mode
        self.invalidate()
        # Confidence reads best highest first; the others in ascending order.
        order = (Qt.SortOrder.DescendingOrder if mode == "confidence"
                 else Qt.SortOrder.AscendingOrder)
        self.sort(0, order)

    def set_class_name(self, name: str | None) -> None:
        self.class_name = name or None
        self._refilter()

    def set_min_confidence(self, fraction: float) -> None:
        self.min_confidence = max(0.0, min(1.0, float(fraction)))
        self._refilter()

    def _refilter(self) -> None:
        # Qt 6.9 replaced invalidateFilter() (deprecated) with a begin/end pair.
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self.endFilterChange()
        else:
            self.invalidateFilter()

    def item(self, proxy_row: int) -> PredictionItem:
        return self.index(proxy_row, 0).data(ItemRole)

    def shown_items(self) -> list[PredictionItem]:
        """The items in the view's order."""
        return [self.item(r) for r in range(self.rowCount())]

    def filterAcceptsRow(self, source_row: int, source_parent: Any) -> bool:  # noqa: N802
        if self.class_name is None and self.min_confidence <= 0:
            return True
        item = self.sourceModel().items[source_row]
        if item.predicted is None:
            return False
        if self.class_name is not None and item.predicted != self.class_name:
            return False
        return (item.confidence or 0.0) >= self.min_confidence

    def lessThan(self, left: Any, right: Any) -> bool:  # noqa: N802  (Qt override)
        items = self.sourceModel().items
        a, b = items[left.row()], items[right.row()]
        return _sort_key(a, self.sort_mode) < _sort_key(b, self.sort_mode)


def _sort_key(item: PredictionItem, mode: str) -> tuple:
    # Ties (and items without a result) keep the order they were added in.
    if mode == "name":
        return (item.name.lower(), item.row)
    if mode == "class":
        # Unclassified items after the classified ones.
        return (item.predicted is None, item.predicted or "", -(item.confidence or 0), item.row)
    if mode == "confidence":
        # Sorted descending by the proxy: the row goes negative so ties stay in added order.
        return (item.confidence if item.confidence is not None else -1.0, -item.row)
    return (item.row,)


# -- CSV -----------------------------------------------------------------------------------
def csv_header(top_k: int = TOP_K) -> list[str]:
    """Columns of a predictions CSV (the layout ``workbench predict ... --csv OUT`` writes)."""
    from workbench.core.predict import predictions_csv as core_predictions_csv  # torch: late

    return next(csv.reader(io.StringIO(core_predictions_csv([], top_k))))


def csv_counts(items: Iterable[PredictionItem]) -> str:
    """What a CSV of ``items`` holds, for a person: "12 predictions, 2 unreadable images and
    30 not classified (cancelled)"; only rows with a result count as predictions."""
    items = list(items)
    done = sum(1 for i in items if i.status == DONE and not i.error)
    failed = sum(1 for i in items if i.error)
    cancelled = sum(1 for i in items if not i.error and i.status == CANCELLED)
    other = len(items) - done - failed - cancelled
    parts = [f"{done} prediction{'' if done == 1 else 's'}"]
    if failed:
        parts.append(f"{failed} unreadable image{'' if failed == 1 else 's'}")
    if cancelled:
        parts.append(f"{cancelled} not classified (cancelled)")
    if other:
        parts.append(f"{other} not classified yet")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def predictions_csv(items: Iterable[PredictionItem], top_k: int = TOP_K) -> str:
    """The CSV text of ``items`` (see :func:`workbench.core.predict.predictions_csv`); rows
    not classified say why in the error column."""
    def rows() -> Iterable[tuple]:
        for item in items:
            error = item.error or ("" if item.status == DONE else
                                   "cancelled" if item.status == CANCELLED else
                                   "not classified")
            yield item.path, item.top, error
    from workbench.core.predict import predictions_csv as core_predictions_csv  # torch: late

    return core_predictions_csv(rows(), top_k)
