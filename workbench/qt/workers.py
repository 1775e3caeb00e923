"""Work that must not run on the GUI thread.

Two kinds:

* :class:`TaskRunner` runs short jobs (folder scan, prediction) on a shared
  :class:`~PySide6.QtCore.QThreadPool`. A job is a plain function receiving a
  :class:`TaskState` (``is_cancelled()``, ``set_progress()``); a new request for the same view
  can supersede the stale one, whose result is then dropped.
* :class:`TrainingRun` runs :meth:`Trainer.fit` in a :class:`TrainingWorker`, on the one
  long-lived training :class:`~PySide6.QtCore.QThread` every run shares
  (:func:`training_thread`). A bridge callback turns the trainer's hooks into
  Qt signals carrying plain Python values only (ints, floats, strings, dicts and lists of
  them), never tensors or modules, so nothing of the run is touched from the GUI thread.

Importing this module does not import torch (the window must appear without it, see
:mod:`workbench.qt.startup`): the trainer is imported when a run starts.
"""

from __future__ import annotations

import atexit
import gc
import threading
import time
import traceback
import weakref
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import (QCoreApplication, QObject, QRunnable, QThread, QThreadPool,
                            QTimer, Signal, Slot)

from workbench.core.errors import WorkbenchError
from workbench.core.train.allocator import release_free_memory


def describe_exception(exc: BaseException) -> str:
    """A message for a person: a WorkbenchError's own text, else a hint that it is a bug."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return ("out of memory: lower the batch size or the input size in the experiment and "
                "try again")
    return (f"unexpected error ({type(exc).__name__}: {exc}). This is a bug in Workbench; "
            f"the details were printed on the console")


#: The longest the GUI thread waits for background work when closing (or when a finished
#: run has to leave the training thread) before it reports the stuck work and goes on.
CLOSE_WAIT_S = 60.0


def report_stuck(what: str, seconds: float) -> None:
    """Say on the console that ``what`` did not end within ``seconds``, with every
    thread's stack (where it is stuck), instead of waiting for ever."""
    import faulthandler
    import sys

    print(f"Workbench: {what} did not end within {seconds:.0f} s; going on without "
          f"waiting. Where every thread is:", file=sys.stderr, flush=True)
    try:
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    except (AttributeError, OSError, ValueError):  # stderr is not a real file
        traceback.print_stack(file=sys.stderr)


def wait_for_tasks(timeout_s: float = CLOSE_WAIT_S) -> bool:
    """Wait (at most ``timeout_s``) for every job on :func:`task_pool`; True when all
    ended. A job that never ends is reported (:func:`report_stuck`), not waited for."""
    if task_pool().waitForDone(int(timeout_s * 1000)):
        return True
    report_stuck("a background job", timeout_s)
    return False


# -- garbage collection --------------------------------------------------------------------
class GuiThreadGarbageCollector(QObject):
    """Python's cycle collector, run on the GUI thread only, from a timer.

    Left automatic, a collection runs in whichever thread happens to allocate: often the
    training thread or a pool thread. Qt objects in garbage cycles (a closed panel's timers,
    its helper QObjects) are then destroyed in a thread that does not own them, which Qt
    forbids ("Timers cannot be stopped from another thread") and which can crash or hang
    the app later. pyqtgraph's ``GarbageCollector`` does the same for the same reason.

    The thresholds are Python's own; only the thread changes. Reference counting still
    frees everything that is not in a cycle at once, in any thread.
    """

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    @Slot()
    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds; the number of
        unreachable objects found."""
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self.threshold
        if c0 <= t0:
            return 0
        generation = 2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0
        return gc.collect(generation)


_COLLECTOR: GuiThreadGarbageCollector | None = None


def collect_garbage_on_gui_thread() -> GuiThreadGarbageCollector:
    """Install (once) the :class:`GuiThreadGarbageCollector` on the running application;
    call on the GUI thread once the QApplication exists."""
    global _COLLECTOR
    if _COLLECTOR is None:
        _COLLECTOR = GuiThreadGarbageCollector(parent=QCoreApplication.instance())
    return _COLLECTOR


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


#: Per-layer gradient and weight norms are sampled every this many optimizer steps.
NORM_INTERVAL = 10


class TrainingWorker(QObject):
    """Runs one :meth:`Trainer.fit` when :meth:`run` is invoked in its thread.

    The run's folder (run.json, experiment.json, metrics.json, checkpoints, bundle) is
    written as it goes by :class:`~workbench.core.train.record.RunRecorder`.

    Signals (all payloads plain Python values):

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
        epoch, train_loss, train_acc, val_loss, val_acc (None without validation), lr,
        seconds; plus ``best`` (the best epoch so far, ``{"metric", "value", "epoch"}``).
    ``paused(epoch, batch)`` / ``resumed()``
        The run holds before that batch / goes on.
    ``skipped(path, reason)``
        An image that could not be decoded and was left out.
    ``finished(summary)``
        ``{"status", "stopped", "early_stopped", "stop_reason", "best", "restored_best",
        "model", "history", "classes", "bundle", "run_dir", "skipped"}``; ``bundle`` is the
        saved bundle's path ("" when none was written), ``model`` which epoch's weights the
        run ends with (``{"epoch", "restored_best", "metrics"}``).
    ``errored(message)``
        The run failed; the message is for a person. :attr:`failure` holds the details:
        ``{"message", "kind" ("diverged", "out_of_memory", "failed"), "run_dir",
        "epochs_done", "batch_size", "suggested_batch_size"}``.
    """

    fit_started = Signal(object)
    epoch_started = Signal(int)
    batches_finished = Signal(object)
    epoch_finished = Signal(object)
    paused = Signal(int, int)
    resumed = Signal()
    skipped = Signal(str, str)
    cache_progressed = Signal(int, int)  # images in the decoded-image cache, of total
    finished = Signal(object)
    errored = Signal(str)

    def __init__(self, experiment: Any, index: Any = None, save_bundle: bool = True,
                 emit_interval: float = 0.05, resume_from: str | Path | None = None,
                 runs_parent: str | Path | None = None, run_name: str = ""):
        super().__init__()
        self.run_name = run_name
        self.experiment = experiment.copy()
        self.index = index
        self.save_bundle = save_bundle
        self.emit_interval = emit_interval
        self.resume_from = Path(resume_from) if resume_from else None
        self.runs_parent = runs_parent
        self.stop_event = threading.Event()
        self.failure: dict[str, Any] = {}
        self.trainer: Any = None
        self._pause_requested = False

    def request_stop(self) -> None:
        """Ask the trainer to stop at its next batch (thread-safe)."""
        self.stop_event.set()

    def request_pause(self, pause: bool = True) -> None:
        """Hold the run before its next batch (``pause=False``: go on); thread-safe."""
        self._pause_requested = pause
        trainer = self.trainer
        if trainer is not None:
            trainer.pause() if pause else trainer.resume()

    @Slot()
    def run(self) -> None:
        from workbench.core.train.trainer import TrainingDiverged, TrainingOutOfMemory

        recorder = None
        trainer = None
        try:
            # Imported already by TrainingRun.start on the GUI thread: nothing new here.
            from workbench.core.train.checkpoint import load_checkpoint
            from workbench.core.train.record import RunRecorder
            from workbench.core.train.trainer import Trainer

            checkpoint = None
            run_dir = None
            if self.resume_from is not None:
                checkpoint = load_checkpoint(self.resume_from)
                run_dir = (self.resume_from if self.resume_from.is_dir()
                           else self.resume_from.parent.parent)
            bridge = _bridge_class()(self)
            recorder = RunRecorder(run_dir, parent=self.runs_parent,
                                   save_bundle=self.save_bundle, name=self.run_name)
            trainer = Trainer(self.experiment, callbacks=[recorder, bridge],
                              stop_event=self.stop_event, index=self.index,
                              checkpoint=checkpoint, norm_interval=NORM_INTERVAL)
            self.trainer = trainer
            if self._pause_requested:
                trainer.pause()
            result = trainer.fit()
            bridge.flush()
            summary = {"status": result.status, "stopped": bool(result.stopped),
                       "early_stopped": bool(result.early_stopped),
                       "stop_reason": result.stop_reason, "best": _plain(result.best),
                       "restored_best": bool(result.restored_best),
                       "model": _plain(result.model_info()),
                       "history": _plain(result.history), "classes": list(result.classes),
                       "bundle": str(recorder.bundle_path or ""),
                       "run_dir": str(recorder.run_dir or ""),
                       "skipped": _plain(result.skipped)}
        except BaseException as e:  # noqa: BLE001  (the thread must report, not die)
            if not isinstance(e, WorkbenchError):
                traceback.print_exc()
            kind = ("diverged" if isinstance(e, TrainingDiverged) else
                    "out_of_memory" if isinstance(e, TrainingOutOfMemory) else "failed")
            bs = int(getattr(e, "batch_size", 0) or self.experiment.data.batch_size)
            self.failure = {
                "message": describe_exception(e), "kind": kind,
                "run_dir": str(recorder.run_dir) if recorder and recorder.run_dir else "",
                "epochs_done": int(trainer.epochs_done) if trainer is not None else 0,
                "batch_size": bs, "suggested_batch_size": max(1, bs // 2)}
            self.errored.emit(self.failure["message"])
        else:
            self.finished.emit(summary)
        finally:
            self.trainer = None  # freed with this frame, on this thread, when run returns


def _memory_in_use(trainer: Any) -> int:
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
    """Turns trainer hooks into the worker's signals; runs in the training thread.

    Batch losses (and sampled norms) are gathered and sent in chunks (throttled at the
    source), so a fast run cannot flood the GUI's event queue with one event per batch.

    Mixed into the trainer's ``Callback`` by :func:`_bridge_class` (so hooks the trainer
    adds later stay no-ops here); the mix is made on first use, because the trainer
    module imports torch.
    """

    def __init__(self, worker: TrainingWorker):
        self.worker = worker
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.norms: list[tuple[int, list[float], list[float]]] = []
        self.step = 0
        self.position = (0, 0, 0)
        self.last_emit = time.monotonic()
        self.trainer: Any = None

    def flush(self) -> None:
        if not self.steps and not self.norms:
            return
        now = time.monotonic()
        epoch, batch, num_batches = self.position
        rate = len(self.steps) / max(1e-6, now - self.last_emit)
        self.worker.batches_finished.emit({
            "epoch": epoch, "batch": batch, "num_batches": num_batches, "step": self.step,
            "steps": self.steps, "losses": self.losses, "rate": rate,
            "memory": _memory_in_use(self.trainer), "norms": self.norms})
        self.steps, self.losses, self.norms = [], [], []
        self.last_emit = now

    def on_fit_start(self, trainer: Any, info: dict) -> None:
        self.trainer = trainer
        recorder_dirs = [getattr(cb, "run_dir", None) for cb in trainer.callbacks]
        run_dir = next((str(d) for d in recorder_dirs if d is not None), "")
        self.last_emit = time.monotonic()
        self.worker.fit_started.emit(_plain({**info, "run_dir": run_dir}))

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        self.worker.epoch_started.emit(int(epoch))

    def on_batch_end(self, trainer: Any, epoch: int, batch: int, num_batches: int,
                     loss: float) -> None:
        # Global batch number: a resumed run's plots go on from where the run left off.
        self.step = (int(epoch) - 1) * int(num_batches) + int(batch)
        self.steps.append(self.step)
        self.losses.append(float(loss))
        self.position = (int(epoch), int(batch), int(num_batches))
        if time.monotonic() - self.last_emit >= self.worker.emit_interval:
            self.flush()

    def on_norms(self, trainer: Any, step: int, names: list, grads: list,
                 weights: list) -> None:
        self.norms.append((self.step, [float(g) for g in grads], [float(w) for w in weights]))

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict) -> None:
        self.flush()
        best = trainer.tracker.best if trainer.tracker is not None else None
        self.worker.epoch_finished.emit(_plain({**metrics, "best": best}))

    def on_paused(self, trainer: Any, epoch: int, batch: int) -> None:
        self.flush()
        self.worker.paused.emit(int(epoch), int(batch))

    def on_resumed(self, trainer: Any) -> None:
        self.last_emit = time.monotonic()  # the pause is not part of the batch rate
        self.worker.resumed.emit()

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


class _Runner(QObject):
    """Lives in the training thread; runs one worker per request, in that thread."""

    @Slot(object)
    def run_worker(self, request: tuple) -> None:
        ref, done = request
        # Weakly held: the worker (a QObject) must be deleted on the GUI thread, by
        # TrainingRun dropping it after ``done``, never here by this thread letting go last.
        worker = ref()
        try:
            if worker is not None:
                worker.run()
        finally:
            del worker
            # The run's model, optimizer and batches are freed by now; the heap kept them
            # for speed (core.train.allocator): give the memory back between runs.
            release_free_memory()
            done.set()


class _Dispatcher(QObject):
    requested = Signal(object)


_TRAINING_THREAD: tuple | None = None


def training_thread() -> QThread:
    """The one thread every training run uses, started once and kept between runs.

    A fresh thread per run left about 30 KB behind per run in native memory (per-thread
    state of what a run touches, not Python objects; scripts/soak.py shows it), so runs
    share this one. It is stopped when the application quits (or at interpreter exit).
    """
    global _TRAINING_THREAD
    if _TRAINING_THREAD is None:
        thread = QThread()
        thread.setObjectName("workbench-training")
        runner = _Runner()
        runner.moveToThread(thread)
        dispatcher = _Dispatcher()
        dispatcher.requested.connect(runner.run_worker)  # queued: runs in ``thread``
        thread.start()
        _TRAINING_THREAD = (thread, runner, dispatcher)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(stop_training_thread)
        atexit.register(stop_training_thread)
    return _TRAINING_THREAD[0]


#: Threads that did not end when asked, with the objects they are still in: kept for the
#: life of the process, because a running QThread (or a QObject a thread is in) must not be
#: deleted.
_LEFT_RUNNING: list[tuple] = []


def end_thread(thread: QThread, what: str, *in_use: Any) -> bool:
    """Quit ``thread``'s event loop and wait (at most :data:`CLOSE_WAIT_S`) for it to end;
    True when it did. One that does not is reported (:func:`report_stuck`) and kept, with
    the objects ``in_use`` by it."""
    thread.quit()
    if thread.wait(int(CLOSE_WAIT_S * 1000)):
        return True
    report_stuck(what, CLOSE_WAIT_S)
    _LEFT_RUNNING.append((thread, *in_use))
    return False


def stop_training_thread() -> None:
    """End the training thread (after the run in it, if any, has returned)."""
    global _TRAINING_THREAD
    if _TRAINING_THREAD is not None:
        thread, runner, dispatcher = _TRAINING_THREAD
        _TRAINING_THREAD = None
        end_thread(thread, "the training thread", runner, dispatcher)


def abandon_training_thread() -> None:
    """Leave the training thread to the run stuck in it: the next run starts a new one."""
    global _TRAINING_THREAD
    if _TRAINING_THREAD is not None:
        _LEFT_RUNNING.append(_TRAINING_THREAD)
        _TRAINING_THREAD[0].quit()  # it ends once the stuck run returns, if ever
        _TRAINING_THREAD = None


class _RunJob:
    """One run handed to the training thread: the worker, weakly, and when it is done."""

    def __init__(self, worker: "TrainingWorker"):
        self.worker_ref = weakref.ref(worker)
        self.done = threading.Event()  # set when the worker's run has returned

    def submit(self) -> None:
        training_thread()
        _TRAINING_THREAD[2].requested.emit((self.worker_ref, self.done))


class TrainingRun(QObject):
    """Owns the :class:`TrainingWorker` of at most one run at a time, run on the training
    thread (:func:`training_thread`).

    Re-emits the worker's signals (see :class:`TrainingWorker`); ``finished`` and
    ``errored`` come when the run is over, so a handler may start the next run (it starts
    once the last one has left the thread).
    """

    fit_started = Signal(object)
    epoch_started = Signal(int)
    batches_finished = Signal(object)
    epoch_finished = Signal(object)
    paused = Signal(int, int)
    resumed = Signal()
    skipped = Signal(str, str)
    cache_progressed = Signal(int, int)  # images in the decoded-image cache, of total
    finished = Signal(object)
    errored = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._worker: TrainingWorker | None = None
        self._job: _RunJob | None = None
        # Finished runs' worker and job, kept until the pool thread has surely left them:
        # a QObject must not be destroyed while another thread is still in its method.
        self._retired: list[Any] = []
        self._stuck: list[Any] = []  # runs that never left their thread (see above)
        #: The last failed run's details (see :class:`TrainingWorker`'s ``errored``).
        self.last_failure: dict[str, Any] = {}

    def is_running(self) -> bool:
        return self._worker is not None

    @property
    def worker(self) -> TrainingWorker | None:
        return self._worker

    def start(self, experiment: Any, index: Any = None, save_bundle: bool = True,
              resume_from: str | Path | None = None, run_name: str = "") -> None:
        """Train a snapshot of ``experiment`` on the training thread; with ``resume_from``
        (a run folder or checkpoint file), continue that run up to ``experiment``'s
        epochs. ``run_name`` names a new run (its folder and run.json)."""
        if self.is_running():
            raise RuntimeError("a training run is already in progress")
        # The training thread must not be the first to import torch (see
        # workbench.qt.startup): wait for the background import, or import it here.
        from workbench.qt.startup import torch_loader

        torch_loader().ensure_loaded()
        _bridge_class()
        self._release_retired()
        worker = TrainingWorker(experiment, index=index, save_bundle=save_bundle,
                                resume_from=resume_from, run_name=run_name)
        worker.fit_started.connect(self.fit_started)
        worker.epoch_started.connect(self.epoch_started)
        worker.batches_finished.connect(self.batches_finished)
        worker.epoch_finished.connect(self.epoch_finished)
        worker.paused.connect(self.paused)
        worker.resumed.connect(self.resumed)
        worker.skipped.connect(self.skipped)
        worker.cache_progressed.connect(self.cache_progressed)
        worker.finished.connect(self._on_worker_finished)
        worker.errored.connect(self._on_worker_errored)
        job = _RunJob(worker)
        self._worker, self._job = worker, job
        job.submit()

    def stop(self) -> None:
        """Ask the run to stop at its next batch; returns at once."""
        if self._worker is not None:
            self._worker.request_stop()

    def pause(self, pause: bool = True) -> None:
        """Hold the run before its next batch (``pause=False``: go on); returns at once."""
        if self._worker is not None:
            self._worker.request_pause(pause)

    def shutdown(self) -> None:
        """Stop the run cooperatively and wait until it has left the thread (used when
        closing)."""
        if self._worker is not None:
            self.stop()
            self._worker.request_pause(False)  # a paused run must see the stop
        self._retire()
        self._release_retired()

    def _retire(self) -> None:
        if self._job is not None:
            self._retired.append((self._worker, self._job))
        self._worker = self._job = None

    def _release_retired(self) -> None:
        # A run reports its end from the training thread, whose last statements run on
        # for a moment (or, when closing, until the stop request is seen): wait for them.
        stuck = [(w, job) for w, job in self._retired if not job.done.wait(CLOSE_WAIT_S)]
        self._retired.clear()  # the workers go now, on this thread
        if stuck:
            # Kept (their thread is still in them) but never waited for again; the next run
            # gets a thread of its own.
            report_stuck("a training run", CLOSE_WAIT_S)
            self._stuck.extend(stuck)
            abandon_training_thread()

    def _from_current_worker(self) -> bool:
        # A run shut down by closing the window may still have its last signals queued;
        # they must neither join a later run's thread nor be reported.
        sender = self.sender()
        return sender is not None and self._worker is not None and sender is self._worker

    @Slot(object)
    def _on_worker_finished(self, summary: dict) -> None:
        if self._from_current_worker():
            self._retire()
            self.finished.emit(summary)

    @Slot(str)
    def _on_worker_errored(self, message: str) -> None:
        if self._from_current_worker():
            self.last_failure = dict(self._worker.failure)
            self._retire()
            self.errored.emit(message)
