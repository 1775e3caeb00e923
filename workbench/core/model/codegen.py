"""Export a network as a readable, self-contained PyTorch module.

:func:`network_code` writes the Python source of a file that needs only torch (and
torchvision where a layer comes from it): a header saying what the network is, what it
expects (every preprocessing step) and how to load the trained weights; the source of any
custom layer classes of ours it uses; ``build_model()``, which returns the same
``nn.Sequential`` Workbench builds, with every size written out, the experiment's
initialisation as ``torch.nn.init`` calls and the weight ties; and ``preprocess()`` and
``predict()``, which prepare image files as Workbench does (these also need Pillow and
numpy; see :mod:`.codegen_preprocess`). Module ``i`` is layer ``i``, so the bundle's
``state_dict`` loads as is.

Everything comes from the registries' declarations: a layer's class is its entry's
``meta["torch"]``, and an init scheme ``name`` is ``torch.nn.init.<name>_`` with the
entry's parameters as keywords. A layer entry may also declare ``meta["export_always"]``,
names of parameters to write even at their default (a backbone's ``arch`` says more than
its absence), and ``meta["export"]``, ``export(params) -> params``, to change what exported
code passes.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Sequence

import torch
from torch import nn

from workbench.core import errors
from workbench.core.data.sizes import hw_text
from workbench.core.registry import Component
from workbench.core.model.builder import NetworkSummary, infer_shapes
from workbench.core.model.codegen_init import init_statements
from workbench.core.model.codegen_preprocess import Preprocessing, preprocessing_code
from workbench.core.model.codegen_source import (class_reference, comment_text, custom_sources,
                                                 literal)
from workbench.core.model.init import INITS
from workbench.core.model.layers import LAYERS
from workbench.core.model.ties import apply_ties

# Parameters that are sizes are always written out, even when they equal the class's
# default: a reader should see every layer's sizes without looking anything up.
_SIZE_SUFFIXES = ("_size", "_features", "_channels")
_signature_cache: dict[str, dict[str, Any] | None] = {}


def _class_defaults(qualname: str, builder: Any) -> dict[str, Any] | None:
    """Keyword defaults of the class exported code calls (``None``: unknown, print all)."""
    if qualname not in _signature_cache:
        defaults = None
        for target in (_import_qualified(qualname), builder):
            try:
                sig = inspect.signature(target)
            except (TypeError, ValueError):
                continue
            defaults = {n: p.default for n, p in sig.parameters.items()
                        if p.default is not inspect.Parameter.empty}
            break
        _signature_cache[qualname] = defaults
    return _signature_cache[qualname]


def _import_qualified(qualname: str) -> Any:
    module, _, name = qualname.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _same(value: Any, default: Any) -> bool:
    """True when ``value`` is the default as Python sees it, but True is never 1."""
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    if isinstance(value, (int, float)) and isinstance(default, (int, float)):
        return value == default
    return type(value) is type(default) and value == default


def layer_arguments(layer_type: str, params: dict[str, Any]) -> list[tuple[str, Any]]:
    """The keyword arguments exported code passes to a layer's class.

    Parameters
    ----------
    layer_type
        A :data:`~workbench.core.model.layers.LAYERS` name.
    params
        The layer's parameters with autos resolved (a :class:`LayerInfo`'s ``params``).

    Returns
    -------
    list of (name, value)
        The sizes (auto-filled parameters and ``*_size``/``*_features``/``*_channels``),
        the parameters the entry names in ``meta["export_always"]`` (e.g. a backbone's
        ``arch``) and every parameter that differs from the class's own default, in
        declaration order.
    """
    entry = LAYERS.get(layer_type)
    export = entry.meta.get("export")
    if export is not None:
        params = export(dict(params))
    defaults = _class_defaults(entry.meta.get("torch", ""), entry.builder)
    always = set(entry.meta.get("auto", {})) | set(entry.meta.get("export_always", ()))
    out = []
    for name, value in params.items():
        size = name in always or name.endswith(_SIZE_SUFFIXES)
        if size or defaults is None or name not in defaults or not _same(value, defaults[name]):
            out.append((name, value))
    return out


def layer_call(layer_type: str, params: dict[str, Any], qualified: bool = False) -> str:
    """``Conv2d(in_channels=3, out_channels=32, kernel_size=3)``: the layer as a call.

    With ``qualified`` the class is spelled as exported code spells it (``nn.Conv2d``).
    """
    entry = LAYERS.get(layer_type)
    qualname = entry.meta.get("torch", layer_type)
    name = class_reference(qualname)[0] if qualified else qualname.rpartition(".")[2]
    args = ", ".join(f"{k}={literal(v)}" for k, v in layer_arguments(layer_type, params))
    return f"{name}({args})"


# -- ties ---------------------------------------------------------------------------------
def _tie_lines(layers: Sequence[Component], model: nn.Sequential) -> list[str]:
    """``model[5].weight = model[2].weight``: one line per parameter a layer shares.

    As :func:`~workbench.core.model.ties.apply_ties` does, every parameter of the layer is
    shared (weight and bias; all the weights of a recurrent layer), in layer order.
    """
    lines = []
    for j, layer in enumerate(layers):
        i = getattr(layer, "share", None)
        if i is None:
            continue
        for name, _ in model[j].named_parameters():
            path = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in name.split("."))
            lines.append(f"model[{j}]{path} = model[{i}]{path}")
    return lines


# -- the file ----------------------------------------------------------------------------
def network_code(experiment: Any, num_classes: int, classes: list[str] | None = None, *,
                 bundle_name: str = "bundle.pt", module_name: str = "model") -> str:
    """The Python source of a module that builds ``experiment``'s network in plain PyTorch.

    Parameters
    ----------
    experiment
        The :class:`~workbench.core.experiment.Experiment` (its data section gives the input
        shape and preprocessing, its model the layers, its init the initialisation).
    num_classes
        Outputs of the network (fills ``Linear(out_features=auto)``).
    classes
        The class names in output order, written into the file when given.
    bundle_name, module_name
        The bundle file and the name this file is imported as, for the header's load
        snippet.

    Returns
    -------
    str
        A module defining ``build_model()``; ``build_model()`` loaded with a bundle's
        ``state_dict`` computes exactly what Workbench's model computes.

    Raises
    ------
    ShapeError
        When the layers do not fit together (the message names the layer and the fix).
    SpecError
        For an unknown layer or init scheme, or an invalid parameter.
    """
    exp = experiment
    layers = list(exp.model.layers)
    h, w = exp.data.input_size
    input_shape = (exp.data.channels, h, w)
    for i, comp in enumerate(layers):  # spec errors name the field, as build_network's do
        LAYERS.get(comp.type, f"model.layers[{i}].type").validate(
            comp.params, f"model.layers[{i}].params")
    INITS.get(exp.init.type, "init.type").validate(exp.init.params, "init.params")
    summary = infer_shapes(layers, input_shape, num_classes)
    if not summary.ok:
        raise errors.ShapeError(f"cannot export the network: {summary.error}",
                                summary.error_index)
    if classes is not None and len(classes) != num_classes:
        raise errors.WorkbenchError(f"{len(classes)} class names given for a network with "
                                    f"{num_classes} outputs")
    qualnames = [LAYERS.get(info.type).meta.get("torch", "") for info in summary.layers]
    imports, sources = custom_sources(qualnames)
    body = _build_model_source(summary, layers, _meta_model(summary, layers), exp.init)
    prep = preprocessing_code(exp, has_classes=classes is not None)
    head = "\n\n".join([_header(exp, summary, num_classes, classes, bundle_name,
                                module_name, prep),
                        "from __future__ import annotations",
                        "\n".join(["import torch", "from torch import nn", *imports])])
    parts = [head, _constants(exp, input_shape, num_classes, classes, prep), *sources, body,
             prep.source, _MAIN if prep.source else _MAIN_WITHOUT_PREDICT]
    return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def _meta_model(summary: NetworkSummary, layers: Sequence[Component]) -> nn.Sequential:
    """The network built on the meta device (its structure without memory or random
    draws), tied as Workbench ties it."""
    with torch.device("meta"):
        modules = [LAYERS.get(info.type).builder(**info.params) for info in summary.layers]
    return apply_ties(nn.Sequential(*modules), layers)


def _comment_block(lines: list[str]) -> str:
    # Every line is made safe here, whatever text it holds (an error message, a step's
    # description): a newline in a comment would start a line of code.
    return "\n".join(f"# {comment_text(line)}".rstrip() for line in lines)


def _shown(text: str) -> str:
    """User text (a name, a file name) in a comment: as it is when printable, else as a
    string literal (a newline or control character would end the comment line)."""
    return text if text and text.isprintable() else literal(text)


def _network(exp: Any) -> str:
    """``preset 'seed-cnn'``, or ``a custom network`` once edited away from its preset."""
    from workbench.core.model.presets import CUSTOM, network_label

    label = network_label(exp.model.preset, exp.model.layers)
    return "a custom network" if label == CUSTOM else f"preset {literal(label)}"


def _header(exp: Any, summary: NetworkSummary, num_classes: int, classes: list[str] | None,
            bundle_name: str, module_name: str, prep: Preprocessing) -> str:
    from workbench import __version__

    c, h, w = summary.input_shape
    colour = (prep.summary or {}).get("color") or ("RGB" if c == 3 else "grayscale" if c == 1
                                                   else f"{c}-channel")
    # The experiment's name is not on the first two lines: Python reads a "coding: NAME"
    # there as the file's encoding (PEP 263), and a name saying "coding: utf-7" could then
    # hide a line of code in the rest of the file.
    lines = [f"An image classifier exported by Workbench {__version__}.",
             "",
             f"Experiment: {_shown(exp.name)}",
             f"A torch.nn.Sequential of {len(summary.layers)} layers ({_network(exp)}), "
             f"{summary.total_params:,} parameters.",
             f"Input:  a float batch of shape (batch, {c}, {h}, {w}): {colour} images, "
             f"{hw_text((h, w))} pixels.",
             f"Output: one score (logit) per class, shape (batch, {num_classes}); softmax "
             f"gives probabilities."]
    if classes is not None:
        lines += ["Classes, in output order:"]
        # A name with a newline or other control character would end the comment line.
        lines += [f"  {i}: {_shown(name)}" for i, name in enumerate(classes)]
    lines += ["", *prep.header,
              "",
              "Load the trained weights from the Workbench bundle (a torch.save'd dict: the "
              "weights are", "under \"state_dict\", next to \"experiment\" and "
              "\"classes\"):",
              "",
              "    import torch",
              f"    from {module_name} import build_model{', predict' if prep.source else ''}"
              f"  # this file, as {module_name}.py",
              "",
              "    model = build_model()",
              f"    state = torch.load({literal(bundle_name)}, weights_only=True)[\"state_dict\"]",
              "    model.load_state_dict(state)",
              "    model.eval()",
              "",
              ""]
    if prep.source:
        lines += ["    print(predict(model, [\"photo.jpg\"]))  # [{class: probability, ...}]",
                  "",
                  f"Or run it: python {module_name}.py [{_shown(bundle_name)} [IMAGE ...]] "
                  f"builds it, loads the weights", "if given, prints it and the probabilities "
                  "for each IMAGE."]
    else:
        lines += [f"Or run it: python {module_name}.py [{_shown(bundle_name)}] builds it, "
                  f"loads the weights if given, and prints it."]
    return _comment_block(lines)


def _constants(exp: Any, input_shape: tuple, num_classes: int,
               classes: list[str] | None, prep: Preprocessing) -> str:
    c = input_shape[0]
    # The whole normalisation (an Augment-tab Normalize folded in), as the ONNX JSON's.
    summary = prep.summary or {"mean": exp.data.mean, "std": exp.data.std, "complete": True}
    mean = list(summary["mean"]) * (c if len(summary["mean"]) == 1 else 1)
    std = list(summary["std"]) * (c if len(summary["std"]) == 1 else 1)
    partial = "" if summary["complete"] else "; part of the steps only: see preprocess()"
    lines = [f"INPUT_SHAPE = {literal(tuple(input_shape))}  # channels, height, width",
             f"MEAN = {literal(mean)}  # per channel, after scaling to [0, 1]{partial}",
             f"STD = {literal(std)}",
             f"NUM_CLASSES = {num_classes}"]
    if classes is not None:
        lines.append(f"CLASSES = {literal(list(classes))}")
    return "\n".join(lines)


def _build_model_source(summary: NetworkSummary, layers: Sequence[Component],
                        model: nn.Sequential, global_init: Component) -> str:
    calls = [f"{layer_call(info.type, info.params, qualified=True)}," for info in summary.layers]
    width = max((len(c) for c in calls), default=0) + 2
    rows = [f"        {call:{width}s}# {info.index}: -> {_shape(info.output_shape)}"
            for call, info in zip(calls, summary.layers)]
    out = ["def build_model() -> nn.Sequential:",
           '    """The network, freshly initialised; module i is layer i, so a Workbench',
           '    bundle\'s state_dict loads into it as is."""',
           "    model = nn.Sequential(", *rows, "    )"]
    # Ties first, as Workbench does: a tied layer's own tensors are dropped before the
    # initialisation, which then draws the same random numbers in the same order.
    ties = _tie_lines(layers, model)
    if ties:
        out += ["    # Weight ties: these layers use an earlier layer's tensors (one tensor, "
                "trained by both).", *[f"    {line}" for line in ties]]
    init = init_statements(model, layers, global_init)
    if init:
        own = " with per-layer overrides" if _has_own_init(layers) else ""
        out += [f"    # Initialisation chosen in the experiment ({global_init.type}{own}).",
                "    with torch.no_grad():", *[f"        {line}" for line in init]]
    else:
        out.append("    # Initialisation: PyTorch's default for every layer.")
    out.append("    return model")
    return "\n".join(out)


def _has_own_init(layers: Sequence[Component]) -> bool:
    return any(getattr(layer, "init", None) for layer in layers)


def _shape(shape: tuple | None) -> str:
    return "?" if shape is None else str(tuple(shape))


_MAIN_WITHOUT_PREDICT = '''
if __name__ == "__main__":
    # A quick look: python model.py [bundle.pt]
    import sys

    for stream in (sys.stdout, sys.stderr):  # a console that cannot show a class name
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")  # prints it as \\U0001f431

    model = build_model()
    if len(sys.argv) > 1:
        model.load_state_dict(torch.load(sys.argv[1], weights_only=True)["state_dict"])
    model.eval()
    print(model)
    with torch.no_grad():
        scores = model(torch.zeros(1, *INPUT_SHAPE))
    print("output shape", tuple(scores.shape))
'''

_MAIN = _MAIN_WITHOUT_PREDICT + '''    if len(sys.argv) > 2:  # python model.py bundle.pt IMAGE ...
        paths = sys.argv[2:]
        results = predict(model, paths)  # an unreadable file: skipped, said on stderr
        for path, probs in zip(paths, results):
            if probs is not None:
                top = sorted(probs.items(), key=lambda kv: -kv[1])
                print(path, "  ".join(f"{name} {p:.4f}" for name, p in top[:5]))
        skipped = sum(r is None for r in results)
        if skipped == len(paths):
            sys.exit(f"none of the {len(paths)} files could be read as an image")
        if skipped:
            print(f"{skipped} of {len(paths)} files skipped (unreadable, see above)",
                  file=sys.stderr)
'''

__all__ = ["network_code", "layer_arguments", "layer_call"]
