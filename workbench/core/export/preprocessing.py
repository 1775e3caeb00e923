"""The JSON written beside an exported ONNX model: how to prepare its input, what it outputs.

The steps are :func:`workbench.core.data.eval_steps.evaluation_steps`: the same plan the
evaluation pipeline is built from, and the same list the code export's header and its
``preprocess()`` follow, so the file cannot describe a different preprocessing than the one
the model was validated with. The first step, ``convert``, lists in ``rules`` every
conversion :func:`~..data.images.load_image` applies to a file (the reduced-size JPEG
decode, EXIF orientation, 16-bit to 8-bit, palette and transparency onto white, the colour
mode) with the formulas, so a program without Workbench that follows them feeds the model
the same numbers. Example::

    {"format": "workbench-onnx-preprocessing", "version": 1, "model": "model.onnx",
     "input": {"name": "image", "shape": ["batch", 3, 32, 32], "dtype": "float32",
               "layout": "NCHW", "color": "RGB"},
     "output": {"name": "logits", "shape": ["batch", 2], "meaning": "..."},
     "classes": ["cat", "dog"], "input_size": [32, 32], "channels": 3,
     "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "summary_complete": true,
     "steps": [{"op": "convert", "mode": "RGB", "rules": [...], ...},
               {"op": "resize", "size": [32, 32], "interpolation": "bilinear", ...},
               {"op": "scale", "divide_by": 255.0, "dtype": "float32"},
               {"op": "normalize", "mean": [...], "std": [...]}],
     "description": ["Convert to RGB (3 channels)", ...]}

``mean``/``std`` are the whole normalisation (an Augment-tab Normalize folded into the
experiment's own) and ``input.color`` says when a Grayscale step keeps 3 equal channels
(:func:`~workbench.core.export.summary.input_summary`); ``summary_complete`` is false, with
a ``summary_note``, when the steps hold more than these fields can say.
"""

from __future__ import annotations

from typing import Any

from workbench.core.data.eval_steps import evaluation_steps
from workbench.core.export.outputs import ONNX_FORMAT
from workbench.core.export.summary import input_summary

FORMAT = ONNX_FORMAT
VERSION = 1


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
    data = exp.data
    h, w = (int(v) for v in data.input_size)
    steps = evaluation_steps(exp)
    summary = input_summary([step for _, step in steps], int(data.channels))
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": model_file,
        "input": {"name": input_name, "shape": ["batch", int(data.channels), h, w],
                  "dtype": "float32", "layout": "NCHW",
                  "color": summary["color"]},
        "output": {"name": output_name, "shape": ["batch", len(classes)],
                   "meaning": "logits: one unnormalised score per class, in the order of "
                              "'classes'; softmax over axis 1 gives probabilities, argmax "
                              "the predicted class"},
        "classes": [str(c) for c in classes],
        "input_size": [h, w],
        "channels": int(data.channels),
        "mean": summary["mean"],
        "std": summary["std"],
        "summary_complete": summary["complete"],
        **({} if summary["complete"] else {"summary_note": _PARTIAL}),
        "steps": [step for _, step in steps],
        "description": [text for text, _ in steps],
    }


#: Why a document's ``summary_complete`` is false.
_PARTIAL = ("'steps' do more than input_size, color, mean and std can say (a normalize step "
            "apart from the last ones, or a step with no field here): follow 'steps'")


__all__ = ["preprocessing_document", "FORMAT", "VERSION"]
