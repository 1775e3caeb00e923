"""The learning rates a run was set to, start by start: a continuation at a typed rate
changes the rate from its first epoch on, and the run's experiment.json keeps only the
latest, so a report or a table reading it alone shows the new rate as the whole run's.
Each such start says so in its notes as it starts ("learning rate changed from 0.001 to
0.0005 on resuming", :meth:`~workbench.core.train.resume.Resumable._restore_lr`), and
run.json keeps every start's notes (:mod:`.start_notes`): :func:`rates_text` reads them
back as ``"0.001, then 0.0005 from epoch 6"``."""

from __future__ import annotations

import re
from typing import Any

from workbench.core.runs.start_notes import start_segments

#: A start's note that it changed the learning rate (resume.py's wording).
_CHANGED = re.compile(r"^learning rate changed from (\S+) to (\S+) on resuming$")


def rate_changes(info: dict[str, Any]) -> list[tuple[int | None, str, str]]:
    """``(first epoch, old rate, new rate)`` of each start in run.json ``info`` that
    changed the learning rate, oldest first (the epoch None where run.json does not say:
    from before notes were kept per start); the rates as the notes write them."""
    changes = []
    for segment in start_segments(info):
        for note in segment["notes"]:
            found = _CHANGED.match(note)
            if found:
                changes.append((segment["from_epoch"], found.group(1), found.group(2)))
    return changes


def rates_text(info: dict[str, Any]) -> str:
    """The rates the run was set to, start by start: ``"0.001, then 0.0005 from epoch 6"``
    (``"then 0.0005 on a resume"`` where the epoch is not known); "" when no start changed
    it (the experiment's rate is the whole run's)."""
    changes = rate_changes(info)
    if not changes:
        return ""
    return ", then ".join([changes[0][1]] + [
        f"{new} from epoch {first}" if first is not None else f"{new} on a resume"
        for first, _old, new in changes])
