"""A bundle's class names, read without torch and without loading its weights.

A bundle (:mod:`workbench.core.bundle`) is a ``torch.save`` zip archive whose ``data.pkl``
holds the payload dict; its tensors are only references to other members of the archive.
:func:`bundle_classes` (and :func:`bundle_data_folder`) unpickles ``data.pkl`` alone,
with every tensor reference and every class outside a few plain builtins replaced by a
stand-in, so listing the runs (for the Evaluate and Predict model choosers) reads a few
kilobytes per bundle and runs no code from the file. Results are cached by path, size and modification time.
:func:`checkpoint_epoch` reads a run's checkpoint the same way: which epoch it holds and
what that epoch measured.
"""

from __future__ import annotations

import os
import pickle
import threading
import zipfile
from pathlib import Path

_SAFE = {("collections", "OrderedDict"), ("builtins", "dict"), ("builtins", "list"),
         ("builtins", "set"), ("builtins", "tuple"), ("builtins", "frozenset")}
#: (classes, data folder, (epoch, that epoch's metrics) of a checkpoint or None)
_Info = tuple[list[str] | None, str | None, tuple[int, dict] | None]
_cache: dict[str, tuple[tuple[int, int], _Info]] = {}
_lock = threading.Lock()


class _Stub:
    """Whatever the payload holds that is not plain data (tensors, torch classes)."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Stub()

    def __setstate__(self, state):
        pass


class _PayloadReader(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE:
            return super().find_class(module, name)
        return _Stub

    def persistent_load(self, pid):
        return _Stub()


def _read_info(path: str) -> _Info:
    """(classes, the experiment's ``data.folder``, a checkpoint's epoch and metrics) of the
    bundle or checkpoint at ``path``."""
    with zipfile.ZipFile(path) as z:
        member = next((n for n in z.namelist()
                       if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if member is None:
            return None, None, None
        with z.open(member) as f:
            payload = _PayloadReader(f).load()
    if not isinstance(payload, dict):
        return None, None, None
    classes = payload.get("classes")
    if not (isinstance(classes, list) and classes and all(isinstance(c, str) for c in classes)):
        classes = None
    exp = payload.get("experiment")
    data = exp.get("data") if isinstance(exp, dict) else None
    folder = data.get("folder") if isinstance(data, dict) else None
    return (list(classes) if classes else None), (folder if isinstance(folder, str) else
                                                  None), _epoch_of(payload)


def _epoch_of(payload: dict) -> tuple[int, dict] | None:
    """A checkpoint's ``(epoch, that epoch's history entry)``; None for anything else."""
    epoch, history = payload.get("epoch"), payload.get("history")
    if payload.get("kind") != "workbench-checkpoint" or not isinstance(epoch, int) or \
            isinstance(epoch, bool) or not isinstance(history, list):
        return None
    entry = next((e for e in reversed(history) if isinstance(e, dict)
                  and e.get("epoch") == epoch), None)
    last = history[-1] if history and isinstance(history[-1], dict) else {}
    return epoch, dict(entry if entry is not None else last)


def _info(path: str | Path) -> _Info:
    path = str(path)
    try:
        st = os.stat(path)
    except OSError:
        return None, None, None
    key = (st.st_size, st.st_mtime_ns)
    with _lock:
        hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        info = _read_info(path)
    except Exception:  # noqa: BLE001  (any damage: unknown, not an error)
        info = (None, None, None)
    with _lock:
        _cache[path] = (key, info)
    return info


def bundle_classes(path: str | Path) -> list[str] | None:
    """The class names of the bundle at ``path``, in the model's output order; ``None``
    when they cannot be read (no such file, not a zip-format bundle, damaged)."""
    classes = _info(path)[0]
    return list(classes) if classes is not None else None


def bundle_data_folder(path: str | Path) -> str | None:
    """The dataset the bundle at ``path`` was trained on, as its experiment's
    ``data.folder`` names it ("" for the demo dataset); ``None`` when it cannot be read."""
    return _info(path)[1]


def checkpoint_epoch(path: str | Path) -> tuple[int, dict] | None:
    """``(epoch, metrics)`` of the run checkpoint at ``path``: the epoch whose weights it
    holds and that epoch's metrics.json entry (as loading it as a model reports them);
    None when it is no checkpoint or cannot be read."""
    saved = _info(path)[2]
    return (saved[0], dict(saved[1])) if saved is not None else None


def same_classes(model: list[str] | None, dataset: list[str] | None) -> bool:
    """Whether a model of classes ``model`` fits a dataset of classes ``dataset``: the
    same names (in any order), as an evaluation matches them
    (:func:`~workbench.core.data.class_names.class_key`: a folder name whose accents are
    encoded as a Mac does is the model's class). Unknown on either side counts as fitting
    (nothing to warn about)."""
    from workbench.core.data.class_names import class_key

    if not model or not dataset:
        return True
    return sorted(map(class_key, model)) == sorted(map(class_key, dataset))
