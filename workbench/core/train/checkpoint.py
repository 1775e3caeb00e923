"""Checkpoints: everything a run needs to continue exactly where it left off.

A checkpoint is a plain ``torch.save`` of tensors and JSON-like data, written atomically and
read with ``weights_only=True`` (nothing in the file is executed)::

    {"format_version": 1, "kind": "workbench-checkpoint", "experiment": {...},
     "classes": [...], "epoch": 3, "history": [...], "model": state_dict,
     "optimizer": ..., "schedule": ..., "scaler": ... | None, "rng": {...},
     "best": {"metric", "value", "epoch"} | None, "bad_epochs": 0, "steps": 120,
     "schedule_epochs": 10, "elapsed": 12.5,
     "callbacks": {"early_stopping": {"best": ..., "bad_epochs": 0}, ...}}

``callbacks`` holds each callback's own ``state_dict()`` under its ``state_key``; a
checkpoint written before callbacks kept their state has none, and its early stopping state
is read from ``best`` and ``bad_epochs``.

The trainer writes ``checkpoints/last.pt`` at the end of every epoch and
``checkpoints/best.pt`` when the monitored metric improves (see
:class:`~workbench.core.runs.recorder.RunRecorder`). A run folder whose ``last.pt`` is
missing or damaged (a power cut) continues from its ``best.pt`` when that one is readable,
with a note saying so and from which epoch (:func:`continue_from`); one written by a newer
Workbench, or that cannot be opened (no read permission), is refused instead, saying what
to do: the continued run would write over it. With
``training.deterministic`` on, a run resumed from ``last.pt`` ends with the same weights as
one that was never interrupted: the random-number generators (Python, NumPy, torch CPU and
CUDA, and the data loader's own) are saved with the weights.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.core.bundle import load_torch_file
from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.io import atomic_write
from workbench.core.train.optim import optimizer_lr

CHECKPOINT_FORMAT_VERSION = 1
CHECKPOINT_KIND = "workbench-checkpoint"
LAST, BEST = "last.pt", "best.pt"


class CheckpointError(WorkbenchError):
    """A checkpoint file cannot be used to resume."""


@dataclass
class Checkpoint:
    """A loaded checkpoint (see the module docstring for the fields)."""

    experiment: Experiment
    classes: list[str]
    epoch: int
    history: list[dict[str, Any]]
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    schedule: dict[str, Any]
    scaler: dict[str, Any] | None
    rng: dict[str, Any]
    best: dict[str, Any] | None = None
    bad_epochs: int = 0
    steps: int = 0
    schedule_epochs: int = 0
    elapsed: float = 0.0
    path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: The learning rate the run was set to when saved (``optimizer.params.lr``), read from
    #: the file: a caller that edits :attr:`experiment` in place to resume at another rate
    #: (as ``workbench resume --lr`` does) does not change it. ``None``: take it from
    #: :attr:`experiment`.
    lr: float | None = None
    #: Each callback's saved state, by its ``state_key``.
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Why this is not the run folder's ``last.pt`` (:func:`continue_from`), or "".
    note: str = ""

    def __post_init__(self) -> None:
        if "early_stopping" not in self.callbacks:  # written before callbacks kept theirs
            self.callbacks = {**self.callbacks, "early_stopping": {
                "best": self.best, "bad_epochs": int(self.bad_epochs)}}


def rng_state(generator: torch.Generator | None = None) -> dict[str, Any]:
    """Every random-number generator a run draws from, as checkpoint-safe values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos),
                  int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "loader": generator.get_state() if generator is not None else None,
    }
    return state


def set_rng_state(state: dict[str, Any], generator: torch.Generator | None = None) -> None:
    """Restore what :func:`rng_state` captured."""
    python = state.get("python")
    if python is not None:
        version, internal, gauss = python
        random.setstate((version, tuple(internal), gauss))
    numpy = state.get("numpy")
    if numpy is not None:
        kind, keys, pos, has_gauss, cached = numpy
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    if state.get("torch") is not None:
        torch.set_rng_state(state["torch"])
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    if generator is not None and state.get("loader") is not None:
        generator.set_state(state["loader"])


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (the trainer's :meth:`checkpoint_payload`) atomically."""
    path = Path(path)
    data = {"format_version": CHECKPOINT_FORMAT_VERSION, "kind": CHECKPOINT_KIND, **payload}
    atomic_write(path, lambda f: torch.save(data, f))
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint safely.

    ``path`` may be the file or a run folder (then ``checkpoints/last.pt`` inside it).

    Raises
    ------
    CheckpointError
        For a missing, damaged, foreign or newer-format file, each with what to do.
    """
    path = Path(path)
    if not path.exists():
        if path.suffix == ".pt":
            raise CheckpointError(f"checkpoint {path} does not exist: give a run folder, or "
                                  f"its checkpoints/{LAST} or {BEST}")
        raise CheckpointError(f"run folder {path} does not exist: give the folder a run was "
                              f"trained into (workbench train --out)")
    note = ""
    if path.is_dir():
        path, note = continue_from(path)
    data = load_torch_file(path, "checkpoint", CheckpointError)
    if not isinstance(data, dict) or data.get("kind") != CHECKPOINT_KIND:
        raise CheckpointError(f"{path} is not a Workbench checkpoint (a bundle.pt cannot be "
                              f"resumed: give the run folder, or its checkpoints/{LAST})")
    _check_version(path, data)
    try:
        experiment = Experiment.from_dict(data["experiment"])
        return Checkpoint(
            experiment=experiment, classes=[str(c) for c in data["classes"]],
            epoch=int(data["epoch"]), history=list(data["history"]), model=data["model"],
            optimizer=data["optimizer"], schedule=data["schedule"], scaler=data.get("scaler"),
            rng=data.get("rng") or {}, best=data.get("best"),
            bad_epochs=int(data.get("bad_epochs", 0)), steps=int(data.get("steps", 0)),
            schedule_epochs=int(data.get("schedule_epochs") or experiment.training.epochs),
            elapsed=float(data.get("elapsed", 0.0)), path=str(path),
            lr=optimizer_lr(experiment.optimizer),
            callbacks=_callback_states(data), note=note)
    except (KeyError, TypeError, ValueError, WorkbenchError) as e:
        raise CheckpointError(f"{path} is a damaged checkpoint ({e}): resume from "
                              f"checkpoints/{BEST} or start the run again") from None


def continue_from(run_dir: str | Path) -> tuple[Path, str]:
    """The checkpoint file the run folder ``run_dir`` continues from, and a note (``""``
    for its ``checkpoints/last.pt``): when ``last.pt`` is missing or unreadable, its
    ``best.pt`` if that one is readable, the note saying why and which epoch it holds
    against the epochs run.json says were finished. Reads the files' headers only (their
    tensors mapped, not read): cheap enough for the GUI thread.

    Raises
    ------
    CheckpointError
        When neither can be continued from: a folder that is no run, a run that finished
        no epoch, or one whose checkpoints are both damaged or gone, each with what to do.
        A ``last.pt`` written by a newer Workbench, or one that cannot be opened (no read
        permission), is refused with what to do, never passed over for ``best.pt``: the
        continued run would write over it, and its epochs after ``best.pt``'s be lost.
    """
    return peek_continue(run_dir)[:2]


def peek_continue(run_dir: str | Path) -> tuple[Path, str, dict[str, Any]]:
    """:func:`continue_from`, and what the file holds (read as its header is: its tensors
    mapped, not read)."""
    run_dir = Path(run_dir)
    last, best = run_dir / "checkpoints" / LAST, run_dir / "checkpoints" / BEST
    head, problem = _peek(last)
    if head is not None:
        return last, "", head
    kept, _ = _peek(best)
    done = _epochs_done(run_dir)
    if kept is None:
        if last.exists():  # damaged, and no best.pt to take its place
            raise CheckpointError(f"{problem}, and checkpoints/{BEST} is "
                                  f"{'damaged too' if best.exists() else 'missing'}: the run "
                                  f"cannot be continued; train it again")
        if not (run_dir / "run.json").is_file():
            raise CheckpointError(f"{run_dir} is not a run folder (no run.json, no "
                                  f"checkpoints/{LAST}): give the folder a run was trained "
                                  f"into (workbench train --out)")
        if done:
            raise CheckpointError(f"run folder {run_dir} has no checkpoint to continue from: "
                                  f"run.json says {done} epoch{'s' if done != 1 else ''} "
                                  f"finished, but checkpoints/{LAST} is missing and {BEST} "
                                  f"is {'damaged' if best.exists() else 'missing too'} "
                                  f"(deleted or moved?); put them back, or train it again")
        raise CheckpointError(f"run folder {run_dir} has no checkpoint to resume from "
                              f"(checkpoints/{LAST} is missing): a run resumes from the end "
                              f"of an epoch, and this one finished none (or was trained by "
                              f"an older Workbench); train it again instead")
    epoch = int(kept.get("epoch") or 0)
    which = f"epoch {epoch}, the last finished one"
    if done > epoch:
        again = f"epoch {epoch + 1} is" if done == epoch + 1 else \
            f"epochs {epoch + 1}–{done} are"
        which = f"epoch {epoch}, not {done}, the last one run.json says finished: {again} " \
                f"trained again"
    return best, f"{problem}; continuing from checkpoints/{BEST} instead, which holds " \
        f"{which}", kept


def _peek(file: Path) -> tuple[dict[str, Any] | None, str]:
    """What the checkpoint ``file`` holds, its tensors mapped (None when it is missing or
    damaged), and why not: ``"<file> is missing"`` or the loader's message.

    Raises
    ------
    CheckpointError
        For a file written by a newer Workbench, or one that cannot be opened or read (an
        :class:`OSError`: no read permission, a failing drive): not damaged, so no other
        file may take its place.
    """
    if not file.is_file():
        return None, f"{file} is missing"
    try:
        data = load_torch_file(file, "checkpoint", CheckpointError, mmap=True)
    except CheckpointError as e:
        if isinstance(e.__cause__, OSError) and not isinstance(e.__cause__,
                                                                FileNotFoundError):
            raise
        return None, str(e)
    if not isinstance(data, dict) or data.get("kind") != CHECKPOINT_KIND:
        return None, f"{file} is not a checkpoint this Workbench continues from"
    _check_version(file, data)
    return data, ""


def _check_version(path: Path, data: dict[str, Any]) -> None:
    """Refuse a checkpoint of a format newer than this Workbench reads."""
    version = data.get("format_version")
    if not isinstance(version, int) or version > CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(f"{path} is checkpoint format {version!r}, written by a newer "
                              f"Workbench: upgrade Workbench to resume it")


def _epochs_done(run_dir: Path) -> int:
    """run.json's ``epochs_done`` (0 when it cannot be read)."""
    from workbench.core.runs.store import read_run_info

    value = read_run_info(run_dir).get("epochs_done")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _callback_states(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The callbacks' states of a checkpoint's data (none in a file written before
    callbacks kept their own: :class:`Checkpoint` then takes early stopping's from the
    top-level ``best`` and ``bad_epochs``)."""
    states = data.get("callbacks")
    if not isinstance(states, dict):
        return {}
    return {str(k): dict(v) for k, v in states.items() if isinstance(v, dict)}
