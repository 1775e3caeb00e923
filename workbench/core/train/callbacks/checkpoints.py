"""Writing a run's checkpoints: ``last.pt`` after every epoch and ``best.pt`` when the
monitored metric improved (:class:`CheckpointWriter`, used by the run folder's
:class:`~workbench.core.runs.recorder.RunRecorder`, which owns the folder and says how a
failed write is reported)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

from workbench.core.io import atomic_write
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import BEST, LAST, save_checkpoint


class CheckpointWriter(Callback):
    """Writes ``folder/last.pt`` at every epoch's end, and ``folder/best.pt`` (the same
    bytes) when that epoch is the best so far.

    Parameters
    ----------
    folder
        The checkpoints folder.
    guard
        Runs each write (``guard(write)``): the recorder's turns a full disk into a message
        naming the folder and what is kept. Default: the write as it is.
    """

    def __init__(self, folder: str | Path, guard: Callable[[Callable[[], Any]], Any] | None = None):
        self.folder = Path(folder)
        self.guard = guard or (lambda write: write())

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        self.write_last(trainer)
        self.write_best(trainer, epoch)

    def write_last(self, trainer: Any) -> None:
        """``last.pt``: the run as of its last finished epoch."""
        self.guard(lambda: save_checkpoint(self.folder / LAST, trainer.checkpoint_payload()))

    def write_best(self, trainer: Any, epoch: int) -> dict[str, Any] | None:
        """``best.pt`` when ``epoch`` (just written to ``last.pt``) is the best so far;
        returns the best epoch as of now (``{"metric", "value", "epoch"}``) or None."""
        best = trainer.tracker.best
        if best is not None and best.get("epoch") == epoch:
            # The same bytes: copy rather than serialise the state a second time.
            def copy() -> None:
                with open(self.folder / LAST, "rb") as src:
                    atomic_write(self.folder / BEST,
                                 lambda f: shutil.copyfileobj(src, f, 1 << 20))
            self.guard(copy)
        return dict(best) if best else None
