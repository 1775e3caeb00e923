"""The model doctor's size check: a network too big to train on this machine.

Training keeps every weight several times over (the weight, its gradient and the
optimizer's state: 16 bytes a weight with Adam), before a single image's activations. A
Flatten of a large image into a Linear layer (the seed CNN at 4096x4096: 8.6 billion
weights, 128 GB to train) builds and fits together, and then exhausts memory. The check
reads the shape summary's parameter counts only (the :func:`~.builder.infer_shapes` pass
builds layers on the meta device), so it allocates nothing; it asks how much memory the
device has only for networks big enough to matter.
"""

from __future__ import annotations

import functools
from typing import Iterable

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.builder import MAX_PARAMS
from workbench.core.model.findings import TRANSPARENT, Context, Finding, Fix, layers_of
from workbench.core.train.memory import estimate

#: Weights, gradients and optimizer state above this are worth a warning anywhere.
WARN_BYTES = 4 * 2**30
#: ... and above this share of the device's memory (little is left for the activations).
WARN_SHARE = 0.5
#: Below this the device's memory is not even looked up (a GPU's first query takes time).
QUIET_BYTES = 2**30


def _gb(num_bytes: float) -> str:
    return f"{num_bytes / 2**30:,.1f} GB"


@functools.lru_cache(maxsize=8)
def device_memory(device: str) -> tuple[str, int | None]:
    """What training on ``device`` (``training.device``) has to hold the network, and how
    many bytes: ``("the GPU cuda:0", n)`` or ``("this machine's RAM", n)``; ``None`` when
    unknown. Looked up once per device name (a CUDA query initialises the driver)."""
    from workbench.core.train.device import list_devices

    devices = list_devices()
    ram = next((d.memory_bytes for d in devices if d.kind == "cpu"), None)
    gpus = [d for d in devices if d.kind == "cuda"]
    name = {"auto": gpus[0].name if gpus else "", "cuda": "cuda:0"}.get(device, device)
    gpu = next((d for d in gpus if d.name == name), None)
    if gpu is not None and gpu.memory_bytes:
        return f"the GPU {gpu.name}", int(gpu.memory_bytes)
    return "this machine's RAM", ram  # the CPU, and an Apple GPU (memory shared with it)


def _pool_fix(ctx: Context, big: int) -> tuple[int | None, str]:
    """Where AdaptiveAvgPool2d(1) would go (the Flatten feeding layer ``big``), and how
    many values that Flatten makes, e.g. ``"67,108,864 (64x1024x1024)"``; ``(None, "")``
    when no Flatten of an image feeds it."""
    s, j = ctx.summary, big - 1
    while j >= 0 and ctx.types[j] in TRANSPARENT and ctx.types[j] != "Flatten":
        j -= 1
    if j < 0 or ctx.types[j] != "Flatten":
        return None, ""
    shape = s.layers[j].input_shape if j < len(s.layers) else None
    if shape is None or len(shape) != 3 or shape[1] * shape[2] <= 1:
        return None, ""
    return j, f"{shape[0] * shape[1] * shape[2]:,} ({'x'.join(str(n) for n in shape)})"


def _insert_pool(at: int, linear: int) -> Fix:
    def apply(exp: Experiment) -> None:
        layers = layers_of(exp)
        if at < len(layers) and layers[at].type == "Flatten":
            layers.insert(at, Component("AdaptiveAvgPool2d", {"output_size": 1}))
            after = linear + 1
            if after < len(layers) and layers[after].type == "Linear" and \
                    isinstance(layers[after].params, dict):
                layers[after].params["in_features"] = None  # follows the pooled channels

    return Fix(f"Insert AdaptiveAvgPool2d(1) before layer {at + 1} (Flatten)", apply)


def check_network_size(ctx: Context) -> Iterable[Finding]:
    """Weights, gradients and optimizer state too big for the device (an error), or big
    enough to be a mistake (a warning)."""
    s = ctx.summary
    if s is None or not s.ok or not s.layers:
        return
    opt = getattr(ctx.experiment, "optimizer", None)
    kind = getattr(opt, "type", None)
    kind = kind if isinstance(kind, str) and kind else "Adam"
    params = getattr(opt, "params", None)
    momentum = params.get("momentum", 0.9) if isinstance(params, dict) else 0.9
    momentum = momentum if isinstance(momentum, (int, float)) else 0.9
    need = estimate(s, kind, float(momentum)).fixed
    if need < QUIET_BYTES and s.total_params <= MAX_PARAMS:
        return
    device = getattr(getattr(ctx.experiment, "training", None), "device", "auto")
    where, memory = device_memory(str(device))
    refused = s.total_params > MAX_PARAMS
    if refused or (memory and need > memory):
        severity = "error"
        limit = (f"more than Workbench builds ({MAX_PARAMS:,} parameters)" if refused else
                 f"more than the {_gb(memory)} of {where}")
        outcome = ("Training cannot start: " + ("Workbench refuses to build it." if refused
                                                else "it would run out of memory."))
    elif memory and need > WARN_SHARE * memory:
        severity, limit = "warning", f"over half of the {_gb(memory)} of {where}"
    elif need > WARN_BYTES:
        severity, limit = "warning", "far more than an image classifier usually needs"
    else:
        return
    if severity == "warning":
        outcome = ("Training will be slow and may run out of memory once the images' "
                   "activations are added.")
    big = max(s.layers, key=lambda info: info.num_params)
    i = big.index
    at, flat = _pool_fix(ctx, i) if big.type == "Linear" else (None, "")
    if at is not None:
        cause = (f"Of them, {ctx.name(i)} alone has {big.num_params:,}: it connects each of the "
                 f"{flat} features {ctx.name(at)} makes of the image to each of its outputs.")
        advice = ("Shrink the image before Flatten: AdaptiveAvgPool2d(1) before Flatten "
                  "(one value per channel: the Fix button does it), more pooling or a stride "
                  "of 2 in the convolutions, or a smaller data.input_size.")
        short = "pool before Flatten (AdaptiveAvgPool2d) or use a smaller input size"
    else:
        cause = f"Of them, {ctx.name(i)} alone has {big.num_params:,}."
        advice = ("Make that layer smaller (fewer channels or features), pool or stride "
                  "before Flatten, or choose a smaller data.input_size.")
        short = f"make {ctx.name(i)} smaller or use a smaller input size"
    yield Finding(
        "network-too-big", severity, i,
        f"The network needs about {_gb(need)} to train ({s.total_params:,} parameters), "
        f"{limit}: {short}",
        f"Training keeps each parameter several times in float32: the weight, its gradient "
        f"and the {kind} optimizer's state, {_gb(need)} before any image's activations. "
        f"{outcome} {cause} {advice}",
        _insert_pool(at, i) if at is not None else None)


__all__ = ["check_network_size", "device_memory"]
