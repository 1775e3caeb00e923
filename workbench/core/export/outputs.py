"""The files of one export, checked before any is written."""

from __future__ import annotations

import os
from typing import Iterable


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
