"""Where long workers run: a :class:`WorkerThread` runs the workers submitted to it one at
a time, in order. Training uses one such thread for every run (:func:`training_thread`);
a study gets one of its own.

A worker is handed to the thread's runner (a QObject living in that thread) by a queued
signal; the runner calls :meth:`Worker.run <workbench.qt.workers.worker.Worker.run>`, lets
go of the worker, and only then marks it done, so its owner never waits for a worker the
thread still holds.
"""

from __future__ import annotations

import atexit
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from workbench.core.train.allocator import release_free_memory
import workbench.qt.workers.worker as _worker
from workbench.qt.workers.worker import Worker, report_stuck


class _Runner(QObject):
    """Lives in a :class:`WorkerThread`; runs each worker it is handed, in that thread."""

    def __init__(self, release_memory: bool):
        super().__init__()
        self.release_memory = release_memory

    @Slot(object)
    def run_worker(self, worker: Worker) -> None:
        try:
            worker.run()
        finally:
            done, worker = worker.left_thread, None  # this thread holds the worker no more
            if self.release_memory:
                # The run's model, optimizer and batches are freed by now; the heap kept
                # them for speed (core.train.allocator): give the memory back between runs.
                release_free_memory()
            done()


class _Dispatcher(QObject):
    requested = Signal(object)


class WorkerThread(QThread):
    """A started thread with an event loop that runs the workers :meth:`submit`-ted to it.

    ``release_memory``: give the heap's free memory back to the system after each worker
    (training: a run's tensors leave a lot of it).
    """

    def __init__(self, name: str, release_memory: bool = False):
        super().__init__()
        self.setObjectName(name)
        self._runner = _Runner(release_memory)
        self._runner.moveToThread(self)
        self._dispatcher = _Dispatcher()
        self._dispatcher.requested.connect(self._runner.run_worker)  # queued: runs in self
        self.start()

    def submit(self, worker: Worker) -> None:
        """Run ``worker`` in this thread after those submitted before it."""
        self._dispatcher.requested.emit(worker)

    def end(self, what: str, *in_use: Any) -> bool:
        """Quit after the running worker and wait for it, bounded (:func:`end_thread`)."""
        return end_thread(self, what, self._runner, self._dispatcher, *in_use)


#: Threads that did not end when asked, with the objects they are still in: kept for the
#: life of the process, because a running QThread (or a QObject a thread is in) must not be
#: deleted.
_LEFT_RUNNING: list[tuple] = []


def end_thread(thread: QThread, what: str, *in_use: Any) -> bool:
    """Quit ``thread``'s event loop and wait (at most :data:`CLOSE_WAIT_S
    <workbench.qt.workers.worker.CLOSE_WAIT_S>`) for it to end; True when it did. One that
    does not is reported (:func:`report_stuck`) and kept, with the objects ``in_use`` by
    it."""
    thread.quit()
    wait_s = _worker.CLOSE_WAIT_S
    if thread.wait(int(wait_s * 1000)):
        return True
    report_stuck(what, wait_s)
    _LEFT_RUNNING.append((thread, *in_use))
    return False


_TRAINING_THREAD: WorkerThread | None = None


def training_thread() -> WorkerThread:
    """The one thread every training run uses, started once and kept between runs.

    A fresh thread per run left about 30 KB behind per run in native memory (per-thread
    state of what a run touches, not Python objects; scripts/soak.py shows it), so runs
    share this one. It is stopped when the application quits (or at interpreter exit).
    """
    global _TRAINING_THREAD
    if _TRAINING_THREAD is None:
        _TRAINING_THREAD = WorkerThread("workbench-training", release_memory=True)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(stop_training_thread)
        atexit.register(stop_training_thread)
    return _TRAINING_THREAD


def stop_training_thread() -> None:
    """End the training thread (after the run in it, if any, has returned)."""
    global _TRAINING_THREAD
    if _TRAINING_THREAD is not None:
        thread, _TRAINING_THREAD = _TRAINING_THREAD, None
        thread.end("the training thread")


def abandon_training_thread() -> None:
    """Leave the training thread to the run stuck in it: the next run starts a new one."""
    global _TRAINING_THREAD
    if _TRAINING_THREAD is not None:
        _LEFT_RUNNING.append((_TRAINING_THREAD,))
        _TRAINING_THREAD.quit()  # it ends once the stuck run returns, if ever
        _TRAINING_THREAD = None
