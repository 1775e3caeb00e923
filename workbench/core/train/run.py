"""The run façade: every way of training (the app, ``workbench train`` and ``resume``, a
tune trial, each torchrun process) runs an Experiment through :func:`run_training`, which
returns one :class:`RunOutcome`, classified here and nowhere else.

It builds the :class:`~workbench.core.train.trainer.Trainer` with the caller's callbacks
and, on the process that writes it (rank 0 under torchrun), the run folder's
:class:`~workbench.core.runs.recorder.RunRecorder` and
:class:`~workbench.core.runs.tensorboard.TensorBoardWriter`, runs it, and says how it ended:
finished, stopped, early-stopped, diverged, out of memory or failed, with the
:class:`~workbench.core.train.callbacks.base.FitResult`, the error and a message for a
person. ``KeyboardInterrupt`` (a second Ctrl-C) is not an outcome: it goes on up once every
end hook has run.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from workbench.core.experiment import Experiment
from workbench.core.train.callbacks.base import Callback, FitResult
from workbench.core.train.failures import FAILURES, failure_kind, user_message


@dataclass
class RunOutcome:
    """How a run ended.

    Attributes
    ----------
    status
        ``finished``, ``stopped``, ``early_stopped``, ``diverged``, ``out_of_memory`` or
        ``failed`` (as run.json's).
    result
        What the run produced (history, model, best epoch...), or None when it failed
        before the trainer got that far (a bad experiment).
    error
        The exception a failed run ended with (torch's own errors already translated into
        what they mean), else None.
    message
        For a person: the error's, or why early stopping ended the run; "" otherwise.
    run_dir, bundle_path
        The run folder written (None: none) and its bundle (None: none written).
    epochs_done
        Epochs finished, over every segment of the run.
    batch_size
        The batch size that ran out of memory (else the experiment's).
    """

    status: str
    result: FitResult | None = None
    error: Exception | None = None
    message: str = ""
    run_dir: Path | None = None
    bundle_path: Path | None = None
    epochs_done: int = 0
    batch_size: int = 0

    @property
    def failed(self) -> bool:
        """The run ended with an error (diverged, out of memory or failed)."""
        return self.status in FAILURES

    @property
    def stopped(self) -> bool:
        """A stop request ended the run before its last epoch."""
        return self.status == "stopped"

    @property
    def suggested_batch_size(self) -> int:
        return max(1, self.batch_size // 2)


def run_training(experiment: Experiment, run_dir: str | Path | None = None,
                 callbacks: Iterable[Callback] = (), watchers: Iterable[Callback] = (), *,
                 record: bool = True, runs_parent: str | Path | None = None,
                 save_bundle: bool = True, name: str = "", lock: Any = None,
                 created: bool = False, checkpoint: Any = None,
                 stop_event: threading.Event | None = None, index: Any = None,
                 norm_interval: int = 0, warnings: Iterable[str] = (),
                 started: Callable[[Any], None] | None = None) -> RunOutcome:
    """Train ``experiment`` (or continue ``checkpoint``) into a run folder; never raises
    for a run that fails (its :class:`RunOutcome` says so), only for ``KeyboardInterrupt``.

    Parameters
    ----------
    run_dir
        The run folder (a resumed run's own); None: a new one under ``runs_parent`` named
        after the run, made when it starts. Written only with ``record`` and on the
        process that writes (rank 0 under torchrun).
    callbacks, watchers
        Called before the recorder (they see an epoch before it is written: progress,
        pruning) and after it (they see what it wrote, e.g. ``trainer.run_dir``).
    save_bundle, name, lock, created, warnings
        As for :class:`~workbench.core.runs.recorder.RunRecorder`. A new run's experiment
        is named after the run (``name``): one model, one name, in its folder, run.json,
        experiment.json, the bundle, ``workbench train``'s lines and the exported code.
    checkpoint, stop_event, index, norm_interval
        As for :class:`~workbench.core.train.trainer.Trainer`.
    started
        Called with the trainer once it is made, before it runs (to pause it, say).
    """
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.runs.tensorboard import TensorBoardWriter
    from workbench.core.train.distributed import DistributedContext
    from workbench.core.train.trainer import Trainer

    recorder = None
    if record and name and checkpoint is None and name != experiment.name:
        experiment = experiment.copy()  # the caller's stays as it is
        experiment.name = name
    if experiment.data.folder and not os.path.isabs(experiment.data.folder):
        experiment = experiment.copy()  # recorded absolute: read alike from any folder
        experiment.data.folder = os.path.abspath(experiment.data.folder)
    if record and DistributedContext.from_env().is_main:
        recorder = RunRecorder(run_dir, parent=runs_parent, save_bundle=save_bundle,
                               name=name, lock=lock, created=created,
                               warnings=list(warnings))
        # TensorBoard events in the run folder: heard before the recorder, so its files
        # are closed before the recorder ends the run (and may remove an empty one).
        if os.environ.get("WORKBENCH_TENSORBOARD", "1") != "0":  # 0: none written
            callbacks = [*callbacks, TensorBoardWriter()]
    trainer = None
    try:
        trainer = Trainer(experiment, [*callbacks, *([recorder] if recorder else []),
                                       *watchers],
                          stop_event=stop_event, index=index, checkpoint=checkpoint,
                          norm_interval=norm_interval)
        if started is not None:
            started(trainer)
        result = trainer.fit()
    except Exception as e:  # noqa: BLE001  (classified: the outcome carries it)
        return _outcome(failure_kind(e), trainer, recorder, experiment, error=e)
    finally:
        if recorder is not None and trainer is None:
            recorder.release()  # the Trainer was never made: no end hook releases it
    return _outcome(result.status, trainer, recorder, experiment)


def _outcome(status: str, trainer: Any, recorder: Any, experiment: Experiment,
             error: Exception | None = None) -> RunOutcome:
    result = trainer.result if trainer is not None else None
    message = user_message(error) if error is not None else \
        (result.stop_reason if result is not None else "")
    run_dir = recorder.run_dir if recorder is not None else None
    return RunOutcome(status, result, error, message, Path(run_dir) if run_dir else None,
                      recorder.bundle_path if recorder is not None else None,
                      int(trainer.epochs_done) if trainer is not None else 0,
                      int(getattr(error, "batch_size", 0) or experiment.data.batch_size))
