"""The confusion matrix of the Evaluate panel: the heatmap (:mod:`.heatmap`), its cells'
images, the most confused pairs.

The heatmap scales to the space it has, labels the classes its axes have room for (all of
them once zoomed in), writes the numbers in the cells large enough for them and names any
cell under the mouse ("true X → predicted Y: n (p%)"). Where the whole matrix is too small
to read, a line says the wheel zooms and dragging pans, and "Reset zoom" shows all again.
The most confused pairs get a list beside it (as tall as the images of the selected cell
below it, the two split by a handle), one line each, the full text in its tooltip; a line
too long for the list cuts each name in its middle as the axes do (:class:`PairRows`), so
the arrow and the predicted class stay in view; choosing one (a click, or Tab into the list,
the arrow keys or Enter) outlines its cell, panning a zoomed matrix to bring it into view,
and lists its images.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, Slot
from PySide6.QtWidgets import (QButtonGroup, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QRadioButton, QSplitter,
                               QStyledItemDelegate, QStyleOptionViewItem, QVBoxLayout,
                               QWidget)

from workbench.core.evaluate.labels import elide
from workbench.qt.accessible import name_field
from workbench.qt.class_names import ClassNameDelegate, text_room
from workbench.qt.colours import follow_palette
from workbench.qt.panels.evaluate.heatmap import (ConfusionHeatmap, axis_labels,  # noqa: F401
                                                  cell_text)
from workbench.qt.thumbnails import ThumbnailLoader, ThumbnailModel, ThumbnailView

#: The most frequent mistakes listed beside the matrix.
MOST_CONFUSED = 20
ZOOM_HINT = "Scroll to zoom, drag to pan"
LOG_NOTE = "colours on a log scale"
ARROW = " → "
NO_CELL = "No cell selected: click one in the matrix, or choose a pair in the list."
#: A most-confused row's parts (:func:`pair_parts`), which :class:`PairRows` cuts.
PAIR_ROLE = Qt.ItemDataRole.UserRole + 1


def pair_parts(classes: list[str], confusion: np.ndarray, row: int,
               col: int) -> tuple[str, str, str, str]:
    """A most-confused line's parts: ``("n× ", true, predicted, " (p%)")`` (p: the share of
    the true class's images)."""
    n = int(confusion[row, col])
    support = int(confusion[row].sum())
    share = f" ({n / support:.0%})" if support else ""
    return f"{n}× ", classes[row], classes[col], share


def pair_text(classes: list[str], confusion: np.ndarray, row: int, col: int) -> str:
    """A most-confused line: ``"n× true → predicted (p%)"``, the count first so a long
    name cut at the end never hides it."""
    count, true, predicted, share = pair_parts(classes, confusion, row, col)
    return f"{count}{true}{ARROW}{predicted}{share}"


class ListWidthRows(QStyledItemDelegate):
    """A list's rows as wide as the list, never as wide as their text.

    A list view sizes its rows by their text: a line wider than the list made the list
    scroll sideways and was clipped mid-word, not elided ("…"), once the window got
    narrower. Asking for no width, every row takes the list's width and the text is elided
    to it when painted."""

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802  (Qt override)
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(1, super().sizeHint(option, index).height())


class PairRows(ListWidthRows, ClassNameDelegate):
    """The most-confused rows, as wide as the list, each name cut in its middle where the
    line is too long, keeping the part that tells it from the other classes (as the
    matrix's axes and the per-class table cut it): two long names sharing their start, cut
    at the line's end, showed neither which class it was, nor the arrow, nor the predicted
    class. :meth:`set_names` takes the result's classes."""

    def _cut(self, opt: QStyleOptionViewItem) -> str:
        parts = opt.index.data(PAIR_ROLE)
        width, room = opt.fontMetrics.horizontalAdvance, text_room(opt)
        if not parts or width(opt.text) <= room:
            return opt.text
        count, true, predicted, share = parts
        names = room - width(count + ARROW + share)  # the two names share the rest
        half, least = names / 2, width("W…")
        # The shorter name whole where it fits in half of it, the other gets what is left.
        own = width(true) if width(true) <= half else max(half, names - width(predicted))
        true = elide(true, self._shared.get(true, 0), max(own, least), width)
        predicted = elide(predicted, self._shared.get(predicted, 0),
                          max(names - width(true), least), width)
        return f"{count}{true}{ARROW}{predicted}{share}"


class ConfusionView(QWidget):
    """The heatmap with its counts/normalised toggle, the most-confused pairs, and the
    thumbnails of the selected cell's images (decoded off the GUI thread)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result = None
        self.cell_paths: list[str] = []
        self.heatmap = ConfusionHeatmap()
        self.heatmap.cell_clicked.connect(self._on_cell_clicked)
        self.heatmap.cell_hovered.connect(self._on_cell_hovered)
        self.heatmap.view_changed.connect(self._on_view_changed)
        self.counts_button = QRadioButton("Counts")
        self.normalized_button = QRadioButton("Row-normalised (share of each true class)")
        self.counts_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.counts_button)
        group.addButton(self.normalized_button)
        self.normalized_button.toggled.connect(self._on_normalized)
        self.scale_note = QLabel(LOG_NOTE)
        follow_palette(self.scale_note)  # a quiet hint, readable light or dark
        self.scale_note.setVisible(False)
        self.reset_zoom_button = QPushButton("Reset zoom")
        self.reset_zoom_button.setToolTip("Show the whole matrix again")
        self.reset_zoom_button.clicked.connect(self.heatmap.reset_zoom)
        self.reset_zoom_button.setVisible(False)
        self.hover_label = QLabel("Hover over a cell to read it; click it to see its images.")
        follow_palette(self.hover_label)  # a quiet hint, readable light or dark
        self.hover_label.setTextFormat(Qt.TextFormat.PlainText)  # it names classes
        self.zoom_hint = QLabel(ZOOM_HINT)
        follow_palette(self.zoom_hint)  # a quiet hint, readable light or dark
        self.zoom_hint.setToolTip("The wheel zooms in where the mouse is, to name every "
                                  "class and write each cell's number; Reset zoom shows "
                                  "the whole matrix again")
        self.zoom_hint.setVisible(False)
        for widget in (self.scale_note, self.reset_zoom_button, self.zoom_hint):
            # Shown and hidden as the view changes, during a resize too: in a place kept
            # for them, the matrix neither moves nor is resized under the mouse.
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        toggles = QHBoxLayout()
        toggles.addWidget(self.counts_button)
        toggles.addWidget(self.normalized_button)
        toggles.addWidget(self.scale_note)
        toggles.addStretch(1)
        toggles.addWidget(self.reset_zoom_button)
        under = QHBoxLayout()
        under.addWidget(self.hover_label, 1)
        under.addWidget(self.zoom_hint)
        left = QVBoxLayout()
        left.addLayout(toggles)
        left.addWidget(self.heatmap, 1)
        left.addLayout(under)

        self.pairs = QListWidget()
        self.pairs.setToolTip("The most frequent mistakes; click one, or choose it with the "
                              "arrow keys, to see its images")
        self.pairs.setWordWrap(False)  # one line a pair: more of them in view
        self.pairs.setTextElideMode(Qt.TextElideMode.ElideRight)
        # Rows as wide as the list, whatever their text: a line too long ends in "…" at
        # any width the list is resized to, with no horizontal scroll bar.
        self.pairs.setItemDelegate(PairRows(self.pairs))
        self.pairs.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pairs.setUniformItemSizes(True)
        # A pair reached with the keys (Tab into the list, the arrows, Enter) is chosen as
        # a click chooses it: the matrix is no Tab stop, so the list is a keyboard user's
        # only way to a cell's images. Each click, double-click or key chooses it once: a
        # click making a pair current chooses it there, not again on release
        # (:meth:`_on_pair_clicked`).
        self.pairs.itemClicked.connect(self._on_pair_clicked)
        self.pairs.itemActivated.connect(self._on_pair_clicked)
        self.pairs.currentItemChanged.connect(self._on_pair_current)
        self.loader = ThumbnailLoader(self)
        self.cell_model = ThumbnailModel(self.loader, self)
        self.cell_images = ThumbnailView()
        self.cell_images.setModel(self.cell_model)
        name_field(None, self.cell_images, "Images of the selected cell")
        self.cell_label = QLabel("No cell selected.")
        self.cell_label.setWordWrap(True)
        self.cell_label.setTextFormat(Qt.TextFormat.PlainText)
        top, bottom = QWidget(), QWidget()
        pairs_box = QVBoxLayout(top)
        pairs_box.setContentsMargins(0, 0, 0, 0)
        pairs_title = QLabel("<b>Most confused</b> (true → predicted)")
        name_field(pairs_title, self.pairs, "Most confused pairs")
        pairs_box.addWidget(pairs_title)
        pairs_box.addWidget(self.pairs, 1)
        cell_box = QVBoxLayout(bottom)
        cell_box.setContentsMargins(0, 0, 0, 0)
        cell_box.addWidget(self.cell_label)
        cell_box.addWidget(self.cell_images, 1)
        self.right = QSplitter(Qt.Orientation.Vertical, objectName="evaluate.confusion")
        self.right.setChildrenCollapsible(False)
        self.right.addWidget(top)
        self.right.addWidget(bottom)
        self.right.setStretchFactor(0, 1)
        self.right.setStretchFactor(1, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addWidget(self.right, 2)

    def set_result(self, result) -> None:
        """Show an :class:`~workbench.core.evaluate.evaluation.EvaluationResult`."""
        self.result = result
        self.heatmap.set_confusion(result.confusion, result.classes)
        self._on_view_changed()
        # Quiet: clearing made the old list's next pair current, which chose its cell in
        # the new result (a wrong cell outlined, or one outside a smaller matrix).
        self.pairs.blockSignals(True)
        try:
            self._fill_pairs(result)
        finally:
            self.pairs.blockSignals(False)
        self.cell_paths = []
        self.cell_model.set_samples([], result.classes)
        self.cell_label.setText(NO_CELL)

    def _fill_pairs(self, result) -> None:
        self.pairs.clear()
        self.pairs.itemDelegate().set_names(result.classes)
        for pair in result.most_confused(MOST_CONFUSED):
            row, col = result.classes.index(pair["true"]), result.classes.index(pair["predicted"])
            item = QListWidgetItem(pair_text(result.classes, result.confusion, row, col))
            item.setData(PAIR_ROLE, pair_parts(result.classes, result.confusion, row, col))
            item.setToolTip(cell_text(result.classes, result.confusion, row, col))
            item.setData(Qt.ItemDataRole.UserRole, (row, col))
            self.pairs.addItem(item)
        if not self.pairs.count():
            self.pairs.addItem("No mistakes.")

    def shutdown(self) -> None:
        self.loader.shutdown()

    @Slot(bool)
    def _on_normalized(self, normalized: bool) -> None:
        self.heatmap.set_normalized(normalized)
        self._on_view_changed()

    @Slot()
    def _on_view_changed(self) -> None:
        """Offer zooming where it shows more; say when the colours are on a log scale."""
        heatmap = self.heatmap
        zoomed = heatmap.zoomed()
        self.zoom_hint.setVisible(heatmap.zoomable())
        self.reset_zoom_button.setVisible(heatmap.zoomable() or zoomed)
        self.reset_zoom_button.setEnabled(zoomed)
        self.scale_note.setVisible(heatmap.log_scale)
        if heatmap.log_scale:
            top = int(heatmap.confusion.max())
            small = int(heatmap.confusion[heatmap.confusion > 0].min())
            self.scale_note.setToolTip(
                f"The counts run from {small} to {top} images: on a linear scale a cell of "
                f"{small} would be almost white. The numbers (zoom in) and the tooltips "
                f"give the counts.")

    @Slot(int, int)
    def _on_cell_clicked(self, row: int, col: int) -> None:
        r = self.result
        if r is None:
            return
        hits = np.flatnonzero((r.y_true == row) & (r.y_pred == col))
        self.cell_paths = [r.paths[i] for i in hits.tolist()]
        self.cell_model.set_samples([(p, row) for p in self.cell_paths], r.classes)
        self.cell_label.setText(f"{cell_text(r.classes, r.confusion, row, col)}; "
                                f"{'its image' if len(hits) == 1 else 'its images'} below"
                                if len(hits) else
                                f"{cell_text(r.classes, r.confusion, row, col)}: no images")

    @Slot(str)
    def _on_cell_hovered(self, text: str) -> None:
        if text:
            self.hover_label.setText(text)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_pair_current(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is not None:
            item.setSelected(True)  # Tab into the list makes its first pair current only
            self._on_pair_clicked(item)

    @Slot(QListWidgetItem)
    def _on_pair_clicked(self, item: QListWidgetItem) -> None:
        """Choose ``item``'s pair; one chosen already (the click that made it current, a
        double-click, Enter on it) is only brought back into view, its images not listed
        again."""
        cell = item.data(Qt.ItemDataRole.UserRole)
        if not cell:
            return
        if self.heatmap.selected == tuple(cell):
            self.heatmap.show_cell(*cell)
        else:
            self.heatmap.select_cell(*cell)
