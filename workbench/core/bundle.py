"""The bundle: one file carrying weights, the Experiment and the class names.

It is a plain ``torch.save`` of a dict of tensors and JSON-like data::

    {"format_version": 1, "experiment": {...}, "classes": [...], "state_dict": {...},
     "info": {"epoch": 7, "restored_best": false, "metrics": {"val_acc": ...}, "name": ...},
     "split": {"kind": "workbench-split", ...}}

(``info``, optional, says which epoch's weights these are and what they scored; ``split``,
optional, is the run's split record as its ``split.json`` holds it, so a bundle moved out
of its run folder still knows which images it was validated on, not trained on: see
:mod:`workbench.core.data.split_record`), so plain PyTorch can read it with
``torch.load(path, weights_only=True)``. It is written atomically and read with
``weights_only=True``: a file whose pickle would run code is refused.

:func:`load_bundle` also takes a run's checkpoint (``RUN/checkpoints/best.pt`` or
``last.pt``) as a model: its weights, experiment and classes, with a note saying which
epoch it holds; its split is the one in its run folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import pickle
import re
import shlex
import threading
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from workbench.core.errors import BundleError, SpecError, WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.io import atomic_write

BUNDLE_FORMAT_VERSION = 1
#: A run checkpoint's ``kind`` (:mod:`workbench.core.train.checkpoint`, which imports this
#: module: named here, not imported).
_CHECKPOINT_KIND = "workbench-checkpoint"


@dataclass
class Bundle:
    """A loaded bundle."""

    experiment: Experiment
    classes: list[str]
    state_dict: dict[str, torch.Tensor]
    format_version: int = BUNDLE_FORMAT_VERSION
    path: str | None = None
    #: Which weights these are: ``{"epoch", "restored_best", "metrics", "name", ...}``
    #: (``{}`` for a bundle written without it).
    info: dict[str, Any] = field(default_factory=dict)
    #: The run's split record (``split.json``'s content) when the bundle carries it.
    split: dict[str, Any] | None = None
    #: What a user should hear about this file (printed as ``note:`` lines), e.g. that it
    #: is a run's checkpoint and which epoch it holds.
    notes: list[str] = field(default_factory=list)

    @property
    def is_checkpoint(self) -> bool:
        """The file is a run's checkpoint (``RUN/checkpoints/best.pt``), not a bundle."""
        return bool(self.info.get("checkpoint"))

    @property
    def run_dir(self) -> Path | None:
        """The run folder the file is in, by where it is: a bundle's own folder, a
        checkpoint's folder's parent (``RUN/checkpoints/best.pt`` -> ``RUN``)."""
        if not self.path:
            return None
        folder = Path(self.path).parent
        return folder.parent if self.is_checkpoint and folder.name == "checkpoints" else folder

    @property
    def epoch(self) -> int | None:
        """The training epoch these weights are from, when the bundle says."""
        epoch = self.info.get("epoch")
        return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None

    @property
    def val_acc(self) -> float | None:
        """These weights' validation accuracy (0..1) as the run measured it, when known."""
        metrics = self.info.get("metrics")
        value = metrics.get("val_acc") if isinstance(metrics, dict) else None
        return float(value) if isinstance(value, (int, float)) and \
            not isinstance(value, bool) else None

    def build_model(self) -> torch.nn.Module:
        """Rebuild the trained network, load its weights and put it in eval mode.

        Raises
        ------
        BundleError
            When the weights do not fit the network the bundle's Experiment describes.
        """
        from workbench.core.model.builder import build_network

        exp = self.experiment
        h, w = exp.data.input_size
        model, _ = build_network(exp.model.layers, (exp.data.channels, h, w), len(self.classes))
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as e:
            # Line 1 is only "Error(s) in loading state_dict for Sequential:"; the next
            # one says which weight and how ("size mismatch for 1.weight: ...").
            lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
            first = lines[1] if len(lines) > 1 else lines[0] if lines else ""
            raise BundleError(f"{self.path or 'bundle'}: its weights do not fit the network its "
                              f"own experiment describes ({first}); the file was altered or "
                              f"written by another program") from None
        return model.eval()


def save_bundle(path: str | Path, experiment: Experiment, classes: list[str],
                state_dict: Mapping[str, torch.Tensor],
                info: Mapping[str, Any] | None = None,
                split: Mapping[str, Any] | None = None) -> Path:
    """Write a bundle atomically (a crash mid-write leaves any previous file intact).

    ``info``: plain JSON-like values saying which weights these are (see :class:`Bundle`);
    ``split``: the run's split record (``SplitRecord.to_dict()``, ``split.json``'s content).
    """
    path = Path(path)
    payload = {
        "format_version": BUNDLE_FORMAT_VERSION,
        "experiment": experiment.to_dict(),
        "classes": [str(c) for c in classes],
        "state_dict": {k: v.detach().to("cpu").clone() for k, v in state_dict.items()},
    }
    if info:
        payload["info"] = json.loads(json.dumps(dict(info)))  # plain data only
    if split:
        payload["split"] = json.loads(json.dumps(dict(split)))
    atomic_write(path, lambda f: torch.save(payload, f))
    return path


def load_bundle(path: str | Path) -> Bundle:
    """Read a bundle safely (``weights_only=True``: nothing in the file is executed).

    ``path`` may be a run folder: its ``bundle.pt`` is read (see :func:`bundle_in_folder`).

    Raises
    ------
    BundleError
        For a missing, truncated, foreign, unsafe or newer-format file, each with a message
        saying which and what to do.
    """
    path = Path(path)
    if not path.exists():
        raise BundleError(f"bundle {path} does not exist: give a run folder (as workbench "
                          f"train --out writes it) or its {BUNDLE_NAME}")
    if path.is_dir():
        path = bundle_in_folder(path)
    try:
        data = load_torch_file(path, "bundle", BundleError)
    except BundleError:
        if _is_experiment_file(path):  # the file a run is trained from, not its model
            train = f"workbench train {shlex.quote(str(path))} --out RUN"
            raise BundleError(f"{path} is an experiment file, not a trained model: train it "
                              f"first ({train}, or the Train tab), then give the run folder "
                              f"or its {BUNDLE_NAME}") from None
        raise
    return _bundle_from_dict(data, str(path))


def _is_experiment_file(path: Path) -> bool:
    """Whether ``path`` holds an experiment's JSON (its ``data`` and ``model`` sections)."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read(1 << 20).decode("utf-8-sig"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "data" in data and "model" in data


#: The file a run folder keeps its model in; a folder given as a bundle means this file.
BUNDLE_NAME = "bundle.pt"


def bundle_in_folder(folder: Path) -> Path:
    """The bundle a folder given as a bundle stands for: its :data:`BUNDLE_NAME` (a run
    folder, as ``resume`` and ``report`` take it).

    Raises
    ------
    BundleError
        When it holds none, saying what it holds and what to give instead: a run that has
        not finished (still training, interrupted, stopped before it kept a model) is told
        apart from any other folder.
    """
    from workbench.core.runs.record import is_run_folder

    bundle = folder / BUNDLE_NAME
    if bundle.is_file():
        return bundle
    if not is_run_folder(folder):
        files = sorted(p.name for p in folder.glob("*.pt"))
        holds = (f"it holds {', '.join(files[:3])}{' ...' if len(files) > 3 else ''}: give "
                 f"the bundle file itself" if files else "give a bundle file, or a run "
                 "folder holding one")
        raise BundleError(f"{folder} is a folder with no {BUNDLE_NAME} in it; {holds}")
    from workbench.core.runs.store import current_status, read_run_info
    from workbench.core.train.resume_hint import resume_command

    info = read_run_info(folder)
    status = current_status(folder, str(info.get("status") or ""))
    why = {"running": "the run is still training (it writes the bundle when it ends)",
           "interrupted": "the run was interrupted before it finished",
           "finished": "the run finished, but its bundle was removed",
           "": "the run did not finish"}.get(status)
    if why is None:  # stopped, diverged, out of memory, failed, ...
        why = f"the run ended ({status.replace('_', ' ')}) before it kept a model"
    checkpoint = next((folder / "checkpoints" / n for n in ("best.pt", "last.pt")
                       if (folder / "checkpoints" / n).is_file()), None)
    if checkpoint is None:
        todo = ("wait for it to finish" if status == "running" else
                "it holds no trained weights (no checkpoint either): train it again")
    else:
        resume = "" if status in ("running", "finished") else \
            f", or finish it first with: {resume_command(folder, world_size=_processes(info))}"
        todo = f"to use the weights it has so far, give its checkpoint {checkpoint}{resume}"
    raise BundleError(f"{folder} is a run folder with no {BUNDLE_NAME} yet: {why}; {todo}")


def _processes(info: dict[str, Any]) -> int | None:
    """How many processes (torchrun's) the last session of the run with run.json ``info``
    trained on; None when it does not say."""
    sessions = info.get("processes")
    last = sessions[-1] if isinstance(sessions, list) and sessions else None
    world = last.get("world_size") if isinstance(last, dict) else None
    return world if isinstance(world, int) and not isinstance(world, bool) else None


def load_torch_file(path: Path, what: str, error: type[WorkbenchError],
                    mmap: bool = False) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, every failure an ``error``
    calling the file a ``what`` ("bundle", "checkpoint"); ``mmap``: its tensors mapped,
    not read (a cheap look at what the file holds).

    A file whose pickle would run code is refused by torch's safe unpickler before anything
    runs; the message names what it asked to load. Damaged bytes are never called
    dangerous. Torch's own reason is given as its first sentence only (:func:`_reason`).
    A file that cannot be opened or read (no read permission, a failing drive) is not
    called damaged: its ``error`` says what to do, and keeps the :class:`OSError` as its
    ``__cause__`` (its ``errno``), for a caller that must tell it from a damaged file.
    """
    try:
        with _torch_warnings_silenced():
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as e:
        # The safe unpickler names the global it refused ("... unsupported GLOBAL
        # posix.system ..."); any other unpickling error means the bytes are damaged or no
        # pickle at all.
        match = re.search(r"GLOBAL ([\w.]+)", str(e))
        if match:
            raise error(f"{path} was refused: it asks to load {match.group(1)}, and loading it "
                        f"could run code. Workbench opens only {what}s of tensors and plain "
                        f"data, such as the ones it writes") from None
        raise error(f"{path} is not a readable {what} (truncated, damaged or not a PyTorch "
                    f"file)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        if isinstance(e, PermissionError) or getattr(e, "errno", None) in _NOT_READ:
            todo = "give yourself read permission on it" if isinstance(e, PermissionError) \
                else "check the drive it is on (connected? failing?)"
            raise error(f"{path} cannot be read ({_reason(e)}): {todo}, then try again") \
                from e
        detail = _reason(e)  # an OSError too: torch's reader says EINVAL of a cut file
        raise error(f"{path} is not a readable {what} (truncated, damaged or not a PyTorch "
                    f"file){': ' + detail if detail else ''}") from None
    except (KeyError, IndexError, TypeError, AttributeError):
        # What torch's unpickler raises on bytes that are no pickle at all (a text file
        # given by mistake): its message (a stray byte value) would mean nothing here.
        raise error(f"{path} is not a readable {what} (not a PyTorch file)") from None


#: What an :class:`OSError` says of a file that could not be read, not of its bytes
#: (besides no permission): a failing drive, a network drive gone.
_NOT_READ = (errno.EIO, errno.ESTALE, errno.ENOTCONN, errno.ETIMEDOUT)

#: Torch's reason is given only when its first sentence is no longer than this: a longer
#: one is its internals, not something a person acts on.
_REASON_CHARS = 160


def _reason(e: BaseException) -> str:
    """Why torch could not read a file, in a few words: an OSError's own ("Permission
    denied"), else the first sentence of torch's message ("PytorchStreamReader failed
    reading zip archive: failed finding central directory", without "This is an internal
    miniz error. If you are seeing this error, ..."); never cut mid-sentence: ``""`` when
    that sentence is too long to be one a person reads."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    text = str(e).strip()
    if not text:
        return type(e).__name__
    first = re.split(r"(?<=[.!?])\s", text.splitlines()[0], maxsplit=1)[0].rstrip(".")
    return first if len(first) <= _REASON_CHARS else ""


@contextlib.contextmanager
def _torch_warnings_silenced():
    """Hide the warnings torch prints while it reads a file (a plain pickle gives "Detected
    pickle protocol 4 in the checkpoint ..."): they are about the file's format, and the
    error that follows says what a user can do. Warning filters are process-wide and
    ``catch_warnings`` is not thread-safe, so only the main thread (where the CLI runs)
    changes them; elsewhere torch's warnings go to the log as before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _bundle_from_dict(data: Any, where: str) -> Bundle:
    if isinstance(data, dict) and data.get("kind") == _CHECKPOINT_KIND:
        return _bundle_of_checkpoint(data, where)
    if not isinstance(data, dict) or not {"experiment", "classes", "state_dict"} <= set(data):
        raise BundleError(f"{where} is a PyTorch file but not a Workbench bundle (it lacks "
                          f"experiment, classes or state_dict); train a model in Workbench to "
                          f"make one")
    version = data.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise BundleError(f"{where}: format_version {version!r} is not valid")
    if version > BUNDLE_FORMAT_VERSION:
        raise BundleError(f"{where} is bundle format {version}, written by a newer Workbench; "
                          f"this one reads up to {BUNDLE_FORMAT_VERSION}: upgrade Workbench")
    try:
        experiment = Experiment.from_dict(data["experiment"])
    except SpecError as e:
        raise BundleError(f"{where}: its experiment is invalid: {e}") from None
    classes = data["classes"]
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise BundleError(f"{where}: classes must be a list of names")
    if not classes:  # a network with no outputs: prediction would fail deep in torch
        raise BundleError(f"{where}: it lists no classes; the file was altered or written "
                          f"by another program")
    state = data["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BundleError(f"{where}: state_dict must map names to tensors")
    info, split = data.get("info"), data.get("split")
    return Bundle(experiment, list(classes), dict(state), version, where,
                  dict(info) if isinstance(info, dict) else {},
                  dict(split) if isinstance(split, dict) else None)


def _bundle_of_checkpoint(data: dict, where: str) -> Bundle:
    """A run's checkpoint (``checkpoints/best.pt``, ``last.pt``) read as a model: its
    weights, experiment and classes, and a note saying which epoch it holds."""
    version = data.get("format_version")
    if not isinstance(version, int) or version > 1:
        raise BundleError(f"{where} is checkpoint format {version!r}, written by a newer "
                          f"Workbench: upgrade Workbench")
    epoch, history = data.get("epoch"), data.get("history")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or not isinstance(history, list):
        raise BundleError(f"{where} is a damaged checkpoint (no epoch or history): use the "
                          f"run's bundle.pt or its other checkpoint")
    last = history[-1] if history and isinstance(history[-1], dict) else {}
    metrics = {k: v for k, v in last.items() if k != "epoch" and isinstance(v, (int, float))
               and not isinstance(v, bool)}
    name = Path(where).name
    bundle = _bundle_from_dict({"format_version": 1, "experiment": data.get("experiment"),
                                "classes": data.get("classes"), "state_dict": data.get("model"),
                                "info": {"epoch": epoch, "restored_best": False,
                                         "metrics": metrics, "checkpoint": name}}, where)
    # In the Runs tab's unit and rounding (88.8%, not 0.887).
    score = f", val_acc {metrics['val_acc'] * 100:.1f}%" if "val_acc" in metrics else ""
    which = "the best epoch so far" if name == "best.pt" else \
        "the last epoch finished" if name == "last.pt" else "when it was saved"
    planned = bundle.experiment.training.epochs
    bundle.notes.append(f"{where} is a run's checkpoint, not a bundle: using the model it "
                        f"holds, the weights of epoch {epoch} of {planned} ({which}{score})")
    return bundle
