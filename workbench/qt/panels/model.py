"""Model panel: assemble the network from layer cards, with live shapes and a model doctor.

Left, the layer palette (:mod:`.model_palette`); in the middle, the network as a stack of
cards, one per layer, each with its parameter form, output shape, parameter count and
multiply-adds (:mod:`.model_cards`); below it the model doctor's findings
(:mod:`.model_doctor`). Shapes come from
:func:`workbench.core.model.builder.infer_shapes` for the experiment's input (channels,
height, width) and the dataset's number of classes, recomputed on a short timer after
edits. A layer that does not fit turns red with the builder's message, which says what to
change.

The network is ``experiment.model.layers``, edited in place. Every edit (add, delete, move,
duplicate, parameter change, preset, doctor fix) is an undoable command
(:mod:`.model_commands`) and emits :attr:`ModelPanel.model_changed`.

The layer registry needs torch: at start-up the cards show the layer types only, with a
note, until the background import (:mod:`workbench.qt.startup`) is done.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any, Callable

from PySide6.QtCore import QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QApplication, QLabel, QMenu, QSplitter, QToolBar, QVBoxLayout,
                               QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Component, Experiment

from ..common import MessageLabel, run_standalone
from ..startup import LOADING_TEXT, when_torch_ready
from .model_cards import format_settings, format_shape
from .model_doctor import DoctorList
from .model_edits import NetworkEditor
from .model_palette import LayerPalette
from .model_presets import CUSTOM, PresetChooser
from .model_stack import LayerStack

__all__ = ["ModelPanel", "CUSTOM", "DEFAULT_NUM_CLASSES", "format_shape"]

#: Classes assumed for the output layer until a dataset is loaded.
DEFAULT_NUM_CLASSES = 10
#: Milliseconds between the last edit and the shape update (edits in a burst: one update).
REFRESH_DELAY_MS = 50


def _layers_registry():
    from workbench.core.model.layers import LAYERS  # imports torch

    return LAYERS


class ModelPanel(QWidget):
    """Edits ``experiment.model``: presets, the layer palette, the layer cards, the doctor.

    Signals
    -------
    model_changed()
        The experiment's layers changed (any edit, undo or redo).
    summary_updated()
        :attr:`summary` was recomputed (shapes, counts, misfits).
    """

    model_changed = Signal()
    summary_updated = Signal()

    def __init__(self, experiment: Experiment, num_classes: int | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.experiment = experiment
        self.num_classes = num_classes
        self._summary: Any = None
        self._torch = False  # the layer registry is available
        self._selected = -1
        self.undo_stack = QUndoStack(self)
        self.edits = NetworkEditor(lambda: self.experiment, self.undo_stack, self._on_restored,
                                   self.select_layer,
                                   lambda text: self.message.show_message(text, "error"))
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()
        self._sync_combo()
        self._rebuild_cards()
        when_torch_ready(self._on_torch_ready, self)
        if not self._torch:
            self.refresh()

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.presets = PresetChooser()
        self.presets.preset_chosen.connect(self._on_preset_chosen)
        self.preset_combo = self.presets.combo  # the chooser's combo, for tests and callers

        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.undo_action = self.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.up_action = self._action("Move up", "Alt+Up", lambda: self._move_selected(-1),
                                      "Move the selected layer one place up")
        self.down_action = self._action("Move down", "Alt+Down",
                                        lambda: self._move_selected(1),
                                        "Move the selected layer one place down")
        self.duplicate_action = self._action("Duplicate", "Ctrl+D", self._duplicate_selected,
                                             "Add a copy of the selected layer after it")
        self.delete_action = self._action("Delete", "Delete", self._delete_selected,
                                          "Delete the selected layer")
        self.code_action = QAction("Copy as PyTorch code", self)
        self.code_action.setToolTip("Copy the network as a runnable PyTorch module")
        self.code_action.triggered.connect(self.copy_code)
        self.code_action.setEnabled(False)  # checked once torch is imported
        for a in (self.undo_action, self.redo_action):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(a)
        self.toolbar.addActions([self.undo_action, self.redo_action])
        self.toolbar.addSeparator()
        self.toolbar.addActions([self.up_action, self.down_action, self.duplicate_action,
                                 self.delete_action])
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.code_action)

        self.palette = LayerPalette()
        self.palette.layer_chosen.connect(lambda name: self.add_layer(name))
        self.input_label = QLabel("")
        self.input_label.setWordWrap(True)
        self.stack = LayerStack()
        self.stack.drop_requested.connect(self._on_drop)
        self.stack.params_edited.connect(self.set_layer_params)
        self.stack.card_clicked.connect(self.select_layer)
        self.stack.menu_requested.connect(self._on_card_menu)
        self.totals_label = QLabel("")
        self.totals_label.setWordWrap(True)
        self.message = MessageLabel("")
        self.doctor = DoctorList()
        self.doctor.fix_requested.connect(self.apply_fix)
        self.doctor.layer_requested.connect(self.select_layer)
        self.doctor.show_note(LOADING_TEXT)

        network = QWidget()
        nl = QVBoxLayout(network)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.addWidget(self.input_label)
        nl.addWidget(self.stack, 1)
        nl.addWidget(self.totals_label)
        nl.addWidget(self.message)
        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(network)
        middle.addWidget(self.doctor)
        middle.setStretchFactor(0, 4)
        middle.setStretchFactor(1, 1)
        middle.setSizes([560, 120])
        splitter = QSplitter()
        splitter.addWidget(self.palette)
        splitter.addWidget(middle)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([190, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.presets)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)

    def _action(self, text: str, shortcut: str, slot: Callable, tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        # Only while the focus is in this panel: other tabs keep their own keys.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(f"{tip} ({shortcut})")
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    @Slot()
    def _on_torch_ready(self) -> None:
        self._torch = True
        self.palette.set_registry(_layers_registry())
        if importlib.util.find_spec("workbench.core.model.codegen") is None:
            self.code_action.setToolTip("Code export is not available in this version")
        else:
            self.code_action.setEnabled(True)
        self.doctor.load()
        self._rebuild_cards()
        self.refresh()

    # -- binding ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment``; the undo history of the previous one is dropped."""
        self.experiment = experiment
        self.undo_stack.clear()
        self._selected = -1
        self._sync_combo()
        self._rebuild_cards()
        self.refresh()

    def set_num_classes(self, num_classes: int | None) -> None:
        """The loaded dataset's class count (the output layer's size)."""
        self.num_classes = num_classes if num_classes else None
        self.refresh()

    @property
    def summary(self) -> Any:
        """The current :class:`~workbench.core.model.builder.NetworkSummary` (``None`` before
        torch is imported); a pending update is made first."""
        self._flush()
        return self._summary

    def network_problem(self) -> str:
        """Why the network cannot be trained as it is, or ``""`` (also while unknown)."""
        if not self.experiment.model.layers:
            return "The network has no layers: choose a preset on the Model tab."
        summary = self.summary
        return summary.error if summary is not None and summary.error else ""

    # -- presets ---------------------------------------------------------------------------
    def set_preset(self, name: str) -> None:
        """Replace the experiment's layers by preset ``name`` (as if chosen in the combo)."""
        self.presets.choose(name)

    @Slot(str)
    def _on_preset_chosen(self, name: str) -> None:
        from workbench.core.model.presets import preset_layers

        if not self.edits.load_preset(name, preset_layers(name)):
            self.model_changed.emit()  # already this preset: still say so

    def _sync_combo(self) -> None:
        self.presets.show_for(self.experiment)

    # -- edits (each one undoable, made by self.edits) -------------------------------------
    def _on_restored(self) -> None:
        n = len(self.experiment.model.layers)
        self._selected = min(self._selected, n - 1)
        self._sync_combo()
        if self._sync_cards():
            self.refresh()  # new cards are blank until then; not a keystroke: no need to wait
        else:
            self._schedule()
        self.model_changed.emit()

    def add_layer(self, type_name: str, index: int | None = None) -> None:
        """Insert a ``type_name`` layer (default parameters) at ``index``; by default after
        the selected layer, or at the end."""
        n = len(self.experiment.model.layers)
        if index is None:
            index = self._selected + 1 if 0 <= self._selected < n else n
        try:
            params = _layers_registry().get(type_name).defaults() if self._torch else {}
        except WorkbenchError as e:
            self.message.show_message(str(e), "error")
            return
        self.edits.insert(index, Component(type_name, params))

    def remove_layer(self, index: int) -> None:
        self.edits.remove(index)

    def move_layer(self, index: int, to: int) -> None:
        """Move layer ``index`` so that it ends up at position ``to`` (both 0-based)."""
        self.edits.move(index, to)

    def duplicate_layer(self, index: int) -> None:
        """Insert a copy of layer ``index`` right after it."""
        self.edits.duplicate(index)

    @Slot(int, dict)
    def set_layer_params(self, index: int, values: dict) -> None:
        """Set layer ``index``'s parameters; consecutive edits of one field undo together."""
        layers = self.experiment.model.layers
        if 0 <= index < len(layers) and layers[index].type in _layers_registry():
            defaults = _layers_registry().get(layers[index].type).defaults()
            self.edits.set_params(index, values, defaults)

    @Slot(int)
    def apply_fix(self, i: int) -> None:
        """Apply the fix of doctor finding ``i`` (undoable, with the init and batch size)."""
        if 0 <= i < len(self.doctor.findings) and self.doctor.findings[i].fix is not None:
            self.edits.apply_fix(self.doctor.findings[i].fix)

    def _move_selected(self, step: int) -> None:
        if self._selected >= 0:
            self.move_layer(self._selected, self._selected + step)

    def _duplicate_selected(self) -> None:
        self.duplicate_layer(self._selected)

    def _delete_selected(self) -> None:
        self.remove_layer(self._selected)

    @Slot(str, object, int)
    def _on_drop(self, kind: str, payload: Any, row: int) -> None:
        if kind == "type":
            self.add_layer(str(payload), row)
        elif kind == "index":
            src = int(payload)
            self.move_layer(src, row - 1 if row > src else row)

    # -- selection -------------------------------------------------------------------------
    @Slot(int)
    def select_layer(self, index: int) -> None:
        """Select (highlight) layer ``index``; -1 selects none."""
        n = len(self.experiment.model.layers)
        self._selected = index if 0 <= index < n else -1
        self.stack.select(self._selected)
        self._update_actions()

    def selected_layer(self) -> int:
        return self._selected

    def _update_actions(self) -> None:
        n, s = len(self.experiment.model.layers), self._selected
        self.up_action.setEnabled(s > 0)
        self.down_action.setEnabled(0 <= s < n - 1)
        for a in (self.duplicate_action, self.delete_action):
            a.setEnabled(0 <= s < n)

    @Slot(int, QPoint)
    def _on_card_menu(self, index: int, where: QPoint) -> None:
        self.select_layer(index)
        menu = QMenu(self)
        menu.addActions([self.up_action, self.down_action, self.duplicate_action,
                         self.delete_action])
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(where)

    # -- cards -----------------------------------------------------------------------------
    def _rebuild_cards(self) -> None:
        # The focused card is about to go: hand the focus to the new selected card, so
        # Delete, Ctrl+D and Ctrl+Z keep working without another click.
        focus = QApplication.focusWidget()
        had_focus = focus is not None and self.stack.isAncestorOf(focus)
        self.stack.show_layers(self.experiment.model.layers,
                               _layers_registry() if self._torch else None, LOADING_TEXT)
        self.select_layer(self._selected)
        if had_focus:
            cards = self.stack.cards
            target = cards[self._selected] if 0 <= self._selected < len(cards) else self.stack
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _sync_cards(self) -> bool:
        """Show the layers: new values in place when only parameters changed, new cards
        otherwise; True when the cards are new."""
        registry = _layers_registry() if self._torch else None
        if self.stack.update_values(self.experiment.model.layers, registry):
            self.select_layer(self._selected)
            return False
        self._rebuild_cards()
        return True

    # -- shapes ----------------------------------------------------------------------------
    def _schedule(self) -> None:
        self._timer.start()

    def _flush(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.refresh()

    def input_shape(self) -> tuple[int, int, int]:
        d = self.experiment.data
        return (int(d.channels), int(d.input_size[0]), int(d.input_size[1]))

    def refresh(self) -> None:
        """Recompute shapes, counts and findings, and show them (once torch is imported)."""
        self._timer.stop()
        shape = self.input_shape()
        n_classes = self.num_classes or DEFAULT_NUM_CLASSES
        classes_text = (f"{n_classes} classes (from the dataset)" if self.num_classes else
                        f"{n_classes} classes assumed until a dataset is loaded")
        self.input_label.setText(f"Input: {format_shape(shape)} (channels, height, width: the "
                                 f"experiment's data.channels and data.input_size) · output: "
                                 f"{classes_text}")
        if not self._torch:
            self._summary = None
            self.totals_label.setText("")
            self.message.show_message(f"{LOADING_TEXT} The layer settings and shapes appear "
                                      f"when it has loaded.")
            self.summary_updated.emit()
            return
        from workbench.core.model.builder import infer_shapes

        layers = self.experiment.model.layers
        summary = infer_shapes(layers, shape, n_classes)
        self._summary = summary
        for i, card in enumerate(self.stack.cards):
            card.show_info(summary.layers[i] if i < len(summary.layers) else None)
        macs = getattr(summary, "total_macs", None)
        if macs is None:
            macs = sum(getattr(info, "macs", 0) or 0 for info in summary.layers)
        self.totals_label.setText(
            f"<b>Total parameters: {summary.total_params:,}</b> (trainable: "
            f"{summary.trainable_params:,}) · multiply-adds per image: {macs:,} · output "
            f"shape: {format_shape(summary.output_shape)}")
        if not layers:
            self.message.show_message("The network has no layers: choose a preset, or add "
                                      "layers from the list on the left.", "warning")
        elif summary.error:
            self.message.show_message(summary.error, "error")
        else:
            self.message.show_message("The layers fit together.", "ok")
        self.doctor.check(self.experiment, n_classes, summary)
        self.summary_updated.emit()

    def row_texts(self) -> list[list[str]]:
        """Each layer as text: index, type, settings, output shape, parameters, multiply-adds
        (for tests and copying)."""
        summary = self.summary
        if summary is None:
            return [[str(i + 1), c.type, "", "", "", ""]
                    for i, c in enumerate(self.experiment.model.layers)]
        registry = _layers_registry()
        rows = []
        for i, info in enumerate(summary.layers):
            entry = registry.get(info.type) if info.type in registry else None
            given = self.experiment.model.layers[i].params
            rows.append([str(i + 1), info.type,
                         format_settings(entry, given, info.params or {}),
                         format_shape(info.output_shape) if info.error is None else
                         "does not fit", f"{info.num_params:,}",
                         f"{getattr(info, 'macs', 0) or 0:,}"])
        return rows

    # -- code export -----------------------------------------------------------------------
    @Slot()
    def copy_code(self) -> None:
        """Put the network as PyTorch code on the clipboard."""
        try:
            from workbench.core.model.codegen import network_code
        except ImportError:
            self.code_action.setEnabled(False)
            self.code_action.setToolTip("Code export is not available in this version")
            return
        try:
            text = network_code(self.experiment, self.num_classes or DEFAULT_NUM_CLASSES)
        except WorkbenchError as e:
            self.message.show_message(f"Cannot export the code: {e}", "error")
            return
        QGuiApplication.clipboard().setText(text)
        self.message.show_message(f"Copied the network as PyTorch code ({len(text.splitlines())}"
                                  f" lines) to the clipboard.", "ok")


if __name__ == "__main__":
    sys.exit(run_standalone(lambda: ModelPanel(Experiment(), num_classes=4), "Model"))
