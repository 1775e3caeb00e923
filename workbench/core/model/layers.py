"""The layer registry: every layer a network can be built from.

Entries are named after the class they build and their builder *is* that class, so a
layer's params are the class's keyword arguments (and exported code can print
``nn.Conv2d(...)`` as is). Most are ``torch.nn`` classes; our own (the row-wise recurrent
layers of :mod:`workbench.core.model.recurrent`) are plain ``nn.Module`` subclasses.

Besides its :class:`~workbench.core.registry.Param` declarations, each entry declares in
``entry.meta``:

``"input"``
    What the layer accepts: ``"image"`` (channels, height, width), ``"flat"`` (features,)
    or ``"any"``. The builder reports any other input as a misfit naming the fix.
``"auto"``
    ``{param: source}`` for every parameter whose ``None`` the builder fills in: source is
    a key of :data:`SOURCES`, read off the incoming shape (``"channels"``, ``"features"``,
    ``"row"``, ``"shape"``...), ``"classes"`` (the dataset's number of classes) or the name
    of another parameter of the same layer (e.g. a pool's stride defaults to its
    kernel_size). A pinned (non-None) value that disagrees with a strict source is a misfit.
``"check"`` (optional)
    ``check(params, input_shape) -> str | None`` with auto params resolved: a misfit
    particular to the layer, worded "what is wrong: what to do" (the builder prefixes
    "layer N (Type)").
``"shape"``
    ``shape(params, input_shape) -> output_shape`` (shapes without the batch dimension), with
    auto params resolved and the checks passed. Tests hold every one to real forward passes;
    an entry without one is run on PyTorch's meta device instead.
``"macs"``
    ``macs(params, input_shape, output_shape) -> int``: multiply-adds of one forward pass
    for one sample. The convention: multiplications by learned weights count (Conv2d,
    Linear, the recurrent layers' gate maths; biases are not counted), normalisation layers
    count one per element (their scale and shift); activations, pooling, dropout and
    reshaping count 0, being small next to the weighted layers (as in most published MAC
    tables). Entries without one count 0.
``"torch"``
    The qualified class name, for code export (``"torch.nn.Conv2d"``,
    ``"workbench.core.model.recurrent.RowLSTM"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from torch import nn

from workbench.core.model import layer_rules as rules
from workbench.core.model import recurrent
from workbench.core.model.backbones import BACKBONE
from workbench.core.registry import Entry, Param, Registry

LAYERS = Registry("layer")

# Sources of auto-filled parameters (values of entry.meta["auto"]).
CHANNELS = "channels"
FEATURES = "features"
CLASSES = "classes"
ROW = "row"
SHAPE = "shape"
CHANNELS_OR_ONE = "channels or 1"


@dataclass(frozen=True)
class AutoSource:
    """Where an auto parameter's value comes from: something read off the incoming shape.

    Attributes
    ----------
    what, one
        Plural and singular nouns for messages: ``"input channels"``, ``"input channel"``.
    read
        ``read(input_shape) -> value``.
    strict
        A pinned value must equal what is read (else the entry's own check judges it).
    also
        Pinned values accepted besides what is read (PReLU's single shared slope, 1).
    flat
        Plural noun used instead of ``what`` when the input is flat (PReLU after Flatten).
    """

    what: str
    one: str
    read: Callable[[tuple[int, ...]], Any]
    strict: bool = True
    also: tuple = ()
    flat: str | None = None

    def mismatch(self, name: str, pinned: Any, actual: Any,
                 shape: tuple[int, ...] = ()) -> str | None:
        """What is wrong with a pinned value (worded for the builder), or ``None``."""
        if not self.strict or pinned == actual or pinned in self.also:
            return None
        what = self.flat if self.flat and len(shape) == 1 else self.what
        if pinned == 1:  # "1 input channel"
            what = self.one if what == self.what else what[:-1]
        fix = " or ".join(["auto"] + [str(v) for v in self.also])
        return f"expects {pinned} {what} but receives {actual}: set {name} to {fix}"


SOURCES: dict[str, AutoSource] = {
    CHANNELS: AutoSource("input channels", "input channel", lambda s: s[0]),
    FEATURES: AutoSource("input features", "input feature", lambda s: s[0]),
    # Recurrent layers over image rows: one step is one row of every channel.
    ROW: AutoSource("features per row (channels x width)", "feature per row (channels x width)",
                    lambda s: s[0] * s[2]),
    # LayerNorm: any trailing part of the shape is valid, so its check judges pinned values.
    SHAPE: AutoSource("input shape", "input shape", lambda s: list(s), strict=False),
    CHANNELS_OR_ONE: AutoSource("input channels", "input channel", lambda s: s[0], also=(1,),
                                flat="input features"),
}


def _add(cls: type, group: str, help: str, params: tuple[Param, ...] = (),
         input: str = "any", auto: dict[str, str] | None = None, check=None,
         shape=rules.same, macs=None) -> None:
    torch_name = (f"torch.nn.{cls.__name__}" if cls.__module__.startswith("torch.nn")
                  else f"{cls.__module__}.{cls.__qualname__}")
    meta: dict[str, Any] = {"input": input, "auto": dict(auto or {}), "shape": shape,
                            "torch": torch_name}
    if check is not None:
        meta["check"] = check
    if macs is not None:
        meta["macs"] = macs
    LAYERS.add(Entry(cls.__name__, cls, params, help, group, meta))


def _kernel(default: int, help: str) -> Param:
    return Param("kernel_size", int, default, min=1, max=64, help=help)


def _padding(default: int, help: str, words: tuple[str, ...] | None = None) -> Param:
    return Param("padding", int, default, min=0, max=64, help=help, words=words)


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
                  "(1 for a 3x3 kernel), 0 shrinks it by kernel_size - 1. 'same' keeps the "
                  "size for any kernel (stride 1 only); 'valid' means 0.",
               words=("same", "valid")),
      Param("dilation", int, 1, min=1, max=16,
            help="Spacing between the kernel's taps; 2 makes a 3x3 kernel see a 5x5 area "
                 "with the same 9 weights. 1 is an ordinary convolution."),
      Param("groups", int, 1, min=1, max=4096,
            help="Split the channels into this many independent groups (in and out "
                 "channels must both be divisible by it); groups = in_channels = "
                 "out_channels is a depthwise convolution. 1 is usual."),
      Param("bias", bool, True, help="Learn an offset per filter; off when BatchNorm2d follows.")),
     input="image", auto={"in_channels": CHANNELS}, check=rules.conv_problem,
     shape=rules.window_shape("out_channels"), macs=rules.conv_macs)


# -- pooling ----------------------------------------------------------------------------
def _add_pool(cls: type, help: str) -> None:
    """Max and average pooling declare the same window parameters and shape rule."""
    _add(cls, "pooling", help,
         (_kernel(2, "Window size; 2 halves the height and width."), _POOL_STRIDE,
          _padding(0, "Pixels added on each border; at most half the kernel size, usually 0.")),
         input="image", auto={"stride": "kernel_size"}, check=rules.window_problem("pool"),
         shape=rules.window_shape(None))


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
_MOMENTUM = Param("momentum", float, 0.1, min=0.0, max=1.0,
                  help="How fast the running statistics follow the batches; 0.1 is standard.")
_AFFINE_HELP = "Learn a scale and an offset per {}; usually on."

_add(nn.BatchNorm2d, "normalisation",
     "Batch normalisation: rescales each channel over the batch; speeds up and steadies "
     "training. Put it after a Conv2d, before the activation.",
     (Param("num_features", int, None, min=1, max=65536, auto="input channels",
            help="Channels of the incoming image; leave on auto."), _MOMENTUM),
     input="image", auto={"num_features": CHANNELS}, macs=rules.elements)
_add(nn.BatchNorm1d, "normalisation",
     "Batch normalisation for flat inputs: rescales each feature over the batch. Put it "
     "after a Linear layer, before the activation.",
     (Param("num_features", int, None, min=1, max=1 << 31, auto="input features",
            help="Length of the incoming flat input; leave on auto."), _MOMENTUM),
     input="flat", auto={"num_features": FEATURES}, macs=rules.elements)
_add(nn.LayerNorm, "normalisation",
     "Layer normalisation: rescales each sample over its own values (no batch statistics, "
     "so it behaves the same in training and evaluation, at any batch size).",
     (Param("normalized_shape", list, None, min=1, max=1 << 31, auto="input shape",
            item_type=int, length=(1, 2, 3),
            help="The trailing dimensions to normalise over; auto takes the whole input. "
                 "On images this learns a scale per pixel: GroupNorm is often the better "
                 "choice there."),
      Param("elementwise_affine", bool, True, help=_AFFINE_HELP.format("value"))),
     auto={"normalized_shape": SHAPE}, check=rules.layer_norm_problem, macs=rules.elements)
_add(nn.GroupNorm, "normalisation",
     "Group normalisation: rescales groups of channels within each sample; works like "
     "BatchNorm2d but also with tiny batches.",
     (Param("num_groups", int, 8, min=1, max=4096,
            help="Groups the channels are split into; must divide the channels. 8 or 32 "
                 "are usual; 1 normalises all channels together."),
      Param("num_channels", int, None, min=1, max=65536, auto="input channels",
            help="Channels of the incoming image; leave on auto."),
      Param("affine", bool, True, help=_AFFINE_HELP.format("channel"))),
     input="image", auto={"num_channels": CHANNELS},
     check=rules.divisible_problem("num_groups", "num_channels"), macs=rules.elements)

# -- activation -------------------------------------------------------------------------
_add(nn.ReLU, "activation", "ReLU: max(0, x). The default choice after Conv2d and Linear.")
_add(nn.LeakyReLU, "activation",
     "Leaky ReLU: like ReLU but lets a small slope through for negative inputs.",
     (Param("negative_slope", float, 0.01, min=0.0, max=1.0,
            help="Slope for negative inputs; 0.01-0.2 is typical."),))
_add(nn.PReLU, "activation",
     "PReLU: a leaky ReLU whose negative slope is learned, one shared or one per channel.",
     (Param("num_parameters", int, 1, min=1, max=65536, auto="input channels",
            help="1 learns one slope for all values; auto learns one per channel (or per "
                 "feature after Flatten)."),
      Param("init", float, 0.25, min=0.0, max=1.0,
            help="Starting slope for negative inputs; 0.25 is standard.")),
     auto={"num_parameters": CHANNELS_OR_ONE})
_add(nn.ELU, "activation",
     "ELU: like ReLU for positive inputs, a smooth curve down to -alpha for negative ones.",
     (Param("alpha", float, 1.0, min=0.0, max=10.0,
            help="Value approached for very negative inputs; 1 is standard."),))
_add(nn.SiLU, "activation", "SiLU (swish): x * sigmoid(x), a smooth ReLU used by EfficientNet.")
_add(nn.GELU, "activation", "GELU: a smooth ReLU used by transformers.",
     (Param("approximate", str, "none", choices=("none", "tanh"),
            help="'tanh' uses a faster approximation; 'none' is exact."),))
_add(nn.Sigmoid, "activation", "Sigmoid: squashes values into (0, 1); slow to train when "
                               "stacked deep.")
_add(nn.Tanh, "activation", "Tanh: squashes values into (-1, 1); the classic LeNet choice.")


_DIM = Param("dim", int, 1, min=1, max=3,
             help="Dimension the values are normalised over; 1 is the channels, or the "
                  "features of a flat input (0 would be the batch).")
_add(nn.Softmax, "activation",
     "Softmax: turns scores into probabilities that sum to 1. Do not end the network with "
     "it when training with cross-entropy, which applies it already.",
     (_DIM,), check=rules.dim_problem)
_add(nn.LogSoftmax, "activation",
     "LogSoftmax: the logarithm of Softmax, for a negative log-likelihood loss. Leave it out "
     "with cross-entropy, which applies it already.",
     (_DIM,), check=rules.dim_problem)

# -- regularisation ---------------------------------------------------------------------
_add(nn.Dropout, "regularisation",
     "Dropout: during training zeroes random values so the network cannot rely on any one; "
     "does nothing at evaluation.",
     (Param("p", float, 0.5, min=0.0, max=1.0,
            help="Share of values zeroed; 0.2-0.5 is typical, before a Linear layer."),))
_add(nn.Dropout2d, "regularisation",
     "Spatial dropout: during training zeroes whole channels of the image, which suits "
     "convolutions better than zeroing single pixels; does nothing at evaluation.",
     (Param("p", float, 0.2, min=0.0, max=1.0,
            help="Share of channels zeroed; 0.1-0.3 is typical after a convolution block."),),
     input="image")

# -- reshaping --------------------------------------------------------------------------
_add(nn.Flatten, "reshaping",
     "Flatten: turns the image (channels, height, width) into one list of features, as "
     "Linear layers need.", shape=lambda p, s: (math.prod(s),))
_add(nn.Identity, "reshaping",
     "Identity: passes its input through unchanged; a placeholder, e.g. to switch a layer "
     "off without renumbering the others.")


# -- recurrent --------------------------------------------------------------------------
_GATES = {"RowRNN": 1, "RowGRU": 3, "RowLSTM": 4}


def _add_recurrent(cls: type, help: str, extra: tuple[Param, ...] = ()) -> None:
    _add(cls, "recurrent", help,
         (Param("input_size", int, None, min=1, max=1 << 24,
                auto="features per row (channels x width)",
                help="Features of one row of the image (channels x width); leave on auto."),
          Param("hidden_size", int, 128, min=1, max=4096,
                help="Size of the memory carried from row to row; 64-256 is typical."),
          Param("num_layers", int, 1, min=1, max=8,
                help="Recurrent layers stacked on each other; 1 or 2 is typical."),
          Param("bidirectional", bool, False,
                help="Also read the rows bottom to top; doubles the outputs.")) + extra,
         input="image", auto={"input_size": ROW}, shape=rules.recurrent_shape,
         macs=rules.recurrent_macs(_GATES[cls.__name__]))


_ROWS = ("reads the image row by row, top to bottom, and outputs its final memory as a "
         "flat vector (put Linear after it).")
_add_recurrent(recurrent.RowRNN, "Recurrent network: " + _ROWS + " The simplest kind; "
               "forgets long sequences.",
               (Param("nonlinearity", str, "tanh", choices=("tanh", "relu"),
                      help="Activation of the hidden state; tanh is standard."),))
_add_recurrent(recurrent.RowLSTM, "LSTM: " + _ROWS + " Gates decide what to remember, so "
               "it keeps information across many rows.")
_add_recurrent(recurrent.RowGRU, "GRU: " + _ROWS + " Like an LSTM with fewer gates: "
               "faster, often as good.")

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
     shape=lambda p, s: (p["out_features"],),
     macs=lambda p, s, out: p["in_features"] * p["out_features"])

# -- pretrained -------------------------------------------------------------------------
LAYERS.add(BACKBONE)  # declared in backbones.py with the module it builds
