"""What still reads of a run's run.json that cannot be parsed (cut short by a kill or a
full disk, broken by a hand edit), and what a resume says of it: the run's name, creation
date and notes, which a new run.json would otherwise lose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.core.runs.record import RUN_INFO

#: What a person gave a run and a resume would otherwise lose with a damaged run.json.
_THEIRS = (("name", "its name"), ("created", "its creation date"), ("notes", "its notes"))


def damaged_run_info(path: str | Path) -> dict[str, Any] | None:
    """What still reads of ``path``/run.json when it cannot be parsed (cut short by a kill
    or a full disk, broken by a hand edit): the members that read whole, read as a
    damaged session file is (:func:`~workbench.core.session_repair.read_partial`), the one
    where it breaks off left out (it is not whole). ``{}`` when nothing reads; None when
    run.json is fine or missing."""
    try:
        text = (Path(path) / RUN_INFO).read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        if isinstance(json.loads(text), dict):
            return None
    except ValueError:
        pass
    from workbench.core.session_repair import read_partial  # its Experiment: only here

    members, cut = read_partial(text)
    broken = "" if cut.startswith("(") else cut.split(".")[0]
    return {k: v for k, v in (members or {}).items() if k != broken}


def damaged_run_info_note(path: str | Path, copy: Path, recovered: dict[str, Any]) -> str:
    """What a resume of the run in ``path`` says of its damaged run.json: where it was
    kept as it was (``copy``), and which of the run's name, creation date and notes were
    read back from it (``recovered``: :func:`damaged_run_info`) and which are lost."""
    read, lost = [], []
    for key, words in _THEIRS:
        value = recovered.get(key)
        if isinstance(value, str) and value:
            read.append(f"{words} ({value})" if key == "name" else words)
        elif not isinstance(value, str):  # an empty one had nothing to lose
            lost.append(words)
    said = "".join([f"; read back from it: {_listed(read)}" if read else "",
                    f"; could not be read back: {_listed(lost)}" if lost else ""])
    return (f"{Path(path) / RUN_INFO} was damaged (cut short, or not valid JSON): it is "
            f"kept as it was in {copy}, and a new {RUN_INFO} was written{said}")


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else items[0]
