"""The Train panel's loss editor: the loss type, its settings and per-class weights.

:class:`LossEditor` is a :class:`~.settings.ComponentEditor` for ``experiment.loss``
whose ``class_weights`` parameter gets an editor of its own, :class:`ClassWeightsEditor`: a
table of the dataset's classes with one weight each, a "use weights" check box (off: the
empty list, every class counts the same) and a button that fills inverse-frequency weights
from the class sizes. A line says when the network ends with LogSoftmax (the core then
uses NLLLoss, with the same result).

Weights that do not match the dataset's class count are still shown and kept (the widgets
and the Experiment never disagree); the core's own message says what is wrong.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDoubleSpinBox, QHBoxLayout,
                               QHeaderView, QPushButton, QStyledItemDelegate,
                               QStyleOptionViewItem, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from workbench.core.experiment import Experiment

from workbench.qt.common import MessageLabel
from workbench.qt.keyboard import tab_leaves
from workbench.qt.startup import when_torch_ready
from workbench.qt.panels.train.settings import ComponentEditor, loss_problem, losses

WEIGHTS_PARAM = "class_weights"
NO_CLASSES_TEXT = "Load a dataset to weight classes."
_MAX_WEIGHT = 1e6  # the loss's declared bound
_VISIBLE_ROWS = 6


def inverse_frequency_weights(classes: list[str], counts: dict[str, int]) -> list[float]:
    """One weight per class, inversely proportional to its image count, averaging 1.

    The rule of the core's ``data.balance = "weighted_loss"``
    (:func:`workbench.core.data.dataset.class_weights`): a class without images gets 0
    (it is never a target) and the others average 1. Rounded to 3 significant digits, as
    a person would type them.
    """
    inverse = [1.0 / counts[c] if counts.get(c, 0) > 0 else 0.0 for c in classes]
    present = sum(1 for w in inverse if w > 0)
    total = sum(inverse)
    if not present:
        return [1.0] * len(classes)
    return [float(f"{w * present / total:.3g}") for w in inverse]


class _WeightDelegate(QStyledItemDelegate):
    """Edits a weight with a spin box bounded as the loss declares it."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: QModelIndex) -> QWidget:
        box = QDoubleSpinBox(parent)
        box.setRange(0.0, _MAX_WEIGHT)
        box.setDecimals(3)
        box.setSingleStep(0.1)
        return box


class ClassWeightsEditor(QWidget):
    """Per-class loss weights: a table of class names and weights, on or off.

    Signals
    -------
    edited(list)
        The user changed the weights: the new ``class_weights`` list (empty: off).
    """

    edited = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.classes: list[str] = []
        self.counts: dict[str, int] = {}
        self.weights: list[float] = []
        self.use_box = QCheckBox("Weight the classes")
        self.use_box.setToolTip("Rarer classes can count more in the loss. Off: every class "
                                "counts the same (or data.balance decides).")
        self.use_box.toggled.connect(self._on_use_toggled)
        self.from_sizes_button = QPushButton("From class sizes")
        self.from_sizes_button.setToolTip("Weights inversely proportional to each class's "
                                          "image count, averaging 1: the rarest class counts "
                                          "the most.")
        self.from_sizes_button.clicked.connect(self.fill_from_sizes)
        self.hint = MessageLabel(NO_CLASSES_TEXT)
        self.table = tab_leaves(QTableWidget(0, 2))
        self.table.setHorizontalHeaderLabels(["Class", "Weight"])
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setItemDelegateForColumn(1, _WeightDelegate(self.table))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked |
                                   QAbstractItemView.EditTrigger.EditKeyPressed |
                                   QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6)
        self.table.itemChanged.connect(self._on_item_changed)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.use_box)
        top.addStretch(1)
        top.addWidget(self.from_sizes_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.table)
        self._update_state()

    # -- what is shown -------------------------------------------------------------------
    def set_classes(self, classes: list[str]) -> None:
        """The dataset's classes, in the class list's order (one row each)."""
        self.classes = [str(c) for c in classes]
        self._fill_table()

    def set_class_counts(self, counts: dict[str, int]) -> None:
        """Images per class, for :meth:`fill_from_sizes`."""
        self.counts = {str(k): int(v) for k, v in counts.items()}
        self._update_state()

    def set_weights(self, weights: list[float]) -> None:
        """Show ``weights`` (the loss's ``class_weights``) without emitting :attr:`edited`."""
        self.weights = [float(w) for w in weights or []]
        self._fill_table()

    def _fill_table(self) -> None:
        self.table.blockSignals(True)
        try:
            self.table.setRowCount(len(self.classes))
            for row, name in enumerate(self.classes):
                label = QTableWidgetItem(name)
                label.setFlags(Qt.ItemFlag.ItemIsEnabled)  # names are not editable
                self.table.setItem(row, 0, label)
                item = QTableWidgetItem()
                if row < len(self.weights):
                    item.setData(Qt.ItemDataRole.EditRole, self.weights[row])
                else:  # fewer weights than classes: the problem line says so
                    item.setData(Qt.ItemDataRole.DisplayRole, "—")
                self.table.setItem(row, 1, item)
        finally:
            self.table.blockSignals(False)
        # As tall as its rows, up to _VISIBLE_ROWS: a long class list scrolls.
        rows = max(1, min(len(self.classes), _VISIBLE_ROWS))
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height() +
                                  rows * self.table.verticalHeader().defaultSectionSize() +
                                  2 * self.table.frameWidth())
        self._update_state()

    def _update_state(self) -> None:
        on = bool(self.weights)
        self.use_box.blockSignals(True)
        try:
            self.use_box.setChecked(on)
        finally:
            self.use_box.blockSignals(False)
        # Without classes the box can only turn weights off (e.g. ones read from a file).
        self.use_box.setEnabled(bool(self.classes) or on)
        self.from_sizes_button.setEnabled(
            bool(self.classes) and any(self.counts.get(c, 0) > 0 for c in self.classes))
        self.table.setVisible(bool(self.classes))
        self.table.setEnabled(on)
        if not self.classes:
            hint = NO_CLASSES_TEXT if not on else (
                f"{len(self.weights)} weights are set; load the dataset to see each class's.")
        elif not on:
            hint = "Every class counts the same."
        else:
            hint = ""
        self.hint.show_message(hint)
        self.hint.setVisible(bool(hint))

    # -- edits ---------------------------------------------------------------------------
    def _emit(self, weights: list[float]) -> None:
        self.weights = list(weights)
        self._fill_table()
        self.edited.emit(list(self.weights))

    def _show_in_place(self, weights: list[float]) -> None:
        """Show ``weights`` by updating the cells (not replacing them: one of them is
        the item whose edit is being handled)."""
        self.table.blockSignals(True)
        try:
            for row, value in enumerate(weights):
                item = self.table.item(row, 1)
                if item.data(Qt.ItemDataRole.EditRole) != value:
                    item.setData(Qt.ItemDataRole.EditRole, value)
        finally:
            self.table.blockSignals(False)
        self._update_state()

    @Slot()
    def fill_from_sizes(self) -> None:
        """Fill inverse-frequency weights from the class sizes (see
        :func:`inverse_frequency_weights`) and emit them."""
        if self.classes and self.counts:
            self._emit(inverse_frequency_weights(self.classes, self.counts))

    @Slot(bool)
    def _on_use_toggled(self, checked: bool) -> None:
        # On: every class 1 (the same loss as off) for the user to change; off: the empty list.
        self._emit([1.0] * len(self.classes) if checked else [])

    @Slot(QTableWidgetItem)
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 1:
            return
        # An edit gives every class a weight: missing ones become 1, ones beyond the class
        # list are dropped (that mismatch is what the problem line reported).
        values = []
        for row in range(self.table.rowCount()):
            value = self.table.item(row, 1).data(Qt.ItemDataRole.EditRole)
            try:
                values.append(min(max(float(value), 0.0), _MAX_WEIGHT))
            except (TypeError, ValueError):
                values.append(1.0)
        self.weights = values
        self._show_in_place(values)
        self.edited.emit(list(values))


class LossEditor(ComponentEditor):
    """The loss: its type, its settings, per-class weights and a note about LogSoftmax.

    Parameters
    ----------
    experiment
        The Experiment whose ``loss`` is edited (or later, :meth:`set_experiment`).
    parent
        The parent widget.

    The loss registry needs torch: it is filled once torch is imported
    (:func:`~workbench.qt.startup.when_torch_ready`); until then the editor shows a loading
    note. The panel calls :meth:`set_classes` and :meth:`set_class_counts` when a dataset
    is loaded, and :meth:`set_log_softmax_output` when the network changes.

    Signals
    -------
    changed()
        The user changed the loss type, a setting or the class weights.
    """

    def __init__(self, experiment: Experiment | None = None, parent: QWidget | None = None):
        super().__init__("Loss", "loss", self._problem, parent, hidden_params=(WEIGHTS_PARAM,))
        self.classes: list[str] = []
        self.log_probs = False
        self.weights_editor = ClassWeightsEditor()
        self.weights_editor.edited.connect(self._on_weights_edited)
        self.weights_editor.setEnabled(False)  # until the registry says the loss takes weights
        self.note_label = MessageLabel("")
        self.note_label.hide()
        at = self._layout.indexOf(self.error_label)  # the form goes in above, at index 1
        self._layout.insertWidget(at, self.weights_editor)
        self._layout.insertWidget(at + 1, self.note_label)
        if experiment is not None:
            self.experiment = experiment
        when_torch_ready(lambda: self.set_registry(losses()), self)

    def _problem(self, exp: Experiment) -> str:
        return loss_problem(exp, len(self.classes) or None)

    # -- what the panel tells it ---------------------------------------------------------
    def set_registry(self, registry: Any) -> None:
        super().set_registry(registry)
        self.refresh()

    def set_classes(self, classes: list[str]) -> None:
        """The loaded dataset's classes, in order (the weights table's rows)."""
        self.classes = list(classes)
        self.weights_editor.set_classes(self.classes)
        self.show_problem()  # weights may now be one too many or too few

    def set_class_counts(self, counts: dict[str, int]) -> None:
        """Images per class of the loaded dataset, for "From class sizes"."""
        self.weights_editor.set_class_counts(counts)

    def set_log_softmax_output(self, log_probs: bool) -> None:
        """Whether the network ends with LogSoftmax (then a note explains the loss used)."""
        self.log_probs = bool(log_probs)
        self._show_note()

    # -- binding -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the Experiment's loss (without writing anything back)."""
        super().refresh()
        if self.experiment is None or self.registry is None:
            return
        comp = self.component()
        takes_weights = comp.type in self.registry and any(
            p.name == WEIGHTS_PARAM for p in self.registry.get(comp.type).params)
        self.weights_editor.setVisible(takes_weights)
        self.weights_editor.setEnabled(takes_weights)
        self.weights_editor.set_weights(comp.params.get(WEIGHTS_PARAM) or [])
        self._show_note()

    def _show_note(self) -> None:
        text = ""
        if self.experiment is not None and self.registry is not None:
            from workbench.core.train.optim import loss_note

            text = loss_note(self.component(), self.log_probs)
        if text:
            text = text[0].upper() + text[1:] + "."
        self.note_label.show_message(text)
        self.note_label.setVisible(bool(text))

    @Slot(dict)
    def _on_params_edited(self, values: dict) -> None:
        super()._on_params_edited(values)
        self._show_note()  # label smoothing decides which loss follows a LogSoftmax

    @Slot(list)
    def _on_weights_edited(self, weights: list) -> None:
        if self.experiment is None:
            return
        self.component().params[WEIGHTS_PARAM] = list(weights)
        self.show_problem()
        self.changed.emit()


def _main() -> int:
    from workbench.qt.common import run_standalone

    def make() -> LossEditor:
        editor = LossEditor(Experiment())
        editor.set_classes(["cat", "dog", "fox"])
        editor.set_class_counts({"cat": 120, "dog": 80, "fox": 15})
        return editor

    return run_standalone(make, "Loss")


if __name__ == "__main__":
    raise SystemExit(_main())
