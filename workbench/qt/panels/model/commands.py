"""Undoable edits of the network: every change is a before/after snapshot.

Each command stores deep copies of the whole layer list (with each Component's per-layer
``init`` and ``share``, when set) before and after the edit. Undo and redo put a copy of
one snapshot back into ``experiment.model.layers``. Whole snapshots are simple and exact:
a network has tens of layers, not thousands, and no edit can be undone "almost".

A model-doctor fix may also change the global initialisation and the batch size, and
"Use this backbone's preprocessing" the normalisation and input size, so their snapshots
carry those data fields too (:data:`DATA_FIELDS`); ordinary layer edits leave them out, so
undoing a layer edit never reverts a batch size chosen meanwhile on the Data tab. Undo and
redo restore only the data fields the command changed, and say so
(``on_data_changed``) so that the Data tab can show them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtGui import QUndoCommand

from workbench.core.experiment import Experiment

#: Command id of parameter edits: consecutive edits of one field of one layer merge.
PARAM_EDIT_ID = 1
#: The ``experiment.data`` fields an edit with extras may change (doctor fixes, a backbone's
#: preprocessing, a backbone preset's).
DATA_FIELDS = ("batch_size", "mean", "std", "input_size", "channels")
#: Other sections' fields an edit with extras may change, as dotted paths (a preset's
#: settings: :data:`workbench.core.model.preset_settings.PRESET_SETTINGS`).
OTHER_FIELDS = ("training.feature_views",)


def _owner(exp: Experiment, name: str) -> tuple[Any, str]:
    """The section holding setting ``name`` (a data field, or a dotted path) and its field."""
    if "." in name:
        section, field_name = name.split(".", 1)
        return getattr(exp, section), field_name
    return exp.data, name

_NOT_SET = object()


@dataclass
class Snapshot:
    """What one network edit may change, deep-copied.

    ``init`` is ``_NOT_SET`` and ``data`` empty unless the edit may change them (doctor
    fixes, a backbone's preprocessing), so that restoring the snapshot leaves them alone
    otherwise. ``data`` maps :data:`DATA_FIELDS` names to their values.
    """

    layers: list
    preset: str
    init: Any = _NOT_SET
    data: dict = field(default_factory=dict)

    @classmethod
    def take(cls, exp: Experiment, extras: bool = False) -> "Snapshot":
        snap = cls(copy.deepcopy(list(exp.model.layers)), exp.model.preset)
        if extras:
            snap.init = copy.deepcopy(exp.init)
            snap.data = {name: copy.deepcopy(getattr(*_owner(exp, name)))
                         for name in DATA_FIELDS + OTHER_FIELDS}
        return snap

    @property
    def batch_size(self) -> Any:
        return self.data.get("batch_size", _NOT_SET)

    def restore(self, exp: Experiment, data_fields: tuple[str, ...] | None = None) -> None:
        """Put this state back; the layer list object is kept (others may hold it).

        ``data_fields``: which of the snapshot's data fields to put back (all by default).
        """
        exp.model.layers[:] = copy.deepcopy(self.layers)
        exp.model.preset = self.preset
        if self.init is not _NOT_SET:
            exp.init = copy.deepcopy(self.init)
        for name in self.data if data_fields is None else data_fields:
            setattr(*_owner(exp, name), copy.deepcopy(self.data[name]))

    def key(self) -> tuple:
        """Everything this snapshot holds, comparable: equal keys, nothing changed."""
        init = self.init.to_dict() if hasattr(self.init, "to_dict") else self.init
        return (self.layer_dicts(), self.preset, init, self.data)

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


class SnapshotCommand(QUndoCommand):
    """An edit undone and redone by putting back a snapshot of before or after it (the
    Model tab's network, the Augment tab's transform list). The edit is already made when
    the command is pushed, so the first :meth:`redo` puts nothing back. Consecutive
    commands with the same ``merge_key`` (a parameter's edits) merge into one undo step.
    A subclass says how a snapshot is put back: :meth:`restore`."""

    def __init__(self, text: str, before: Any, after: Any, merge_key: Any = None):
        super().__init__(text)
        self.before, self.after, self.merge_key = before, after, merge_key
        self._done = True  # pushed after the edit was made

    def id(self) -> int:  # noqa: A003  (Qt override)
        return PARAM_EDIT_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802  (Qt override)
        if type(other) is not type(self) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        first, self._done = self._done, False
        self.restore(self.after, first)

    def undo(self) -> None:
        self.restore(self.before, False)

    def restore(self, snapshot: Any, first: bool) -> None:
        """Put ``snapshot`` back (``first``: the push's redo, the edit made already)."""
        raise NotImplementedError


class NetworkCommand(SnapshotCommand):
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
    on_data_changed
        Called after the first redo, every undo and every redo of a command that changed
        ``experiment.data`` fields (the Data tab shows them again).
    """

    def __init__(self, text: str, experiment_getter: Callable[[], Experiment],
                 before: Snapshot, after: Snapshot, on_restored: Callable[[], None],
                 merge_key: tuple | None = None,
                 on_data_changed: Callable[[], None] | None = None):
        super().__init__(text, before, after, merge_key)
        self._exp = experiment_getter
        self._on_restored = on_restored
        self._on_data_changed = on_data_changed
        # Only the data fields this edit changed are put back: undoing a fix that set the
        # batch size leaves an input size chosen meanwhile on the Data tab alone.
        self.data_fields = tuple(name for name in before.data
                                 if before.data[name] != after.data.get(name))

    def restore(self, snapshot: Snapshot, first: bool) -> None:
        if not first:  # the push's redo only redraws
            snapshot.restore(self._exp(), self.data_fields)
        self._restored()

    def _restored(self) -> None:
        self._on_restored()
        if self.data_fields and self._on_data_changed is not None:
            self._on_data_changed()
