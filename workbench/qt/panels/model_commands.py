"""Undoable edits of the network: every change is a before/after snapshot.

Each command stores deep copies of the whole layer list (with each Component's per-layer
``init`` and ``share``, when set) before and after the edit. Undo and redo put a copy of
one snapshot back into ``experiment.model.layers``. Whole snapshots are simple and exact:
a network has tens of layers, not thousands, and no edit can be undone "almost".

A model-doctor fix may also change the global initialisation and the batch size, so its
snapshots carry those too; ordinary layer edits leave them out, so undoing a layer edit
never reverts a batch size chosen meanwhile on the Data tab.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtGui import QUndoCommand

from workbench.core.experiment import Experiment

#: Command id of parameter edits: consecutive edits of one field of one layer merge.
PARAM_EDIT_ID = 1

_NOT_SET = object()


@dataclass
class Snapshot:
    """What one network edit may change, deep-copied.

    ``init`` and ``batch_size`` are ``_NOT_SET`` unless the edit may change them (doctor
    fixes), so that restoring the snapshot leaves them alone otherwise.
    """

    layers: list
    preset: str
    init: Any = _NOT_SET
    batch_size: Any = _NOT_SET

    @classmethod
    def take(cls, exp: Experiment, extras: bool = False) -> "Snapshot":
        snap = cls(copy.deepcopy(list(exp.model.layers)), exp.model.preset)
        if extras:
            snap.init = copy.deepcopy(exp.init)
            snap.batch_size = exp.data.batch_size
        return snap

    def restore(self, exp: Experiment) -> None:
        """Put this state back; the layer list object is kept (others may hold it)."""
        exp.model.layers[:] = copy.deepcopy(self.layers)
        exp.model.preset = self.preset
        if self.init is not _NOT_SET:
            exp.init = copy.deepcopy(self.init)
        if self.batch_size is not _NOT_SET:
            exp.data.batch_size = self.batch_size

    def layer_dicts(self) -> list[dict]:
        return [layer_dict(c) for c in self.layers]


def layer_dict(comp: Any) -> dict:
    """A Component as a comparable dict, per-layer ``init``/``share`` included when set."""
    d = comp.to_dict()
    for extra in ("init", "share"):
        value = getattr(comp, extra, None)
        if value is not None:
            d[extra] = copy.deepcopy(value)
    return d


class NetworkCommand(QUndoCommand):
    """One edit of the network, undone and redone by restoring snapshots.

    Parameters
    ----------
    text
        What the edit did, for the Undo/Redo actions ("Add Conv2d", "Move layer 3 up").
    experiment_getter
        Returns the experiment to restore into (the panel's current one).
    before, after
        The states around the edit. The edit has already been made when the command is
        pushed; the first :meth:`redo` restores ``after``, which changes nothing.
    on_restored
        Called after every undo and redo (the panel redraws and says the model changed).
    merge_key
        For parameter edits: ``(layer index, field names)``; consecutive edits with the same
        key become one command (dragging a spin box's arrows is one undo step).
    """

    def __init__(self, text: str, experiment_getter: Callable[[], Experiment],
                 before: Snapshot, after: Snapshot, on_restored: Callable[[], None],
                 merge_key: tuple | None = None):
        super().__init__(text)
        self._exp = experiment_getter
        self.before = before
        self.after = after
        self._on_restored = on_restored
        self.merge_key = merge_key
        self._done = True  # pushed after the edit was made: the first redo only redraws

    def id(self) -> int:  # noqa: A003  (Qt override)
        return PARAM_EDIT_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802  (Qt override)
        if not isinstance(other, NetworkCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        if self._done:
            self._done = False
        else:
            self.after.restore(self._exp())
        self._on_restored()

    def undo(self) -> None:
        self.before.restore(self._exp())
        self._on_restored()
