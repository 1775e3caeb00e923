"""The network edits behind the Model panel, each one pushed as an undoable command.

:class:`NetworkEditor` changes ``experiment.model.layers`` in place (insert, delete, move,
duplicate, parameters, preset, doctor fix), keeps weight ties (``Component.share``) pointing
at the same layers when others move, and pushes each change as a
:class:`~.commands.NetworkCommand` holding before/after snapshots. It knows no
widgets: the panel gives it callbacks to select a layer, redraw, and show an error.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from PySide6.QtGui import QUndoStack

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

from workbench.qt.panels.model.commands import DATA_FIELDS, NetworkCommand, Snapshot


def renumber_shares(layers: list, new_index: list[int | None]) -> None:
    """Keep weight ties pointing at the same layers after an insert, delete or move.

    ``new_index[old]`` is the new position of the layer that was at ``old`` (``None``: it
    was deleted, and a tie to it is dropped).
    """
    for comp in layers:
        share = getattr(comp, "share", None)
        if share is not None:
            comp.share = new_index[share] if 0 <= share < len(new_index) else None


class NetworkEditor:
    """Undoable edits of one experiment's layer list.

    Parameters
    ----------
    experiment
        Returns the experiment being edited (the panel's current one).
    undo_stack
        Where the commands go.
    on_restored
        Called after every edit, undo and redo (redraw, say the model changed).
    select
        ``select(index)``: the layer to select once an edit is made (-1: none).
    report_error
        ``report_error(text)``: an edit that could not be made (e.g. a fix that failed).
    on_data_changed
        Called whenever an edit, its undo or its redo changed ``experiment.data`` fields
        (a doctor fix's batch size, a backbone's preprocessing).
    """

    def __init__(self, experiment: Callable[[], Experiment], undo_stack: QUndoStack,
                 on_restored: Callable[[], None], select: Callable[[int], None],
                 report_error: Callable[[str], None],
                 on_data_changed: Callable[[], None] | None = None):
        self._exp = experiment
        self.undo_stack = undo_stack
        self._on_restored = on_restored
        self._select = select
        self._report_error = report_error
        self._on_data_changed = on_data_changed

    @property
    def layers(self) -> list[Component]:
        return self._exp().model.layers

    def edit(self, text: str, mutate: Callable[[], None], merge_key: tuple | None = None,
             extras: bool = False, select: int | None = None) -> bool:
        """Make an edit through ``mutate`` and push it as a command; False if nothing changed.

        A :class:`WorkbenchError` from ``mutate`` leaves the network as it was and is
        reported. ``extras``: the edit may change the global init and the data fields of
        :data:`~.commands.DATA_FIELDS` too.
        """
        exp = self._exp()
        before = Snapshot.take(exp, extras)
        try:
            mutate()
        except WorkbenchError as e:
            before.restore(exp)
            self._report_error(f"{text}: {e}")
            return False
        after = Snapshot.take(exp, extras)
        if select is not None:  # also when nothing changed (a layer swapped with its twin)
            self._select(select)
        if after.key() == before.key():
            return False
        self.undo_stack.push(NetworkCommand(text, self._exp, before, after, self._on_restored,
                                            merge_key, self._on_data_changed))
        return True

    def insert(self, index: int, comp: Component) -> None:
        layers = self.layers
        index = max(0, min(index, len(layers)))

        def insert() -> None:
            layers.insert(index, comp)
            renumber_shares(layers, [i if i < index else i + 1 for i in range(len(layers) - 1)])

        self.edit(f"Add {comp.type}", insert, select=index)

    def remove(self, index: int) -> None:
        layers = self.layers
        if not 0 <= index < len(layers):
            return

        def remove() -> None:
            del layers[index]
            renumber_shares(layers, [None if i == index else i - (i > index)
                                     for i in range(len(layers) + 1)])

        self.edit(f"Delete {layers[index].type}", remove, select=min(index, len(layers) - 2))

    def move(self, index: int, to: int) -> None:
        """Move layer ``index`` so that it ends up at position ``to`` (both 0-based)."""
        layers = self.layers
        if not 0 <= index < len(layers):
            return
        to = max(0, min(to, len(layers) - 1))
        if to == index:
            return
        order = list(range(len(layers)))
        order.insert(to, order.pop(index))

        def move() -> None:
            layers.insert(to, layers.pop(index))
            renumber_shares(layers, [order.index(i) for i in range(len(layers))])

        where = "up" if to < index else "down"
        self.edit(f"Move {layers[index].type} {where}", move, select=to)

    def duplicate(self, index: int) -> None:
        """Insert a copy of layer ``index`` (same settings, tie and init) right after it."""
        layers = self.layers
        if not 0 <= index < len(layers):
            return

        def duplicate() -> None:
            layers.insert(index + 1, copy.deepcopy(layers[index]))
            renumber_shares(layers, [i if i <= index else i + 1
                                     for i in range(len(layers) - 1)])

        self.edit(f"Duplicate {layers[index].type}", duplicate, select=index + 1)

    def set_params(self, index: int, values: dict, defaults: dict) -> None:
        """Set layer ``index``'s parameters; consecutive edits of the same field(s) of the
        same layer merge into one undo step."""
        layers = self.layers
        if not 0 <= index < len(layers):
            return
        comp = layers[index]
        old = {**defaults, **comp.params}
        changed = tuple(sorted(k for k in values if values[k] != old.get(k)))
        if not changed:
            return

        def assign() -> None:
            comp.params = dict(values)

        self.edit(f"Change {', '.join(changed)} of layer {index + 1} ({comp.type})", assign,
                  merge_key=(index, changed), select=index)

    def load_preset(self, name: str, layers: list[Component], changes: Any = None) -> bool:
        """Replace every layer by ``layers`` (preset ``name``) and make the preset's other
        ``changes`` (a :class:`~workbench.core.model.preset_settings.PresetChanges`: a
        backbone's preprocessing, its feature views), as one undoable step; False if
        nothing changed (the layers already those, all settings the same once defaults are
        filled in, no own init, no tie; and no other change)."""
        from workbench.core.model.preset_settings import apply_preset_changes
        from workbench.core.model.presets import same_layers  # torch-free

        exp = self._exp()
        others = changes is not None and bool(changes.changes)
        if exp.model.preset == name and same_layers(layers, exp.model.layers) and not others:
            return False

        def load() -> None:
            exp.model.layers[:] = layers
            exp.model.preset = name
            if others:
                apply_preset_changes(exp, changes)

        return self.edit(f"Load preset {name}", load, select=-1, extras=others)

    def apply_fix(self, fix: Any) -> None:
        """Apply a model-doctor fix: it may change the init and batch size too."""
        self.edit(f"Fix: {fix.label}", lambda: fix.apply(self._exp()), extras=True)

    def set_share(self, index: int, source: int | None) -> bool:
        """Tie layer ``index`` to layer ``source``'s weight and bias (``None``: untie)."""
        layers = self.layers
        if not 0 <= index < len(layers):
            return False
        comp = layers[index]

        def assign() -> None:
            comp.share = source

        text = (f"Stop layer {index + 1} sharing weights" if source is None else
                f"Share layer {source + 1}'s weights with layer {index + 1}")
        return self.edit(text, assign, select=index)

    def set_init(self, index: int, init: dict | None) -> bool:
        """Give layer ``index`` its own initialisation (``None``: the global one)."""
        layers = self.layers
        if not 0 <= index < len(layers):
            return False
        comp = layers[index]

        def assign() -> None:
            comp.init = copy.deepcopy(init) if init else None

        what = "its own" if init else "the global"
        return self.edit(f"Give layer {index + 1} {what} initialisation", assign, select=index)

    def load_model(self, text: str, model: Any) -> bool:
        """Replace the layers (and preset name) by ``model``'s (a ModelConfig): one step."""
        exp = self._exp()

        def load() -> None:
            exp.model.layers[:] = copy.deepcopy(list(model.layers))
            exp.model.preset = model.preset

        return self.edit(text, load, select=-1)

    def set_data(self, text: str, values: dict[str, Any]) -> bool:
        """Set ``experiment.data`` fields (of :data:`~.commands.DATA_FIELDS`) as one
        undoable step; the Data tab is told (``on_data_changed``)."""
        data = self._exp().data
        unknown = set(values) - set(DATA_FIELDS)
        if unknown:  # a programming error, not a user's
            raise ValueError(f"not an undoable data field: {sorted(unknown)}")

        def assign() -> None:
            for name, value in values.items():
                setattr(data, name, copy.deepcopy(value))

        return self.edit(text, assign, extras=True)
