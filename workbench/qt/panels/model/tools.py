"""The Model panel's tools: files, clipboard, and the per-layer actions of a card's menu.

:class:`ModelTools` holds the toolbar actions that take the network somewhere else (copy
as PyTorch code, copy the ``print(model)``-style summary, save and open an architecture
file) and the card actions that edit more than a layer's parameters: weight sharing
("Share weights with…", "Stop sharing"), the layer's own initialisation
(:class:`~.layer_dialogs.InitDialog`) and a Backbone's preprocessing. Every edit goes
through the panel's :class:`~.edits.NetworkEditor`, so it is one undo step; every
mistake (a bad file, an unknown layer) is said in the panel's message line and changes
nothing.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QPoint, Qt, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:  # pragma: no cover
    from workbench.qt.panels.model.panel import ModelPanel
    from workbench.qt.panels.model.layer_dialogs import InitDialog

#: Seconds a Backbone card's notes are reused before the weights files are looked for again.
NOTES_TTL_S = 5.0
#: File filter of architecture files.
ARCHITECTURE_FILTER = "Workbench architectures (*.json);;All files (*)"


def undo_redo_actions(stack: QUndoStack, parent: QWidget) -> tuple[QAction, QAction]:
    """"Undo" and "Redo" actions of ``stack`` whose texts never change (see
    :class:`StackAction`)."""
    undo = StackAction("Undo", stack, parent)
    undo.setShortcuts(QKeySequence.StandardKey.Undo)
    redo = StackAction("Redo", stack, parent)
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    return undo, redo


def panel_action(panel: QWidget, text: str, shortcut: str, slot: Callable[[], None],
                 tip: str) -> QAction:
    """An action of ``panel`` whose ``shortcut`` works only while the focus is in it (other
    tabs keep their own keys)."""
    action = QAction(text, panel)
    action.setShortcut(QKeySequence(shortcut))
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.setToolTip(f"{tip} ({shortcut})")
    action.triggered.connect(slot)
    panel.addAction(action)
    return action


class StackAction(QAction):
    """Undo or redo the last command of a QUndoStack, under a text that never changes.

    ``QUndoStack.createUndoAction`` names the command in the text ("Undo Add Conv2d
    layer"), so the button grew and shrank with every edit, moving every toolbar button
    after it under the pointer and pushing the last ones into the overflow menu. Here the
    command's name is in the tooltip ("Undo Add Conv2d layer (Ctrl+Z)"); the action is
    enabled while there is something to undo (redo).
    """

    def __init__(self, verb: str, stack: QUndoStack, parent: QWidget):
        super().__init__(verb, parent)
        self.verb = verb
        undo = verb == "Undo"
        self._key = "Ctrl+Z" if undo else "Ctrl+Shift+Z"
        self._can = stack.canUndo() if undo else stack.canRedo()
        self._what = stack.undoText() if undo else stack.redoText()
        self.triggered.connect(stack.undo if undo else stack.redo)
        # The signals carry the state: the stack is not asked (it also signals while
        # it is being destroyed).
        (stack.canUndoChanged if undo else stack.canRedoChanged).connect(self._on_can_changed)
        (stack.undoTextChanged if undo else stack.redoTextChanged).connect(
            self._on_text_changed)
        self._show()

    def _on_can_changed(self, can: bool) -> None:
        self._can = bool(can)
        self._show()

    def _on_text_changed(self, text: str) -> None:
        self._what = str(text)
        self._show()

    def _show(self) -> None:
        self.setEnabled(self._can)
        what = self._what if self._can else ""
        self.setToolTip(f"{self.verb} {what} ({self._key})" if what else
                        f"Nothing to {self.verb.lower()} ({self._key})")


class ModelTools(QObject):
    """Actions of one :class:`~..model.ModelPanel` (its toolbar's and its cards' menus).

    Attributes
    ----------
    code_action, summary_action, save_action, open_action
        The toolbar actions; enabled once torch is imported (:meth:`on_torch_ready`).
    init_dialog
        The open "Initialisation…" dialog, or ``None``.
    """

    def __init__(self, panel: "ModelPanel"):
        super().__init__(panel)
        self.panel = panel
        self.init_dialog: InitDialog | None = None
        self._notes: tuple[str, float, list[str]] | None = None  # key, time, notes
        self.code_action = self._action("Copy as PyTorch code", self.copy_code,
                                        "Copy the network as a runnable PyTorch module")
        self.summary_action = self._action(
            "Copy summary", self.copy_summary,
            "Copy the network as print(model) shows it, with shapes and parameter counts")
        self.save_action = self._action(
            "Save architecture…", self.save_architecture,
            "Save the layers (no data or training settings) to a JSON file to share or reuse")
        self.open_action = self._action(
            "Open architecture…", self.open_architecture,
            "Replace the layers by those of an architecture (or experiment) JSON file "
            "(Ctrl+Z undoes it)")

    def _action(self, text: str, slot, tip: str) -> QAction:
        action = QAction(text, self.panel)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        action.setEnabled(False)  # these need the registries: enabled once torch is imported
        return action

    @property
    def actions(self) -> list[QAction]:
        return [self.save_action, self.open_action, self.summary_action, self.code_action]

    def on_torch_ready(self) -> None:
        for action in (self.summary_action, self.save_action, self.open_action):
            action.setEnabled(True)
        try:
            import workbench.core.model.codegen  # noqa: F401
        except ImportError:
            self.code_action.setToolTip("Code export is not available in this version")
        else:
            self.code_action.setEnabled(True)

    def _say(self, text: str, level: str = "ok") -> None:
        self.panel.message.show_message(text, level)

    # -- clipboard -------------------------------------------------------------------------
    @Slot()
    def copy_code(self) -> None:
        """Put the network as PyTorch code on the clipboard."""
        try:
            from workbench.core.model.codegen import network_code
        except ImportError:
            self.code_action.setEnabled(False)
            self.code_action.setToolTip("Code export is not available in this version")
            return
        panel = self.panel
        classes = list(getattr(panel.current.dataset, "classes", None) or [])
        try:  # the dataset's class names, in output order, when they are the outputs
            text = network_code(panel.experiment, panel.output_classes(),
                                classes if len(classes) == panel.output_classes() else None)
        except WorkbenchError as e:
            self._say(f"Cannot export the code: {e}", "error")
            return
        QGuiApplication.clipboard().setText(text)
        self._say(f"Copied the network as PyTorch code ({len(text.splitlines())} lines) to "
                  f"the clipboard.")

    @Slot()
    def copy_summary(self) -> None:
        """Put the ``print(model)``-style summary (shapes, counts, totals) on the clipboard."""
        from workbench.core.model.architecture import summary_text

        summary = self.panel.summary
        if summary is None:
            return
        text = summary_text(summary)
        QGuiApplication.clipboard().setText(text)
        self._say(f"Copied the network summary ({len(summary.layers)} layers) to the "
                  f"clipboard.")

    def row_texts(self) -> list[list[str]]:
        """Each layer as text: index, type, settings, output shape, parameters (shared ones
        as ``"shared with 3"``), multiply-adds."""
        from workbench.qt.panels.model.cards import format_settings, format_shape

        panel = self.panel
        summary = panel.summary
        layers = panel.experiment.model.layers
        if summary is None:
            return [[str(i + 1), c.type, "", "", "", ""] for i, c in enumerate(layers)]
        from workbench.core.model.layers import LAYERS

        rows = []
        for i, info in enumerate(summary.layers):
            entry = LAYERS.get(info.type) if info.type in LAYERS else None
            shared = getattr(info, "shared_with", None)
            rows.append([str(i + 1), info.type,
                         format_settings(entry, layers[i].params, info.params or {}),
                         format_shape(info.output_shape) if info.error is None else
                         "does not fit",
                         f"shared with {shared + 1}" if shared is not None else
                         f"{info.num_params:,}", f"{getattr(info, 'macs', 0) or 0:,}"])
        return rows

    # -- architecture files ----------------------------------------------------------------
    @Slot()
    def save_architecture(self, path: str | None = None) -> bool:
        """Save the layers to an architecture JSON file (asked for when ``path`` is None)."""
        from workbench.core.model.architecture import save_architecture

        panel = self.panel
        if not path:
            name = panel.experiment.model.preset or panel.experiment.name or "network"
            path, _ = QFileDialog.getSaveFileName(panel, "Save the architecture",
                                                  f"{name}.json", ARCHITECTURE_FILTER)
        if not path:
            return False
        try:
            written = save_architecture(path, panel.experiment.model)
        except (WorkbenchError, OSError) as e:
            self._say(f"Cannot save the architecture to {path}: {e}. Choose another folder or "
                      f"file name.", "error")
            return False
        self._say(f"Saved the architecture ({len(panel.experiment.model.layers)} layers) to "
                  f"{written}.")
        return True

    @Slot()
    def open_architecture(self, path: str | None = None) -> bool:
        """Replace the layers by an architecture file's (one undoable step); a bad file is
        reported and changes nothing."""
        from workbench.core.model.architecture import load_architecture

        panel = self.panel
        if not path:
            path, _ = QFileDialog.getOpenFileName(panel, "Open an architecture", "",
                                                  ARCHITECTURE_FILTER)
        if not path:
            return False
        try:
            model = load_architecture(path)
        except WorkbenchError as e:
            self._say(f"Cannot open the architecture: {e}", "error")
            return False
        changed = panel.edits.load_model(f"Open architecture {_file_name(path)}", model)
        panel.refresh()  # its verdict now, in place of any earlier message (a failed open)
        opened = f"Opened the architecture {path} ({len(model.layers)} layers)"
        if panel.message.level == "error":  # it does not fit: say so, after what was opened
            self._say(f"{opened}, but: {panel.message.text()}", "error")
        else:
            self._say(f"{opened}; Ctrl+Z brings the previous network back." if changed else
                      f"{opened}: the same as the network shown.")
        return True

    # -- card actions ----------------------------------------------------------------------
    def show_card_menu(self, index: int, where: QPoint) -> None:
        """Select layer ``index`` and pop up its menu at ``where`` (global coordinates)."""
        panel = self.panel
        panel.select_layer(index)
        menu = QMenu(panel)
        menu.addActions([panel.up_action, panel.down_action, panel.duplicate_action,
                         panel.delete_action])
        menu.addSeparator()
        self.add_layer_actions(menu, index)
        menu.setToolTipsVisible(True)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(where)

    def add_layer_actions(self, menu: QMenu, index: int) -> None:
        """Add the weight-sharing and initialisation actions of layer ``index`` to ``menu``."""
        from workbench.qt.panels.model.layer_dialogs import share_options

        panel = self.panel
        layers = panel.experiment.model.layers
        if not panel.torch_ready or not 0 <= index < len(layers):
            return
        comp = layers[index]
        summary = panel.summary
        info = summary.layers[index] if summary is not None and \
            index < len(summary.layers) else None
        share_menu = menu.addMenu("Share weights with…")
        share_menu.setToolTipsVisible(True)
        if info is not None and info.error is None and info.input_shape is not None and \
                not info.num_params and info.shared_with is None:
            share_menu.setEnabled(False)
            share_menu.setTitle("Share weights with… (this layer has no weights)")
        options = share_options(layers, summary, index)
        for option in options:
            text = option.text + ("  ✓" if comp.share == option.index else "")
            action = share_menu.addAction(text)
            action.setData(option.index)
            if option.problem:
                action.setEnabled(False)
                action.setText(f"{option.text}: {_short_reason(option.problem)}")
                action.setToolTip(option.problem)
            else:
                action.triggered.connect(
                    lambda _=False, i=index, s=option.index: self.share_weights(i, s))
        if not options:
            none = share_menu.addAction(f"(no earlier {comp.type} layer to share with)")
            none.setEnabled(False)
        stop = menu.addAction("Stop sharing")
        stop.setEnabled(comp.share is not None)
        stop.triggered.connect(lambda _=False, i=index: self.share_weights(i, None))
        init = menu.addAction("Initialisation…")
        init.setToolTip("Give this layer its own weight and bias initialisation")
        init.triggered.connect(lambda _=False, i=index: self.edit_init(i))

    def share_weights(self, index: int, source: int | None) -> None:
        """Tie layer ``index`` to layer ``source`` (``None``: untie), as one undo step."""
        self.panel.edits.set_share(index, source)

    def edit_init(self, index: int) -> "InitDialog | None":
        """Open layer ``index``'s "Initialisation…" dialog (not modal to the app: the panel
        applies the result, as one undo step, when it is accepted)."""
        from workbench.qt.panels.model.layer_dialogs import InitDialog

        panel = self.panel
        layers = panel.experiment.model.layers
        if not panel.torch_ready or not 0 <= index < len(layers):
            return None
        summary = panel.summary
        info = summary.layers[index] if summary is not None and \
            index < len(summary.layers) else None
        params = info.params if info is not None and info.input_shape is not None and \
            info.error is None else None
        if self.init_dialog is not None:
            self.init_dialog.close()
        dialog = InitDialog(layers, index, panel.experiment.init, params, panel)
        dialog.accepted.connect(lambda d=dialog: self._on_init_accepted(d))
        dialog.finished.connect(lambda _=0, d=dialog: self._on_init_finished(d))
        self.init_dialog = dialog
        dialog.open()
        return dialog

    def _on_init_accepted(self, dialog: "InitDialog") -> None:
        layers = self.panel.experiment.model.layers
        # The dialog edits the layer it was opened for; if it moved meanwhile, find it.
        if dialog.index < len(layers) and layers[dialog.index] is dialog.comp:
            self.panel.edits.set_init(dialog.index, dialog.value())
        else:
            self._say("The layer changed while its initialisation dialog was open: open it "
                      "again.", "warning")

    def _on_init_finished(self, dialog: "InitDialog") -> None:
        if self.init_dialog is dialog:
            self.init_dialog = None
        dialog.deleteLater()

    def backbone_notes(self, layers: list) -> list[str]:
        """The core's notes on the Backbone layers' weights, cached for a few seconds.

        Each call builds the backbones on the meta device (tens of ms each), and the panel
        asks after every edit: the notes are reused while the Backbone layers are unchanged,
        and looked up again after :data:`NOTES_TTL_S` (a weights file copied meanwhile) or
        :meth:`forget_backbone_notes`.
        """
        from workbench.core.model.backbone_weights import backbone_notes

        key = repr([(i, c.params) for i, c in enumerate(layers) if c.type == "Backbone"])
        now = time.monotonic()
        if self._notes is None or self._notes[0] != key or now - self._notes[1] > NOTES_TTL_S:
            self._notes = (key, now, backbone_notes(layers))
        return self._notes[2]

    def forget_backbone_notes(self) -> None:
        """Look for the backbones' weights files again at the next refresh."""
        self._notes = None

    def use_backbone_preprocessing(self, index: int) -> None:
        """Set ``data.mean``, ``data.std`` and ``data.input_size`` from Backbone layer
        ``index``'s pretrained weights (one undo step; the Data tab hears it from the
        Experiment)."""
        from workbench.core.model.backbone_weights import backbone_preprocessing

        panel = self.panel
        layers = panel.experiment.model.layers
        if not 0 <= index < len(layers) or layers[index].type != "Backbone":
            return
        from workbench.core.model.layers import LAYERS

        arch = {**LAYERS.get("Backbone").defaults(), **(layers[index].params or {})}["arch"]
        try:
            prep = backbone_preprocessing(arch)
        except WorkbenchError as e:
            self._say(f"Cannot use layer {index + 1}'s preprocessing: {e}", "error")
            return
        values = {"mean": prep["mean"], "std": prep["std"], "input_size": prep["input_size"]}
        data = panel.experiment.data
        changed = panel.edits.set_data(f"Use {arch}'s preprocessing", values)
        h, w = prep["input_size"]
        extra = "" if int(data.channels) == 3 else (
            f" The backbone expects 3 (RGB) channels but data.channels is {data.channels}: "
            f"set channels to 3 on the Data tab.")
        self._say((f"Data settings set to {arch}'s: input {h}×{w}, ImageNet mean and std "
                   f"(Ctrl+Z undoes it)." if changed else
                   f"The data settings already match {arch}'s preprocessing.") + extra,
                  "warning" if extra else "ok")


def _short_reason(problem: str) -> str:
    """The gist of a tie problem for a menu line ("its weight is 64x64 where layer 2's is
    64x768"); the whole message is the entry's tooltip."""
    if " but " in problem:
        return problem.split(" but ", 1)[1].split(": ", 1)[0]
    return problem


def _file_name(path: str) -> str:
    from pathlib import Path

    return Path(path).name
