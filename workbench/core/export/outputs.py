"""The files of one export, checked before any is written: two outputs that are one file,
a run folder's own file (:data:`RUN_FILES`, its checkpoints), and a JSON beside an output
(the ONNX preprocessing, the safetensors description) that is not an earlier export of
that kind, such as the user's experiment. Torch-free: the Export dialog asks them too."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

#: The ``"format"`` of the JSON each export writes beside its file: an existing file of that
#: name holding another format (or none) is not an earlier export, and is not replaced
#: without being asked (``workbench export --overwrite``, the dialog's question).
ONNX_FORMAT = "workbench-onnx-preprocessing"
SAFETENSORS_FORMAT = "workbench-safetensors"
_NOUNS = {ONNX_FORMAT: "ONNX export's preprocessing file",
          SAFETENSORS_FORMAT: "safetensors export's description"}

#: A run folder's own files (:mod:`workbench.core.runs.recorder` writes them): no export
#: replaces them, nor anything in its ``checkpoints/``.
RUN_FILES = ("experiment.json", "run.json", "metrics.json", "split.json", "bundle.pt")


def same_file_twice(files: Iterable[tuple[str, str, str]]) -> str | None:
    """Why an export cannot start when two of its ``files`` (``(output, what, path)``:
    the output that writes it, e.g. ``"--onnx"``; what it is, e.g. ``"--onnx's
    preprocessing"``; its path) of different outputs are one file (``net.safetensors.onnx``'s
    preprocessing is ``net.safetensors``'s description), else None. Files of one output
    clashing with each other are left to its exporter's words."""
    seen: dict[str, tuple[str, str]] = {}
    for output, what, path in files:
        key = os.path.normcase(os.path.realpath(path))
        if key in seen and seen[key][0] != output:
            return f"{seen[key][1]} and {what} would both write {path}: give them " \
                   f"different file names"
        seen.setdefault(key, (output, what))
    return None


def run_file(path: str | os.PathLike) -> str | None:
    """``"the experiment.json of the run in runs/flowers"`` when ``path`` is one of a run
    folder's own files (:data:`RUN_FILES`, or a file in its ``checkpoints/``), which an
    export never writes; else None."""
    from workbench.core.runs.record import is_run_folder  # torch-free

    target = Path(os.path.realpath(path))
    if target.name in RUN_FILES and is_run_folder(target.parent):
        return f"the {target.name} of the run in {target.parent}"
    if target.parent.name == "checkpoints" and is_run_folder(target.parent.parent):
        return f"in the checkpoints/ of the run in {target.parent.parent}"
    return None


def not_earlier_export(path: str | os.PathLike, fmt: str) -> str | None:
    """``"flowers.json exists and is a Workbench experiment, not an earlier ONNX export's
    preprocessing file"`` when the file ``path``, which an export of ``fmt``
    (:data:`ONNX_FORMAT`, :data:`SAFETENSORS_FORMAT`) writes beside its output, exists and
    is not an earlier one (its ``"format"`` is not ``fmt``); else None (no file, a stream,
    or an earlier export, replaced as the export is run again)."""
    if not os.path.isfile(path):  # a FIFO, a device: written as they are, nothing lost
        return None
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = None
    found = doc.get("format") if isinstance(doc, dict) else None
    if found == fmt:
        return None
    kind = (f"{'an' if found == ONNX_FORMAT else 'a'} {_NOUNS[found]}" if found in _NOUNS else
            "a Workbench experiment" if isinstance(doc, dict) and {"data", "model"} <= doc.keys()
            else "")
    return f"{os.fspath(path)} exists and is {kind + ', not' if kind else 'not'} an " \
           f"earlier {_NOUNS[fmt]}"
