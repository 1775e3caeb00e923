"""The bundle's weights as safetensors, beside a JSON of what they belong to.

``workbench export BUNDLE --safetensors OUT`` writes ``OUT`` (the state_dict: plain
tensors, no pickle, so loading it runs no code) and ``OUT.json`` (:func:`description_path`:
the weights file's whole name plus ``.json``, e.g. ``model.safetensors.json``), holding the
experiment, the classes and the bundle's info. Its own name, not the weights' stem with
``.json``: that is the ONNX export's preprocessing file (``model.onnx`` -> ``model.json``),
which a safetensors export of the same stem would otherwise overwrite. Plain PyTorch loads
the weights with the network from ``--code``::

    from safetensors.torch import load_file
    model = build_model()               # from workbench export --code model.py
    model.load_state_dict(load_file("model.safetensors"))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError


def description_path(path: str | Path) -> Path:
    """Where :func:`export_safetensors` writes the description of the weights ``path``:
    ``path`` with ``.json`` appended (``model.safetensors`` -> ``model.safetensors.json``)."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def export_safetensors(bundle: Any, path: str | Path) -> tuple[Path, Path]:
    """Write ``bundle``'s weights to ``path`` and its description to
    :func:`description_path` (``path`` + ``.json``); returns both paths.

    Raises
    ------
    WorkbenchError
        For a ``.json`` weights name, or when a file cannot be written (naming it).
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
    doc = {"format": "workbench-safetensors", "weights": path.name,
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
    return path, json_path
