"""Short jobs (folder scan, preview, prediction) on Qt's thread pool: :class:`TaskRunner`.

Each job is a :class:`~workbench.qt.workers.worker.Worker` of a plain function receiving a
:class:`~workbench.qt.workers.worker.TaskState`; a new request for the same view can
supersede the stale one, whose news is then dropped.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from workbench.qt.workers.worker import TaskState, Worker, WorkerSignals, task_pool

__all__ = ["TaskRunner", "task_pool"]


class TaskRunner(QObject):
    """Runs jobs for one view off the GUI thread.

    Parameters
    ----------
    supersede
        When true, submitting a job cancels the running one and its result is dropped
        (a new folder scan replaces the stale one). When false every job reports.

    Signals carry the job id returned by :meth:`submit`; ``finished`` is the worker's
    ``returned`` (the job's result), kept under the name every view connects to.
    """

    progressed = Signal(int, int, int)   # job id, done, total
    yielded = Signal(int, object)        # job id, a value the job sent (TaskState.send)
    finished = Signal(int, object)       # job id, result
    errored = Signal(int, str)           # job id, message

    def __init__(self, parent: QObject | None = None, supersede: bool = True):
        super().__init__(parent)
        self.supersede = supersede
        self._signals = WorkerSignals()
        self._signals.progressed.connect(self._on_progressed)
        self._signals.yielded.connect(self._on_yielded)
        self._signals.returned.connect(self._on_returned)
        self._signals.errored.connect(self._on_errored)
        self._jobs: dict[int, Worker] = {}
        self._next_id = 0

    def submit(self, fn: Callable[[TaskState], Any]) -> int:
        """Run ``fn(state)`` on the pool; returns the job id."""
        if self.supersede:
            self.cancel_all()
        self._next_id += 1
        worker = Worker(fn)
        self._jobs[self._next_id] = worker
        worker.start(self._signals, self._next_id)
        return self._next_id

    def cancel_all(self) -> None:
        for worker in self._jobs.values():
            worker.cancel()

    def is_busy(self) -> bool:
        return any(not w.is_cancelled() for w in self._jobs.values())

    def _is_current(self, job_id: int) -> bool:
        worker = self._jobs.get(job_id)
        return worker is not None and not worker.is_cancelled()

    @Slot(int, int, int)
    def _on_progressed(self, job_id: int, done: int, total: int) -> None:
        if self._is_current(job_id):
            self.progressed.emit(job_id, done, total)

    @Slot(int, object)
    def _on_yielded(self, job_id: int, value: Any) -> None:
        if self._is_current(job_id):
            self.yielded.emit(job_id, value)

    @Slot(int, object)
    def _on_returned(self, job_id: int, result: Any) -> None:
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
