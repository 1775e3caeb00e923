"""The Augment tab's edits of the transform list, each one undoable, and their keys.

Every edit (add, remove, move, drag to reorder, a parameter, a hint's fix) is pushed on the
panel's ``undo_stack`` as a before/after snapshot of the whole list (deep copies: a list
has a handful of steps), as the Model tab does with its layers. Consecutive edits of one
parameter of one step merge into one undo step (dragging a spin box's arrows).

Keys, while the Augment tab is shown (its panel visible; the other tabs' keys are theirs):
Ctrl+Z undo, Ctrl+Shift+Z or Ctrl+Y redo, Alt+Up/Down move the selected step, Delete
removes it while the list has the focus (a spin box keeps Delete and Ctrl+Z for its text).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeySequence

from workbench.core.data.augment.fixes import Fix, apply_fix
from workbench.core.registry import Component
from workbench.qt.panels.model.commands import SnapshotCommand
from workbench.qt.panels.model.tools import undo_redo_actions
from workbench.qt.panels.model.undo_keys import EditorUndoKeys

if TYPE_CHECKING:  # pragma: no cover
    from workbench.qt.panels.augment.panel import AugmentPanel

Snapshot = tuple[list[Component], int]  # the transforms, and the row to select


class TransformsCommand(SnapshotCommand):
    """One edit of the transform list, undone and redone by restoring snapshots."""

    def __init__(self, text: str, panel: "AugmentPanel", before: Snapshot, after: Snapshot,
                 merge_key: Any = None):
        super().__init__(text, before, after, merge_key)
        self.panel = panel

    def restore(self, snapshot: Snapshot, first: bool) -> None:
        if not first:  # the first redo (on push) has nothing to do
            self.panel._restore(snapshot)


def _action(panel: Any, text: str, keys: list[str], slot: Any, tip: str,
            context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut) -> QAction:
    action = QAction(text, panel)
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.setShortcutContext(context)
    action.setToolTip(f"{tip} ({keys[0]})")
    action.triggered.connect(lambda _checked=False: slot())
    return action


def _row_after_fix(transforms: list[Component], fix: Fix, selected: int) -> int:
    """The row to select once ``fix`` is made on ``transforms``: the step it changed (the
    ``selected`` one when the fix changed it, else the first), at its new place; for a
    step put in, that step; for a removed one, the step that took its place (the last row
    when it was last)."""
    edits = {e.index: e for e in fix.edits
             if 0 <= e.index < len(transforms) and transforms[e.index].type == e.name}
    if not edits:
        return selected
    target = selected if selected in edits else min(edits)
    removed = [e for e in edits.values() if e.params is None and e.insert is None]
    row = 0  # the new row of step i
    for i in range(len(transforms)):
        e = edits.get(i)
        if i == target:
            return min(row, len(transforms) - len(removed) - 1) if e in removed else row
        if e is None or e not in removed:
            row += 2 if e is not None and e.insert is not None else 1
    return selected


class TransformEdits:
    """The list edits of :class:`~.panel.AugmentPanel` (a mixin: the panel owns ``list``,
    the experiment and :meth:`_changed`)."""

    def _install_edit_keys(self) -> None:
        from PySide6.QtGui import QUndoStack

        self.undo_stack = QUndoStack(self)
        self.undo_action, self.redo_action = undo_redo_actions(self.undo_stack, self)
        self.up_action = _action(self, "Move up", ["Alt+Up"], lambda: self.move_selected(-1),
                                 "Move the selected transform one place up")
        self.down_action = _action(self, "Move down", ["Alt+Down"],
                                   lambda: self.move_selected(1),
                                   "Move the selected transform one place down")
        self.delete_action = _action(self, "Remove", ["Delete"], self.remove_selected,
                                     "Remove the selected transform",
                                     Qt.ShortcutContext.WidgetShortcut)
        # While the tab is shown, wherever the focus is (the tab bar too): a hidden panel's
        # keys are off, so the Model tab's Ctrl+Z is the Model tab's.
        for a in (self.undo_action, self.redo_action):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addActions([self.undo_action, self.redo_action, self.up_action,
                         self.down_action])
        # Ctrl+Z in a parameter's box undoes the list's edits too (the box swallowed it).
        self.undo_keys = EditorUndoKeys(self, self.undo_action, self.redo_action)
        self.list.addAction(self.delete_action)  # the list's selection is what goes
        self.remove_button.setToolTip("Remove the selected transform (Delete)")
        self.up_button.setToolTip(self.up_action.toolTip())
        self.down_button.setToolTip(self.down_action.toolTip())

    # -- snapshots -------------------------------------------------------------------------
    def _snapshot(self) -> Snapshot:
        return copy.deepcopy(list(self.experiment.augment.transforms)), self.list.currentRow()

    def _push(self, text: str, before: Snapshot, merge_key: Any = None) -> None:
        """The edit from ``before`` is made: announce it and make it one undo step."""
        after = self._snapshot()
        if after[0] == before[0]:
            return
        self._changed()
        self.undo_stack.push(TransformsCommand(text, self, before, after, merge_key))

    def _restore(self, snap: Snapshot) -> None:
        transforms, row = snap
        self.experiment.augment.transforms[:] = copy.deepcopy(transforms)
        self._rebuild_list()
        if 0 <= row < self.list.count():
            self.list.setCurrentRow(row)
        self._changed()

    # -- edits -----------------------------------------------------------------------------
    def add_transform(self, name: str) -> None:
        """Insert transform ``name`` (default parameters) after the selected one."""
        if not self._torch:  # called before the Add menu exists: wait for the registry
            from workbench.qt.startup import torch_loader

            torch_loader().ensure_loaded()
        from workbench.core.data.augment.transforms import TRANSFORMS

        before = self._snapshot()
        comp = Component(name, TRANSFORMS.get(name).defaults())
        row = self.list.currentRow() + 1 if self.list.currentRow() >= 0 else self.list.count()
        self.experiment.augment.transforms.insert(row, comp)
        self._syncing = True
        try:
            self.list.insertItem(row, self._new_item(comp))
        finally:
            self._syncing = False
        self.list.setCurrentRow(row)
        self._show_parameters()  # the new step's parameters, to set
        self._push(f"Add {name}", before)

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        before = self._snapshot()
        name = self.experiment.augment.transforms[row].type
        del self.experiment.augment.transforms[row]
        self._syncing = True
        try:
            self.list.takeItem(row)
        finally:
            self._syncing = False
        self._on_selected(self.list.currentRow())
        self._push(f"Remove {name}", before)

    def move_selected(self, step: int) -> None:
        row = self.list.currentRow()
        new = row + step
        if row < 0 or not 0 <= new < self.list.count():
            return
        before = self._snapshot()
        items = self.experiment.augment.transforms
        items.insert(new, items.pop(row))
        self._syncing = True
        try:
            self.list.insertItem(new, self.list.takeItem(row))
        finally:
            self._syncing = False
        self.list.setCurrentRow(new)
        self._push(f"Move {items[new].type} {'up' if step < 0 else 'down'}", before)

    def _sync_from_list(self) -> None:
        """A drag in the list reordered it: the experiment follows (one undo step)."""
        order = []
        for row in range(self.list.count()):
            comp = self._components.get(self.list.item(row).data(Qt.ItemDataRole.UserRole))
            if comp is not None and all(comp is not c for c in order):
                order.append(comp)
        transforms = self.experiment.augment.transforms
        if [id(c) for c in order] != [id(c) for c in transforms]:
            before = (copy.deepcopy(list(transforms)), self.list.currentRow())
            transforms[:] = order
            self._push("Reorder the transforms", before)

    @Slot(dict)
    def _on_params(self, values: dict) -> None:
        row = self.list.currentRow()
        transforms = self.experiment.augment.transforms
        if 0 <= row < len(transforms):
            before = self._snapshot()
            old = transforms[row].params
            fields = tuple(sorted(k for k in values if old.get(k) != values[k]))
            transforms[row].params = dict(values)
            self._push(f"Edit {transforms[row].type} {', '.join(fields)}", before,
                       merge_key=(row, fields))

    @Slot(object)
    def apply_fix(self, fix: Fix) -> None:
        """Make the edit of a hint's fix (:func:`~workbench.core.data.augment.fixes.apply_fix`);
        its Undo button (:meth:`undo_fix`), like Ctrl+Z, puts the list back."""
        before = self._snapshot()
        transforms = self.experiment.augment.transforms
        transforms[:] = apply_fix(transforms, fix)
        self._rebuild_list()
        row = _row_after_fix(before[0], fix, before[1])
        if 0 <= row < self.list.count():  # the changed step, its form showing the change
            self.list.setCurrentRow(row)
        self._push(fix.label, before)
        self._set_undo((fix.label, before[0]))

    @Slot()
    def undo_fix(self) -> None:
        """Put the transforms back as they were before the last fix (still the last edit:
        any other edit hides the Undo button)."""
        if self._undo is not None:
            self.undo_stack.undo()

    def _set_undo(self, undo: tuple[str, list[Component]] | None) -> None:
        self._undo = undo
        self.hint_view.set_undo(undo[0] if undo else None)
