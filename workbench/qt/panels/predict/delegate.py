"""Paints one Predict row: thumbnail, file name, and the top classes as probability bars
(or why the file could not be classified, or what the row waits for).

The name line shows the file name (with its folders when names collide in the list: the
model's DisplayRole). The top-1 line cuts the class name, never its percentage. The bar
labels are as wide as the longest class name listed needs, up to what the row's width
leaves beside bars of at least :data:`MIN_BAR` pixels. A class name too long for its room
is cut as the confusion matrix cuts it, keeping the part that tells it apart from the other
classes of the model that classified the row ("Ama…40", not "Amanita_muscaria_var_gu…"),
so a row reads the same whatever other images are listed. The name column, :data:`NAME_WIDTH`
at least, widens to hold the longest top-1 line where the row has room beyond the labels
and bars of :data:`BAR_KEEP`. The row's tooltip has the whole top 5.

The colours come from the view's palette (:func:`row_colours`), light or dark: the text
colour for the name, the bar labels and the percentages, and the levels'
(:func:`~workbench.qt.colours.level_colour`) for the top-1 line (ok), why a file could not
be classified (error), a cancelled row (warning) and what a row waits for (muted), each
readable on the rows; the bars' track a shade of the rows that both bars stand out from.

Painting instead of widgets per row keeps thousands of rows cheap: nothing exists for a row
that is not on screen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from workbench.core.evaluate.labels import elide, shared_starts
from workbench.core.runs.classes import bundle_classes
from workbench.qt.colours import is_dark, level_colour, rows_palette
from workbench.qt.panels.predict.model import CANCELLED, FAILED, TOP_K, ItemRole
from workbench.qt.thumbnails import fitted_rect

THUMB = 72
PAD = 6
NAME_WIDTH = 220  # the name column's width at least
BAR_KEEP = 240  # the bars' width the name column never takes
BAR_HEIGHT = 11
BAR_GAP = 3
LABEL_WIDTH = 120  # the bar labels' width at least
PCT_WIDTH = 52
MAX_BAR = 360
MIN_BAR = 160  # labels widen only while the bars keep this much
TRACK_SHADE = (108, 140)  # the track: the rows' colour this much darker (lighter if dark)
#: The level of what a row without a result says, by its status (others: muted).
STATUS_LEVEL = {FAILED: "error", CANCELLED: "warning"}


def row_colours(palette: QPalette, selected: bool = False) -> dict[str, QColor]:
    """The colours a row is painted in on ``palette`` (the view's), each readable on its
    background: "back" (a selected row's, else None: the rows'), "text" (the name, the bar
    labels, the percentages), "top" (the top-1 line and its bar), "other" (the other bars),
    "track" (behind the bars, a line between rows), and each status' message colour
    ("error", "warning", "muted")."""
    rows = rows_palette(palette)
    back = None
    if selected:  # a tint of the highlight, as light or as dark as the rows
        highlight = palette.color(QPalette.ColorRole.Highlight)
        back = highlight.darker(200) if is_dark(rows) else highlight.lighter(170)
        rows.setColor(QPalette.ColorRole.Window, back)
    base = rows.color(QPalette.ColorRole.Window)
    track = base.lighter(TRACK_SHADE[1]) if is_dark(rows) else base.darker(TRACK_SHADE[0])
    colours = {"back": back, "text": rows.color(QPalette.ColorRole.Text), "track": track,
               "top": level_colour("ok", rows), "other": level_colour("muted", rows)}
    colours.update((level, level_colour(level, rows)) for level in ("error", "warning", "muted"))
    return colours


class PredictionDelegate(QStyledItemDelegate):
    """Draws a :class:`~workbench.qt.panels.predict.model.PredictionItem` row."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._widest: dict[str, tuple[Any, int]] = {}  # what: (measured for, pixels)
        self._classes: dict[Any, list[str] | None] = {}  # model file: its classes
        self._starts: dict[Any, dict[str, int]] = {}  # model (or rows' names): shared starts

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        bars = TOP_K * (BAR_HEIGHT + BAR_GAP)
        return QSize(THUMB + NAME_WIDTH + 3 * PAD + 300, max(THUMB, bars) + 2 * PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,  # noqa: D401
              index: QModelIndex) -> None:
        item = index.data(ItemRole)
        if item is None:
            return
        painter.save()
        rect = option.rect
        colours = row_colours(option.palette,
                              bool(option.state & QStyle.StateFlag.State_Selected))
        if colours["back"] is not None:
            painter.fillRect(rect, colours["back"])
        painter.setPen(colours["track"])
        painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())

        pix = index.data(Qt.ItemDataRole.DecorationRole)
        box = QRect(rect.left() + PAD, rect.top() + PAD, THUMB, THUMB)
        if pix is not None and not pix.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(fitted_rect(pix, box), pix)  # 1:1 on a HiDPI screen too

        text_left = box.right() + PAD + 4
        small = bar_font(option.font)
        name_width = self.name_width(index, QFontMetrics(option.font), QFontMetrics(small),
                                     rect.right() - text_left)
        name_rect = QRect(text_left, rect.top() + PAD, name_width, 18)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(colours["text"])
        metrics = painter.fontMetrics()
        name = index.data(Qt.ItemDataRole.DisplayRole) or item.name
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, name_width))
        painter.setFont(option.font)
        below = QRect(text_left, name_rect.bottom() + 4, name_width,
                      rect.bottom() - name_rect.bottom() - PAD - 4)
        if item.top:
            shared = self.shared_starts(index)
            painter.setPen(colours["top"])
            painter.drawText(below, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             top_line(item.top[0], painter.fontMetrics(), name_width,
                                      shared.get(item.top[0][0], 0)))
            left = below.right() + 2 * PAD
            label_width = self.label_width(index, QFontMetrics(small), rect.right() - left)
            self._paint_bars(painter, rect, left, item.top, small, label_width, shared,
                             colours)
        else:
            # The reason (or the wait) uses the whole width: error messages can be long.
            wide = QRect(below.left(), below.top(), rect.right() - below.left() - PAD,
                         below.height())
            painter.setPen(colours[STATUS_LEVEL.get(item.status, "muted")])
            painter.drawText(wide, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                             | int(Qt.TextFlag.TextWordWrap), item.said)
        painter.restore()

    def label_width(self, index: QModelIndex, metrics: QFontMetrics, room: int) -> int:
        """The bar labels' width in a row with ``room`` pixels right of the name column:
        the longest class name the list shows needs, at least :data:`LABEL_WIDTH`, and at
        most what leaves bars of :data:`MIN_BAR` (and the percentages) their room. The
        same for every row of a width, so the bars line up."""
        most = room - MIN_BAR - PCT_WIDTH - 3 * PAD
        return max(LABEL_WIDTH, min(self._widest_name(index, metrics, "label"), most))

    def name_width(self, index: QModelIndex, metrics: QFontMetrics, small: QFontMetrics,
                   room: int) -> int:
        """The name column's width in a row with ``room`` pixels right of the thumbnail
        (``metrics``: the top-1 line's font, ``small``: the bar labels'): the longest top-1
        line the list can show needs (a class name and "  100.0%"), at least
        :data:`NAME_WIDTH`, and at most what leaves the bar labels their width and the bars
        :data:`BAR_KEEP` (and the percentages) theirs. The same for every row of a width,
        so the bars line up."""
        need = self._widest_name(index, metrics, "top") + metrics.horizontalAdvance(
            "  100.0%")
        right = room - NAME_WIDTH - 2 * PAD  # the labels' room at the narrowest name column
        labels = self.label_width(index, small, right)
        spare = room - 2 * PAD - labels - BAR_KEEP - PCT_WIDTH - 3 * PAD
        return max(NAME_WIDTH, min(need, spare))

    def _widest_name(self, index: QModelIndex, metrics: QFontMetrics, what: str) -> int:
        """The pixels the longest class name the list shows takes in ``metrics`` (and 2),
        measured once for its names and font."""
        names, version = label_names(index.model())
        key = (version, metrics.height(), metrics.averageCharWidth())
        if self._widest.get(what, (None, 0))[0] != key:
            self._widest[what] = (key, max((metrics.horizontalAdvance(c) for c in names),
                                           default=0) + 2)
        return self._widest[what][1]

    def shared_starts(self, index: QModelIndex) -> dict[str, int]:
        """Each class name of the model that classified the row at ``index``: the length
        of the start it shares with another
        (:func:`~workbench.core.evaluate.labels.shared_starts`), for cutting it as the
        confusion matrix does, whatever rows are listed; worked out once per model file
        (path and stamp). The names the list shows where the model cannot be read."""
        asked = getattr(index.data(ItemRole), "classified_with", None)
        model = tuple(asked[:2]) if asked else None  # (model file, its stamp)
        if len(self._starts) > 16:
            self._starts.clear()
            self._classes.clear()
        if model not in self._classes:  # read once (one stat, a few kB) per model file
            self._classes[model] = bundle_classes(model[0]) if model else None
        key, classes = model, self._classes[model]
        if classes is None:
            classes, version = label_names(index.model())
            key = ("listed", version)
        if key not in self._starts:
            classes = list(classes)
            self._starts[key] = dict(zip(classes, shared_starts(classes)))
        return self._starts[key]

    def _paint_bars(self, painter: QPainter, rect: QRect, left: int,
                    top: list[tuple[str, float]], small: QFont, label_width: int,
                    shared: dict[str, int], colours: dict[str, QColor]) -> None:
        painter.setFont(small)
        metrics = painter.fontMetrics()
        bar_left = left + label_width + PAD
        bar_width = max(40, min(MAX_BAR, rect.right() - bar_left - PCT_WIDTH - 2 * PAD))
        y = rect.top() + PAD + 2
        for r, (cls, prob) in enumerate(top[:TOP_K]):
            line = QRect(left, y, label_width, BAR_HEIGHT + BAR_GAP)
            painter.setPen(colours["text"])
            painter.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             elide(cls, shared.get(cls, 0), label_width,
                                   metrics.horizontalAdvance))
            track = QRect(bar_left, y + 1, bar_width, BAR_HEIGHT)
            painter.fillRect(track, colours["track"])
            filled = QRect(bar_left, y + 1, max(1, round(bar_width * prob)), BAR_HEIGHT)
            painter.fillRect(filled, colours["top" if r == 0 else "other"])
            pct = QRect(track.right() + PAD, y, PCT_WIDTH, BAR_HEIGHT + BAR_GAP)
            painter.drawText(pct, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{prob * 100:.1f}%")
            y += BAR_HEIGHT + BAR_GAP


def bar_font(font: QFont) -> QFont:
    """The bars' font: a point smaller than the row's (7 pt at least)."""
    small = QFont(font)
    small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
    return small


def top_line(top1: tuple[str, float], metrics: QFontMetrics, width: int,
             shared: int = 0) -> str:
    """The top-1 line, ``"cat  38.3%"``, fitted to ``width``: a long class name is cut
    with "…" keeping the part that tells it apart (``shared``: the length of the start
    it shares with another name, :meth:`PredictionDelegate.shared_starts`), the
    percentage never."""
    cls, prob = top1
    pct = f"  {prob * 100:.1f}%"
    room = max(0, width - metrics.horizontalAdvance(pct))
    return elide(cls, shared, room, metrics.horizontalAdvance) + pct


def label_names(model: Any) -> tuple[Any, Any]:
    """``(names, version)``: the class names the rows of ``model`` (a PredictionModel or
    a proxy of one) show in their bars, and a version that changes with them; no names
    for another model."""
    source = getattr(model, "sourceModel", lambda: model)() or model
    return (getattr(source, "label_names", None) or frozenset(),
            (id(source), getattr(source, "labels_version", 0)))


def bar_texts(item: Any) -> list[tuple[str, str]]:
    """What the bars of ``item`` read: ``[(class, "12.3%"), ...]`` (tests, accessibility)."""
    return [(cls, f"{prob * 100:.1f}%") for cls, prob in item.top[:TOP_K]]
