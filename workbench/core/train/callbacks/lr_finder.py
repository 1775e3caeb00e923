"""The learning-rate range test as a callback: :class:`LRFinder` raises the rate
exponentially from ``start_lr`` to ``end_lr`` over ``num_steps`` training batches of the
ordinary loop, records the batch losses and their bias-corrected moving average, and ends
the run when the sweep is done, the smoothed loss diverges, or a stop is asked for
(fastai's ``lr_find``: ``fit`` with an ``LRFinder`` callback, one loop, not two).

:func:`workbench.core.train.lr_find.find_lr` runs it and turns what it recorded into an
:class:`~workbench.core.train.lr_find.LRFindResult`.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable

import torch

from workbench.core.errors import WorkbenchError
from workbench.core.train.callbacks.base import Callback

# progress(step, num_steps, lr, smoothed_loss): plain values, safe to forward across threads.
Progress = Callable[[int, int, float, float], None]


class LRFinder(Callback):
    """Sets each training batch's learning rate and follows the loss.

    Parameters
    ----------
    start_lr, end_lr, num_steps, smoothing, diverge_factor, progress
        As for :func:`~workbench.core.train.lr_find.find_lr`.
    stop_event
        The caller's stop request, checked before every step (the run's own stop event is
        what the finder sets when the sweep is over).

    Attributes
    ----------
    lrs, losses, smoothed
        The points recorded so far (finite losses only).
    done, stopped, diverged_lr, ending
        Whether the sweep is over, whether it ended before ``num_steps``, the rate at
        which the loss diverged (or None), and how it ended, for a person.
    """

    def __init__(self, start_lr: float, end_lr: float, num_steps: int, smoothing: float,
                 diverge_factor: float, progress: Progress | None = None,
                 stop_event: threading.Event | None = None):
        self.start_lr, self.end_lr, self.num_steps = start_lr, end_lr, num_steps
        self.smoothing, self.diverge_factor = smoothing, diverge_factor
        self.progress = progress
        self.stop_event = stop_event
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.done = self.stopped = False
        self.diverged_lr: float | None = None
        self.ending = f"the sweep ran all {num_steps} steps"
        self.lr = start_lr
        self._avg, self._best = 0.0, math.inf
        self._optimizer: torch.optim.Optimizer | None = None
        self._ratios: list[float] = []
        self._steps_this_epoch = 0

    # -- hooks (over Trainer.fit) ----------------------------------------------------------
    def on_fit_start(self, trainer: Any, info: dict[str, Any]) -> None:
        trainer.validate = False  # the sweep measures training batches only
        # The sweep raises the rate until the loss blows up, on purpose: its own divergence
        # test ends it, not the training doctor's.
        trainer.explosion = None
        self.begin(trainer.optimizer)

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        self._steps_this_epoch = 0

    def on_batch_start(self, trainer: Any, epoch: int, batch: int) -> None:
        if self.done or self.stop_requested():
            trainer.request_stop()
            return
        self.set_lr()

    def on_batch_end(self, trainer: Any, epoch: int, batch: int, num_batches: int,
                     loss: float) -> None:
        self._steps_this_epoch += 1
        if self.record(loss):
            trainer.request_stop()  # seen before the next batch

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        if not self.done and self._steps_this_epoch == 0:
            raise WorkbenchError("the learning-rate finder found no usable training batch: "
                                 "add images to the dataset or lower data.val_fraction")

    # -- the sweep ----------------------------------------------------------------------
    def begin(self, optimizer: torch.optim.Optimizer) -> None:
        """Start on ``optimizer`` (set up): each group keeps its rate relative to the first
        (a scaled backbone keeps its scale)."""
        self._optimizer = optimizer
        self._ratios = _group_ratios(optimizer)

    def stop_requested(self) -> bool:
        """The caller asked to stop: the sweep ends here (and says so)."""
        if self.done or self.stop_event is None or not self.stop_event.is_set():
            return False
        self.done = self.stopped = True
        self.ending = f"the sweep was stopped after {len(self.lrs)} steps"
        return True

    def set_lr(self) -> float:
        """Set the rate of the next step on every parameter group; returns it."""
        step = len(self.lrs)
        self.lr = self.start_lr * (self.end_lr / self.start_lr) ** (step / (self.num_steps - 1))
        for group, ratio in zip(self._optimizer.param_groups, self._ratios):
            group["lr"] = self.lr * ratio
        return self.lr

    def record(self, loss: float) -> bool:
        """Record the finite batch loss of the step at :attr:`lr`; True when the sweep is
        over (all steps run, or the smoothed loss diverged)."""
        step = len(self.lrs)
        self._avg = self.smoothing * self._avg + (1 - self.smoothing) * loss
        value = self._avg / (1 - self.smoothing ** (step + 1))  # bias correction: avg starts at 0
        self.lrs.append(self.lr)
        self.losses.append(loss)
        self.smoothed.append(value)
        if self.progress is not None:
            self.progress(step + 1, self.num_steps, self.lr, value)
        if step > 0 and value > self.diverge_factor * self._best:
            self.done = self.stopped = True
            self.diverged_lr = self.lr
            self.ending = (f"the loss diverged at lr {self.lr:.3g} (smoothed loss above "
                           f"{self.diverge_factor:g}x its best), ending the sweep")
        self._best = min(self._best, value)
        if len(self.lrs) >= self.num_steps:
            self.done = True
        return self.done

    def not_finite(self, loss: float) -> None:
        """The step at :attr:`lr` gave a NaN or infinite loss: the sweep ends there."""
        self.done = self.stopped = True
        self.diverged_lr = self.lr
        self.ending = (f"the loss became {loss} at lr {self.lr:.3g} (step {len(self.lrs) + 1}), "
                       f"ending the sweep")


def _group_ratios(optimizer: torch.optim.Optimizer) -> list[float]:
    """Each parameter group's rate relative to the first. ``initial_lr`` is the
    schedulers' record of the unscheduled rate."""
    bases = [float(g.get("initial_lr", g["lr"])) for g in optimizer.param_groups]
    first = bases[0]
    return [b / first if first > 0 else 1.0 for b in bases]
