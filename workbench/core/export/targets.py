"""The names of an export's files, one rule for ``workbench export`` and the Export dialog
(:mod:`workbench.qt.export_job`): the suffix a name typed without it gets
(:func:`with_suffix`: ``--code mymodel`` writes ``mymodel.py``, as the dialog does), and a
folder standing where one of the files goes (:func:`folder_in_the_way`), the files beside
an output (the ONNX preprocessing, the safetensors description) included, refused before
any format is exported. Torch-free."""

from __future__ import annotations

import os

#: The suffix each output's file ends in (added by :func:`with_suffix` when it does not).
SUFFIXES = {"onnx": ".onnx", "code": ".py", "safetensors": ".safetensors"}

#: Where each output's own JSON goes, in the words of an advice to rename the output.
BESIDE = {"onnx": "its preprocessing goes to NAME.json",
          "safetensors": "its description goes to NAME.safetensors.json"}


def with_suffix(path: str | None, suffix: str) -> str | None:
    """``path`` ending in ``suffix`` (added when it does not, whatever its case:
    ``mymodel`` -> ``mymodel.onnx``, ``m.json`` -> ``m.json.onnx``). Kept as given: ""
    and None, ``-`` (stdout), a stream (a FIFO, a device: written as they are, see
    :func:`workbench.core.io.output_stream`) and an existing folder (refused as one by
    :func:`folder_in_the_way`, not written beside it)."""
    from workbench.core.io import output_stream

    if not path or path == "-" or path.lower().endswith(suffix) or _names_a_folder(path):
        return path  # (one ending in "/" names a folder: refused, not made a hidden ".py")
    if os.path.isdir(path) or output_stream(path) is not None:
        return path
    return path + suffix


def folder_in_the_way(path: str | os.PathLike | None, fix: str, where: str = "") -> str | None:
    """``"cannot write out/m.json, where --onnx's preprocessing goes: it is a folder, not a
    file; FIX"`` when the file ``path`` is an existing folder (``where``: the file it is,
    for a name the user did not type), else None."""
    if not path or not (os.path.isdir(path) or _names_a_folder(os.fspath(path))):
        return None
    place = f", where {where} goes" if where else ""
    what = "it is a folder" if os.path.isdir(path) else "it names a folder (it ends in /)"
    return f"cannot write {os.fspath(path)}{place}: {what}, not a file; {fix}"


def _names_a_folder(path: str) -> bool:
    """Whether ``path`` ends in a folder separator (``newdir/``): a folder's name, whether
    or not it exists."""
    return path.endswith(("/", os.sep)) or bool(os.altsep and path.endswith(os.altsep))


__all__ = ["SUFFIXES", "BESIDE", "with_suffix", "folder_in_the_way"]
