"""Per-layer gradient and weight norms every ``interval`` optimizer steps: the
:class:`NormSampling` callback, which the trainer asks before each step whether it wants the
gradients (:meth:`NormSampling.due`) and which reports them through ``on_norms``."""

from __future__ import annotations

from typing import Any

import torch

from workbench.core.train.callbacks.base import Callback


class NormSampler:
    """Per-layer L2 norms of the gradients and weights of a Sequential's layers.

    Parameters
    ----------
    model
        The network; its top-level children are the layers.
    labels
        One label per top-level child (``"2 Conv2d"``); layers without trainable
        parameters are left out.
    """

    def __init__(self, model: torch.nn.Module, labels: list[str]):
        children = list(model.children()) or [model]
        self.names: list[str] = []
        self.groups: list[list[torch.nn.Parameter]] = []
        seen: set[int] = set()
        for label, child in zip(labels, children):
            params = [p for p in child.parameters() if p.requires_grad and id(p) not in seen]
            seen.update(id(p) for p in params)
            if params:
                self.names.append(label)
                self.groups.append(params)

    def sample(self, grad_scale: float = 1.0) -> tuple[list[float], list[float]]:
        """``(grad_norms, weight_norms)``, one per layer; a layer without gradients
        (frozen this step) has grad norm 0."""
        grads, weights = [], []
        with torch.no_grad():
            for params in self.groups:
                g = [p.grad.detach().float().norm() for p in params if p.grad is not None]
                w = [p.detach().float().norm() for p in params]
                grads.append(torch.stack(g).norm() / grad_scale if g else torch.zeros(()))
                weights.append(torch.stack(w).norm())
            values = torch.stack([torch.stack(grads).cpu(), torch.stack(weights).cpu()])
        grad_list, weight_list = values.tolist()
        return grad_list, weight_list



class NormSampling(Callback):
    """Samples the norms of ``model``'s layers (``labels`` as for :class:`NormSampler`)
    every ``interval`` optimizer steps; the trainer calls :meth:`sample` after the
    gradients are unscaled and before they are clipped, and hooks ``on_norms`` after the
    step."""

    def __init__(self, interval: int, model: torch.nn.Module, labels: list[str]):
        self.interval = max(1, int(interval))
        self.sampler = NormSampler(model, labels)

    @property
    def names(self) -> list[str]:
        return self.sampler.names

    def due(self, step: int) -> bool:
        """Whether optimizer step ``step`` (1-based) is sampled."""
        return step % self.interval == 0

    def sample(self) -> tuple[list[float], list[float]]:
        return self.sampler.sample()
