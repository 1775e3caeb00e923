"""Model panel: assemble the network from layer cards, with live shapes and a model doctor.

Left, the layer palette (:mod:`.palette`); in the middle, the network as a stack of cards,
one per layer, with its parameter form, output shape, parameter count and multiply-adds
(:mod:`.cards`); below it the model doctor's findings (:mod:`.doctor`). Shapes come from
:func:`workbench.core.model.builder.infer_shapes` for the experiment's input (channels,
height, width) and the dataset's classes, recomputed on a short timer after edits and
published for the Train tab (``CurrentExperiment.set_network``). A layer that does not fit
turns red with the builder's message, which says what to change.

The network is ``experiment.model.layers``, edited in place. Every edit (add, delete, move,
duplicate, parameter change, preset, doctor fix, weight tie, a layer's own initialisation,
an opened architecture file, a backbone's preprocessing) is an undoable command
(:mod:`.commands`), announced through the Experiment's events (the Data tab hears a
backbone's input size from there) and emits :attr:`ModelPanel.model_changed`; those that
change data settings also emit :attr:`ModelPanel.data_settings_changed`. The toolbar's file
and clipboard tools and the cards' menu (weight sharing, initialisation) are in
:mod:`.tools`.

The layer registry needs torch: at start-up the cards show the layer types only, with a
note, until the background import (:mod:`workbench.qt.startup`) is done.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (QApplication, QLabel, QSplitter, QToolBar, QVBoxLayout,
                               QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

from workbench.qt.common import MessageLabel, run_standalone
from workbench.qt.evented import subscribe
from workbench.qt.keyboard import focusable_tool_buttons
from workbench.qt.startup import LOADING_TEXT, when_torch_ready
from workbench.qt.panels.model.cards import format_shape
from workbench.qt.panels.model.doctor import DoctorList, fit_message
from workbench.qt.panels.model.doctor_share import NetworkDoctorSplit
from workbench.qt.panels.model.edits import NetworkEditor
from workbench.qt.panels.model.palette import LayerPalette
from workbench.qt.panels.model.preset_apply import PresetApplier
from workbench.qt.panels.model.presets import CUSTOM, PresetChooser
from workbench.qt.panels.model.stack import LayerStack
from workbench.qt.panels.model.tools import ModelTools, panel_action, undo_redo_actions
from workbench.qt.panels.model.undo_keys import EditorUndoKeys

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
        :attr:`summary` was recomputed (shapes, counts, misfits) and published.
    data_settings_changed()
        An edit, undo or redo changed ``experiment.data`` fields (a doctor fix's batch size,
        a backbone's preprocessing); the Experiment announces them too.
    """

    model_changed = Signal()
    summary_updated = Signal()
    data_settings_changed = Signal()

    def __init__(self, experiment: Experiment | CurrentExperiment,
                 num_classes: int | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment.of(experiment)
        self.num_classes = num_classes
        self._summary: Any = None
        self._torch = False  # the layer registry is available
        self._selected = -1
        self._announcing = False  # this panel's own edit is being announced
        self.undo_stack = QUndoStack(self)
        self.edits = NetworkEditor(lambda: self.experiment, self.undo_stack, self._on_restored,
                                   self.select_layer,
                                   lambda text: self.message.show_message(text, "error"),
                                   self.data_settings_changed.emit)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.summary_updated.connect(
            lambda: self.current.set_network(self._summary, self.network_problem()))
        self._build()
        self._sync_combo()
        self._rebuild_cards()
        when_torch_ready(self._on_torch_ready, self)
        if not self._torch:
            self.refresh()
        subscribe(self, self.current.replaced, self._on_experiment_replaced)
        subscribe(self, self.current.changed, self._on_experiment_changed)
        subscribe(self, self.current.dataset_changed,  # the output layer's size
                  lambda index: self.set_num_classes(index.num_classes), replay=True)

    @property
    def experiment(self) -> Experiment:
        return self.current.experiment

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.presets = PresetChooser()
        self.presets.preset_chosen.connect(self._on_preset_chosen)
        self.preset_combo = self.presets.combo  # the chooser's combo, for tests and callers
        self.preset_apply = PresetApplier(self)  # layers and settings, one step, a note

        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.undo_action, self.redo_action = undo_redo_actions(self.undo_stack, self)
        self.up_action = panel_action(self, "Move up", "Alt+Up", lambda: self._move_selected(-1),
                                      "Move the selected layer one place up")
        self.down_action = panel_action(self, "Move down", "Alt+Down",
                                        lambda: self._move_selected(1),
                                        "Move the selected layer one place down")
        self.duplicate_action = panel_action(
            self, "Duplicate", "Ctrl+D", lambda: self.duplicate_layer(self._selected),
            "Add a copy of the selected layer after it")
        self.delete_action = panel_action(self, "Delete", "Delete",
                                          lambda: self.remove_layer(self._selected),
                                          "Delete the selected layer")
        self.tools = ModelTools(self)
        self.code_action = self.tools.code_action
        for a in (self.undo_action, self.redo_action):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(a)
        self.toolbar.addActions([self.undo_action, self.redo_action])
        self.toolbar.addSeparator()
        self.toolbar.addActions([self.up_action, self.down_action, self.duplicate_action,
                                 self.delete_action])
        self.toolbar.addSeparator()
        self.toolbar.addActions(self.tools.actions)
        focusable_tool_buttons(self.toolbar)  # Tab reaches Save architecture… too

        self.layer_palette = LayerPalette()
        self.layer_palette.layer_chosen.connect(lambda name: self.add_layer(name))
        self.input_label = QLabel("")
        self.input_label.setWordWrap(True)
        self.stack = LayerStack()
        self.undo_keys = EditorUndoKeys(self.stack, self.undo_action, self.redo_action)
        self.stack.drop_requested.connect(self._on_drop)
        self.stack.params_edited.connect(self.set_layer_params)
        self.stack.card_clicked.connect(self.select_layer)
        self.stack.menu_requested.connect(self.tools.show_card_menu)
        self.stack.preprocessing_requested.connect(self.tools.use_backbone_preprocessing)
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
        middle = NetworkDoctorSplit(network, self.doctor)  # the cards take the stretch
        splitter = QSplitter(objectName="model.palette_network")
        splitter.addWidget(self.layer_palette)
        splitter.addWidget(middle)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([190, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.presets)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)

    @Slot()
    def _on_torch_ready(self) -> None:
        self._torch = True
        self.layer_palette.set_registry(_layers_registry())
        self.tools.on_torch_ready()
        self.doctor.load()
        self._rebuild_cards()
        self.refresh()

    # -- binding ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment`` (it replaces the current one, for every view of it)."""
        self.current.replace(experiment)

    def _on_experiment_replaced(self, _experiment: Experiment) -> None:
        # Another experiment (or a tuned one): the undo history of the previous is dropped.
        self.tools.forget_backbone_notes()
        self.preset_apply.forget()
        self.undo_stack.clear()
        self._selected = -1
        self._sync_combo()
        self._rebuild_cards()
        self.refresh()

    def _on_experiment_changed(self, section: str, field: str | None) -> None:
        if section == "model" and not self._announcing:  # not by this panel: show it
            self._sync_combo()
            self._sync_cards()
        # The input shape, the layers, the doctor's inputs (a new folder: set_num_classes).
        if section in ("data", "model", "init") and field != "folder":
            self._schedule()

    def showEvent(self, event) -> None:  # noqa: N802  (Qt override)
        # Back on the tab, maybe after copying a backbone's weights file: look again.
        self.tools.forget_backbone_notes()
        self._schedule()
        super().showEvent(event)

    def set_num_classes(self, num_classes: int | None) -> None:
        """The loaded dataset's class count (the output layer's size)."""
        self.num_classes = num_classes if num_classes else None
        self.refresh()

    def output_classes(self) -> int:
        """The output layer's size: the dataset's classes, or a default until one is loaded."""
        return self.num_classes or DEFAULT_NUM_CLASSES

    @property
    def torch_ready(self) -> bool:
        """True once the layer registry (torch) is imported."""
        return self._torch

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
        if not self.preset_apply.choose(name):  # with a backbone's preprocessing: .preset_apply
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
        self._announcing = True
        try:  # the layers were edited in place: the other views hear it from the Experiment
            self.experiment.model.announce("layers")
        finally:
            self._announcing = False
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

    # -- cards -----------------------------------------------------------------------------
    def _rebuild_cards(self) -> None:
        # The focused card is about to go: hand the focus to the new selected card's "⋯"
        # (the palette's list when no layer is left), so Delete, Ctrl+D, Ctrl+Z and Up/Down
        # keep working without another click.
        focus = QApplication.focusWidget()
        had_focus = focus is not None and self.stack.isAncestorOf(focus)
        self.stack.show_layers(self.experiment.model.layers,
                               _layers_registry() if self._torch else None, LOADING_TEXT)
        self.select_layer(self._selected)
        if had_focus and not self.stack.focus_card(self._selected):
            self.layer_palette.tree.setFocus(Qt.FocusReason.OtherFocusReason)

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
        n_classes = self.output_classes()
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
        self._show_cards_info(summary)
        macs = getattr(summary, "total_macs", None)
        if macs is None:
            macs = sum(getattr(info, "macs", 0) or 0 for info in summary.layers)
        self.totals_label.setText(
            f"<b>Total parameters: {summary.total_params:,}</b> (trainable: "
            f"{summary.trainable_params:,}) · multiply-adds per image: {macs:,} · output "
            f"shape: {format_shape(summary.output_shape)}")
        self.doctor.check(self.experiment, n_classes, summary)
        self.message.show_message(*fit_message(layers, summary, self.doctor.findings))
        self.summary_updated.emit()

    def row_texts(self) -> list[list[str]]:
        """Each layer as text: index, type, settings, output shape, parameters, multiply-adds
        (for tests and copying)."""
        return self.tools.row_texts()

    def _show_cards_info(self, summary: Any) -> None:
        """Each card's shapes and counts, who uses its weights, and a Backbone's notes."""
        notes = self.tools.backbone_notes(self.experiment.model.layers) \
            if any(c.type == "Backbone" for c in self.stack.cards) else []
        self.stack.show_summary(summary, notes, self.experiment)

    # -- tools: files, clipboard, weight ties, a layer's init (self.tools: .model_tools) -----
    def copy_code(self) -> None:
        """Put the network as PyTorch code on the clipboard."""
        self.tools.copy_code()


if __name__ == "__main__":
    sys.exit(run_standalone(lambda: ModelPanel(Experiment(), num_classes=4), "Model"))
