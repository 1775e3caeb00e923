"""The JSON written beside an exported ONNX model: how to prepare its input, what it outputs.

The steps come from the same plan the evaluation pipeline is built from
(:func:`workbench.core.data.transforms._plan` with ``train=False``), so the file cannot
describe a different preprocessing than the one the model was validated with. Example::

    {"format": "workbench-onnx-preprocessing", "version": 1, "model": "model.onnx",
     "input": {"name": "image", "shape": ["batch", 3, 32, 32], "dtype": "float32",
               "layout": "NCHW", "color": "RGB"},
     "output": {"name": "logits", "shape": ["batch", 2], "meaning": "..."},
     "classes": ["cat", "dog"], "input_size": [32, 32], "channels": 3,
     "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
     "steps": [{"op": "convert", "mode": "RGB", ...},
               {"op": "resize", "size": [32, 32], "interpolation": "bilinear", ...},
               {"op": "scale", "divide_by": 255.0, "dtype": "float32"},
               {"op": "normalize", "mean": [...], "std": [...]}],
     "description": ["Convert to RGB (3 channels)", ...]}
"""

from __future__ import annotations

from typing import Any

from torchvision.transforms import v2

from .data.steps import ToChannelsImage

FORMAT = "workbench-onnx-preprocessing"
VERSION = 1

_CONVERT_NOTE = ("decode the file; composite transparent images onto white; RGB to "
                 "grayscale with the ITU-R 601 luma weights (PIL's convert('L'))")


def _step(step: Any) -> dict[str, Any]:
    """One pipeline step as plain data another program can follow."""
    t = step.transform
    if isinstance(t, ToChannelsImage):
        return {"op": "convert", "mode": "RGB" if t.channels == 3 else "L",
                "note": _CONVERT_NOTE}
    if isinstance(t, v2.Resize):
        size = [int(s) for s in t.size]
        return {"op": "resize", "size": size,
                "mode": "exact" if len(size) == 2 else "shorter_side",
                "interpolation": str(getattr(t.interpolation, "value", t.interpolation)),
                "antialias": bool(t.antialias),
                "note": "on the uint8 (C, H, W) image, as torchvision.transforms.v2.Resize; "
                        "shorter_side keeps the aspect ratio"}
    if isinstance(t, v2.CenterCrop):
        return {"op": "center_crop", "size": [int(s) for s in t.size],
                "note": "the centre region; pad with zeros where the image is smaller"}
    if isinstance(t, v2.Grayscale):
        return {"op": "grayscale", "channels": int(t.num_output_channels),
                "note": "luma copied to every channel"}
    if isinstance(t, v2.ToDtype):
        return {"op": "scale", "divide_by": 255.0, "dtype": "float32"}
    if isinstance(t, v2.Normalize):
        return {"op": "normalize", "mean": [float(m) for m in t.mean],
                "std": [float(s) for s in t.std], "note": "(x - mean) / std per channel"}
    # A deterministic step added to the registry later: its description still says it.
    return {"op": step.role or type(t).__name__, "description": step.text}


def preprocessing_document(exp: Any, classes: list[str], model_file: str, input_name: str,
                           output_name: str) -> dict[str, Any]:
    """The JSON document (a dict) describing how to use an exported model.

    Parameters
    ----------
    exp
        The bundle's :class:`~workbench.core.experiment.Experiment`.
    classes
        The class names, in output order.
    model_file
        The ``.onnx`` file's name (the document sits beside it).
    input_name, output_name
        The graph's input and output names.
    """
    from .data.transforms import _plan

    data = exp.data
    h, w = (int(v) for v in data.input_size)
    plan = _plan(exp, train=False)
    normalize = next(s.transform for s in plan if s.role == "normalize")
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": model_file,
        "input": {"name": input_name, "shape": ["batch", int(data.channels), h, w],
                  "dtype": "float32", "layout": "NCHW",
                  "color": "RGB" if data.channels == 3 else "grayscale"},
        "output": {"name": output_name, "shape": ["batch", len(classes)],
                   "meaning": "logits: one unnormalised score per class, in the order of "
                              "'classes'; softmax over axis 1 gives probabilities, argmax "
                              "the predicted class"},
        "classes": [str(c) for c in classes],
        "input_size": [h, w],
        "channels": int(data.channels),
        "mean": [float(m) for m in normalize.mean],
        "std": [float(s) for s in normalize.std],
        "steps": [_step(s) for s in plan],
        "description": [s.text for s in plan],
    }


__all__ = ["preprocessing_document", "FORMAT", "VERSION"]
