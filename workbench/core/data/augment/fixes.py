"""Hints about the augmentation list, each with the edit that answers it.

A :class:`Hint` is a sentence for the user and, where one edit answers it, a :class:`Fix`:
remove a step, set some of its parameters ("Limit rotation to 30°"), or put a step before
it ("Resize to 74 first"). The hints come from
:func:`~workbench.core.data.augment.hints.label_hints` (an augmentation that may change
the label) and :func:`~workbench.core.data.augment.pipeline_hints.pipeline_hints`
(a crop that misses the images, a second normalisation). :func:`offered_fixes` merges the
fixes of several hints that share a button (every flip removed by one "Remove the flips");
:func:`apply_fix` makes the edit on a transform list. Plain data, torch-free.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Sequence

from workbench.core.data.augment.naming import step_label
from workbench.core.registry import Component

#: :attr:`Fix.key` of the fix that removes label-changing flips.
FLIPS = "flips"


@dataclass(frozen=True)
class Edit:
    """One step's change: ``params`` None removes it, else they are set on it; with
    ``insert`` (a ``{"type", "params"}`` step) that step is put before it instead, and
    ``params`` None keeps it as it is."""

    index: int
    name: str
    params: dict | None = None
    insert: dict | None = None

    def describe(self) -> str:
        """``"RandomRotation (step 3): set degrees to 30"``, ``"Grayscale (step 2):
        remove it"`` or ``"RandomCrop (step 1): put Resize (size [74]) before it"``."""
        what = "remove it" if self.params is None else "set " + ", ".join(
            f"{k} to {_value(v)}" for k, v in self.params.items())
        if self.insert is not None:
            args = ", ".join(f"{k} {_value(v)}" for k, v in self.insert["params"].items())
            what = f"put {self.insert['type']} ({args}) before it" + \
                ("" if self.params is None else f", {what}")
        return f"{step_label(self.name, self.index)}: {what}"


def _value(v: Any) -> str:
    if v is None:
        return "the input size (auto)"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


@dataclass(frozen=True)
class Fix:
    """A one-click answer to one or more hints.

    Attributes
    ----------
    label
        The button's text, e.g. ``"Limit rotation to 30°"``.
    edits
        What it changes, step by step.
    key
        Fixes with the same key (default: the label) are one button.
    many
        The label when the button edits several steps (``"Remove the flips"``); empty: the
        same as ``label``.
    """

    label: str
    edits: tuple[Edit, ...]
    key: str = ""
    many: str = ""

    def describe(self) -> str:
        """What the fix does, for a tooltip: one ``Edit.describe`` per step."""
        return "; ".join(e.describe() for e in self.edits) + "."


@dataclass(frozen=True)
class Hint:
    """A sentence about step ``index`` of the list and, optionally, its :class:`Fix`;
    ``stops``: the step stops training with an error on the dataset's typical image (a crop
    larger than it), so a run should not start until it is fixed."""

    text: str
    index: int = -1
    fix: Fix | None = None
    stops: bool = False


def remove(index: int, name: str, label: str = "", key: str = "", many: str = "") -> Fix:
    """The fix that removes step ``index`` (a transform ``name``)."""
    return Fix(label or f"Remove {name}", (Edit(index, name, None),), key, many)


def set_params(index: int, name: str, params: dict, label: str, key: str = "") -> Fix:
    """The fix that sets ``params`` on step ``index``."""
    return Fix(label, (Edit(index, name, dict(params)),), key)


def insert_before(index: int, name: str, step: dict, label: str) -> Fix:
    """The fix that puts ``step`` (``{"type", "params"}``) before step ``index``."""
    return Fix(label, (Edit(index, name, None, dict(step)),))


def offered_fixes(hints: Sequence[Hint]) -> list[Fix]:
    """The fixes of ``hints``, one per key, in order of first appearance.

    Fixes sharing a key become one whose edits are all of theirs (each step once); its
    label is ``many`` when it edits more than one step.
    """
    merged: dict[str, list[Any]] = {}
    for h in hints:
        if h.fix is None:
            continue
        key = h.fix.key or h.fix.label
        slot = merged.setdefault(key, [h.fix, []])
        for e in h.fix.edits:
            if all(e.index != seen.index for seen in slot[1]):
                slot[1].append(e)
    out = []
    for first, edits in merged.values():
        label = first.many if len(edits) > 1 and first.many else first.label
        out.append(Fix(label, tuple(sorted(edits, key=lambda e: e.index)), first.key,
                       first.many))
    return out


def apply_fix(transforms: Sequence[Any], fix: Fix) -> list[Any]:
    """``transforms`` with ``fix`` made: removed steps left out, others' params updated,
    inserted steps put before theirs (a dict where the step is one, else a Component).

    The input is not changed: a step the fix edits is a copy; the others are the same
    objects. An edit whose
    step is no longer that transform (the list changed since the hint) is skipped.
    """
    by_index = {e.index: e for e in fix.edits}
    out = []
    for i, t in enumerate(transforms):
        e = by_index.get(i)
        name = t.get("type") if isinstance(t, dict) else getattr(t, "type", t)
        if e is not None and name == e.name and e.insert is not None:
            step = {"type": e.insert["type"], "params": dict(e.insert["params"])}
            out.append(step if isinstance(t, dict) else Component(**step))
            if e.params is None:
                e = None  # the step itself stays as it is
        if e is None or name != e.name:
            out.append(t)
        elif e.params is not None:
            if isinstance(t, dict):
                out.append({**t, "params": {**dict(t.get("params") or {}), **e.params}})
            else:
                new = copy.deepcopy(t)
                new.params = {**dict(new.params or {}), **e.params}
                out.append(new)
    return out

