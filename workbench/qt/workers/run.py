"""The owner of one long worker at a time (a training run, a study): :class:`WorkerRun`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from workbench.qt.workers.worker import Worker, WorkerSignals


class WorkerRun(QObject):
    """Owns the :class:`~workbench.qt.workers.worker.Worker` of at most one long job at a
    time, on the GUI thread.

    A subclass declares one signal per kind of news its worker sends on the way and lists
    their names in :attr:`events`; the worker sends ``state.send((name, args))`` and the
    signal ``name`` of this object is emitted with ``args``, on the GUI thread. So each
    signal is declared once, here, and nothing relays it by hand. ``finished(result)``
    (the worker's ``returned``) and ``errored(message)`` come when the job is over (after
    :meth:`_end`), so a handler may start the next one. News from a worker this object no
    longer owns (shut down by closing, say) is dropped.
    """

    finished = Signal(object)
    errored = Signal(str)

    #: The names of the subclass's signals a worker may send (``state.send``).
    events: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        #: The lifecycle signals of this object's workers, emitted from the worker's thread.
        self.signals = WorkerSignals()
        self.signals.yielded.connect(self._on_yielded)
        self.signals.returned.connect(self._on_returned)
        self.signals.errored.connect(self._on_errored)
        self._job: Any = None
        self._next_id = 0

    def is_running(self) -> bool:
        return self._job is not None

    @property
    def worker(self) -> Any:
        """The running worker, or None."""
        return self._job

    def stop(self) -> None:
        """Ask the worker to stop (:meth:`Worker.cancel`); returns at once."""
        if self._job is not None:
            self._job.cancel()

    def _launch(self, worker: Worker, thread: Any) -> None:
        self._next_id += 1
        self._job = worker
        worker.start(self.signals, self._next_id, thread)

    def _end(self, failed: bool) -> None:
        """The current worker has reported its end: let go of it (the subclass's way)."""
        self._job = None

    def _is_current(self, worker_id: int) -> bool:
        return self._job is not None and self._job.id == worker_id

    @Slot(int, object)
    def _on_yielded(self, worker_id: int, event: Any) -> None:
        if self._is_current(worker_id):
            name, args = event
            if name not in self.events:
                raise ValueError(f"{type(self).__name__} has no event {name!r}")
            getattr(self, name).emit(*args)

    @Slot(int, object)
    def _on_returned(self, worker_id: int, result: Any) -> None:
        if self._is_current(worker_id):
            self._end(failed=False)
            self.finished.emit(result)

    @Slot(int, str)
    def _on_errored(self, worker_id: int, message: str) -> None:
        if self._is_current(worker_id):
            self._end(failed=True)
            self.errored.emit(message)
