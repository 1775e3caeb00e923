"""Dotted Experiment paths of a search space (``model.layers[3].params.p``): splitting one
into keys, and finding the object and key it names, with what exists instead when it names
nothing (for :mod:`.space`)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

_SEGMENT = re.compile(r"^([A-Za-z_]\w*)((?:\[\d+\])*)$")


def _split(path: str, where: str) -> list[str | int]:
    """``"model.layers[3].params.p"`` -> ``["model", "layers", 3, "params", "p"]``."""
    if not isinstance(path, str) or not path:
        raise SpecError(where, "expected a dotted path like optimizer.params.lr")
    keys: list[str | int] = []
    for segment in path.split("."):
        m = _SEGMENT.match(segment)
        if not m:
            raise SpecError(where, f"{segment!r} is not a field name (a path looks like "
                                   f"model.layers[3].params.p)")
        keys.append(m.group(1))
        keys.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return keys


def path_exists(exp: Experiment, path: str) -> bool:
    """Whether the dotted ``path`` reaches a field of ``exp``, or the component whose
    parameter it names (a parameter left at its default is not in ``params`` until the
    experiment is validated)."""
    try:
        _resolve(exp, path.split(".params.", 1)[0])
    except SpecError:
        return False
    return True


def _resolve(exp: Experiment, path: str) -> tuple[Any, str | int]:
    """The object holding the last key of ``path``, and that key.

    Raises SpecError naming ``space.params.<path>`` and what exists where it went wrong.
    """
    where = f"space.params.{path}"
    keys = _split(path, where)
    node: Any = exp
    done = "the experiment"
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(key, int):
            if not isinstance(node, list):
                raise SpecError(where, f"{done} is not a list: remove [{key}]")
            if key >= len(node):
                raise SpecError(where, f"{done} has {len(node)} item(s) (indexes 0 to "
                                       f"{len(node) - 1})")
            nxt = node[key]
        elif isinstance(node, Component):
            if key not in ("type", "params"):
                raise SpecError(where, f"{done} has only type and params")
            nxt = getattr(node, key)
        elif dataclasses.is_dataclass(node):
            names = [f.name for f in dataclasses.fields(node)]
            if key not in names:
                raise SpecError(where, f"{done} has no field {key!r}; it has "
                                       f"{', '.join(names)}")
            nxt = getattr(node, key)
        elif isinstance(node, dict):
            if key not in node:
                owner = done.rsplit(".params", 1)[0]
                have = ", ".join(sorted(node)) or "none"
                raise SpecError(where, f"{owner} has no parameter {key!r}; its parameters "
                                       f"are {have}")
            nxt = node[key]
        else:
            raise SpecError(where, f"{done} is a value ({node!r}), not an object: end the "
                                   f"path there")
        if last:
            return node, key
        done = f"{done}[{key}]" if isinstance(key, int) else _join(done, key)
        if isinstance(nxt, Component):  # name its type: "optimizer (Adam)"
            done = f"{done} ({nxt.type})"
        node = nxt
    raise SpecError(where, "empty path")  # not reached: _split never returns []


def _join(done: str, key: str) -> str:
    return key if done == "the experiment" else f"{done}.{key}"
