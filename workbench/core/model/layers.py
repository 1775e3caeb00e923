"""The layer registry: every layer a network can be built from.

Entries are named after the ``torch.nn`` class they build and their builder *is* that class,
so a layer's params are the class's keyword arguments (and exported code can print
``nn.Conv2d(...)`` as is).

Besides its :class:`~workbench.core.registry.Param` declarations, each entry declares in
``entry.meta``:

``"input"``
    What the layer accepts: ``"image"`` (channels, height, width), ``"flat"`` (features,)
    or ``"any"``. The builder reports any other input as a misfit naming the fix.
``"auto"``
    ``{param: source}`` for every parameter whose ``None`` the builder fills in: source is
    ``"channels"`` (C of the incoming image), ``"features"`` (length of the incoming flat
    input), ``"classes"`` (the dataset's number of classes) or the name of another parameter
    of the same layer (e.g. a pool's stride defaults to its kernel_size). A pinned (non-None)
    ``"channels"``/``"features"`` value that disagrees with the incoming shape is a misfit.
``"check"`` (optional)
    ``check(params, input_shape) -> str | None`` with auto params resolved: a misfit
    particular to the layer, worded "what is wrong: what to do" (the builder prefixes
    "layer N (Type)").
``"shape"``
    ``shape(params, input_shape) -> output_shape`` (shapes without the batch dimension), with
    auto params resolved and the checks passed. Tests hold every one to real forward passes;
    an entry without one is run on PyTorch's meta device instead.
``"torch"``
    The qualified class name, for code export.
"""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from ..registry import Entry, Param, Registry

LAYERS = Registry("layer")

# Sources of auto-filled parameters (values of entry.meta["auto"]).
CHANNELS = "channels"
FEATURES = "features"
CLASSES = "classes"


def _window_problem(kind: str):
    """A check for a sliding window (convolution or pooling) over an image input.

    Returns what is wrong when the padded image is smaller than the kernel (the output
    would have no pixels) or, for pooling, when the padding exceeds half the kernel
    (PyTorch refuses it).
    """

    def check(params: dict[str, Any], shape: tuple[int, ...]) -> str | None:
        k, p = params["kernel_size"], params["padding"]
        if kind == "pool" and p > k // 2:
            return (f"has padding {p}, more than half its {k}x{k} kernel: use padding "
                    f"{k // 2} or less")
        h, w = shape[1], shape[2]
        if h + 2 * p < k or w + 2 * p < k:
            padded = f" ({h + 2 * p}x{w + 2 * p} with padding {p})" if p else ""
            fix = ("remove it, lower kernel_size, add padding, or use a larger input size"
                   if kind == "conv" else "remove it or use a larger input size")
            return f"gets a {h}x{w} input{padded}, smaller than its {k}x{k} kernel: {fix}"
        return None

    return check


def _same(params: dict[str, Any], shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape


def _window_shape(channels_param: str | None):
    """Output shape of a sliding window (PyTorch's floor formula, ceil_mode off)."""

    def shape(params: dict[str, Any], s: tuple[int, ...]) -> tuple[int, ...]:
        k, p, st = params["kernel_size"], params["padding"], params["stride"]
        c = params[channels_param] if channels_param else s[0]
        return (c, (s[1] + 2 * p - k) // st + 1, (s[2] + 2 * p - k) // st + 1)

    return shape


def _add(cls: type, group: str, help: str, params: tuple[Param, ...] = (),
         input: str = "any", auto: dict[str, str] | None = None, check=None,
         shape=_same) -> None:
    meta: dict[str, Any] = {"input": input, "auto": dict(auto or {}), "shape": shape,
                            "torch": f"torch.nn.{cls.__name__}"}
    if check is not None:
        meta["check"] = check
    LAYERS.add(Entry(cls.__name__, cls, params, help, group, meta))


def _kernel(default: int, help: str) -> Param:
    return Param("kernel_size", int, default, min=1, max=64, help=help)


def _padding(default: int, help: str) -> Param:
    return Param("padding", int, default, min=0, max=64, help=help)


_POOL_STRIDE = Param("stride", int, None, min=1, max=64, auto="same as kernel_size",
                     help="Step between windows; auto (= kernel_size) gives windows that do not "
                          "overlap, so 2 halves the height and width.")

# -- convolution ------------------------------------------------------------------------
_add(nn.Conv2d, "convolution",
     "2-D convolution: slides learned filters over the image to detect local patterns.",
     (Param("in_channels", int, None, min=1, max=65536, auto="input channels",
            help="Channels of the incoming image; leave on auto unless you want a check."),
      Param("out_channels", int, 32, min=1, max=4096,
            help="Number of filters (output channels); 32-128 suits small images."),
      _kernel(3, "Filter size in pixels; 3 is the usual choice, 5 or 7 see wider."),
      Param("stride", int, 1, min=1, max=64,
            help="Step between filter positions; 2 halves the height and width."),
      _padding(1, "Zero pixels added on each border; (kernel_size - 1) / 2 keeps the size "
                  "(1 for a 3x3 kernel), 0 shrinks it by kernel_size - 1."),
      Param("bias", bool, True, help="Learn an offset per filter; off when BatchNorm2d follows.")),
     input="image", auto={"in_channels": CHANNELS}, check=_window_problem("conv"),
     shape=_window_shape("out_channels"))

# -- pooling ----------------------------------------------------------------------------
def _add_pool(cls: type, help: str) -> None:
    """Max and average pooling declare the same window parameters and shape rule."""
    _add(cls, "pooling", help,
         (_kernel(2, "Window size; 2 halves the height and width."), _POOL_STRIDE,
          _padding(0, "Pixels added on each border; at most half the kernel size, usually 0.")),
         input="image", auto={"stride": "kernel_size"}, check=_window_problem("pool"),
         shape=_window_shape(None))


_add_pool(nn.MaxPool2d, "Max pooling: keeps the largest value of each window, shrinking the "
                        "image.")
_add_pool(nn.AvgPool2d, "Average pooling: keeps the mean of each window, shrinking the image.")
_add(nn.AdaptiveAvgPool2d, "pooling",
     "Adaptive average pooling: averages the image down to a fixed size, whatever the input.",
     (Param("output_size", int, 1, min=1, max=64,
            help="Output height and width; 1 (global average pooling) makes the network "
                 "work at any input size."),),
     input="image", shape=lambda p, s: (s[0], p["output_size"], p["output_size"]))

# -- normalisation ----------------------------------------------------------------------
_add(nn.BatchNorm2d, "normalisation",
     "Batch normalisation: rescales each channel over the batch; speeds up and steadies "
     "training. Put it after a Conv2d, before the activation.",
     (Param("num_features", int, None, min=1, max=65536, auto="input channels",
            help="Channels of the incoming image; leave on auto."),
      Param("momentum", float, 0.1, min=0.0, max=1.0,
            help="How fast the running statistics follow the batches; 0.1 is standard.")),
     input="image", auto={"num_features": CHANNELS})

# -- activation -------------------------------------------------------------------------
_add(nn.ReLU, "activation", "ReLU: max(0, x). The default choice after Conv2d and Linear.")
_add(nn.LeakyReLU, "activation",
     "Leaky ReLU: like ReLU but lets a small slope through for negative inputs.",
     (Param("negative_slope", float, 0.01, min=0.0, max=1.0,
            help="Slope for negative inputs; 0.01-0.2 is typical."),))
_add(nn.Sigmoid, "activation", "Sigmoid: squashes values into (0, 1); slow to train when "
                               "stacked deep.")
_add(nn.Tanh, "activation", "Tanh: squashes values into (-1, 1); the classic LeNet choice.")
_add(nn.GELU, "activation", "GELU: a smooth ReLU used by transformers.",
     (Param("approximate", str, "none", choices=("none", "tanh"),
            help="'tanh' uses a faster approximation; 'none' is exact."),))

# -- regularisation ---------------------------------------------------------------------
_add(nn.Dropout, "regularisation",
     "Dropout: during training zeroes random values so the network cannot rely on any one; "
     "does nothing at evaluation.",
     (Param("p", float, 0.5, min=0.0, max=1.0,
            help="Share of values zeroed; 0.2-0.5 is typical, before a Linear layer."),))

# -- reshaping --------------------------------------------------------------------------
_add(nn.Flatten, "reshaping",
     "Flatten: turns the image (channels, height, width) into one list of features, as "
     "Linear layers need.", shape=lambda p, s: (math.prod(s),))

# -- dense ------------------------------------------------------------------------------
_add(nn.Linear, "dense",
     "Linear (fully connected): every output is a learned weighted sum of all inputs. "
     "Needs a flat input: put Flatten before the first one.",
     (Param("in_features", int, None, min=1, max=1 << 31, auto="input features",
            help="Length of the incoming flat input; leave on auto unless you want a check."),
      Param("out_features", int, None, min=1, max=65536, auto="number of classes",
            help="Outputs; 64-512 for a hidden layer, auto (number of classes) for the last."),
      Param("bias", bool, True, help="Learn an offset per output; usually on.")),
     input="flat", auto={"in_features": FEATURES, "out_features": CLASSES},
     shape=lambda p, s: (p["out_features"],))
