"""Weight initialisation schemes.

Each :data:`INITS` entry's builder takes the entry's parameters and returns a function that
initialises one weight tensor in place (or ``None`` for ``default``: keep PyTorch's own
initialisation). :func:`apply_init` applies it to the weights of every convolution and
linear layer and zeroes their biases.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from ..errors import SpecError
from ..experiment import Component
from ..registry import Entry, Param, Registry

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
         make: Callable[..., TensorInit | None]) -> None:
    INITS.add(Entry(name, make, params, help, "init", {}))


_add("default", "PyTorch's own initialisation (Kaiming uniform, scaled for each layer); "
                "a good start.", (), lambda: None)
_add("zeros", "All weights and biases zero. Every unit then learns the same thing: only "
              "useful to see why random initialisation matters.", (),
     lambda: lambda t, g: nn.init.zeros_(t))
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
     lambda gain: lambda t, g: nn.init.xavier_uniform_(t, gain, generator=g))
_add("xavier_normal", "Glorot/Xavier normal: variance 2 / (fan_in + fan_out); suits tanh and "
                      "sigmoid networks.", (_GAIN,),
     lambda gain: lambda t, g: nn.init.xavier_normal_(t, gain, generator=g))
_add("kaiming_uniform", "He/Kaiming uniform: variance 2 / fan_in for ReLU; suits ReLU "
                        "networks.", _KAIMING,
     lambda a, mode, nonlinearity: lambda t, g: nn.init.kaiming_uniform_(
         t, a, mode, nonlinearity, generator=g))
_add("kaiming_normal", "He/Kaiming normal: variance 2 / fan_in for ReLU; suits ReLU networks.",
     _KAIMING,
     lambda a, mode, nonlinearity: lambda t, g: nn.init.kaiming_normal_(
         t, a, mode, nonlinearity, generator=g))
_add("orthogonal", "Orthogonal weight matrices: keeps signals' scale through deep stacks.",
     (_GAIN,), lambda gain: lambda t, g: nn.init.orthogonal_(t, gain, generator=g))


def apply_init(model: nn.Module, init: Component,
               generator: torch.Generator | None = None) -> None:
    """Initialise ``model``'s convolution and linear layers in place.

    Parameters
    ----------
    model
        Any module; its Conv and Linear submodules are initialised.
    init
        The scheme, e.g. ``Component("kaiming_normal", {"nonlinearity": "relu"})``; missing
        parameters take their defaults. ``default`` leaves the model untouched; every other
        scheme sets the weights and zeroes the biases.
    generator
        Random source (the global one when ``None``), so a seeded run is reproducible.

    Raises
    ------
    SpecError
        For an unknown scheme or an invalid parameter.
    """
    entry = INITS.get(init.type, "init.type")
    params = entry.validate(init.params, "init.params")
    if init.type == "uniform" and params["a"] >= params["b"]:
        raise SpecError("init.params.b", f"the upper bound {params['b']} must be above the lower "
                                         f"bound a = {params['a']}: e.g. a = -0.05, b = 0.05")
    fn = entry.builder(**params)
    if fn is None:
        return
    with torch.no_grad():
        for module in model.modules():
            if not isinstance(module, _TARGETS):
                continue
            fn(module.weight, generator)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
