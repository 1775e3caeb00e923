"""Build an ``nn.Sequential`` from layer Components, with shape inference.

:func:`infer_shapes` walks the layers from the input shape, filling auto parameters
(``in_channels``, ``in_features``, ``out_features``...) and computing every output shape and
parameter count; it never raises for a misfit, so the GUI can show the table as it is being
edited. :func:`build_network` builds the real modules and raises on the first misfit.

Each layer entry declares its own shape rule and misfit checks (see
:mod:`workbench.core.model.layers`); parameter counts come from the module built on PyTorch's
``meta`` device (true shapes, no memory). The tests hold the inferred shapes and counts to real
forward passes over many random networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from torch import nn

from workbench.core.errors import ShapeError, SpecError
from workbench.core.registry import Component
from workbench.core.model.layers import CLASSES, LAYERS, SOURCES
from workbench.core.model.ties import apply_ties, tie_problem

# A batch of 2, not 1: BatchNorm in training mode refuses a single value per channel, and
# the batch dimension must never be mistaken for a feature dimension.
_BATCH = 2


@dataclass
class LayerInfo:
    """One row of a network summary.

    Attributes
    ----------
    index
        0-based position in the layer list (messages say "layer index + 1").
    type
        Registry name, e.g. ``"Conv2d"``.
    params
        The parameters with defaults filled and autos resolved (autos stay ``None`` at and
        after a misfit, where the incoming shape is unknown).
    input_shape, output_shape
        Shapes without the batch dimension; ``None`` where unknown (after a misfit).
    num_params
        Learnable parameters this layer owns (0 for a layer tied to an earlier one).
    macs
        Multiply-adds of one forward pass for one sample (the entry's declared
        ``meta["macs"]``; 0 where none is declared or the layer does not fit). See
        :mod:`workbench.core.model.layers` for what counts.
    shared_with
        0-based index of the layer whose weight and bias this layer uses (a fitting tie,
        :mod:`workbench.core.model.ties`), or ``None``.
    shared_params
        Parameters this layer uses but does not own (counted at ``shared_with``).
    error
        What does not fit here and what to do, or ``None``.
    """

    index: int
    type: str
    params: dict[str, Any]
    input_shape: tuple | None
    output_shape: tuple | None
    num_params: int = 0
    macs: int = 0
    error: str | None = None
    shared_with: int | None = None
    shared_params: int = 0


@dataclass
class NetworkSummary:
    """Every layer's shapes, parameter counts and multiply-adds, and the first misfit if any.

    ``total_macs`` sums the layers' ``macs``: the compute of one forward pass for one sample
    (a tied layer computes as much as any other, so ties do not reduce it).
    """

    layers: list[LayerInfo] = field(default_factory=list)
    input_shape: tuple = ()
    output_shape: tuple | None = None
    total_params: int = 0
    trainable_params: int = 0
    total_macs: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every layer fits and the output is one score per class."""
        return self.error is None

    @property
    def error_index(self) -> int | None:
        """0-based index of the failing layer, or ``None`` (no error, or a network-level one)."""
        for info in self.layers:
            if info.error is not None:
                return info.index
        return None


class _Misfit(Exception):
    """Internal: a layer that does not fit; the message has no "layer N" prefix yet."""


def _shape_text(shape: Sequence[int]) -> str:
    return f"({', '.join(str(n) for n in shape)})"


def _resolve(entry: Any, params: dict[str, Any], shape: tuple[int, ...],
             num_classes: int, flattener: LayerInfo | None = None) -> dict[str, Any]:
    """Check the input's rank, fill auto params, and catch pinned values that disagree.

    ``flattener``: the layer before that made the input flat (Flatten, a RowLSTM...)."""
    wants = entry.meta.get("input", "any")
    if wants == "image" and len(shape) != 3:
        where = "Flatten" if flattener is None or flattener.type == "Flatten" else \
            f"layer {flattener.index + 1} ({flattener.type}), which outputs flat features"
        raise _Misfit(f"needs an image-shaped input (channels, height, width) but receives "
                      f"{shape[0]} flat features: move it before {where}")
    if wants == "flat" and len(shape) != 1:
        raise _Misfit(f"receives an image-shaped input {_shape_text(shape)} but needs a flat "
                      f"list of features: add Flatten before it")
    out = dict(params)
    for name, source in entry.meta.get("auto", {}).items():
        if source in SOURCES:  # read off the incoming shape
            actual = SOURCES[source].read(shape)
            if out[name] is None:
                out[name] = actual
            elif (problem := SOURCES[source].mismatch(name, out[name], actual, shape)):
                raise _Misfit(problem)
        elif out[name] is None:  # the number of classes, or another parameter of the layer
            out[name] = num_classes if source == CLASSES else out[source]
    check = entry.meta.get("check")
    problem = check(out, shape) if check is not None else None
    if problem:
        raise _Misfit(problem)
    return out


def _run(entry: Any, params: dict[str, Any],
         shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    """Output shape and (total, trainable) parameter counts of one layer.

    The module is built on the meta device: parameters get their true shapes but no memory,
    so counts are exact even for a layer too big to allocate.
    """
    try:
        with torch.device("meta"):
            module = entry.builder(**params)
        rule = entry.meta.get("shape")
        if rule is not None:
            out = tuple(int(n) for n in rule(params, shape))
        else:  # no declared rule: ask PyTorch (slower, and its first call imports a lot)
            module.eval()
            out = tuple(module(torch.empty((_BATCH, *shape), device="meta")).shape[1:])
    except Exception as e:  # noqa: BLE001  (whatever a forward raises: AssertionError too)
        raise _cannot_take(shape, e) from None
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return out, total, trainable


def _cannot_take(shape: tuple[int, ...], e: Exception) -> _Misfit:
    reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return _Misfit(f"cannot take an input of shape {_shape_text(shape)} ({reason}): "
                   f"change its parameters or the layers before it")


def _count_macs(entry: Any, params: dict[str, Any], shape: tuple[int, ...],
                out: tuple[int, ...]) -> int:
    """The entry's multiply-adds; a rule that fails (a backbone's meta forward pass
    refusing the input, say) is a misfit of the layer, never an exception of the caller."""
    macs = entry.meta.get("macs")
    if macs is None:
        return 0
    try:
        return int(macs(params, shape, out))
    except Exception as e:  # noqa: BLE001
        raise _cannot_take(shape, e) from None


def _final_problem(layers: list[Component], infos: list[LayerInfo], shape: tuple[int, ...],
                   num_classes: int) -> str | None:
    if shape == (num_classes,):
        return None
    classes = f"the dataset has {num_classes} class{'es' if num_classes != 1 else ''}"
    if len(shape) != 1:
        return (f"the network outputs {_shape_text(shape)} but {classes}: end with Flatten "
                f"and Linear(out_features=auto)")
    last = infos[-1] if infos else None
    if last is not None and last.type == "Linear" and layers[-1].params.get("out_features"):
        return (f"the network outputs {shape[0]} values but {classes}: set out_features of "
                f"layer {last.index + 1} (Linear) to auto")
    return (f"the network outputs {shape[0]} values but {classes}: end with "
            f"Linear(out_features=auto)")


def infer_shapes(layers: Sequence[Component], input_shape: Sequence[int],
                 num_classes: int) -> NetworkSummary:
    """Compute every layer's output shape and parameter count, without building weights.

    Parameters
    ----------
    layers
        The layer Components, in order (validated or not: bad parameters are reported as
        that layer's error).
    input_shape
        ``(channels, height, width)`` of one input image.
    num_classes
        Number of classes; fills ``Linear(out_features=None)``.

    Returns
    -------
    NetworkSummary
        Never raises for a misfit: the first failing layer's ``error`` and the summary's
        ``error`` say what is wrong, and later layers have unknown shapes. The summary is
        also in error when the network's output is not one score per class.
    """
    shape: tuple[int, ...] | None = tuple(int(n) for n in input_shape)
    summary = NetworkSummary(input_shape=shape)
    flattener: LayerInfo | None = None  # the last layer that made an image flat
    for i, comp in enumerate(layers):
        raw = comp.params if comp.params is not None else {}
        info = LayerInfo(i, comp.type, dict(raw) if isinstance(raw, dict) else {}, shape, None)
        summary.layers.append(info)
        if shape is None:  # after a misfit: the incoming shape is unknown
            continue
        prefix = f"layer {i + 1} ({info.type})"
        try:
            entry = LAYERS.get(info.type, f"model.layers[{i}].type")
            info.params = entry.validate(raw, f"model.layers[{i}].params")
            info.params = _resolve(entry, info.params, shape, num_classes, flattener)
            out, total, trainable = _run(entry, info.params, shape)
            macs = _count_macs(entry, info.params, shape, out)
        except SpecError as e:
            # "model.layers[2].params.out_channels" -> "out_channels: ..."
            name = e.field.split(".params.", 1)[1] if ".params." in e.field else ""
            info.error = f"{prefix}: {name + ': ' if name else ''}{e.problem}"
        except _Misfit as e:
            info.error = f"{prefix} {e}"
        if info.error is None and getattr(comp, "share", None) is not None:
            info.error = tie_problem(layers, summary.layers, i)  # None when the tie fits
            if info.error is None:  # its parameters are counted once, at their owner
                info.shared_with, info.shared_params = comp.share, total
                total = trainable = 0
        if info.error is not None:
            summary.error = info.error
            shape = None
            continue
        info.output_shape, info.num_params = out, total
        summary.total_params += total
        summary.trainable_params += trainable
        info.macs = macs
        summary.total_macs += info.macs
        if len(out) == 1 and len(shape) != 1:
            flattener = info
        shape = out
    if shape is not None:
        problem = _final_problem(list(layers), summary.layers, shape, num_classes)
        if problem:
            summary.error = problem
        else:
            summary.output_shape = shape
    return summary


#: The most parameters :func:`build_network` builds (8 GB of float32 weights, before
#: gradients and optimizer state); far beyond what a workstation trains, and a typo's
#: size (a 4096-channel kernel of 64) is refused with a message instead of exhausting
#: memory.
MAX_PARAMS = 2_000_000_000


def build_network(layers: Sequence[Component], input_shape: Sequence[int],
                  num_classes: int) -> tuple[nn.Sequential, NetworkSummary]:
    """Build the network as an ``nn.Sequential`` (PyTorch's default initialisation).

    Layers with a ``share`` use their source layer's parameters (see
    :func:`~workbench.core.model.ties.apply_ties`).

    Returns
    -------
    (nn.Sequential, NetworkSummary)
        Module ``i`` of the Sequential is layer ``i``, so state_dict keys are plain
        ``"0.weight"``, ``"3.bias"``... as in hand-written PyTorch.

    Raises
    ------
    SpecError
        For an unknown layer type or an invalid parameter (naming ``model.layers[i]...``).
    ShapeError
        On the first misfit, with its message, 0-based ``index`` (``None`` when the network
        as a whole does not end in one score per class), ``layer_type`` and ``input_shape``;
        or when the network has more than :data:`MAX_PARAMS` parameters.
    """
    for i, comp in enumerate(layers):  # spec errors as SpecError, naming the field
        LAYERS.get(comp.type, f"model.layers[{i}].type").validate(
            comp.params, f"model.layers[{i}].params")
    summary = infer_shapes(layers, input_shape, num_classes)
    if not summary.ok:
        bad = summary.error_index
        if bad is None:
            raise ShapeError(summary.error, None, None, summary.layers[-1].output_shape
                             if summary.layers else summary.input_shape)
        info = summary.layers[bad]
        raise ShapeError(summary.error, bad, info.type, info.input_shape)
    if summary.total_params > MAX_PARAMS:
        # Say so before the allocator is asked for the memory (or the process is killed).
        big = max(summary.layers, key=lambda info: info.num_params)
        raise ShapeError(f"the network has {summary.total_params:,} parameters "
                         f"({summary.total_params * 4 / 2**30:.1f} GB as float32), more than "
                         f"Workbench builds ({MAX_PARAMS:,}); layer {big.index + 1} ({big.type}) "
                         f"alone has {big.num_params:,}: make it smaller", big.index, big.type,
                         big.input_shape)
    modules = [LAYERS.get(info.type).builder(**info.params) for info in summary.layers]
    return apply_ties(nn.Sequential(*modules), layers), summary


__all__ = ["LayerInfo", "NetworkSummary", "infer_shapes", "build_network"]
