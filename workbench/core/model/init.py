"""Weight initialisation schemes.

Each :data:`INITS` entry's builder takes the entry's parameters and returns a function that
initialises one tensor in place (or ``None`` for ``default``: keep PyTorch's own
initialisation). :func:`apply_init` applies the experiment's scheme to the weights of every
convolution and linear layer and zeroes their biases; a layer's own ``init``
(:attr:`Component.init <workbench.core.registry.Component.init>`) overrides it for that
layer, its weight and bias each. :func:`recommended_init` suggests the scheme that suits the
activation following a layer.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import nn

from workbench.core.errors import SpecError
from workbench.core.registry import Component
from workbench.core.registry import Entry, Param, Registry

INITS = Registry("init")

# Layers whose weights an init scheme sets: what the scheme's fan-in/fan-out maths is for.
# BatchNorm keeps weight 1 and bias 0, which is what normalisation needs.
_TARGETS = (nn.modules.conv._ConvNd, nn.Linear)

_GAIN = Param("gain", float, 1.0, min=0.0, max=100.0,
              help="Scale factor; 1 is standard (about 1.41 suits ReLU, 1.67 tanh).")
_NONLINEARITIES = ("relu", "leaky_relu", "linear", "tanh", "sigmoid", "selu")
_KAIMING = (
    Param("a", float, 0.0, min=0.0, max=10.0,
          help="Negative slope of the LeakyReLU that follows (used with leaky_relu only)."),
    Param("mode", str, "fan_in", choices=("fan_in", "fan_out"),
          help="fan_in keeps the forward signal's scale (usual); fan_out the gradients'."),
    Param("nonlinearity", str, "relu", choices=_NONLINEARITIES,
          help="The activation that follows the layers; relu for most CNNs."),
)

TensorInit = Callable[[torch.Tensor, "torch.Generator | None"], Any]


def _add(name: str, help: str, params: tuple[Param, ...],
         make: Callable[..., TensorInit | None], matrix: bool = False) -> None:
    # meta["matrix"]: the scheme needs a tensor of 2 or more dimensions (its maths uses
    # fan-in/fan-out or rows), so it cannot initialise a bias or a BatchNorm scale.
    INITS.add(Entry(name, make, params, help, "init", {"matrix": matrix}))


_add("default", "PyTorch's own initialisation (Kaiming uniform, scaled for each layer); "
                "a good start.", (), lambda: None)
_add("zeros", "All weights and biases zero. Every unit then learns the same thing: only "
              "useful to see why random initialisation matters.", (),
     lambda: lambda t, g: nn.init.zeros_(t))
_add("constant", "Every value the same number val; as a bias, a small positive val (0.01) "
                 "keeps ReLU units alive at the start; as a weight, units stay identical.",
     (Param("val", float, 0.0, min=-100.0, max=100.0,
            help="The value; 0 for a bias, 1 for a BatchNorm scale."),),
     lambda val: lambda t, g: nn.init.constant_(t, val))
_add("uniform", "Weights drawn uniformly between a and b.",
     (Param("a", float, -0.05, min=-10.0, max=10.0, help="Lower bound; e.g. -0.05."),
      Param("b", float, 0.05, min=-10.0, max=10.0, help="Upper bound; e.g. 0.05.")),
     lambda a, b: lambda t, g: nn.init.uniform_(t, a, b, generator=g))
_add("normal", "Weights drawn from a normal distribution.",
     (Param("mean", float, 0.0, min=-10.0, max=10.0, help="Mean; 0 is usual."),
      Param("std", float, 0.01, min=0.0, max=10.0,
            help="Standard deviation; 0.01-0.05. Too large explodes, too small stalls.")),
     lambda mean, std: lambda t, g: nn.init.normal_(t, mean, std, generator=g))
_add("xavier_uniform", "Glorot/Xavier uniform: variance 2 / (fan_in + fan_out); suits tanh "
                       "and sigmoid networks.", (_GAIN,),
     lambda gain: lambda t, g: nn.init.xavier_uniform_(t, gain, generator=g), matrix=True)
_add("xavier_normal", "Glorot/Xavier normal: variance 2 / (fan_in + fan_out); suits tanh and "
                      "sigmoid networks.", (_GAIN,),
     lambda gain: lambda t, g: nn.init.xavier_normal_(t, gain, generator=g), matrix=True)
_add("kaiming_uniform", "He/Kaiming uniform: variance 2 / fan_in for ReLU; suits ReLU "
                        "networks.", _KAIMING,
     lambda a, mode, nonlinearity: lambda t, g: nn.init.kaiming_uniform_(
         t, a, mode, nonlinearity, generator=g), matrix=True)
_add("kaiming_normal", "He/Kaiming normal: variance 2 / fan_in for ReLU; suits ReLU networks.",
     _KAIMING,
     lambda a, mode, nonlinearity: lambda t, g: nn.init.kaiming_normal_(
         t, a, mode, nonlinearity, generator=g), matrix=True)
_add("orthogonal", "Orthogonal weight matrices: keeps signals' scale through deep stacks.",
     (_GAIN,), lambda gain: lambda t, g: nn.init.orthogonal_(t, gain, generator=g), matrix=True)


_BIAS_SCHEMES = "zeros, constant, normal or uniform"


def _scheme(init: Component, where: str) -> tuple[TensorInit | None, bool]:
    """Validate ``init`` (filling its params in place) and return ``(fn, needs_matrix)``.

    ``fn`` is ``None`` for ``default`` (leave the tensor as PyTorch made it).
    """
    entry = INITS.get(init.type, f"{where}.type")
    init.params = params = entry.validate(init.params, f"{where}.params")
    if init.type == "uniform" and params["a"] >= params["b"]:
        raise SpecError(f"{where}.params.b", f"the upper bound {params['b']} must be above the "
                                             f"lower bound a = {params['a']}: e.g. a = -0.05, "
                                             f"b = 0.05")
    return entry.builder(**params), bool(entry.meta.get("matrix"))


def _layer_scheme(value: Any, where: str) -> Component:
    """One ``init.weight`` / ``init.bias`` value as a Component (string shorthand allowed)."""
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict):
        raise SpecError(where, f"expected an object like {{\"type\": \"kaiming_normal\", "
                               f"\"params\": {{...}}}}, got {value!r}")
    unknown = sorted(map(str, set(value) - {"type", "params"}))
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", "unknown field; a scheme has type and params")
    if not isinstance(value.get("type"), str):
        raise SpecError(f"{where}.type", f"missing: name the scheme, one of "
                                         f"{', '.join(INITS.names())}")
    params = value.get("params") or {}
    comp = Component(value["type"], dict(params) if isinstance(params, dict) else params)
    _, matrix = _scheme(comp, where)
    if matrix and where.endswith(".bias"):
        raise SpecError(f"{where}.type", f"{comp.type} needs a weight matrix (its scale comes "
                                         f"from fan-in/fan-out) but a bias is 1-D: use "
                                         f"{_BIAS_SCHEMES}")
    return comp


def validate_layer_init(init: Any, where: str = "init") -> dict[str, Any]:
    """Check a layer's own ``init`` and return it normalised, every scheme's params filled.

    Parameters
    ----------
    init
        ``{"weight": scheme, "bias": scheme}``, either key optional; a scheme is
        ``{"type": name, "params": {...}}`` or just its name.
    where
        The field's path for messages, e.g. ``"model.layers[2].init"``.

    Raises
    ------
    SpecError
        Naming the field, e.g. ``model.layers[2].init.weight.type: unknown init ...``, or
        ``...init.bias.type`` for a scheme that needs a matrix (xavier, kaiming, orthogonal).
    """
    if not isinstance(init, dict):
        raise SpecError(where, f"expected an object like {{\"weight\": {{\"type\": "
                               f"\"kaiming_normal\"}}, \"bias\": {{\"type\": \"zeros\"}}}}, "
                               f"got {init!r}")
    unknown = sorted(map(str, set(init) - {"weight", "bias"}))
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", "unknown key; a layer's init has weight and "
                                                 "bias (either may be left out)")
    out = {}
    for key in ("weight", "bias"):
        if key in init:
            out[key] = _layer_scheme(init[key], f"{where}.{key}").to_dict()
    return out


def _tensor(module: nn.Module, name: str) -> torch.Tensor | None:
    value = getattr(module, name, None)
    return value if isinstance(value, torch.Tensor) else None


def apply_init(model: nn.Module, init: Component, generator: torch.Generator | None = None,
               layers: Sequence[Component] | None = None) -> None:
    """Initialise ``model``'s weights in place.

    Parameters
    ----------
    model
        Any module; its Conv and Linear submodules take the global scheme.
    init
        The experiment's scheme, e.g. ``Component("kaiming_normal", {"nonlinearity":
        "relu"})``; missing parameters take their defaults. ``default`` leaves weights and
        biases as PyTorch made them; every other scheme sets the weights and zeroes the
        biases.
    generator
        Random source (the global one when ``None``), so a seeded run is reproducible.
    layers
        The layer Components the model was built from (``model[i]`` is layer ``i``). A layer
        whose ``init`` is set takes it instead of the global scheme: ``init["weight"]`` for
        its ``weight``, ``init["bias"]`` for its ``bias``. Left out, the weight takes the
        global scheme (Conv and Linear only) and the bias follows the weight's scheme (zeroed,
        or kept under ``default``).

    Notes
    -----
    A parameter shared by two layers (a weight tie) is initialised once, by the first layer
    that holds it, so its own ``init`` is the one that counts. The global scheme skips the
    insides of a module with ``workbench_keep_init = True`` (a pretrained backbone).

    Raises
    ------
    SpecError
        For an unknown scheme or an invalid parameter, a layer ``init`` on a layer without a
        weight or bias, or a matrix scheme (xavier, kaiming, orthogonal) on a 1-D tensor. It
        is raised before any tensor changes.
    """
    global_fn, _ = _scheme(Component(init.type, init.params), "init")
    own: dict[int, tuple[int, Component]] = {}  # id(module) -> (layer index, its Component)
    if layers is not None:
        for i, (module, comp) in enumerate(zip(model.children(), layers)):
            if comp.init is not None:
                own[id(module)] = (i, comp)
    # Plan every (tensor, fn) first, so a mistake in any layer's init leaves the model as it was.
    plan: list[tuple[torch.Tensor, TensorInit]] = []
    seen: set[int] = set()  # ids of planned tensors: a tied parameter is initialised once
    zeros: TensorInit = lambda t, g: nn.init.zeros_(t)  # noqa: E731
    for module in _modules(model):
        if id(module) in own:
            plan += _layer_plan(module, *own[id(module)], global_fn, zeros, seen)
            continue
        if not isinstance(module, _TARGETS) or global_fn is None:
            continue
        for name, fn in (("weight", global_fn), ("bias", zeros)):
            t = _tensor(module, name)
            if t is not None and id(t) not in seen:
                seen.add(id(t))
                plan.append((t, fn))
    with torch.no_grad():
        for t, fn in plan:
            fn(t, generator)


def _modules(model: nn.Module) -> list[nn.Module]:
    """``model.modules()`` in the same order, minus the insides of a module that keeps its
    weights (``workbench_keep_init = True``, e.g. a pretrained backbone): a global scheme
    would wipe what was learnt."""
    out, stack, seen = [], [model], set()
    while stack:
        module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        out.append(module)
        if not getattr(module, "workbench_keep_init", False):
            stack.extend(reversed(list(module.children())))
    return out


def _layer_plan(module: nn.Module, i: int, comp: Component, global_fn: TensorInit | None,
                zeros: TensorInit, seen: set[int]) -> list[tuple[torch.Tensor, TensorInit]]:
    """The (tensor, fn) pairs of layer ``i``'s own init (validated here)."""
    where = f"model.layers[{i}].init"
    spec = validate_layer_init(comp.init, where)
    what = f"layer {i + 1} ({comp.type})"
    weight_fn = global_fn if isinstance(module, _TARGETS) else None
    if "weight" in spec:
        weight_fn, matrix = _scheme(Component(**spec["weight"]), f"{where}.weight")
        w = _tensor(module, "weight")
        if w is None:
            raise SpecError(f"{where}.weight", f"{what} has no weight to initialise: remove "
                                               f"its init")
        if matrix and w.dim() < 2:
            raise SpecError(f"{where}.weight.type", f"{spec['weight']['type']} needs a weight "
                                                    f"matrix but {what}'s weight is 1-D (one "
                                                    f"value per channel): use "
                                                    f"{_BIAS_SCHEMES}")
    if "bias" in spec:
        bias_fn, _ = _scheme(Component(**spec["bias"]), f"{where}.bias")
        if _tensor(module, "bias") is None:
            raise SpecError(f"{where}.bias", f"{what} has no bias (bias is off): remove "
                                             f"init.bias or turn its bias on")
    else:  # the bias follows the weight's scheme, as under the global init
        bias_fn = zeros if weight_fn is not None else None
    plan = []
    for name, fn in (("weight", weight_fn), ("bias", bias_fn)):
        t = _tensor(module, name)
        if t is not None and id(t) not in seen:
            seen.add(id(t))  # even for "default": this layer owns the tensor, keep it as is
            if fn is not None:
                plan.append((t, fn))
    return plan


# Activations a layer's recommended scheme depends on. Anything else in the "pooling",
# "normalisation", "regularisation" or "reshaping" groups passes the signal's scale through.
_RELU_FAMILY = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SiLU", "GELU",
                "Mish", "Hardswish")
_SQUASHING = ("Tanh", "Sigmoid", "Hardtanh", "Softsign", "Hardsigmoid")
_PASS_THROUGH = ("pooling", "normalisation", "regularisation", "reshaping")
_WEIGHTED = ("convolution", "dense")


def recommended_scheme(layers: Sequence[Component], index: int) -> Component | None:
    """The init scheme that suits layer ``index`` given the activation that follows it.

    Returns
    -------
    Component or None
        ``kaiming_normal`` (with ``leaky_relu`` and its slope after LeakyReLU) before a
        ReLU-family activation, ``xavier_uniform`` before Tanh or Sigmoid; ``None`` for a
        layer without a weight matrix, or when no activation follows before the next
        weighted layer (the output layer, say).
    """
    from workbench.core.model.layers import LAYERS

    if not 0 <= index < len(layers) or layers[index].type not in LAYERS or \
            LAYERS.get(layers[index].type).group not in _WEIGHTED:
        return None
    for comp in layers[index + 1:]:
        if comp.type in _RELU_FAMILY:
            if comp.type == "LeakyReLU":
                slope = (comp.params or {}).get("negative_slope", 0.01)
                return Component("kaiming_normal", {"a": float(slope),
                                                    "nonlinearity": "leaky_relu"})
            return Component("kaiming_normal", {"nonlinearity": "relu"})
        if comp.type in _SQUASHING:
            gain = "tanh" if comp.type == "Tanh" else "sigmoid"
            return Component("xavier_uniform", {"gain": round(nn.init.calculate_gain(gain), 4)})
        if comp.type not in LAYERS or LAYERS.get(comp.type).group not in _PASS_THROUGH:
            return None
    return None


def recommended_init(layers: Sequence[Component], index: int) -> str | None:
    """A sentence recommending layer ``index``'s init from the activation after it, or None.

    For the GUI: e.g. ``"He/Kaiming (kaiming_normal) suits a layer followed by ReLU"``.
    """
    scheme = recommended_scheme(layers, index)
    if scheme is None:
        return None
    act = next(c.type for c in layers[index + 1:] if c.type in _RELU_FAMILY + _SQUASHING)
    if scheme.type == "kaiming_normal":
        extra = (f", nonlinearity leaky_relu, a = {scheme.params['a']:g}"
                 if act == "LeakyReLU" else "")
        return (f"He/Kaiming ({scheme.type}{extra}) suits a layer followed by {act}: it keeps "
                f"the signal's scale although {act} zeroes or shrinks negative values")
    return (f"Glorot/Xavier ({scheme.type}, gain {scheme.params['gain']:g}) suits a layer "
            f"followed by {act}: it keeps values in {act}'s responsive range")


__all__ = ["INITS", "apply_init", "validate_layer_init", "recommended_scheme",
           "recommended_init"]
