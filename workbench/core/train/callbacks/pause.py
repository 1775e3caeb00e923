"""Pausing a run from any thread: the trainer's :class:`PauseGate`, waited on by the
:class:`Pause` callback before every training batch (the optimizer, schedule and data order
are untouched, so a paused run ends as an uninterrupted one would)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from workbench.core.train.callbacks.base import Callback


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



class Pause(Callback):
    """Holds the run before a training batch while ``gate`` is paused (until resumed or
    a stop is requested), telling every callback (``on_paused`` / ``on_resumed``)."""

    def __init__(self, gate: PauseGate):
        self.gate = gate

    def on_batch_start(self, trainer: Any, epoch: int, batch: int) -> None:
        self.gate.wait(trainer.stop_event, lambda: trainer.emit("on_paused", epoch, batch),
                       lambda: trainer.emit("on_resumed"))
