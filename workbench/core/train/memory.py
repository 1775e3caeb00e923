"""A rough estimate of the memory one training step needs, for the batch-size hint.

It counts the weights, their gradients and the optimizer's state (Adam keeps two values
per weight, SGD with momentum one), and per image the input and every layer's output (kept
for the backward pass; about twice their size counting what each operation saves). A
backbone being fine-tuned keeps its inner activations too: the values its innermost
modules output (:func:`~workbench.core.model.backbones.arch_counts`; a frozen backbone
keeps none: measured at 224 px, the tensors a fine-tuning step keeps were 0.7 to 1.4 times
that, resnet18 42.5 MiB against 28.5, efficientnet_b0 91.8 against 75.8, convnext_nano 93.8
against 116, vit_tiny 40.6 against 56; one kept value per 300 multiply-adds, the rule
before, read depthwise networks 9 times short). Good to a factor of two, which is what a hint needs: the
real figure also depends on the allocator, cuDNN's workspace and AMP.

:func:`room` is what the device can hold at most: an out-of-memory error at a run's first
step whose weights, gradients and optimizer state alone exceed it is the network's, not
the batch's (:func:`~workbench.core.train.failures.oom_error`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: Values of optimizer state kept per trainable weight.
_STATE_PER_WEIGHT = {"Adam": 2, "AdamW": 2, "NAdam": 2, "RAdam": 2, "Adamax": 2,
                     "RMSprop": 1, "Adagrad": 1, "Adadelta": 2, "SGD": 1}
_BYTES = 4  # float32
_SAVED_FACTOR = 2.0  # kept for backward: outputs and what each operation saves beside them


@dataclass
class MemoryEstimate:
    """Bytes one training step needs: ``fixed`` (weights, gradients, optimizer state) and
    ``per_image`` (input and activations), so ``total(batch)`` for any batch size."""

    fixed: float
    per_image: float

    def total(self, batch_size: int) -> float:
        return self.fixed + self.per_image * max(1, int(batch_size))

    def largest_batch(self, budget_bytes: float) -> int:
        """The largest batch size whose estimate fits ``budget_bytes`` (0: none does)."""
        room = budget_bytes - self.fixed
        return max(0, int(room // self.per_image)) if self.per_image > 0 else 0


def estimate(summary: Any, optimizer: str = "SGD", momentum: float = 0.9) -> MemoryEstimate:
    """The :class:`MemoryEstimate` of training the network of ``summary`` (a
    :class:`~workbench.core.model.builder.NetworkSummary`) with ``optimizer``."""
    trainable = int(getattr(summary, "trainable_params", 0) or 0)
    total = int(getattr(summary, "total_params", 0) or 0)
    state = _STATE_PER_WEIGHT.get(optimizer, 2)
    if optimizer == "SGD" and not momentum:
        state = 0
    fixed = _BYTES * (total + trainable * (1 + state))
    values = float(math.prod(summary.input_shape)) if summary.input_shape else 0.0
    for info in getattr(summary, "layers", []):
        if info.output_shape:
            values += _SAVED_FACTOR * math.prod(info.output_shape)
        params = info.params or {}
        if info.type == "Backbone" and params.get("mode") == "fine_tune" and \
                info.output_shape and not getattr(info, "error", None) and \
                info.input_shape and len(info.input_shape) == 3 and params.get("arch"):
            from workbench.core.model.backbones import arch_counts

            values += arch_counts(str(params["arch"]), *info.input_shape[1:])[1]
    return MemoryEstimate(float(fixed), _BYTES * values)


def room(device: Any) -> tuple[int | None, str]:
    """The most bytes training on ``device`` (a ``torch.device``; None: the CPU) can hold,
    and what sets that figure, in words: on a GPU its free memory with what this process
    already holds of it; on the CPU (and an Apple GPU, which shares it) the machine's RAM,
    or this process's address-space limit (``ulimit -v``) or its cgroup's memory limit
    where lower. ``(None, "")`` when unknown."""
    if device is not None and getattr(device, "type", "") == "cuda":
        import torch

        try:
            free, total = torch.cuda.mem_get_info(device)
            held = torch.cuda.memory_reserved(device)
        except (RuntimeError, AssertionError, ValueError):
            return None, ""
        return min(int(total), int(free + held)), f"what the GPU {device} has free"
    from workbench.core.train.device import _ram_bytes

    limits = [(n, words) for n, words in (
        (_ram_bytes(), "this machine's RAM"),
        (_address_space_limit(), "this process's address-space limit (ulimit -v)"),
        (_cgroup_limit(), "this process's memory limit (its cgroup)")) if n]
    return min(limits, key=lambda limit: limit[0]) if limits else (None, "")


def _address_space_limit() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft in (resource.RLIM_INFINITY, -1) else int(soft)


#: Where cgroup v2 and v1 keep a container's memory limit (v1 says "no limit" with a huge
#: number, so anything above 2**60 counts as none).
_CGROUP_FILES = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def _cgroup_limit() -> int | None:
    for path in _CGROUP_FILES:
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < 2**60:
            return int(text)
    return None
