"""Work that must not run on the GUI thread.

Two kinds:

* :class:`TaskRunner` runs short jobs (folder scan, prediction) on a shared
  :class:`~PySide6.QtCore.QThreadPool`. A job is a plain function receiving a
  :class:`TaskState` (``is_cancelled()``, ``set_progress()``); a new request for the same view
  can supersede the stale one, whose result is then dropped.
* :class:`TrainingRun` runs :meth:`Trainer.fit` in a :class:`TrainingWorker` moved to a
  dedicated :class:`~PySide6.QtCore.QThread`. A bridge callback turns the trainer's hooks into
  Qt signals carrying plain Python values only (ints, floats, strings, dicts and lists of
  them), never tensors or modules, so nothing of the run is touched from the GUI thread.

Importing this module does not import torch (the window must appear without it, see
:mod:`workbench.qt.startup`): the trainer is imported when a run starts.
"""

from __future__ import annotations

import threading
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal, Slot

from workbench.core.errors import WorkbenchError


def describe_exception(exc: BaseException) -> str:
    """A message for a person: a WorkbenchError's own text, else a hint that it is a bug."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return ("out of memory: lower the batch size or the input size in the experiment and "
                "try again")
    return (f"unexpected error ({type(exc).__name__}: {exc}). This is a bug in Workbench; "
            f"the details were printed on the console")


# -- short tasks ---------------------------------------------------------------------------
def task_pool() -> QThreadPool:
    """The pool every :class:`TaskRunner` uses (Qt's global one)."""
    return QThreadPool.globalInstance()


class TaskState:
    """What a job function sees of its runner: cancellation and throttled progress."""

    def __init__(self, job_id: int, signals: "_RunnerSignals"):
        self.job_id = job_id
        self._signals = signals
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._last_emit = 0.0
        self._last_fraction = -1.0

    def cancel(self) -> None:
        self._cancelled.set()

    def is_cancelled(self) -> bool:
        return self._cancelled.is_set()

    def set_progress(self, done: int, total: int) -> None:
        """Report progress; safe from any thread, throttled to about 20 updates a second."""
        now = time.monotonic()
        with self._lock:
            fraction = done / total if total else 1.0
            final = done >= total
            if not final and (now - self._last_emit < 0.05 or fraction == self._last_fraction):
                return
            self._last_emit, self._last_fraction = now, fraction
        _emit(self._signals.progressed, self.job_id, int(done), int(total))


def _emit(signal: Any, *args: Any) -> None:
    try:
        signal.emit(*args)
    except RuntimeError:
        # The receiving view was destroyed while the job ran (window closed): nothing to tell.
        pass


class _RunnerSignals(QObject):
    progressed = Signal(int, int, int)
    finished = Signal(int, object)
    errored = Signal(int, str)


class _Job(QRunnable):
    """A QRunnable holding the function; its results go out through a QObject's signals."""

    def __init__(self, fn: Callable[[TaskState], Any], state: TaskState,
                 signals: _RunnerSignals):
        super().__init__()
        # Python keeps this object alive (TaskRunner._jobs) until its result is handled.
        self.setAutoDelete(False)
        self._fn, self._state, self._signals = fn, state, signals

    def run(self) -> None:  # noqa: D401  (Qt override)
        job_id = self._state.job_id
        try:
            result = self._fn(self._state)
        except BaseException as e:  # noqa: BLE001  (reported to the GUI, never lost)
            if not isinstance(e, WorkbenchError):
                traceback.print_exc()
            _emit(self._signals.errored, job_id, describe_exception(e))
        else:
            _emit(self._signals.finished, job_id, result)


class TaskRunner(QObject):
    """Runs jobs for one view off the GUI thread.

    Parameters
    ----------
    supersede
        When true, submitting a job cancels the running one and its result is dropped
        (a new folder scan replaces the stale one). When false every job reports.

    Signals carry the job id returned by :meth:`submit`.
    """

    progressed = Signal(int, int, int)   # job id, done, total
    finished = Signal(int, object)       # job id, result
    errored = Signal(int, str)           # job id, message

    def __init__(self, parent: QObject | None = None, supersede: bool = True):
        super().__init__(parent)
        self.supersede = supersede
        self._signals = _RunnerSignals()
        self._signals.progressed.connect(self._on_progressed)
        self._signals.finished.connect(self._on_finished)
        self._signals.errored.connect(self._on_errored)
        self._jobs: dict[int, _Job] = {}
        self._next_id = 0

    def submit(self, fn: Callable[[TaskState], Any]) -> int:
        """Run ``fn(state)`` on the pool; returns the job id."""
        if self.supersede:
            self.cancel_all()
        self._next_id += 1
        state = TaskState(self._next_id, self._signals)
        job = _Job(fn, state, self._signals)
        self._jobs[self._next_id] = job
        task_pool().start(job)
        return self._next_id

    def cancel_all(self) -> None:
        for job in self._jobs.values():
            job._state.cancel()

    def is_busy(self) -> bool:
        return any(not j._state.is_cancelled() for j in self._jobs.values())

    def _is_current(self, job_id: int) -> bool:
        job = self._jobs.get(job_id)
        return job is not None and not job._state.is_cancelled()

    @Slot(int, int, int)
    def _on_progressed(self, job_id: int, done: int, total: int) -> None:
        if self._is_current(job_id):
            self.progressed.emit(job_id, done, total)

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        current = self._is_current(job_id)
        self._jobs.pop(job_id, None)
        if current:
            self.finished.emit(job_id, result)

    @Slot(int, str)
    def _on_errored(self, job_id: int, message: str) -> None:
        current = self._is_current(job_id)
        self._jobs.pop(job_id, None)
        if current:
            self.errored.emit(job_id, message)


# -- training ------------------------------------------------------------------------------
def new_run_dir(name: str = "run") -> Path:
    """A fresh ``runs_dir()/<timestamp>-<name>`` folder for one training run."""
    from workbench.core.io import runs_dir

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._") or "run"
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    base = runs_dir()
    path = base / f"{stamp}-{safe}"
    n = 1
    while path.exists():
        n += 1
        path = base / f"{stamp}-{safe}-{n}"
    path.mkdir(parents=True)
    return path


def _plain(value: Any) -> Any:
    """Copy a payload into plain Python values (numbers become float/int, no tensors)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


class TrainingWorker(QObject):
    """Runs one :meth:`Trainer.fit` when :meth:`run` is invoked in its thread.

    Signals (all payloads plain Python values):

    ``fit_started(info)``
        The trainer's info dict: epochs, batches_per_epoch, device, num_train, num_val,
        classes, num_params.
    ``epoch_started(epoch)``
        1-based epoch number.
    ``batches_finished(chunk)``
        ``{"epoch", "batch", "num_batches", "step", "steps": [...], "losses": [...]}``:
        the losses of the batches since the previous chunk, with their global 1-based step.
        Emitted at most about 20 times a second (and at every epoch end), not per batch.
    ``epoch_finished(metrics)``
        epoch, train_loss, train_acc, val_loss, val_acc (None without validation), seconds.
    ``skipped(path, reason)``
        An image that could not be decoded and was left out.
    ``finished(summary)``
        ``{"stopped", "history", "classes", "bundle", "run_dir", "skipped"}``; ``bundle`` is
        the saved bundle's path ("" when nothing could be saved).
    ``errored(message)``
        The run failed; the message is for a person.
    """

    fit_started = Signal(object)
    epoch_started = Signal(int)
    batches_finished = Signal(object)
    epoch_finished = Signal(object)
    skipped = Signal(str, str)
    cache_progressed = Signal(int, int)  # images in the decoded-image cache, of total
    finished = Signal(object)
    errored = Signal(str)

    def __init__(self, experiment: Any, index: Any = None, save_bundle: bool = True,
                 emit_interval: float = 0.05):
        super().__init__()
        self.experiment = experiment.copy()
        self.index = index
        self.save_bundle = save_bundle
        self.emit_interval = emit_interval
        self.stop_event = threading.Event()

    def request_stop(self) -> None:
        """Ask the trainer to stop at its next batch (thread-safe)."""
        self.stop_event.set()

    @Slot()
    def run(self) -> None:
        try:
            # Imported already by TrainingRun.start on the GUI thread: nothing new here.
            from workbench.core.train.trainer import Trainer

            bridge = _bridge_class()(self)
            trainer = Trainer(self.experiment, callbacks=[bridge], stop_event=self.stop_event,
                              index=self.index)
            result = trainer.fit()
            bridge.flush()
            summary = {"stopped": bool(result.stopped), "history": _plain(result.history),
                       "classes": list(result.classes), "bundle": "", "run_dir": "",
                       "skipped": _plain(result.skipped)}
            if self.save_bundle and result.model is not None and result.history:
                run_dir = new_run_dir(self.experiment.name)
                path = result.save_bundle(run_dir / "bundle.pt")
                _write_metrics(run_dir, result.history)
                summary["bundle"], summary["run_dir"] = str(path), str(run_dir)
        except BaseException as e:  # noqa: BLE001  (the thread must report, not die)
            if not isinstance(e, WorkbenchError):
                traceback.print_exc()
            self.errored.emit(describe_exception(e))
        else:
            self.finished.emit(summary)


def _write_metrics(run_dir: Path, history: list[dict]) -> None:
    import json

    from workbench.core.io import atomic_write_text

    atomic_write_text(run_dir / "metrics.json",
                      json.dumps({"epochs": _plain(history)}, indent=2) + "\n")


class _BridgeHooks:
    """Turns trainer hooks into the worker's signals; runs in the training thread.

    Batch losses are gathered and sent in chunks (throttled at the source), so a fast run
    cannot flood the GUI's event queue with one event per batch.

    Mixed into the trainer's ``Callback`` by :func:`_bridge_class` (so hooks the trainer
    adds later stay no-ops here); the mix is made on first use, because the trainer
    module imports torch.
    """

    def __init__(self, worker: TrainingWorker):
        self.worker = worker
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.step = 0
        self.position = (0, 0, 0)
        self.last_emit = 0.0

    def flush(self) -> None:
        if not self.steps:
            return
        epoch, batch, num_batches = self.position
        self.worker.batches_finished.emit({
            "epoch": epoch, "batch": batch, "num_batches": num_batches, "step": self.step,
            "steps": self.steps, "losses": self.losses})
        self.steps, self.losses = [], []
        self.last_emit = time.monotonic()

    def on_fit_start(self, trainer: Any, info: dict) -> None:
        self.worker.fit_started.emit(_plain(info))

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        self.worker.epoch_started.emit(int(epoch))

    def on_batch_end(self, trainer: Any, epoch: int, batch: int, num_batches: int,
                     loss: float) -> None:
        self.step += 1
        self.steps.append(self.step)
        self.losses.append(float(loss))
        self.position = (int(epoch), int(batch), int(num_batches))
        if time.monotonic() - self.last_emit >= self.worker.emit_interval:
            self.flush()

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict) -> None:
        self.flush()
        self.worker.epoch_finished.emit(_plain(metrics))

    def on_fit_end(self, trainer: Any, result: Any) -> None:
        self.flush()

    def on_skipped(self, trainer: Any, path: str, reason: str) -> None:
        self.worker.skipped.emit(str(path), str(reason))

    def on_cache_progress(self, trainer: Any, done: int, total: int) -> None:
        # Throttled at the source (about every 1%).
        self.worker.cache_progressed.emit(int(done), int(total))


_BRIDGE: type | None = None


def _bridge_class() -> type:
    """``_BridgeHooks`` on top of :class:`workbench.core.train.trainer.Callback`."""
    global _BRIDGE
    if _BRIDGE is None:
        from workbench.core.train.trainer import Callback

        _BRIDGE = type("_Bridge", (_BridgeHooks, Callback), {})
    return _BRIDGE


class TrainingRun(QObject):
    """Owns the QThread and the :class:`TrainingWorker` of at most one run at a time.

    Re-emits the worker's signals (see :class:`TrainingWorker`); ``finished`` and
    ``errored`` come after the thread has been joined, so a handler may start the next run.
    """

    fit_started = Signal(object)
    epoch_started = Signal(int)
    batches_finished = Signal(object)
    epoch_finished = Signal(object)
    skipped = Signal(str, str)
    cache_progressed = Signal(int, int)  # images in the decoded-image cache, of total
    finished = Signal(object)
    errored = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None

    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def worker(self) -> TrainingWorker | None:
        return self._worker

    def start(self, experiment: Any, index: Any = None, save_bundle: bool = True) -> None:
        """Train a snapshot of ``experiment`` in a new thread."""
        if self.is_running():
            raise RuntimeError("a training run is already in progress")
        # The training thread must not be the first to import torch (see
        # workbench.qt.startup): wait for the background import, or import it here.
        from .startup import torch_loader

        torch_loader().ensure_loaded()
        _bridge_class()
        worker = TrainingWorker(experiment, index=index, save_bundle=save_bundle)
        thread = QThread()
        thread.setObjectName("workbench-training")
        worker.moveToThread(thread)
        worker.fit_started.connect(self.fit_started)
        worker.epoch_started.connect(self.epoch_started)
        worker.batches_finished.connect(self.batches_finished)
        worker.epoch_finished.connect(self.epoch_finished)
        worker.skipped.connect(self.skipped)
        worker.cache_progressed.connect(self.cache_progressed)
        worker.finished.connect(self._on_worker_finished)
        worker.errored.connect(self._on_worker_errored)
        thread.started.connect(worker.run)
        self._thread, self._worker = thread, worker
        thread.start()

    def stop(self) -> None:
        """Ask the run to stop at its next batch; returns at once."""
        if self._worker is not None:
            self._worker.request_stop()

    def shutdown(self) -> None:
        """Stop the run cooperatively and wait for its thread (used when closing)."""
        if self._thread is None:
            return
        self.stop()
        self._join()

    def _join(self) -> None:
        # Hold both until the thread has stopped: dropping the last reference to the worker
        # while its thread still runs let Python destroy the QObject under that thread (a
        # segfault about one close in twenty, seen when the window closed mid-run).
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            thread.quit()
            thread.wait()
        del worker  # now on this thread, with the training thread finished

    def _from_current_worker(self) -> bool:
        # A run shut down by closing the window may still have its last signals queued;
        # they must neither join a later run's thread nor be reported.
        sender = self.sender()
        return sender is not None and self._worker is not None and sender is self._worker

    @Slot(object)
    def _on_worker_finished(self, summary: dict) -> None:
        if self._from_current_worker():
            self._join()
            self.finished.emit(summary)

    @Slot(str)
    def _on_worker_errored(self, message: str) -> None:
        if self._from_current_worker():
            self._join()
            self.errored.emit(message)
