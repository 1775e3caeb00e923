"""What still reads of a damaged session file: the app reopens with all of it.

Two kinds of damage, and what is kept of each:

- A file cut short (a full disk, a copy tool, a kill in the middle of a write by another
  program) or broken by a hand edit: :func:`read_partial` reads the JSON object as far as
  it goes, keeping every member that reads whole and, of the member where it stops, what
  came before the break (an experiment cut inside its ``model`` keeps its ``data`` and
  ``augment``). Of a list cut short, the elements that read whole are kept (a network cut
  inside its 14th layer keeps its first 13, and :func:`cut_said` says so plainly, and that
  the rest is lost); a list cut before its first element is dropped, and takes its default.
- An experiment with a value this Workbench refuses (``"val_fraction": 5``, a layer type
  another version has, a parameter renamed): :func:`repaired_experiment` resets only the
  field that :class:`~workbench.core.errors.SpecError` names to its default (a layer or an
  augmentation step of an unknown type is removed from its list), and tries again until
  the experiment reads; each reset is said in words, with the value it now has.

No Qt here; the app says what was kept and reset (:mod:`workbench.qt.app`).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment

#: At most this many fields are reset before the experiment is given up as a whole (every
#: reset removes something from a finite document, so this only bounds a pathological file).
MAX_RESETS = 200
#: The lists whose elements are registry components: an element of an unknown type is
#: removed, the others kept. Value: the words for an element.
_COMPONENT_LISTS = {("model", "layers"): ("layer", "the network"),
                    ("augment", "transforms"): ("augmentation step", "the augmentations")}
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\r\n]*")
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


# -- a file cut short ----------------------------------------------------------------------
def read_partial(text: str) -> tuple[dict | None, str]:
    """The JSON object ``text`` begins with, as far as it reads, and where reading stopped.

    Returns ``(members, cut)``: ``members`` holds every member that reads whole, and of an
    object member where the text breaks off, the members before the break (recursively);
    of a list member, its elements that read whole. ``cut`` is the dotted path of the
    member where reading stopped (``""`` when the object read whole, ``"(start)"`` when not
    even its first member did, ``"(top level)"`` when it stopped between two of its
    members). ``(None, "")`` when the text does not begin with an object.
    """
    pos = _SPACE.match(text, 0).end()
    if not text.startswith("{", pos):
        return None, ""
    try:
        members, cut = _object(text, pos, "")
    except RecursionError:  # brackets nested thousands deep: nothing sensible to keep
        return None, ""
    return members, cut


def _object(text: str, pos: int, where: str) -> tuple[dict, str]:
    """Members of the object at ``text[pos] == "{"``, read until the text breaks."""
    out: dict[str, Any] = {}
    pos = _SPACE.match(text, pos + 1).end()
    if text.startswith("}", pos):
        return out, ""
    while True:
        stop = where or ("(start)" if not out else "(top level)")
        try:
            key, pos = _DECODER.raw_decode(text, pos)
        except ValueError:
            return out, stop
        if not isinstance(key, str):
            return out, stop
        pos = _SPACE.match(text, pos).end()
        if not text.startswith(":", pos):
            return out, stop
        pos = _SPACE.match(text, pos + 1).end()
        here = f"{where}.{key}" if where else key
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):  # also an integer too long, brackets too deep
            if text.startswith("{", pos):
                out[key], cut = _object(text, pos, here)
                return out, cut or here
            if text.startswith("[", pos):
                items = _array(text, pos)
                if items:  # none: the list takes its default
                    out[key] = items
            return out, here
        if not _maybe_cut(value, text, pos):
            out[key] = value
        pos = _SPACE.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _SPACE.match(text, pos + 1).end()
            continue
        return out, "" if text.startswith("}", pos) else here


def _array(text: str, pos: int) -> list:
    """The elements of the array at ``text[pos] == "["`` that read whole, until the text
    breaks (an element cut or damaged is dropped, with all after it)."""
    out: list = []
    pos = _SPACE.match(text, pos + 1).end()
    while True:
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return out
        if not _maybe_cut(value, text, pos):
            out.append(value)
        pos = _SPACE.match(text, pos).end()
        if not text.startswith(",", pos):
            return out
        pos = _SPACE.match(text, pos + 1).end()


def _maybe_cut(value: Any, text: str, end: int) -> bool:
    """Whether ``value``, read up to ``text[end]``, may be the start of a longer one: a
    number the text ends right after (``4`` of a cut ``40``)."""
    return end == len(text) and isinstance(value, (int, float)) and \
        not isinstance(value, bool)


def cut_said(experiment: dict, cut: str) -> str:
    """What was kept of the field ``cut`` (a dotted path in ``experiment``, as
    :func:`read_partial` read it) where the file was cut, in words."""
    value: Any = experiment
    for part in cut.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    noun, _ = _COMPONENT_LISTS.get(tuple(cut.split(".")), ("item", "the list"))
    if isinstance(value, list) and value:
        n, kind = len(value), value[-1].get("type") if isinstance(value[-1], dict) else None
        what = f" ({kind})" if isinstance(kind, str) else ""
        kept = f"the first {noun} was kept" if n == 1 else f"the first {n} {noun}s were kept"
        check = (" (check how the network ends on the Model tab)" if cut == "model.layers"
                 else "")
        return (f"{cut} was cut short after {noun} {n}{what}: {kept}, and whatever followed "
                f"is lost{check}")
    if cut == "model.layers":
        return (f"{cut} was cut short before its first layer: the default network "
                f"(seed-cnn) is used")
    if tuple(cut.split(".")) in _COMPONENT_LISTS:
        return f"{cut} was cut short before its first {noun}: the default {noun}s are used"
    return f"{cut}: cut short there (what followed in it takes its defaults)"


# -- an experiment with a value this Workbench refuses -------------------------------------
def repaired_experiment(data: Any, validate: bool = True) -> tuple[Experiment, list[str]]:
    """``Experiment.from_dict(data)``, resetting what it refuses instead of refusing it all.

    Each :class:`SpecError` names a field: that field alone is reset to its default (a
    parameter, a setting), or removed (a layer or augmentation step of a type this
    Workbench does not have, an unknown field); a field that cannot be isolated resets its
    section (the data section keeps its folder). Only an experiment that is not an object,
    or is of a newer format, is replaced whole (its dataset folder still kept).

    Returns
    -------
    (Experiment, list[str])
        The experiment, and one sentence per reset, naming the field, what was wrong and
        what it is now (empty when ``data`` read as it is).
    """
    if not isinstance(data, dict):
        return Experiment(), [f"experiment: expected an object, got {type(data).__name__} "
                              f"(the default experiment is used)"]
    doc = copy.deepcopy(data)
    resets: list[tuple[list | None, str]] = []  # (path of a reset field, sentence)
    for _ in range(MAX_RESETS):
        try:
            exp = Experiment.from_dict(doc, validate=validate)
        except SpecError as e:
            reset = _reset(doc, e)
            if reset is None:
                return _whole(data, e, [text for _, text in resets])
            resets.append(reset)
            continue
        final = exp.to_dict()
        return exp, [text.replace("{value}", _value_at(final, path)) if path else text
                     for path, text in resets]
    return _whole(data, SpecError("experiment", "too many values this Workbench cannot use"),
                  [text for _, text in resets])


def _whole(data: dict, error: SpecError, said: list[str]) -> tuple[Experiment, list[str]]:
    """The default experiment on ``data``'s dataset folder (when it names one)."""
    exp = Experiment()
    folder = data.get("data", {}).get("folder") if isinstance(data.get("data"), dict) else None
    kept = ""
    if isinstance(folder, str) and folder and "\0" not in folder:
        exp.data.folder, kept = folder, ", on the same dataset folder"
    return exp, said + [f"{_said(error)} (the default experiment is used{kept})"]


def _reset(doc: dict, error: SpecError) -> tuple[list | None, str] | None:
    """Reset (in ``doc``) the field ``error`` names; ``(path, sentence)``, the sentence
    with ``{value}`` where the field's value goes once the experiment reads; ``None``
    when nothing short of the whole experiment can be reset."""
    path = _tokens(error.field)
    if not path or path[0] in ("experiment", "format_version") or path[0] not in doc:
        return None
    said = _said(error)
    if "params" in path:
        i = path.index("params")
        target = path[:i + 2]
        if len(target) == i + 2 and _delete(doc, target):
            if "unknown parameter" in error.problem:
                return None, f"{said} (removed)"
            return target, f"{said} (reset to {{value}})"
        if _delete(doc, path[:i + 1]):
            return path[:i + 1], f"{said} (the parameters reset to their defaults: {{value}})"
    elif path[-1] == "type" and len(path) >= 2 and isinstance(path[-2], int) \
            and tuple(path[:-2]) in _COMPONENT_LISTS:
        removed = _remove(doc, path[:-2], path[-2])
        if removed is not None:
            return None, removed.format(said=said)
    elif path[-1] == "type" and len(path) >= 2 and _delete(doc, path[:-1]):
        return path[:-1], f"{said} (reset to the default: {{value}})"
    else:
        while len(path) > 1 and isinstance(path[-1], int) and \
                tuple(path[:-1]) not in _COMPONENT_LISTS:
            path = path[:-1]  # a bad item of a list setting (input_size[0]): the setting
        if isinstance(path[-1], int):
            removed = _remove(doc, path[:-1], path[-1])
            if removed is not None:
                return None, removed.format(said=said)
        elif _delete(doc, path):
            gone = "unknown field" in error.problem or path[-1] in ("init", "share")
            return (None, f"{said} (removed)") if gone else \
                (path, f"{said} (reset to {{value}})")
    return _reset_section(doc, path[0], said)


def _reset_section(doc: dict, section: str, said: str) -> tuple[list | None, str] | None:
    """Reset a whole top-level section (the data section keeps its folder)."""
    value = doc.get(section)
    folder = value.get("folder") if section == "data" and isinstance(value, dict) else None
    if isinstance(folder, str) and value != {"folder": folder}:
        doc[section] = {"folder": folder}
        return None, f"{said} (the {section} settings were reset to their defaults; the " \
                     f"dataset folder was kept)"
    if section not in doc:
        return None
    del doc[section]
    return None, f"{said} (the whole {section} section was reset to its defaults)"


def _remove(doc: dict, list_path: list, index: int) -> str | None:
    """Remove element ``index`` of the list at ``list_path``; a sentence with ``{said}``."""
    items = _at(doc, list_path)
    if not isinstance(items, list) or not 0 <= index < len(items):
        return None
    element = items.pop(index)
    kind = element.get("type") if isinstance(element, dict) else element
    what = f", {kind}" if isinstance(kind, str) else ""
    noun, whole = _COMPONENT_LISTS.get(tuple(list_path), ("item", "the list"))
    if tuple(list_path) == ("model", "layers"):
        for later in items[index:]:  # ties name earlier layers by index
            share = later.get("share") if isinstance(later, dict) else None
            if isinstance(share, int) and not isinstance(share, bool):
                if share == index:
                    del later["share"]
                elif share > index:
                    later["share"] = share - 1
    others = f"the other {noun}s were kept" if items else "it was the only one"
    return "{said} " + f"({noun} {index + 1}{what}, was removed from {whole}; {others})"


def _tokens(field: str) -> list | None:
    """``"model.layers[3].params.k"`` -> ``["model", "layers", 3, "params", "k"]``."""
    tokens: list = []
    for part in field.split("."):
        for match in _TOKEN.finditer(part):
            tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
    return tokens or None


def _at(doc: Any, path: list) -> Any:
    for step in path:
        if isinstance(step, int) and isinstance(doc, list) and 0 <= step < len(doc):
            doc = doc[step]
        elif isinstance(step, str) and isinstance(doc, dict) and step in doc:
            doc = doc[step]
        else:
            return _MISSING
    return doc


def _delete(doc: dict, path: list) -> bool:
    """Delete the key at ``path`` (its default applies); False when it is not there."""
    parent = _at(doc, path[:-1])
    if isinstance(path[-1], str) and isinstance(parent, dict) and path[-1] in parent:
        del parent[path[-1]]
        return True
    return False


def _value_at(final: dict, path: list) -> str:
    """The value at ``path`` of the experiment as it reads now, in words."""
    value = _at(final, path)
    if value is _MISSING:
        return "its default"
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        params = value.get("params") or {}
        shown = ", ".join(f"{k} {json.dumps(v)}" for k, v in params.items())
        return f"{value['type']}{f' ({shown})' if shown else ''}"
    return json.dumps(value)


def _said(error: SpecError) -> str:
    """The error, without the list of every choice that some messages end with."""
    problem = error.problem
    for cut in ("; choose one of ", "; known fields are ", "; known parameters are "):
        problem = problem.split(cut)[0]
    return f"{error.field}: {problem}" if error.field else problem


class _Missing:
    pass


_MISSING = _Missing()
