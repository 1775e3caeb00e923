"""The one worker abstraction: a function run off the GUI thread, start to end.

A :class:`Worker` runs ``work(state)`` in another thread (Qt's pool for short tasks, a
:class:`~workbench.qt.workers.threads.WorkerThread` for training and studies) and tells its
owner on the GUI thread what happens through a :class:`WorkerSignals` (superqt's
``thread_worker`` ideas):

``started`` -> any number of ``progressed`` / ``yielded`` -> ``returned`` or ``errored``
-> ``finished``

Every signal carries the worker's id, so an owner drops the news of a worker it has
cancelled or replaced. The work function sees a :class:`TaskState` (Orange3's idea):
``is_cancelled()``, throttled ``set_progress()``, and ``send()`` for values it yields on
the way. Payloads are plain Python values, never tensors, modules or widgets.

A worker is a plain Python object, not a QObject: it may be let go in any thread. The
signals belong to its owner (a QObject living on the GUI thread). Every started worker is
live until its thread has let go of it; :func:`await_workers` waits for them (bounded) at
quit.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, Signal

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


def plain(value: Any) -> Any:
    """Copy a payload into plain Python values (numbers become float/int, no tensors)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


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


def task_pool() -> QThreadPool:
    """The pool short workers run on (Qt's global one)."""
    return QThreadPool.globalInstance()


class WorkerSignals(QObject):
    """What a worker tells its owner; each signal's first value is the worker's id.

    Made and kept by the owner, on the GUI thread; emitted from the worker's thread, so
    the owner's slots run queued on the GUI thread.
    """

    started = Signal(int)
    progressed = Signal(int, int, int)  # id, done, total
    yielded = Signal(int, object)       # id, a value sent on the way (TaskState.send)
    returned = Signal(int, object)      # id, the work's result
    errored = Signal(int, str)          # id, a message for a person
    finished = Signal(int)              # id; always last, after returned or errored


def _emit(signal: Any, *args: Any) -> None:
    try:
        signal.emit(*args)
    except RuntimeError:
        # The owner was destroyed while the work ran (window closed): nothing to tell.
        pass


class TaskState:
    """What a work function sees of its worker: cancellation, throttled progress and
    values sent on the way. Safe to use from any thread."""

    def __init__(self, worker: "Worker"):
        self._worker = worker
        #: Set by :meth:`cancel`; work that blocks may wait on it.
        self.cancel_event = threading.Event()
        self._lock = threading.Lock()
        self._last_emit = 0.0
        self._last_fraction = -1.0

    @property
    def job_id(self) -> int:
        return self._worker.id

    def cancel(self) -> None:
        self.cancel_event.set()

    def is_cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def set_progress(self, done: int, total: int) -> None:
        """Report progress, throttled to about 20 updates a second (the last always goes)."""
        now = time.monotonic()
        with self._lock:
            fraction = done / total if total else 1.0
            final = done >= total
            if not final and (now - self._last_emit < 0.05 or fraction == self._last_fraction):
                return
            self._last_emit, self._last_fraction = now, fraction
        self._worker.emit("progressed", int(done), int(total))

    def send(self, value: Any) -> None:
        """Send ``value`` (plain Python values only) to the owner now: ``yielded``."""
        self._worker.emit("yielded", value)


#: Workers started and not yet let go by their thread (see :func:`await_workers`).
_LIVE: set["Worker"] = set()
_LIVE_LOCK = threading.Lock()


class Worker:
    """One function run off the GUI thread, from ``started`` to ``finished``.

    Pass ``fn(state)`` or override :meth:`work`. An owner starts it with :meth:`start`,
    giving its :class:`WorkerSignals` and an id; the work's return value goes out as
    ``returned``, an exception as ``errored`` (a message for a person; unexpected ones
    are printed with their traceback). :attr:`done` is set once the worker's thread has
    let go of it, so an owner knows when the work has truly ended.
    """

    #: How :func:`await_workers` names one that does not end.
    description = "a background job"

    def __init__(self, fn: Callable[[TaskState], Any] | None = None):
        self._fn = fn
        self.id = 0
        self.signals: WorkerSignals | None = None
        self.state = TaskState(self)
        self.done = threading.Event()
        #: Reported stuck by its owner: :func:`await_workers` waits for it no more.
        self.abandoned = False

    def work(self, state: TaskState) -> Any:
        """The work, run in the worker's thread; its return value is ``returned``."""
        if self._fn is None:
            raise NotImplementedError("give Worker a function or override work()")
        return self._fn(state)

    def cancel(self) -> None:
        """Ask the work to stop (it checks ``state.is_cancelled()``); returns at once."""
        self.state.cancel()

    def is_cancelled(self) -> bool:
        return self.state.is_cancelled()

    def emit(self, name: str, *args: Any) -> None:
        """Emit the owner's signal ``name`` with this worker's id; from any thread."""
        if self.signals is not None:
            _emit(getattr(self.signals, name), self.id, *args)

    def start(self, signals: WorkerSignals, worker_id: int, thread: Any = None) -> None:
        """Run in Qt's pool (``thread`` None) or on ``thread`` (a
        :class:`~workbench.qt.workers.threads.WorkerThread`); returns at once."""
        self.signals, self.id = signals, worker_id
        with _LIVE_LOCK:
            _LIVE.add(self)
        if thread is None:
            task_pool().start(self._run_in_pool)
        else:
            thread.submit(self)

    def run(self) -> None:
        """The lifecycle, in the worker's thread; never raises."""
        self.emit("started")
        try:
            result = self.work(self.state)
        except BaseException as e:  # noqa: BLE001  (reported to the GUI, never lost)
            if not isinstance(e, WorkbenchError):
                traceback.print_exc()
            self.emit("errored", describe_exception(e))
        else:
            self.emit("returned", result)
        finally:
            self.emit("finished")

    def left_thread(self) -> None:
        """Called by the thread that ran this worker once it holds it no more."""
        with _LIVE_LOCK:
            _LIVE.discard(self)
        self.done.set()

    def _run_in_pool(self) -> None:
        try:
            self.run()
        finally:
            self.left_thread()


def live_workers() -> list[Worker]:
    """The workers started and not yet ended (nor given up on)."""
    with _LIVE_LOCK:
        return [w for w in _LIVE if not w.abandoned]


def await_workers(timeout_s: float | None = None) -> bool:
    """Wait (at most ``timeout_s``, default :data:`CLOSE_WAIT_S`, for all together) for
    every live worker to end; True when all did. Those that do not are reported
    (:func:`report_stuck`) with every thread's stack, not waited for longer."""
    timeout_s = CLOSE_WAIT_S if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    stuck = [w for w in live_workers()
             if not w.done.wait(max(0.0, deadline - time.monotonic()))]
    if not stuck:
        return True
    what = " and ".join(dict.fromkeys(w.description for w in stuck))
    report_stuck(what, timeout_s)
    return False
