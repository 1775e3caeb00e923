"""Run control the trainer consults every epoch or batch: the best epoch and early
stopping (:class:`BestTracker`), pausing (:class:`PauseGate`), per-layer norms
(:class:`NormSampler`) and deterministic mode (:func:`deterministic_mode`)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any, Callable, Iterator

import torch

from workbench.core.errors import SpecError

#: Metrics the trainer can monitor, and whether larger is better.
MONITORS = {"val_loss": False, "val_acc": True, "train_loss": False, "train_acc": True}


def resolve_monitor(name: str, has_validation: bool) -> str:
    """The metric ``training.monitor`` names on this run ("auto": val_loss, or train_loss
    without a validation split).

    Raises
    ------
    SpecError
        A validation metric asked for on a run without a validation split.
    """
    if name == "auto":
        return "val_loss" if has_validation else "train_loss"
    if name.startswith("val_") and not has_validation:
        raise SpecError("training.monitor", f"is {name} but this run has no validation split: "
                                            f"choose train_loss or train_acc, or hold out a "
                                            f"validation fraction on the Data tab")
    return name


class BestTracker:
    """Follows the monitored metric: the best epoch so far and epochs without improvement.

    An epoch improves on the best when its value is better by more than ``min_delta``
    (as Keras's EarlyStopping counts it).
    """

    def __init__(self, metric: str, min_delta: float = 0.0, patience: int | None = None,
                 best: dict[str, Any] | None = None, bad_epochs: int = 0):
        self.metric = metric
        self.higher = MONITORS[metric]
        self.min_delta = float(min_delta)
        self.patience = patience  # None: early stopping is off
        self.best = dict(best) if best and best.get("metric") == metric else None
        self.bad_epochs = int(bad_epochs) if self.best is not None else 0

    def update(self, metrics: dict[str, Any]) -> bool:
        """Record an epoch; True when it is the new best."""
        value = metrics.get(self.metric)
        if value is None:
            return False
        value = float(value)
        if self.best is None or self._better(value, float(self.best["value"])):
            self.best = {"metric": self.metric, "value": value, "epoch": int(metrics["epoch"])}
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    def _better(self, value: float, best: float) -> bool:
        return value > best + self.min_delta if self.higher else value < best - self.min_delta

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_epochs >= self.patience

    def reason(self) -> str:
        """Why early stopping ended the run, for a person."""
        b = self.best or {}
        return (f"early stopping: {self.metric} did not improve by more than {self.min_delta:g} "
                f"for {self.bad_epochs} epochs (best {b.get('value', float('nan')):.4g} at "
                f"epoch {b.get('epoch', '?')})")


class PauseGate:
    """Pause and resume from any thread; the training thread waits at batch boundaries."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self.paused_seconds = 0.0  # total time spent paused

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait(self, stop: threading.Event, on_pause: Callable[[], None],
             on_resume: Callable[[], None]) -> None:
        """Block while paused (until resumed or ``stop`` is set), calling the hooks."""
        if self._running.is_set():
            return
        t0 = time.perf_counter()
        on_pause()
        # Short waits so a stop request made while paused is seen at once.
        while not self._running.wait(0.05):
            if stop.is_set():
                break
        self.paused_seconds += time.perf_counter() - t0
        on_resume()


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


@contextlib.contextmanager
def deterministic_mode(on: bool) -> Iterator[None]:
    """Deterministic algorithms (and cuDNN's deterministic kernels) while the block runs,
    restoring the previous settings after."""
    if not on:
        yield
        return
    previous = (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    # cuBLAS needs this workspace setting to be deterministic (PyTorch's reproducibility
    # notes); it only takes effect if set before CUDA starts, so set it as early as we can.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # warn_only: an operation without a deterministic kernel warns instead of failing the run.
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.deterministic = previous[2]
        torch.backends.cudnn.benchmark = previous[3]
