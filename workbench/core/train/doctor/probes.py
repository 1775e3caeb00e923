"""What the training doctor measures besides the epoch metrics.

- :class:`DeadUnitProbe`: forward hooks on the ReLU layers for a few training batches,
  counting the units (channels, or features of a flat layer) that never fire on any of
  them;
- :func:`relative_change`: how far the trainable weights moved over an epoch, from the
  trainer's end-of-epoch weight copies (no copy of its own);
- the per-layer gradient norms come from the trainer's norm sampling (``on_norms``).
"""

from __future__ import annotations

from typing import Any

import torch

#: The activations whose units can die: they output exactly 0 for every negative input.
RELUS = (torch.nn.ReLU, torch.nn.ReLU6)
#: Samples a measurement of silent units covers: with fewer, a healthy unit of a flat layer
#: may stay silent by chance (each fires on about half the inputs: 0.5^64 is nothing).
PROBE_SAMPLES = 64


class DeadUnitProbe:
    """Counts the ReLU units of ``model`` that never fire while it is armed.

    Arm it before a training batch (:meth:`arm`), and :meth:`disarm` it after; it stays
    armed over batches until :data:`PROBE_SAMPLES` samples have gone through. Units are
    the channels of a ``(N, C, ...)`` output (one channel fires if any position does) or
    the features of an ``(N, F)`` one.
    """

    def __init__(self, model: torch.nn.Module):
        self.layers = [(name or type(m).__name__, m) for name, m in model.named_modules()
                       if isinstance(m, RELUS)]
        self._handles: list[Any] = []
        self.fired: dict[str, torch.Tensor] = {}  # layer -> bool per unit, any sample
        self.samples = 0

    @property
    def armed(self) -> bool:
        return bool(self._handles)

    @property
    def done(self) -> bool:
        return self.samples >= PROBE_SAMPLES

    def arm(self) -> None:
        if self.armed or not self.layers:
            return
        self.fired, self.samples = {}, 0
        for name, module in self.layers:
            self._handles.append(module.register_forward_hook(self._hook(name)))

    def disarm(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def count(self, batch_size: int) -> None:
        """One armed batch of ``batch_size`` samples went through."""
        self.samples += int(batch_size)

    def _hook(self, name: str):
        def hook(module: torch.nn.Module, inputs: Any, output: Any) -> None:
            if not isinstance(output, torch.Tensor) or output.ndim < 2:
                return
            with torch.no_grad():
                dims = [0, *range(2, output.ndim)]
                fired = (output.detach() > 0).any(dim=dims).cpu()
            # A module used twice (torchvision's blocks reuse one ReLU) counts per shape.
            key = f"{name} ({fired.numel()} units)"
            prev = self.fired.get(key)
            self.fired[key] = fired if prev is None or prev.shape != fired.shape \
                else prev | fired
        return hook

    def shares(self) -> dict[str, tuple[int, int]]:
        """``{layer: (silent units, units)}`` over the armed batches."""
        return {k: (int((~v).sum()), int(v.numel())) for k, v in self.fired.items()}


def relative_change(before: dict[str, torch.Tensor] | None,
                    after: dict[str, torch.Tensor] | None, names: set[str]) -> float | None:
    """``||after - before|| / ||before||`` over the tensors named ``names`` (the trainable
    parameters), or None when either copy is missing or the weights are all zero."""
    if before is None or after is None or before is after:
        return None
    diff = total = 0.0
    with torch.no_grad():
        for name in names:
            a, b = before.get(name), after.get(name)
            if a is None or b is None or not a.is_floating_point():
                continue
            diff += float((b.float() - a.float()).pow(2).sum())
            total += float(a.float().pow(2).sum())
    if total <= 0.0:
        return None
    return (diff / total) ** 0.5
