"""What still reads of a run's run.json that cannot be parsed (cut short by a kill or a
full disk, broken by a hand edit), and what a resume says of it: the run's name, creation
date and notes, which a new run.json would otherwise lose. What the damaged text no longer
holds is taken from the runs index (``runs.sqlite`` beside the run: the Runs tab's row, read
from the run.json while it was whole) and from the folder's name (``<date>_<time>-<name>``,
as :func:`~workbench.core.runs.recorder.new_run_dir` names it); only what none of them holds
is lost."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.runs.index import indexed_record
from workbench.core.runs.record import RUN_INFO, name_in_folder, time_in_folder
from workbench.core.runs.store import RunStore, kept_from_whole

#: What a person gave a run and a resume would otherwise lose with a damaged run.json.
_THEIRS = (("name", "its name"), ("created", "its creation date"), ("notes", "its notes"))
#: Where the damaged text itself is said to be, in a resume's note.
_ITSELF = "it"
_FOLDER = "the folder's name"


class Recovered(dict):
    """What :func:`damaged_run_info` read: run.json's members, and in :attr:`sources` where
    each of the name, creation date and notes that the damaged text no longer held was
    found instead (``{"created": "the folder's name"}``)."""

    sources: dict[str, str]


def damaged_run_info(path: str | Path) -> Recovered | None:
    """What still reads of ``path``/run.json when it cannot be parsed (cut short by a kill
    or a full disk, broken by a hand edit): the members that read whole, read as a
    damaged session file is (:func:`~workbench.core.session_repair.read_partial`), the one
    where it breaks off left out (it is not whole); the run's name, creation date and notes
    it no longer holds, from the runs index or the folder's name (:func:`_elsewhere`).
    Empty when nothing reads nor is found; None when run.json is fine or missing."""
    path = Path(path)
    try:
        text = (path / RUN_INFO).read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    except OSError:
        text = ""
    try:
        if isinstance(json.loads(text), dict):
            return None
    except ValueError:
        pass
    from workbench.core.session_repair import read_partial  # its Experiment: only here

    members, cut = read_partial(text)
    broken = "" if cut.startswith("(") else cut.split(".")[0]
    recovered = Recovered((k, v) for k, v in (members or {}).items() if k != broken)
    recovered.sources = {}
    missing = [key for key, _ in _THEIRS if not isinstance(recovered.get(key), str)]
    if missing:
        for key, (value, where) in _elsewhere(path).items():
            if key in missing:
                recovered[key], recovered.sources[key] = value, where
    return recovered


def _elsewhere(path: Path) -> dict[str, tuple[str, str]]:
    """The run in ``path``'s name, creation date and notes, each as ``(value, where)``,
    found outside its run.json: its row in the runs index, where that row was read from a
    whole run.json, else the folder's name (its date and its name; it holds no notes)."""
    found: dict[str, tuple[str, str]] = {}
    index = RunStore(path.parent).index_path
    row = indexed_record(index, path.name)
    if row is not None and kept_from_whole(row):  # not read from this damage
        for key, _ in _THEIRS:
            value = getattr(row, key, None)
            if isinstance(value, str) and (value or key == "notes"):
                found[key] = (value, f"the runs index ({index})")
    name, created = name_in_folder(path.name), _folder_time(path.name)
    for key, value in (("name", name), ("created", created)):
        if value and key not in found:
            found[key] = (value, _FOLDER)
    return found


def _folder_time(folder_name: str) -> str:
    """The local time a ``<date>_<time>-<name>`` folder's name carries
    (:func:`~workbench.core.runs.record.time_in_folder`), in run.json's form
    (``2026-12-01T10:00:00+01:00``); "" when it carries none."""
    local = time_in_folder(folder_name)
    try:
        return datetime.fromisoformat(local).astimezone().isoformat(timespec="seconds") \
            if local else ""
    except ValueError:  # digits that are no date (month 13)
        return ""


def damaged_run_info_note(path: str | Path, copy: Path, recovered: dict[str, Any]) -> str:
    """What a resume of the run in ``path`` says of its damaged run.json: where it was
    kept as it was (``copy``), and which of the run's name, creation date and notes were
    read back from it, which were taken from elsewhere, and from where (``recovered``:
    :func:`damaged_run_info`), and which are lost."""
    sources = getattr(recovered, "sources", {})
    found: dict[str, list[str]] = {}  # where -> what was found there, the damaged text first
    lost = []
    for key, words in _THEIRS:
        value = recovered.get(key)
        if isinstance(value, str) and value:
            shown = key == "name" or (key == "created" and key in sources)
            found.setdefault(sources.get(key, _ITSELF), []).append(
                f"{words} ({value})" if shown else words)
        elif not isinstance(value, str):  # an empty one had nothing to lose
            lost.append(words)
    said = "".join(f"; {'read back from' if where == _ITSELF else 'taken from'} {where}: "
                   f"{_listed(items)}" for where, items in
                   sorted(found.items(), key=lambda item: item[0] != _ITSELF))
    said += f"; could not be read back: {_listed(lost)}" if lost else ""
    return (f"{Path(path) / RUN_INFO} was damaged (cut short, or not valid JSON): it is "
            f"kept as it was in {copy}, and a new {RUN_INFO} was written{said}")


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else items[0]
