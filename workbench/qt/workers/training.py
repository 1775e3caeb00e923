"""Training off the GUI thread: a :class:`TrainingRun` runs :meth:`Trainer.fit` in a
:class:`TrainingWorker` on the one long-lived training thread every run shares
(:func:`~workbench.qt.workers.threads.training_thread`).

The trainer's hooks become the run's signals through a bridge callback
(:mod:`workbench.qt.workers.bridge`) carrying plain Python values only (ints, floats,
strings, dicts and lists of them), never tensors or modules, so nothing of the run is
touched from the GUI thread. The dataset's warnings (a case clash, a small validation
split) go into run.json's ``start_warnings`` as ``workbench train`` keeps them
(:func:`workbench.core.data.pitfalls.dataset_warnings`). Importing this module does not
import torch (the window must appear without it, see :mod:`workbench.qt.startup`): the
trainer is imported when a run starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

import workbench.qt.workers.threads as threads
import workbench.qt.workers.worker as _worker
from workbench.qt.workers.bridge import NORM_INTERVAL, bridge_class
from workbench.qt.workers.run import WorkerRun
from workbench.qt.workers.worker import TaskState, Worker, describe_exception, plain


class TrainingWorker(Worker):
    """One :meth:`Trainer.fit`, run by :meth:`work` in the training thread.

    The run's folder (run.json, experiment.json, metrics.json, checkpoints, bundle) is
    written as it goes by :class:`~workbench.core.runs.recorder.RunRecorder`. Its news goes
    to its :class:`TrainingRun`'s signals (see there). :attr:`stop_event` is the worker's
    cancellation: set, the trainer stops at its next batch.
    """

    description = "a training run"

    def __init__(self, experiment: Any, index: Any = None, save_bundle: bool = True,
                 emit_interval: float = 0.05, resume_from: str | Path | None = None,
                 runs_parent: str | Path | None = None, run_name: str = "",
                 warnings: list[str] | None = None):
        super().__init__()
        self.run_name = run_name
        self.warnings = list(warnings or [])  # what the tab warned of: kept in run.json
        self.experiment = experiment.copy()
        self.index = index
        self.save_bundle = save_bundle
        self.emit_interval = emit_interval
        self.resume_from = Path(resume_from) if resume_from else None
        self.runs_parent = runs_parent
        self.stop_event = self.state.cancel_event
        #: A failed run's details: ``{"message", "kind" ("diverged", "out_of_memory",
        #: "failed"), "run_dir", "epochs_done", "batch_size", "suggested_batch_size",
        #: "action"}``; ``action``: the fix of a run refused before it trained (a finding's
        #: action, e.g. the batch size that BatchNorm trains at), else None.
        self.failure: dict[str, Any] = {}
        self.trainer: Any = None
        self._pause_requested = False

    def request_stop(self) -> None:
        """Ask the trainer to stop at its next batch (thread-safe)."""
        self.cancel()

    def request_pause(self, pause: bool = True) -> None:
        """Hold the run before its next batch (``pause=False``: go on); thread-safe."""
        self._pause_requested = pause
        trainer = self.trainer
        if trainer is not None:
            trainer.pause() if pause else trainer.resume()

    def _started(self, trainer: Any) -> None:
        """The façade made the trainer: pause it if asked to before it existed."""
        self.trainer = trainer
        if self._pause_requested:
            trainer.pause()

    def work(self, state: TaskState) -> dict:
        """Run the trainer (in the training thread); the run's summary, or the exception
        it failed with, after :attr:`failure` has been filled in."""
        outcome = None
        try:
            # Imported already by TrainingRun.start on the GUI thread: nothing new here.
            from workbench.core.train.checkpoint import load_checkpoint
            from workbench.core.train.run import run_training

            checkpoint = None
            run_dir = None
            if self.resume_from is not None:
                checkpoint = load_checkpoint(self.resume_from)
                run_dir = (self.resume_from if self.resume_from.is_dir()
                           else self.resume_from.parent.parent)
            bridge = bridge_class()(self)
            # The run façade classifies how the run ended (once, for every front end).
            outcome = run_training(self.experiment, run_dir,
                                   watchers=[start_warnings_class()(), bridge],
                                   runs_parent=self.runs_parent, save_bundle=self.save_bundle,
                                   name=self.run_name, checkpoint=checkpoint,
                                   stop_event=self.stop_event, index=self.index,
                                   norm_interval=NORM_INTERVAL, started=self._started,
                                   warnings=self.warnings)
            if outcome.failed:
                raise outcome.error
            result = outcome.result
            bridge.flush()
            return {"status": result.status, "stopped": bool(result.stopped),
                    "early_stopped": bool(result.early_stopped),
                    "stop_reason": result.stop_reason, "best": plain(result.best),
                    "restored_best": bool(result.restored_best),
                    "model": plain(result.model_info()),
                    "history": plain(result.history), "classes": list(result.classes),
                    "bundle": str(outcome.bundle_path or ""),
                    "run_dir": str(outcome.run_dir or ""),
                    "skipped": plain(result.skipped)}
        except BaseException as e:  # noqa: BLE001  (reported by Worker.run)
            failed = outcome is not None and outcome.failed
            bs = (outcome.batch_size if failed else
                  int(getattr(e, "batch_size", 0) or self.experiment.data.batch_size))
            self.failure = {
                "message": describe_exception(e), "kind": outcome.status if failed else "failed",
                "run_dir": str(outcome.run_dir or "") if failed else "",
                "epochs_done": outcome.epochs_done if failed else 0,
                "batch_size": bs, "suggested_batch_size": max(1, bs // 2),
                "action": plain(getattr(e, "action", None)),
                "experiment": self.experiment.to_dict()}  # what the run trained
            raise
        finally:
            self.trainer = None  # freed with this frame, on this thread, when work returns


class _StartWarningHooks:
    """Adds :func:`~workbench.core.data.pitfalls.dataset_warnings` of the dataset the run
    trains on (the Data tab's scan handed to it, else the run's own scan: never a second
    one) to run.json's ``start_warnings`` once the recorder has written them, so an app's
    run keeps what
    ``workbench train`` of the same folder keeps (shown again after a restart, and in the
    report)."""

    def on_fit_start(self, trainer: Any, info: dict) -> None:
        from workbench.core.runs.store import read_run_info, update_run_info

        run_dir = getattr(trainer, "run_dir", None)  # set by the recorder (None: no record)
        if run_dir is None:
            return
        try:
            from workbench.core.data.pitfalls import dataset_warnings

            said = dataset_warnings(trainer.index, trainer.experiment.data)
            kept = list(read_run_info(run_dir).get("start_warnings") or [])
            new = [w for w in said if w not in kept]
            if new:
                update_run_info(run_dir, start_warnings=kept + new)
        except Exception:  # noqa: BLE001  (a warning kept: never in the way of the run)
            pass


_START_WARNINGS: type | None = None


def start_warnings_class() -> type:
    """``_StartWarningHooks`` on top of :class:`workbench.core.train.trainer.Callback`
    (imported with torch, when a run starts; as :func:`.bridge.bridge_class`)."""
    global _START_WARNINGS
    if _START_WARNINGS is None:
        from workbench.core.train.trainer import Callback

        _START_WARNINGS = type("_StartWarnings", (_StartWarningHooks, Callback), {})
    return _START_WARNINGS


class TrainingRun(WorkerRun):
    """Owns the :class:`TrainingWorker` of at most one run at a time, run on the training
    thread. ``finished`` and ``errored`` come when the run is over, so a handler may start
    the next run (it starts once the last one has left the thread).

    Signals (all payloads plain Python values; declared here only, emitted as the
    worker's bridge sends them):

    ``fit_started(info)``
        The trainer's info dict: epochs, batches_per_epoch, device, num_train, num_val,
        classes, num_params, batch_size, start_epoch and history (a resumed run's earlier
        epochs), monitor, best, norm_layers, notes; plus run_dir.
    ``epoch_started(epoch)``
        1-based epoch number.
    ``batches_finished(chunk)``
        ``{"epoch", "batch", "num_batches", "step", "steps": [...], "losses": [...],
        "rate", "memory", "norms": [(step, grads, weights), ...]}``: the losses of the
        batches since the previous chunk with their global 1-based batch numbers, batches
        per second over the chunk, memory in use in bytes (the GPU's on CUDA, else the
        process's) and the per-layer norms sampled meanwhile. Emitted at most about 20
        times a second (and at every epoch end), not per batch.
    ``epoch_finished(metrics)``
        epoch, train_loss, train_acc, val_loss, val_acc, val_bal_acc (the balanced
        accuracy; these three None without validation), lr, seconds; plus ``best`` (the
        best epoch so far, ``{"metric", "value", "epoch"}``).
    ``paused(epoch, batch)`` / ``resumed()``
        The run holds before that batch / goes on.
    ``skipped(path, reason)``
        An image that could not be decoded and was left out.
    ``cache_progressed(done, total)``
        Images in the decoded-image cache, of total.
    ``finding(finding)``
        The training doctor noticed something: a
        :class:`~workbench.core.train.doctor.findings.RunFinding` as its plain dict
        (``{"kind", "epoch", "severity", "message", "fix", "action"}``).
    ``finished(summary)``
        ``{"status", "stopped", "early_stopped", "stop_reason", "best", "restored_best",
        "model", "history", "classes", "bundle", "run_dir", "skipped"}``; ``bundle`` is the
        saved bundle's path ("" when none was written), ``model`` which epoch's weights the
        run ends with (``{"epoch", "restored_best", "metrics"}``).
    ``errored(message)``
        The run failed; the message is for a person. :attr:`last_failure` holds the
        details (:attr:`TrainingWorker.failure`).
    """

    fit_started = Signal(object)
    epoch_started = Signal(int)
    batches_finished = Signal(object)
    epoch_finished = Signal(object)
    paused = Signal(int, int)
    resumed = Signal()
    skipped = Signal(str, str)
    cache_progressed = Signal(int, int)
    finding = Signal(object)
    events = ("fit_started", "epoch_started", "batches_finished", "epoch_finished", "paused",
              "resumed", "skipped", "cache_progressed", "finding")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        # Finished runs' workers, kept until the training thread has surely left them.
        self._retired: list[TrainingWorker] = []
        self._stuck: list[TrainingWorker] = []  # runs that never left their thread
        #: The last failed run's details (see :attr:`TrainingWorker.failure`).
        self.last_failure: dict[str, Any] = {}

    def start(self, experiment: Any, index: Any = None, save_bundle: bool = True,
              resume_from: str | Path | None = None, run_name: str = "",
              warnings: list[str] | None = None) -> None:
        """Train a snapshot of ``experiment`` on the training thread; with ``resume_from``
        (a run folder or checkpoint file), continue that run up to ``experiment``'s
        epochs. ``run_name`` names a new run (its folder and run.json); ``warnings``, what
        was said as it started, are kept in its run.json."""
        if self.is_running():
            raise RuntimeError("a training run is already in progress")
        # The training thread must not be the first to import torch (see
        # workbench.qt.startup): wait for the background import, or import it here.
        from workbench.qt.startup import torch_loader

        torch_loader().ensure_loaded()
        bridge_class()
        self._release_retired()
        worker = TrainingWorker(experiment, index=index, save_bundle=save_bundle,
                                resume_from=resume_from, run_name=run_name,
                                warnings=warnings)
        self._launch(worker, threads.training_thread())

    def pause(self, pause: bool = True) -> None:
        """Hold the run before its next batch (``pause=False``: go on); returns at once."""
        if self._job is not None:
            self._job.request_pause(pause)

    def shutdown(self) -> None:
        """Stop the run cooperatively and wait until it has left the thread (used when
        closing)."""
        if self._job is not None:
            self.stop()
            self._job.request_pause(False)  # a paused run must see the stop
        self._retire()
        self._release_retired()

    def _end(self, failed: bool) -> None:
        if failed:
            self.last_failure = dict(self._job.failure)
        self._retire()

    def _retire(self) -> None:
        if self._job is not None:
            self._retired.append(self._job)
        self._job = None

    def _release_retired(self) -> None:
        # A run reports its end from the training thread, whose last statements run on
        # for a moment (or, when closing, until the stop request is seen): wait for them.
        wait_s = _worker.CLOSE_WAIT_S
        stuck = [w for w in self._retired if not w.done.wait(wait_s)]
        self._retired.clear()
        if stuck:
            # Kept but never waited for again (not at quit either); the next run gets a
            # thread of its own.
            _worker.report_stuck("a training run", wait_s)
            for w in stuck:
                w.abandoned = True
            self._stuck.extend(stuck)
            threads.abandon_training_thread()
