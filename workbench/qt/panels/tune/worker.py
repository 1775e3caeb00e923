"""The Tune panel's study, off the GUI thread: :class:`StudyRun` owns a QThread running
:func:`workbench.core.tune.study.run_study` in a :class:`StudyWorker`.

Optuna does the search; this module only carries its news to the GUI as plain values
(trial dicts, a :class:`~workbench.core.tune.study.StudySummary`) and stops it on request through
``run_study``'s stop event. Nothing here imports torch or Optuna at import time.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from workbench.core.errors import WorkbenchError

from workbench.qt.workers import _plain, describe_exception, end_thread


class StudyWorker(QObject):
    """Runs one study when :meth:`run` is invoked in its thread.

    Signals
    -------
    loaded(trials)
        The study's trials already in the storage (a continued study), before any new one.
    epoch_finished(info)
        ``{"epoch", "epochs", **metrics}`` of the running trial (for a status line).
    trial_finished(trial)
        A :func:`~workbench.core.tune.study.trial_dict` of a trial this process ran.
    finished(summary)
        The :class:`~workbench.core.tune.study.StudySummary` of the whole study.
    errored(message)
        The study could not run (a bad space, budget or storage); a one-line message.
    """

    loaded = Signal(list)
    epoch_finished = Signal(object)
    trial_finished = Signal(object)
    finished = Signal(object)
    errored = Signal(str)

    def __init__(self, experiment: Any, space: dict[str, Any], trials: int | None,
                 timeout: float | None, storage: str | None, study_name: str,
                 continue_study: bool, runs_parent: Any = None):
        super().__init__()
        self.experiment = experiment.copy()  # a snapshot: edits during the study don't leak in
        self.space = dict(space)
        self.trials, self.timeout = trials, timeout
        self.storage, self.study_name = storage, study_name
        self.continue_study = continue_study
        self.runs_parent = runs_parent
        self.stop_event = threading.Event()

    def request_stop(self) -> None:
        """Stop the running trial at its next batch and start no more (thread-safe)."""
        self.stop_event.set()

    @Slot()
    def run(self) -> None:
        try:
            summary = self._run()
        except BaseException as e:  # noqa: BLE001  (the thread must report, not die)
            if not isinstance(e, WorkbenchError):
                traceback.print_exc()
            self.errored.emit(describe_exception(e))
        else:
            self.finished.emit(summary)

    def _run(self) -> Any:
        import optuna

        from workbench.core.train.trainer import Callback
        from workbench.core.tune.study import run_study, trial_dict
        from workbench.core.tune.storage import default_storage, open_storage

        url = self.storage or default_storage(self.runs_parent)
        storage = open_storage(optuna, url)
        names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
        if self.study_name in names:
            old = optuna.load_study(study_name=self.study_name, storage=storage)
            trials = old.get_trials(deepcopy=False)
            if trials and not self.continue_study:
                raise WorkbenchError(f"study {self.study_name} already has {len(trials)} "
                                     f"trial(s) in {url}: tick Continue study to add to it, "
                                     f"or give another study name")
            self.loaded.emit([_plain(trial_dict(t)) for t in trials])
        worker = self

        class EpochNews(Callback):
            def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict) -> None:
                epochs = getattr(getattr(trainer, "experiment", None), "training", None)
                worker.epoch_finished.emit(_plain({
                    **metrics, "epoch": epoch,
                    "epochs": getattr(epochs, "epochs", None)}))

        return run_study(self.experiment, self.space, trials=self.trials,
                         timeout=self.timeout, storage=url, study_name=self.study_name,
                         runs_parent=self.runs_parent, callbacks=[EpochNews()],
                         stop_event=self.stop_event,
                         on_trial=lambda t: self.trial_finished.emit(_plain(t)))


class StudyRun(QObject):
    """Owns the QThread and :class:`StudyWorker` of at most one study at a time.

    Re-emits the worker's signals; ``finished`` and ``errored`` come after the thread has
    been joined, so a handler may start the next study.
    """

    loaded = Signal(list)
    epoch_finished = Signal(object)
    trial_finished = Signal(object)
    finished = Signal(object)
    errored = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: StudyWorker | None = None

    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def worker(self) -> StudyWorker | None:
        return self._worker

    def start(self, worker: StudyWorker) -> None:
        """Run ``worker``'s study in a new thread."""
        if self.is_running():
            raise RuntimeError("a study is already running")
        # The study thread must not be the first to import torch (see workbench.qt.startup)
        # nor Optuna's lazily imported parts while a pool job computes importances.
        from workbench.qt.startup import torch_loader

        torch_loader().ensure_loaded()
        import optuna.importance  # noqa: F401

        thread = QThread()
        thread.setObjectName("workbench-study")
        worker.moveToThread(thread)
        worker.loaded.connect(self._relay_loaded)
        worker.epoch_finished.connect(self._relay_epoch)
        worker.trial_finished.connect(self._relay_trial)
        worker.finished.connect(self._on_worker_finished)
        worker.errored.connect(self._on_worker_errored)
        thread.started.connect(worker.run)
        self._thread, self._worker = thread, worker
        thread.start()

    def stop(self) -> None:
        """Ask the study to stop (the running trial ends at its next batch); returns at once."""
        if self._worker is not None:
            self._worker.request_stop()

    def shutdown(self) -> None:
        """Stop the study and wait for its thread (used when closing)."""
        if self._thread is None:
            return
        self.stop()
        self._join()

    def _join(self) -> None:
        # Keep the worker referenced until its thread has stopped: a QObject must not be
        # destroyed while its thread is still in it.
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            end_thread(thread, "the search", worker)
        del worker

    def _current(self) -> bool:
        # Signals still queued from a study shut down by closing must not be reported.
        sender = self.sender()
        return sender is not None and sender is self._worker

    @Slot(list)
    def _relay_loaded(self, trials: list) -> None:
        if self._current():
            self.loaded.emit(trials)

    @Slot(object)
    def _relay_epoch(self, info: dict) -> None:
        if self._current():
            self.epoch_finished.emit(info)

    @Slot(object)
    def _relay_trial(self, trial: dict) -> None:
        if self._current():
            self.trial_finished.emit(trial)

    @Slot(object)
    def _on_worker_finished(self, summary: Any) -> None:
        if self._current():
            self._join()
            self.finished.emit(summary)

    @Slot(str)
    def _on_worker_errored(self, message: str) -> None:
        if self._current():
            self._join()
            self.errored.emit(message)
