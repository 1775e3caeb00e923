"""The shape, misfit and multiply-add rules the layer entries declare.

Pure arithmetic on shapes (no torch), kept apart from the declarations in
:mod:`workbench.core.model.layers` so each reads on its own. Every function takes the
layer's params with autos resolved and the input shape without the batch dimension:

* ``check(params, shape) -> str | None``: what does not fit, worded "what is wrong: what
  to do" (the builder prefixes "layer N (Type)");
* ``shape(params, shape) -> output shape``, PyTorch's own formulas;
* ``macs(params, shape, out_shape) -> int``: multiply-adds for one sample (the counting
  convention is in the layers module's docstring).
"""

from __future__ import annotations

import math
from typing import Any


def elements(params: dict[str, Any], s: tuple[int, ...], out: tuple[int, ...]) -> int:
    """Multiply-adds of a per-element scale and shift (normalisation): one per value."""
    return math.prod(s)


def same(params: dict[str, Any], shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape rule of a layer whose output has its input's shape."""
    return shape


def padding_of(params: dict[str, Any]) -> int | str:
    """The padding as a number of pixels, or ``"same"`` (PyTorch pads to keep the size)."""
    p = params["padding"]
    return 0 if p == "valid" else p


def span(params: dict[str, Any]) -> int:
    """Pixels one kernel position covers: dilation spreads the kernel's taps apart."""
    return params.get("dilation", 1) * (params["kernel_size"] - 1) + 1


def window_problem(kind: str):
    """A check for a sliding window (convolution or pooling) over an image input.

    Returns what is wrong when the padded image is smaller than the (dilated) kernel (the
    output would have no pixels) or, for pooling, when the padding exceeds half the kernel
    (PyTorch refuses it).
    """

    def check(params: dict[str, Any], shape: tuple[int, ...]) -> str | None:
        k, p = params["kernel_size"], padding_of(params)
        if p == "same":  # PyTorch pads so the output keeps the input's size
            return None
        if kind == "pool" and p > k // 2:
            return (f"has padding {p}, more than half its {k}x{k} kernel: use padding "
                    f"{k // 2} or less")
        h, w, reach, d = shape[1], shape[2], span(params), params.get("dilation", 1)
        if h + 2 * p < reach or w + 2 * p < reach:
            padded = f" ({h + 2 * p}x{w + 2 * p} with padding {p})" if p else ""
            kernel = f"{k}x{k} kernel" + (f" (spanning {reach}x{reach} with dilation {d})"
                                          if d > 1 else "")
            fix = ("remove it, lower kernel_size, add padding, or use a larger input size"
                   if kind == "conv" else "remove it or use a larger input size")
            return f"gets a {h}x{w} input{padded}, smaller than its {kernel}: {fix}"
        return None

    return check


def window_shape(channels_param: str | None):
    """Output shape of a sliding window: PyTorch's floor formula (ceil_mode off)."""

    def shape(params: dict[str, Any], s: tuple[int, ...]) -> tuple[int, ...]:
        c = params[channels_param] if channels_param else s[0]
        p, st, reach = padding_of(params), params["stride"], span(params)
        if p == "same":
            return (c, s[1], s[2])
        return (c, (s[1] + 2 * p - reach) // st + 1, (s[2] + 2 * p - reach) // st + 1)

    return shape


def largest_divisor(n: int, at_most: int) -> int:
    """The largest divisor of ``n`` not above ``at_most``: the nearest groups that fit."""
    return max(d for d in range(1, min(n, at_most) + 1) if n % d == 0)


def conv_problem(params: dict[str, Any], shape: tuple[int, ...]) -> str | None:
    """Conv2d's misfits: 'same' padding with a stride, groups that do not divide the
    channels, or an image smaller than the (dilated) kernel."""
    if params["padding"] == "same" and params["stride"] != 1:
        return (f"has padding 'same' with stride {params['stride']}, which PyTorch does not "
                f"support: set stride to 1, or give padding as a number (e.g. "
                f"{span(params) // 2})")
    g, cin, cout = params["groups"], params["in_channels"], params["out_channels"]
    if cin % g or cout % g:
        best = largest_divisor(math.gcd(cin, cout), g)
        return (f"has groups {g} with {cin} input channels and {cout} output channels: "
                f"in_channels and out_channels must both be divisible by groups; use groups "
                f"{best}, or change out_channels or the layers before it")
    return window_problem("conv")(params, shape)


def conv_macs(params: dict[str, Any], s: tuple[int, ...], out: tuple[int, ...]) -> int:
    """Every output value is a weighted sum over its group's input channels x kernel."""
    k = params["kernel_size"]
    return math.prod(out) * (params["in_channels"] // params["groups"]) * k * k


def divisible_problem(what: str, n_param: str):
    """A check that ``num_groups`` divides the channels (GroupNorm)."""

    def check(params: dict[str, Any], shape: tuple[int, ...]) -> str | None:
        g, c = params[what], params[n_param]
        if c % g:
            return (f"has {what} {g} but {c} channels: the channels must be divisible by "
                    f"{what}; use {what} {largest_divisor(c, g)}")
        return None

    return check


def layer_norm_problem(params: dict[str, Any], shape: tuple[int, ...]) -> str | None:
    """LayerNorm normalises over trailing dimensions: a pinned shape must end the input's."""
    ns = list(params["normalized_shape"])
    if len(ns) > len(shape) or list(shape[len(shape) - len(ns):]) != ns:
        got = shape_text(shape) if len(shape) > 1 else f"{shape[0]} flat features"
        return (f"normalizes over {shape_text(ns)} but receives {got}: "
                f"normalized_shape must be the input's last dimensions; set it to auto "
                f"(the whole input)")
    return None


def shape_text(shape) -> str:
    """``(3, 32, 32)``: a shape as messages print it."""
    return f"({', '.join(str(n) for n in shape)})"


def dim_problem(params: dict[str, Any], shape: tuple[int, ...]) -> str | None:
    """Softmax's dim must exist in its input (dims count from 1, after the batch)."""
    if params["dim"] > len(shape):
        return (f"has dim {params['dim']} but its input {shape_text(shape)} has only "
                f"{len(shape)} dimension{'s' if len(shape) > 1 else ''} after the batch: "
                f"use dim 1 (channels, or features when flat)")
    return None


def recurrent_shape(params: dict[str, Any], s: tuple[int, ...]) -> tuple[int, ...]:
    """A row-wise recurrent layer outputs its final hidden state, per direction."""
    return (params["hidden_size"] * (2 if params["bidirectional"] else 1),)


def recurrent_macs(gates: int):
    """Gate maths per row: each gate multiplies the step's input and the previous hidden
    state by its weights, for every layer and direction."""

    def macs(params: dict[str, Any], s: tuple[int, ...], out: tuple[int, ...]) -> int:
        hidden, dirs = params["hidden_size"], 2 if params["bidirectional"] else 1
        total, size = 0, params["input_size"]
        for _ in range(params["num_layers"]):
            total += dirs * gates * hidden * (size + hidden)
            size = hidden * dirs  # the next layer reads both directions' outputs
        return total * s[1]  # one step per row

    return macs
