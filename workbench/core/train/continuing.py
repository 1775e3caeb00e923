"""Which settings a continued run trains with: the one rule ``workbench resume`` and the
app's Continue… share.

The source is the run's checkpoint (``checkpoints/last.pt``): the experiment its weights,
optimizer and schedule were trained with. The run folder's ``experiment.json`` is a copy
the run writes as it starts; where it differs from the checkpoint's (edited by hand, or
left by a continuation that was stopped before it finished an epoch, with the epochs and
learning rate chosen then), it is applied, with a note naming what differs, as long as
the checkpoint can follow it: the changes
:func:`~workbench.core.train.resume.check_resumable` allows, as for ``resume --set``.
Another network, input size, optimizer or schedule type is refused, naming the file. An ``experiment.json`` that is not a valid
experiment is refused too, never silently replaced: fix it, or delete it to continue with
the checkpoint's settings. A missing one is written again from them.

A run whose dataset folder is gone (moved, renamed, a drive not connected) cannot train:
:func:`missing_dataset` says so and what to do (``--data DIR``, or the Data tab).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

EXPERIMENT_FILE = "experiment.json"
#: At most this many differences are named in a note (then "and N more").
SHOWN_CHANGES = 4


@dataclass
class RunSettings:
    """What continuing a run starts from.

    Attributes
    ----------
    experiment
        The settings to continue with (before the user's choices: epochs, a new rate,
        another dataset folder).
    saved
        The checkpoint's own experiment.
    classes, epoch
        The checkpoint's classes and the epochs it holds.
    notes
        What the user should hear (experiment.json's differences applied).
    schedule_epochs
        The epochs the checkpoint's ``schedule_epochs`` says its schedule runs over, as
        saved (not :attr:`~workbench.core.train.checkpoint.Checkpoint.schedule_epochs`'s
        fallback to the training epochs); 0 when it does not say, when its header could
        not be read without its tensors, or when :func:`run_settings` was given a loaded
        checkpoint.
    fallback
        Why the checkpoint is not the run's ``last.pt`` but its ``best.pt`` (the note of
        :func:`~workbench.core.train.checkpoint.continue_from`), or "".
    stopping
        Early stopping's state in the checkpoint (``{"best": ..., "bad_epochs": 2}``; {}
        where its header could not be read without its tensors).
    """

    experiment: Experiment
    saved: Experiment
    classes: list[str]
    epoch: int
    notes: list[str] = field(default_factory=list)
    schedule_epochs: int = 0
    fallback: str = ""
    stopping: dict[str, Any] = field(default_factory=dict)


def run_settings(run_dir: str | Path, checkpoint: Any = None) -> RunSettings:
    """The settings continuing ``run_dir`` trains with (the module docstring's rule).

    ``checkpoint``: the loaded :class:`~workbench.core.train.checkpoint.Checkpoint` to
    continue from (default: the run's ``last.pt``, or its ``best.pt`` where that one stands
    in, of which only the experiment, classes and epoch are read: cheap enough for the GUI
    thread).

    Raises
    ------
    WorkbenchError
        For a checkpoint that cannot be read, an ``experiment.json`` that is not a valid
        experiment, or one the checkpoint cannot continue with; each message names the
        file and what to do. Nothing on disk is changed.
    """
    run_dir = Path(run_dir)
    schedule_epochs, fallback = 0, ""
    if checkpoint is None:
        saved, classes, epoch, schedule_epochs, fallback, stopping = _head(run_dir)
    else:
        saved, classes, epoch = checkpoint.experiment, list(checkpoint.classes), \
            int(checkpoint.epoch)
        fallback = getattr(checkpoint, "note", "")
        stopping = _stopping_state(checkpoint.callbacks)
    path = run_dir / EXPERIMENT_FILE
    settings = RunSettings(saved.copy(), saved, classes, epoch,
                           schedule_epochs=schedule_epochs, fallback=fallback,
                           stopping=stopping)
    if not path.is_file():
        return settings  # written again from the checkpoint's as the run starts
    keep = (f"fix it, or delete it to continue with the settings saved in the run's "
            f"checkpoint (epoch {epoch})")
    try:
        json.loads(path.read_text(encoding="utf-8"))
        edited = Experiment.load(path).validate()
    except (OSError, UnicodeDecodeError, ValueError, WorkbenchError) as e:
        why = (f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
               if isinstance(e, json.JSONDecodeError) else _first_line(e))
        raise WorkbenchError(f"{path} is not a valid experiment ({why}): {keep}; nothing "
                             f"was changed") from None
    changes = experiment_changes(saved, edited)
    if not changes:
        return settings
    from workbench.core.train.resume import check_resumable

    try:
        check_resumable(saved, edited)
    except WorkbenchError as e:
        raise WorkbenchError(
            f"{path} differs from the settings saved in the run's checkpoint ({_listed(changes)}) "
            f"in a way the checkpoint cannot continue with: {e}. Undo that edit, or delete "
            f"{path.name} to continue with the checkpoint's settings") from None
    settings.experiment = edited
    settings.notes.append(f"{path.name} differs from the checkpoint's settings (epoch "
                          f"{epoch}): {_listed(changes)}; continuing with {path.name}'s")
    return settings


def checkpoint_head(run_dir: str | Path) -> tuple[Experiment, list[str], int]:
    """``(experiment, classes, epoch)`` of the checkpoint ``run_dir`` continues from
    (:func:`~workbench.core.train.checkpoint.continue_from`: its ``last.pt``, or its
    ``best.pt`` standing in) or of the checkpoint file ``run_dir``, without reading its
    tensors: they are mapped, not loaded. A file that cannot be read so is read in full
    for the error saying why.

    Raises
    ------
    CheckpointError
        As :func:`~workbench.core.train.checkpoint.load_checkpoint` does.
    """
    return _head(run_dir)[:3]


def _head(run_dir: str | Path) -> tuple[Experiment, list[str], int, int, str, dict]:
    """:func:`checkpoint_head`, the file's ``schedule_epochs`` as saved (an int, not a
    bool; else 0, as it is when the file cannot be mapped), the note of
    :func:`~workbench.core.train.checkpoint.continue_from` (a run folder's files are
    looked at once) and early stopping's state (:func:`_stopping_state`)."""
    import torch

    from workbench.core.train.checkpoint import (CHECKPOINT_FORMAT_VERSION, CHECKPOINT_KIND,
                                                 load_checkpoint, peek_continue)

    path = Path(run_dir)
    file, note, data = peek_continue(path) if path.is_dir() else (path, "", None)
    schedule = 0
    try:
        if data is None:
            data = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
        value = data.get("schedule_epochs")
        schedule = value if isinstance(value, int) and not isinstance(value, bool) else 0
        version = data.get("format_version")
        if data.get("kind") == CHECKPOINT_KIND and isinstance(version, int) and \
                version <= CHECKPOINT_FORMAT_VERSION:
            states = data.get("callbacks")  # none in a file from before callbacks kept theirs
            return (Experiment.from_dict(data["experiment"]),
                    [str(c) for c in data["classes"]], int(data["epoch"]), schedule, note,
                    _stopping_state(states if isinstance(states, dict) else {
                        "early_stopping": {"best": data.get("best"),
                                           "bad_epochs": data.get("bad_epochs")}}))
    except Exception:  # noqa: BLE001  (the full read below says what is wrong)
        pass
    ckpt = load_checkpoint(file)  # not its schedule_epochs: that falls back to the epochs
    return (ckpt.experiment, list(ckpt.classes), int(ckpt.epoch), schedule, note,
            _stopping_state(ckpt.callbacks))


def _stopping_state(callbacks: Any) -> dict[str, Any]:
    """Early stopping's state among a checkpoint's ``callbacks`` states; {} without one."""
    state = callbacks.get("early_stopping") if isinstance(callbacks, dict) else None
    return dict(state) if isinstance(state, dict) else {}


def experiment_changes(then: Experiment, now: Experiment) -> list[str]:
    """How ``now`` differs from ``then``, one ``"path old → new"`` per setting
    (``"optimizer.params.lr 0.001 → 0.01"``); a list (the network's layers) counts as
    one setting."""
    old, new = _flat(then.to_dict()), _flat(now.to_dict())
    return [f"{key} {_shown(old.get(key))} → {_shown(new.get(key))}"
            for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]


def missing_dataset(folder: str, remedy: str) -> str:
    """The message for a run whose dataset ``folder`` is gone, ending with ``remedy``
    (what to do: ``--data DIR``, or the Data tab); ``""`` when it is there (or is the
    generated demo dataset: an empty folder name)."""
    if not folder or os.path.exists(folder):
        return ""
    return (f"the run's dataset folder {folder} does not exist (moved, renamed, or on a "
            f"drive that is not connected): {remedy}")


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _shown(value: Any, width: int = 40) -> str:
    text = json.dumps(value) if value is not None else "(none)"
    return text if len(text) <= width else text[:width - 1] + "…"


def _listed(changes: list[str]) -> str:
    more = len(changes) - SHOWN_CHANGES
    return "; ".join(changes[:SHOWN_CHANGES]) + (f"; and {more} more" if more > 0 else "")


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
