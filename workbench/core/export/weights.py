"""The bundle's weights as safetensors, beside a JSON of what they belong to.

``workbench export BUNDLE --safetensors OUT`` writes ``OUT`` (the state_dict: plain
tensors, no pickle, so loading it runs no code) and ``OUT.json`` (:func:`description_path`:
the weights file's whole name plus ``.json``, e.g. ``model.safetensors.json``), holding the
experiment, the classes and the bundle's info. Its own name, not the weights' stem with
``.json``: that is the ONNX export's preprocessing file (``model.onnx`` -> ``model.json``),
which a safetensors export of the same stem would otherwise overwrite.

Right after writing, the file is read back and every tensor compared with the bundle's, bit
for bit (:func:`verify_safetensors`), as the ONNX export runs its file in onnxruntime. Plain
PyTorch loads the weights with the network from ``--code``::

    from safetensors.torch import load_file
    model = build_model()               # from workbench export --code model.py
    model.load_state_dict(load_file("model.safetensors"))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.export.outputs import SAFETENSORS_FORMAT


def description_path(path: str | Path) -> Path:
    """Where :func:`export_safetensors` writes the description of the weights ``path``:
    ``path`` with ``.json`` appended (``model.safetensors`` -> ``model.safetensors.json``)."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def export_safetensors(bundle: Any, path: str | Path, check: bool = True
                       ) -> tuple[Path, Path]:
    """Write ``bundle``'s weights to ``path`` and its description to
    :func:`description_path` (``path`` + ``.json``); returns both paths. ``check``: then
    read the weights back (:func:`verify_safetensors`).

    Raises
    ------
    WorkbenchError
        For a ``.json`` weights name, when a file cannot be written (naming it), or when
        the weights do not read back as the bundle's.
    """
    from safetensors.torch import save

    from workbench.core.io import atomic_write, atomic_write_text, write_error

    path = Path(path)
    json_path = description_path(path)
    if path.suffix.lower() == ".json":
        raise WorkbenchError(f"{path}: give the weights file a .safetensors name; its "
                             f"description is written beside it, to {json_path.name}")
    # Tied layers share storage: safetensors refuses aliases, so each tensor is its own copy.
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in bundle.state_dict.items()}
    doc = {"format": SAFETENSORS_FORMAT, "weights": path.name,
           "classes": list(bundle.classes), "experiment": bundle.experiment.to_dict(),
           "info": dict(bundle.info or {}),
           "load": "model = build_model() (workbench export --code); "
                   "model.load_state_dict(safetensors.torch.load_file(weights))"}
    try:
        data = save(tensors, metadata={"format": "pt", "classes": json.dumps(bundle.classes)})
        atomic_write(path, lambda f: f.write(data))
        atomic_write_text(json_path, json.dumps(doc, indent=2, default=str) + "\n")
    except OSError as e:
        raise WorkbenchError(write_error(e.filename or path, e)) from None
    if check:
        verify_safetensors(bundle, path)
    return path, json_path


def verify_safetensors(bundle: Any, path: str | Path) -> int | None:
    """Read the weights file ``path`` back and compare each tensor with ``bundle``'s: the
    same names, dtypes, shapes and bytes (a NaN of a diverged run equals itself). Returns
    how many tensors were compared; None for a stream (a FIFO, a device), which cannot be
    read back.

    Raises
    ------
    WorkbenchError
        Naming the file and the first tensor that is missing, extra or different.
    """
    from safetensors.torch import load

    from workbench.core.io import output_stream

    if output_stream(path) is not None:
        return None
    again = "export again; if it happens again, write it to another disk"
    try:
        loaded = load(Path(path).read_bytes())
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
        raise WorkbenchError(f"{path} was written but cannot be read back ({e}): "
                             f"{again}") from None
    expected = bundle.state_dict
    for key in sorted(set(expected) | set(loaded)):
        if key not in loaded or key not in expected:
            problem = (f"lacks the bundle's tensor {key}" if key not in loaded
                       else f"has a tensor {key} the bundle does not")
        elif not _same_tensor(expected[key].detach().cpu(), loaded[key]):
            problem = f"reads back a different tensor {key}"
        else:
            continue
        raise WorkbenchError(f"{path} was written but {problem}: {again}")
    return len(expected)


def _same_tensor(a: Any, b: Any) -> bool:
    """Same dtype, shape and bytes."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    import torch

    flat = [t.contiguous().reshape(-1) for t in (a, b)]
    return torch.equal(*(t.view(torch.uint8) for t in flat))
