"""The training bridge: a trainer callback that turns the trainer's hooks into the news
a :class:`~workbench.qt.workers.training.TrainingWorker` sends its
:class:`~workbench.qt.workers.training.TrainingRun` (plain Python values only).

Runs in the training thread. Importing this module does not import torch: the callback
class is made on first use (:func:`bridge_class`).
"""

from __future__ import annotations

import time
from typing import Any

from workbench.qt.workers.worker import plain

#: Per-layer gradient and weight norms are sampled every this many optimizer steps.
NORM_INTERVAL = 10


def memory_in_use(trainer: Any) -> int:
    """Bytes in use: the GPU's allocations on CUDA, else the process's resident memory."""
    device = getattr(trainer, "device", None)
    if device is not None and device.type == "cuda":
        import torch

        return int(torch.cuda.memory_allocated(device))
    try:
        import os

        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _BridgeHooks:
    """Turns trainer hooks into the worker's news (``state.send((signal name, args))``).

    Batch losses (and sampled norms) are gathered and sent in chunks (throttled at the
    source), so a fast run cannot flood the GUI's event queue with one event per batch.
    A chunk says how long its batches took (``seconds``, ``rate``: the batches alone, not
    an epoch's validation and checkpoint) and how long the last finished epoch took
    (``epoch_time``: ``[epoch, seconds]`` from its start to the next one's, its
    validation and checkpoint included; pauses left out), which the ETA is made of
    (:class:`~workbench.qt.panels.train.status.Speed`).

    Mixed into the trainer's ``Callback`` by :func:`bridge_class` (so hooks the trainer
    adds later stay no-ops here); the mix is made on first use, because the trainer
    module imports torch.
    """

    def __init__(self, worker: Any):
        self.worker = worker
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.norms: list[tuple[int, list[float], list[float]]] = []
        self.batch_norms: list[tuple[list[float], list[float]]] = []  # this batch's samples
        self.step = 0
        self.position = (0, 0, 0)
        self.last_emit = self.clock()
        self.trainer: Any = None
        self.epoch_began: tuple[int, float] | None = None  # (epoch, when), pauses left out
        self.epoch_time: list | None = None  # [epoch, seconds] of the last one timed
        self.paused_at: float | None = None
        self.batch_ended = self.last_emit

    def clock(self) -> float:
        """The time chunks and epochs are timed by."""
        return time.monotonic()

    def send(self, name: str, *args: Any) -> None:
        self.worker.state.send((name, args))

    def flush(self) -> None:
        if not self.steps and not self.norms:
            return
        now = self.clock()
        epoch, batch, num_batches = self.position
        # Up to the last batch's end: not the validation after an epoch's last batch.
        seconds = max(1e-6, self.batch_ended - self.last_emit)
        self.send("batches_finished", {
            "epoch": epoch, "batch": batch, "num_batches": num_batches, "step": self.step,
            "steps": self.steps, "losses": self.losses, "rate": len(self.steps) / seconds,
            "seconds": seconds, "epoch_time": self.epoch_time,
            "memory": memory_in_use(self.trainer), "norms": self.norms})
        self.steps, self.losses, self.norms = [], [], []
        self.last_emit = now

    def on_fit_start(self, trainer: Any, info: dict) -> None:
        self.trainer = trainer
        run_dir = str(trainer.run_dir or "")  # the recorder's folder (it hears it first)
        self.last_emit = self.clock()
        self.send("fit_started", plain({**info, "run_dir": run_dir}))

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        now = self.clock()
        if self.epoch_began is not None and self.epoch_began[0] == int(epoch) - 1:
            self.epoch_time = [self.epoch_began[0], now - self.epoch_began[1]]
        self.epoch_began = (int(epoch), now)
        # The epoch before's validation and checkpoint are in its time, not the batch rate.
        self.last_emit = now
        self.send("epoch_started", int(epoch))

    def on_batch_end(self, trainer: Any, epoch: int, batch: int, num_batches: int,
                     loss: float) -> None:
        # Global batch number: a resumed run's plots go on from where the run left off.
        self.step = (int(epoch) - 1) * int(num_batches) + int(batch)
        self.steps.append(self.step)
        self.losses.append(float(loss))
        self.norms += [(self.step, grads, weights) for grads, weights in self.batch_norms]
        self.batch_norms = []
        self.position = (int(epoch), int(batch), int(num_batches))
        self.batch_ended = self.clock()
        if self.batch_ended - self.last_emit >= self.worker.emit_interval:
            self.flush()

    def on_norms(self, trainer: Any, step: int, names: list, grads: list,
                 weights: list) -> None:
        # Heard in the optimizer step of a batch, before that batch's on_batch_end: the
        # sample gets that batch's step there (self.step is still the batch before's, which
        # drew the norms a batch early: 0.9 and 1.9 against the epochs' 1 and 2).
        self.batch_norms.append(([float(g) for g in grads], [float(w) for w in weights]))

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict) -> None:
        self.flush()
        best = trainer.tracker.best if trainer.tracker is not None else None
        self.send("epoch_finished", plain({**metrics, "best": best}))

    def on_paused(self, trainer: Any, epoch: int, batch: int) -> None:
        self.flush()
        self.paused_at = self.clock()
        self.send("paused", int(epoch), int(batch))

    def on_resumed(self, trainer: Any) -> None:
        now = self.clock()
        if self.paused_at is not None and self.epoch_began is not None:
            epoch, began = self.epoch_began  # nor of the epoch's time
            self.epoch_began = (epoch, began + now - self.paused_at)
        self.paused_at = None
        self.last_emit = now  # the pause is not part of the batch rate
        self.send("resumed")

    def on_fit_end(self, trainer: Any, result: Any) -> None:
        self.flush()

    def on_skipped(self, trainer: Any, path: str, reason: str) -> None:
        self.send("skipped", str(path), str(reason))

    def on_finding(self, trainer: Any, finding: dict) -> None:
        # Once per finding: sent at once (with the losses before it, so the plots show
        # what the doctor saw).
        self.flush()
        self.send("finding", plain(finding))

    def on_cache_progress(self, trainer: Any, done: int, total: int) -> None:
        # Throttled at the source (about every 1%).
        self.send("cache_progressed", int(done), int(total))


_BRIDGE: type | None = None


def bridge_class() -> type:
    """``_BridgeHooks`` on top of :class:`workbench.core.train.trainer.Callback`."""
    global _BRIDGE
    if _BRIDGE is None:
        from workbench.core.train.trainer import Callback

        _BRIDGE = type("_Bridge", (_BridgeHooks, Callback), {})
    return _BRIDGE
