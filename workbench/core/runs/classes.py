"""A bundle's class names, read without torch and without loading its weights.

A bundle (:mod:`workbench.core.bundle`) is a ``torch.save`` zip archive whose ``data.pkl``
holds the payload dict; its tensors are only references to other members of the archive.
:func:`bundle_classes` (and :func:`bundle_data_folder`) unpickles ``data.pkl`` alone,
with every tensor reference and every class outside a few plain builtins replaced by a
stand-in, so listing the runs (for the Evaluate and Predict model choosers) reads a few
kilobytes per bundle and runs no code from the file. Results are cached by path, size and modification time.
"""

from __future__ import annotations

import os
import pickle
import threading
import zipfile
from pathlib import Path

_SAFE = {("collections", "OrderedDict"), ("builtins", "dict"), ("builtins", "list"),
         ("builtins", "set"), ("builtins", "tuple"), ("builtins", "frozenset")}
_cache: dict[str, tuple[tuple[int, int], tuple[list[str] | None, str | None]]] = {}
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


def _read_info(path: str) -> tuple[list[str] | None, str | None]:
    """(classes, the experiment's ``data.folder``) of the bundle at ``path``."""
    with zipfile.ZipFile(path) as z:
        member = next((n for n in z.namelist()
                       if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if member is None:
            return None, None
        with z.open(member) as f:
            payload = _PayloadReader(f).load()
    if not isinstance(payload, dict):
        return None, None
    classes = payload.get("classes")
    if not (isinstance(classes, list) and classes and all(isinstance(c, str) for c in classes)):
        classes = None
    exp = payload.get("experiment")
    data = exp.get("data") if isinstance(exp, dict) else None
    folder = data.get("folder") if isinstance(data, dict) else None
    return (list(classes) if classes else None), (folder if isinstance(folder, str) else None)


def _info(path: str | Path) -> tuple[list[str] | None, str | None]:
    path = str(path)
    try:
        st = os.stat(path)
    except OSError:
        return None, None
    key = (st.st_size, st.st_mtime_ns)
    with _lock:
        hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        info = _read_info(path)
    except Exception:  # noqa: BLE001  (any damage: unknown, not an error)
        info = (None, None)
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


def same_classes(model: list[str] | None, dataset: list[str] | None) -> bool:
    """Whether a model of classes ``model`` fits a dataset of classes ``dataset``: the
    same names (in any order). Unknown on either side counts as fitting (nothing to
    warn about)."""
    if not model or not dataset:
        return True
    return sorted(model) == sorted(dataset)
