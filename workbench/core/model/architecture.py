"""A network on its own: the architecture JSON file and the text summary.

The architecture file holds just the layers (no data, training or weights), to share a
network or reuse it on another dataset::

    {"format": "workbench-architecture", "format_version": 1, "preset": "seed-cnn",
     "layers": [{"type": "Conv2d", "params": {...}}, ..., {"type": "Linear", "params": {},
                "share": 7}]}

Each layer is a Component as the Experiment JSON writes it (``init`` and ``share`` only when
set), and it is read through the same validation, so every mistake names its field.

:func:`summary_text` prints a :class:`~workbench.core.model.builder.NetworkSummary` the way
``print(model)`` prints a Sequential, with each layer's output shape and parameter count.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment, ModelConfig
from workbench.core.io import atomic_write_text, parse_json, read_text_file
from workbench.core.model.builder import NetworkSummary

ARCHITECTURE_FORMAT = "workbench-architecture"
ARCHITECTURE_VERSION = 1
_KEYS = ("format", "format_version", "preset", "layers")


def architecture_dict(model: ModelConfig) -> dict[str, Any]:
    """The JSON document of ``model``'s layers (marker and version first)."""
    return {"format": ARCHITECTURE_FORMAT, "format_version": ARCHITECTURE_VERSION,
            "preset": model.preset, "layers": [layer.to_dict() for layer in model.layers]}


def save_architecture(path: str | Path, model: ModelConfig) -> Path:
    """Write ``model``'s layers as an architecture JSON file, atomically.

    A temporary file in the same folder is renamed over ``path``, so a crash mid-write
    leaves any previous file intact. Returns the path written.
    """
    path = Path(path)
    atomic_write_text(path, json.dumps(architecture_dict(model), indent=2) + "\n")
    return path


def load_architecture(path: str | Path) -> ModelConfig:
    """Read an architecture JSON file (or take the model of an experiment JSON file).

    Raises
    ------
    SpecError
        For a missing or unreadable file, bad JSON (with line and column), a file that is not
        an architecture, a newer format version, or an invalid layer; the field is named
        (e.g. ``layers[2].type: unknown layer 'Conv3d'; choose one of ...``).
    """
    path = Path(path)
    data = parse_json(read_text_file(path, "architecture file"), str(path),
                      "fix the file or save the architecture again")
    return architecture_from_dict(data, str(path))


def architecture_from_dict(data: Any, source: str = "architecture") -> ModelConfig:
    """Validate an architecture document (see :func:`load_architecture`) into a ModelConfig."""
    if isinstance(data, dict) and "format" not in data and "model" in data:
        # An experiment file: its model is the architecture (validated with the experiment).
        return Experiment.from_dict(data).model
    if not isinstance(data, dict) or data.get("format") != ARCHITECTURE_FORMAT:
        raise SpecError("format", f"{source} is not a Workbench architecture file (it lacks "
                                  f"\"format\": \"{ARCHITECTURE_FORMAT}\"); save one from the "
                                  f"Model panel or with save_architecture")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise SpecError(unknown[0], f"unknown field in {source}; an architecture has "
                                    f"{', '.join(_KEYS)}")
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SpecError("format_version", f"expected a positive integer in {source}, got "
                                          f"{version!r}")
    if version > ARCHITECTURE_VERSION:
        raise SpecError("format_version", f"{source} is architecture format {version}, written "
                                          f"by a newer Workbench; this one reads up to "
                                          f"{ARCHITECTURE_VERSION}: upgrade Workbench to open it")
    if not isinstance(data.get("layers"), list):
        raise SpecError("layers", f"{source} must list its layers: \"layers\": [{{\"type\": "
                                  f"\"Conv2d\", \"params\": {{...}}}}, ...]")
    model = {"layers": data["layers"]}
    if "preset" in data:
        model["preset"] = data["preset"]
    try:  # the Experiment's own validation: types, parameters, init and share
        return Experiment.from_dict({"model": model}).model
    except SpecError as e:
        field = e.field[len("model."):] if e.field.startswith("model.") else e.field
        raise SpecError(field, f"{e.problem} (in {source})") from None


# -- text summary ------------------------------------------------------------------------
def _count(n: int) -> str:
    return f"{n:,}"


def _short(n: float) -> str:
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:g}"


def _call(info: Any) -> str:
    from workbench.core.model.codegen import layer_call

    try:
        return layer_call(info.type, info.params)
    except Exception:  # noqa: BLE001 - an unknown type or unresolved params: show the name
        return f"{info.type}(...)"


def summary_text(summary: NetworkSummary, name: str = "Sequential") -> str:
    """The network as ``print(model)`` shows it, with shapes, counts and totals.

    Parameters
    ----------
    summary
        From :func:`~workbench.core.model.builder.infer_shapes`, fitting or not.
    name
        The container's name on the first line.

    Returns
    -------
    str
        One line per layer, e.g. ``  (7): Linear(in_features=4096, out_features=128)
        -> (128,)   524,416 params``; a misfit is shown under its layer; then the totals
        (parameters, trainable ones and, where the summary has them, multiply-adds).
    """
    calls = [_call(info) for info in summary.layers]
    width = min(max((len(c) for c in calls), default=0), 72)
    shapes = ["?" if i.output_shape is None else str(tuple(i.output_shape))
              for i in summary.layers]
    shape_width = max((len(s) for s in shapes), default=0)
    counts = [_count(i.num_params) if i.num_params else "" for i in summary.layers]
    count_width = max((len(c) for c in counts), default=0)
    lines = [f"{name}(  # input {tuple(summary.input_shape)}"]
    for info, call, shape, count in zip(summary.layers, calls, shapes, counts):
        tag = f"({info.index}):"
        shared = getattr(info, "shared_with", None)
        tail = (f"weights shared with ({shared})" if shared is not None
                else f"{count:>{count_width}s} params" if count else "")
        line = f"  {tag:6s}{call:{width}s}  -> {shape:{shape_width}s}  {tail}"
        lines.append(line.rstrip())
        if info.error:
            lines.append(f"          ^ {info.error}")
    lines.append(")")
    total, trainable = summary.total_params, summary.trainable_params
    out = "?" if summary.output_shape is None else str(tuple(summary.output_shape))
    lines += [f"Output shape:         {out}",
              f"Total params:         {_count(total)}",
              f"Trainable params:     {_count(trainable)}",
              f"Non-trainable params: {_count(total - trainable)}"]
    macs = getattr(summary, "total_macs", None)
    if macs:
        lines.append(f"Multiply-adds:        {_count(macs)} per image ({_short(macs)})")
    if summary.error and summary.error_index is None:
        lines.append(f"Does not fit: {summary.error}")
    return "\n".join(lines) + "\n"


__all__ = ["ARCHITECTURE_FORMAT", "ARCHITECTURE_VERSION", "architecture_dict",
           "save_architecture", "load_architecture", "architecture_from_dict", "summary_text"]
