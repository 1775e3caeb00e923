"""Class names in a column of a table, cut to the cell as the confusion matrix's axes cut
them: keeping the part that tells each name apart from the others
(:func:`~workbench.core.evaluate.labels.elide`). Cut at the end, four classes
"Amanita_muscaria_var_guessowii_20", "…_40", "…_60" and "Amanita muscaria_var_guessowii
forma 0" all read "Amanita_muscaria_var_gu…"; cut this way they read
"Amanita_muscaria_var…20", "…40", "…60" ("Ama…20" in a narrow column) and "Amanita
muscaria_var_gu…", as on the matrix's rows.

Only the painting changes: the item's text stays the whole name (sorting, look-ups,
tooltips), names joined by " / " or " → " (the Health table's "conflict between" and
"given → suggested" rows) are each cut so, and a text that is not one of the names given
(a "macro average" row) is painted as Qt paints it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem)

from workbench.core.evaluate.labels import elide, shared_starts

#: How a cell joins several class names: each name in it is cut by itself.
JOINS = (" / ", " → ")


class ClassNameDelegate(QStyledItemDelegate):
    """Paints a column of class names, each cut to its cell keeping the part that tells it
    apart from the others; :meth:`set_names` says which names those are."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._shared: dict[str, int] = {}  # name: the start it shares with another name

    def set_names(self, names: Iterable[str]) -> None:
        """The class names the column shows (all of them, whatever is on screen)."""
        names = list(dict.fromkeys(str(n) for n in names))
        self._shared = dict(zip(names, shared_starts(names)))

    def shown_text(self, option: QStyleOptionViewItem,
                   index: QModelIndex | QPersistentModelIndex) -> str:
        """What the cell at ``index`` reads, in ``option.rect``."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        return self._cut(opt)

    def _cut(self, opt: QStyleOptionViewItem) -> str:
        return self.cut(opt.text, text_room(opt), opt.fontMetrics.horizontalAdvance)

    def cut(self, text: str, room: float, width: Callable[[str], float]) -> str:
        """``text`` cut to ``room`` (in ``width``'s units): one of the names given keeping
        the part that tells it apart; names joined (:data:`JOINS`) each so, the shorter
        ones whole where they fit and the longer sharing the rest; any other text as it
        is."""
        if text in self._shared:
            return elide(text, self._shared[text], room, width)
        for join in JOINS:
            parts = text.split(join)
            if len(parts) < 2 or any(p not in self._shared for p in parts):
                continue
            left = room - width(join) * (len(parts) - 1)
            cut = list(parts)
            order = sorted(range(len(parts)), key=lambda i: width(parts[i]))
            for k, i in enumerate(order):
                cut[i] = elide(parts[i], self._shared[parts[i]], left / (len(parts) - k), width)
                left -= width(cut[i])
            return join.join(cut)
        return text

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        # As QStyledItemDelegate paints, with the text cut here (its size hint, which the
        # columns fitted to their contents use, stays the whole name's).
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = self._cut(opt)
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)


def text_room(opt: QStyleOptionViewItem) -> int:
    """The pixels a cell's text has: the style's text rectangle, less the margins it
    writes the text within."""
    widget = opt.widget
    style = widget.style() if widget is not None else QApplication.style()
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
    return style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt,
                                widget).width() - 2 * margin


def shown_texts(view: QAbstractItemView, column: int) -> list[str]:
    """What each row of ``column`` of ``view`` reads now, top to bottom (tests): cut by a
    :class:`ClassNameDelegate`, or as Qt cuts a text (the view's elide mode)."""
    model = view.model()
    delegate = view.itemDelegateForColumn(column) or view.itemDelegate()
    texts = []
    for row in range(model.rowCount()):
        index = model.index(row, column)
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        option.rect = view.visualRect(index)
        if isinstance(delegate, ClassNameDelegate):
            texts.append(delegate.shown_text(option, index))
            continue
        delegate.initStyleOption(option, index)
        texts.append(option.fontMetrics.elidedText(option.text, option.textElideMode,
                                                   text_room(option)))
    return texts
