"""Why a network decided what it did: Grad-CAM, feature maps and first-layer filters.

Everything here returns numpy arrays for the GUI to draw; :mod:`.display` (re-exported
here) turns them into pictures. The functions work on any ``nn.Module`` built by the layer
builder, including a :class:`~workbench.core.model.backbones.Backbone` layer, whose inner
stages (``layer4`` of a ResNet...) are offered since the Backbone itself outputs flat features.

None of them changes the model: train/eval mode is restored in ``finally``, no parameter's
``requires_grad`` is touched and gradients are taken with :func:`torch.autograd.grad`, so no
``.grad`` is written. :class:`~.bundle.Explainer` does the same for a bundle and an image file,
with the bundle's own evaluation preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence, Union

import numpy as np
import torch
from torch import nn

from workbench.core.errors import WorkbenchError
from workbench.core.explain.display import colormap, feature_grid, filter_grid, overlay, resize_map

_SEP = " › "
#: A heatmap (scaled to a maximum of 1) varying by less than this points nowhere.
_FLAT = 1e-6


@dataclass(frozen=True)
class LayerChoice:
    """A layer whose output is a spatial map, offered for Grad-CAM and feature maps.

    Attributes
    ----------
    index
        0-based position of the top-level layer (inside a Backbone: the Backbone's).
    label
        What to show, 1-based like every layer message: ``"5 Conv2d"``,
        ``"1 Backbone › layer4"``.
    path
        The module's name in ``model.named_modules()`` (``"4"``, ``"0.net.layer4"``).
    output_shape
        (channels, height, width) for the input it was measured with.
    convolutional
        Whether the layer is, or contains, a ``Conv2d``: the last such layer is the default
        for Grad-CAM (see :func:`default_layer`).
    """

    index: int
    label: str
    path: str
    output_shape: tuple[int, int, int]
    convolutional: bool = False


@dataclass
class GradCamResult:
    """A Grad-CAM heatmap and what it explains.

    Attributes
    ----------
    heatmap
        float32 (H, W) in [0, 1], the input's size: 1 where the layer's evidence for the
        class is strongest. All zeros when nothing in the image speaks for the class.
    class_index
        The class explained (the predicted one unless another was asked for).
    probability
        Softmax probability of that class for this image.
    layer
        Label of the layer the map was taken at.
    class_name
        The class's name where known (:class:`Explainer` fills it).
    flat
        ``"empty"`` when the map is all zeros (nothing at this layer speaks for the class),
        ``"constant"`` when it is the same everywhere (it points nowhere), else None. A
        flat map shows no place: say :attr:`note` instead of "red: strongest evidence".
    suggested_layer
        For a flat map: the label of the last convolution when the map was taken elsewhere
        (the layer to try), else None.
    probabilities
        Every class's softmax probability for this image, in class order (the same forward
        pass: no second one is needed to show them).
    """

    heatmap: np.ndarray
    class_index: int
    probability: float
    layer: str
    class_name: str | None = None
    flat: str | None = None
    suggested_layer: str | None = None
    probabilities: list[float] = field(default_factory=list)

    @property
    def note(self) -> str | None:
        """For a flat map, what it means and what to try, in words; None for a real map."""
        if self.flat is None:
            return None
        name = self.class_name or f"class {self.class_index}"
        if self.flat == "empty":
            what = (f"The Grad-CAM map at layer {self.layer} is empty: nothing in this "
                    f"layer's output speaks for {name}, so it shows no place.")
        else:
            what = (f"The Grad-CAM map at layer {self.layer} is the same everywhere: this "
                    f"layer's evidence for {name} points to no part of the image.")
        if self.suggested_layer:
            return f"{what} Try another layer: the last convolution, {self.suggested_layer}."
        return f"{what} Try another layer (an earlier convolution) or another class."


LayerRef = Union[LayerChoice, str, int, None]


# -- finding the spatial layers ----------------------------------------------------------
def _candidates(model: nn.Module) -> list[tuple[int, str, str, nn.Module]]:
    """(top index, label, module path, module) for every layer that may output a map."""
    from workbench.core.model.backbones import Backbone

    out = []
    for i, (name, module) in enumerate(model.named_children()):
        if not isinstance(module, Backbone):
            out.append((i, f"{i + 1} {type(module).__name__}", name, module))
            continue
        stages = list(module.net.named_children())
        # vgg, mobilenet and efficientnet keep every stage in one Sequential "features":
        # offer its blocks instead, else there would be a single choice.
        if stages and stages[0][0] == "features" and isinstance(stages[0][1], nn.Sequential):
            stages = [(f"features.{n}", m) for n, m in stages[0][1].named_children()]
        prefix = f"{name}.net"
        for sub, m in stages:
            out.append((i, f"{i + 1} Backbone{_SEP}{sub}", f"{prefix}.{sub}", m))
    return out


def _as_batch(image: torch.Tensor, model: nn.Module) -> torch.Tensor:
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise WorkbenchError(f"the image to explain must be one preprocessed tensor of shape "
                             f"(channels, height, width), not {shape}")
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    return image.detach().to(device, torch.float32).unsqueeze(0)


class _Modes:
    """Put a model in eval mode; restore every module's own mode afterwards."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.saved = [(m, m.training) for m in model.modules()]

    def __enter__(self) -> nn.Module:
        return self.model.eval()

    def __exit__(self, *exc: Any) -> None:
        # Per module, not model.train(mode): a frozen Backbone keeps its own mode.
        for m, training in self.saved:
            m.training = training


def _record(model: nn.Module, x: torch.Tensor,
            cands: list[tuple[int, str, str, nn.Module]]) -> tuple[torch.Tensor, dict]:
    """Run ``model(x)`` keeping each candidate's (last) output; returns (logits, outputs)."""
    outputs: dict[str, torch.Tensor] = {}
    hooks = []
    for _, _, path, module in cands:
        def hook(m: nn.Module, inputs: Any, output: Any, path: str = path) -> None:
            if isinstance(output, torch.Tensor):
                outputs[path] = output
        hooks.append(module.register_forward_hook(hook))
    try:
        logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    return logits, outputs


def _is_map(t: torch.Tensor | None) -> bool:
    # A 1x1 "map" (after global pooling) locates nothing: not offered.
    return t is not None and t.dim() == 4 and t.shape[2] * t.shape[3] > 1


def _has_conv(module: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in module.modules())


def default_layer(layers: Sequence[LayerChoice]) -> LayerChoice | None:
    """The layer Grad-CAM and feature maps are taken at when none is chosen.

    Parameters
    ----------
    layers
        What :func:`explainable_layers` returns.

    Returns
    -------
    LayerChoice or None
        The last convolution (inside a Backbone: its last block that holds one, such as
        ResNet's ``layer4``), else the last spatial layer; None for an empty list.
    """
    convs = [c for c in layers if c.convolutional]
    return convs[-1] if convs else (layers[-1] if layers else None)


def explainable_layers(model: nn.Module, input_shape: Sequence[int] | torch.Tensor,
                       layers: Sequence[Any] | None = None) -> list[LayerChoice]:
    """The layers whose output is a spatial map (more than 1x1), in network order.

    Parameters
    ----------
    model
        The built network (an ``nn.Sequential``; a Backbone inside it is opened up).
    input_shape
        (channels, height, width) of one input, or an example image tensor: the shapes
        are measured by one forward pass.
    layers
        The experiment's layer Components (optional): their registry type names label the
        layers instead of the module class names.

    Returns
    -------
    list[LayerChoice]
        Empty for a network without one (an MLP).
    """
    shape = tuple(input_shape.shape) if isinstance(input_shape, torch.Tensor) \
        else tuple(int(s) for s in input_shape)
    cands = _candidates(model)
    x = _as_batch(torch.zeros(shape), model)
    with _Modes(model), torch.no_grad():
        _, outputs = _record(model, x, cands)
    return _choices(cands, outputs, layers)


def _choices(cands: list, outputs: dict,
             layers: Sequence[Any] | None = None) -> list[LayerChoice]:
    """The candidates whose recorded output is a spatial map, as :class:`LayerChoice`s
    (labelled with the Components' type names when ``layers`` are given)."""
    out = []
    for i, label, path, module in cands:
        if _is_map(outputs.get(path)):
            if layers is not None and i < len(layers) and _SEP not in label:
                label = f"{i + 1} {getattr(layers[i], 'type', label.split(' ', 1)[1])}"
            out.append(LayerChoice(i, label, path, tuple(outputs[path].shape[1:]),
                                   _has_conv(module)))
    return out


def _resolve(cands: list, outputs: dict, layer: LayerRef) -> tuple[str, str]:
    """(path, label) of the layer asked for, or of the default one (the last convolution)."""
    if layer is None:
        found = default_layer(_choices(cands, outputs))
        if found is not None:
            return found.path, found.label
        raise WorkbenchError("Grad-CAM and feature maps need a convolutional layer (one "
                             "whose output is an image-like map): this network has none. "
                             "Add a Conv2d layer, or use a pretrained Backbone")
    for _, label, path, _ in cands:
        if (isinstance(layer, LayerChoice) and layer.path == path) or \
                (isinstance(layer, str) and layer in (path, label)) or \
                (isinstance(layer, int) and not isinstance(layer, bool) and path == str(layer)):
            t = outputs.get(path)
            if not _is_map(t):
                what = "no output" if t is None else f"output of shape {tuple(t.shape[1:])}"
                raise WorkbenchError(f"layer {label} gives {what}, not a spatial map: choose "
                                     f"a convolution or pooling layer before the Flatten")
            return path, label
    name = layer.label if isinstance(layer, LayerChoice) else layer
    raise WorkbenchError(f"the network has no layer {name!r}: choose one of those "
                         f"explainable_layers lists")


# -- Grad-CAM ----------------------------------------------------------------------------
def grad_cam(model: nn.Module, image: torch.Tensor, target_class: int | None = None,
             layer: LayerRef = None) -> GradCamResult:
    """Grad-CAM: where in the image the layer's evidence for a class lies.

    The layer's activations are weighted by the spatial mean of the class score's gradient
    with respect to them (Selvaraju et al., 2017), summed over channels, passed through
    ReLU, upsampled to the input's size and scaled to a maximum of 1.

    Parameters
    ----------
    model
        The network; its mode, ``requires_grad`` flags and weights are left as they were.
        Frozen layers (a feature-extraction Backbone) work too: the gradient is taken
        through the input.
    image
        One preprocessed image (C, H, W), as the evaluation pipeline gives it.
    target_class
        Index of the class to explain; default: the predicted class.
    layer
        A :class:`LayerChoice`, its ``path`` or ``label``, or a top-level index; default:
        the last convolution (see :func:`default_layer`).

    Returns
    -------
    GradCamResult
        With ``flat`` set when the map is empty or constant (it then shows no place).

    Raises
    ------
    WorkbenchError
        For a network with no spatial layer (an MLP), a layer that is not one, or a class
        index out of range.
    """
    x = _as_batch(image, model).requires_grad_(True)  # frozen layers still pass gradients
    cands = _candidates(model)
    with _Modes(model), torch.enable_grad():
        logits, outputs = _record(model, x, cands)
        path, label = _resolve(cands, outputs, layer)
        if logits.dim() != 2:
            raise WorkbenchError(f"the network outputs shape {tuple(logits.shape[1:])}, not "
                                 f"one score per class: Grad-CAM cannot explain it")
        probs = torch.softmax(logits.detach().float(), dim=1)[0]
        n = probs.numel()
        if target_class is None:
            target = int(probs.argmax())
        elif isinstance(target_class, bool) or not isinstance(target_class, int) or \
                not 0 <= target_class < n:
            raise WorkbenchError(f"class {target_class!r} does not exist: the network has "
                                 f"{n} classes (0 to {n - 1})")
        else:
            target = int(target_class)
        act = outputs[path]
        (grad,) = torch.autograd.grad(logits[0, target], act)
    weights = grad.detach().float().mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * act.detach().float()).sum(dim=1, keepdim=True))
    cam = nn.functional.interpolate(cam, size=tuple(x.shape[2:]), mode="bilinear",
                                    align_corners=False)[0, 0].cpu()
    top = float(cam.max())
    heat = (cam / top).clamp(0.0, 1.0) if top > 0 else torch.zeros_like(cam)
    flat = "empty" if top <= 0 else \
        "constant" if float(heat.max() - heat.min()) < _FLAT else None
    suggested = None
    if flat is not None:
        conv = default_layer(_choices(cands, outputs))
        suggested = conv.label if conv is not None and conv.path != path else None
    return GradCamResult(heat.numpy().astype(np.float32), target, float(probs[target]), label,
                         flat=flat, suggested_layer=suggested,
                         probabilities=[float(v) for v in probs.cpu().tolist()])


# -- feature maps and filters ------------------------------------------------------------
def _normalise(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Min-max each slice over ``axes`` to [0, 1]; a constant slice becomes 0."""
    lo, hi = a.min(axis=axes, keepdims=True), a.max(axis=axes, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (a - lo) / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)


def feature_maps(model: nn.Module, image: torch.Tensor, layer: LayerRef = None) -> np.ndarray:
    """The activations of one layer for one image, each map scaled to [0, 1] for display.

    Parameters
    ----------
    model, image
        As for :func:`grad_cam`.
    layer
        As for :func:`grad_cam`; default: the last convolution.

    Returns
    -------
    numpy.ndarray
        float32 (C, h, w); each channel min-max scaled on its own (a constant one is 0).
        Tile it with :func:`feature_grid`.
    """
    x = _as_batch(image, model)
    cands = _candidates(model)
    with _Modes(model), torch.no_grad():
        _, outputs = _record(model, x, cands)
        path, _ = _resolve(cands, outputs, layer)
    return _normalise(outputs[path][0].float().cpu().numpy(), (1, 2))


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first ``nn.Conv2d`` of the model (inside a Backbone too).

    Raises
    ------
    WorkbenchError
        When the network has no Conv2d.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m
    raise WorkbenchError("this network has no convolution layer, so there are no filters to "
                         "show: add a Conv2d layer (or a pretrained Backbone) to see them")


def first_conv_filters(model: nn.Module) -> np.ndarray:
    """The first convolution's filters as small images, each scaled to [0, 1].

    Returns
    -------
    numpy.ndarray
        float32 (N, kh, kw, 3) when the layer reads 3 channels (an RGB image: shown in
        colour), else (N, kh, kw, 1) with each filter averaged over its input channels.
        Tile it with :func:`filter_grid`.

    Raises
    ------
    WorkbenchError
        When the network has no Conv2d.
    """
    w = first_conv(model).weight.detach().float().cpu().numpy()  # (N, in, kh, kw)
    w = w if w.shape[1] in (1, 3) else w.mean(axis=1, keepdims=True)
    return _normalise(np.ascontiguousarray(w.transpose(0, 2, 3, 1)), (1, 2, 3))


__all__ = ["GradCamResult", "LayerChoice", "colormap",
           "default_layer", "explainable_layers", "feature_grid", "feature_maps", "filter_grid",
           "first_conv", "first_conv_filters", "grad_cam", "overlay", "resize_map"]
