"""The Tune panel's study, off the GUI thread: :class:`StudyRun` runs
:func:`workbench.core.tune.study.run_study` in a :class:`StudyWorker`, on a
:class:`~workbench.qt.workers.threads.WorkerThread` of its own.

Optuna does the search; this module only carries its news to the GUI as plain values
(trial dicts, a :class:`~workbench.core.tune.study.StudySummary`) and stops it on request through
``run_study``'s stop event (the worker's cancellation). Nothing here imports torch or
Optuna at import time.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from workbench.core.errors import WorkbenchError

from workbench.qt.workers.run import WorkerRun
from workbench.qt.workers.threads import WorkerThread
from workbench.qt.workers.worker import TaskState, Worker, plain


class StudyWorker(Worker):
    """One study, run by :meth:`work` in its thread; its news goes to :class:`StudyRun`'s
    signals. :attr:`stop_event` is the worker's cancellation."""

    description = "the search"

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
        self.stop_event = self.state.cancel_event

    def request_stop(self) -> None:
        """Stop the running trial at its next batch and start no more (thread-safe)."""
        self.cancel()

    def work(self, state: TaskState) -> Any:
        import optuna

        from workbench.core.train.trainer import Callback
        from workbench.core.tune.study import run_study, trial_dict
        from workbench.core.tune.storage import (default_storage, open_storage,
                                                 storage_problem, storage_url)

        from workbench.qt.panels.tune.study_link import metric_refusal

        url = storage_url(self.storage or "") or default_storage(self.runs_parent)
        storage = open_storage(optuna, url)
        names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
        trials: list = []
        earlier = ""
        if self.study_name in names:
            old = optuna.load_study(study_name=self.study_name, storage=storage)
            attrs = old.user_attrs
            # The Metric is checked here, not on the GUI thread (a database that does not
            # answer would freeze the window), before anything is written.
            stored = attrs.get("metric")
            refusal = metric_refusal(self.study_name, stored if isinstance(stored, str)
                                     else None, self.space.get("metric", "val_acc"))
            if refusal:
                raise WorkbenchError(refusal)
            trials = old.get_trials(deepcopy=False)
            if trials and not self.continue_study:
                raise WorkbenchError(f"study {self.study_name} already has {len(trials)} "
                                     f"trial(s) in {url}: tick Continue study to add to it, "
                                     f"or give another study name")
            # Optuna keeps no sampler with a study: the one its trials were drawn by
            # last is noted, so continuing with another can say so.
            found = attrs.get("sampler") or (attrs.get("space") or {}).get("sampler")
            earlier = found if isinstance(found, str) else ""
            try:
                old.set_user_attr("sampler", self.space.get("sampler", "tpe"))
            except Exception as e:  # a read-only storage: say where, and what to do
                raise storage_problem(url, e) from None
        # The panel's table turns to this study now (a refusal above left it as it was).
        state.send(("loaded", ([plain(trial_dict(t)) for t in trials], earlier)))

        class EpochNews(Callback):
            def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict) -> None:
                epochs = getattr(getattr(trainer, "experiment", None), "training", None)
                state.send(("epoch_finished", (plain({
                    **metrics, "epoch": epoch,
                    "epochs": getattr(epochs, "epochs", None)}),)))

        return run_study(self.experiment, self.space, trials=self.trials,
                         timeout=self.timeout, storage=url, study_name=self.study_name,
                         runs_parent=self.runs_parent, callbacks=[EpochNews()],
                         stop_event=self.stop_event,
                         on_trial=lambda t: state.send(("trial_finished", (plain(t),))),
                         on_trial_start=lambda n: state.send(("trial_started", (int(n),))))


class StudyRun(WorkerRun):
    """Owns the thread and :class:`StudyWorker` of at most one study at a time.

    Signals
    -------
    loaded(trials, sampler)
        The study is open, and may run: its trials already in the storage (a continued
        study; none for a new one), before any new one, and the sampler they were drawn by
        last (``""`` when unknown). A study refused before (another metric, not continued,
        a storage that cannot be opened) sends ``errored`` alone.
    trial_started(number)
        This process started trial ``number``.
    epoch_finished(info)
        ``{"epoch", "epochs", **metrics}`` of the running trial (for a status line).
    trial_finished(trial)
        A :func:`~workbench.core.tune.study.trial_dict` of a trial this process ran.
    finished(summary)
        The :class:`~workbench.core.tune.study.StudySummary` of the whole study.
    errored(message)
        The study could not run (a bad space, budget or storage); a one-line message.

    ``finished`` and ``errored`` come after the thread has been joined, so a handler may
    start the next study.

    Where the study stands (for the question asked on quitting, :mod:`workbench.qt.closing`):
    :attr:`study_name`, :attr:`trial` (the running trial's number, None before the first),
    :attr:`epoch` (its last ``epoch_finished`` info, ``{}`` before its first epoch ends)
    and :attr:`trials_done` (the trials this study's run has finished).
    """

    loaded = Signal(list, str)
    trial_started = Signal(int)
    epoch_finished = Signal(object)
    trial_finished = Signal(object)
    events = ("loaded", "trial_started", "epoch_finished", "trial_finished")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: WorkerThread | None = None
        self.study_name, self.trial, self.epoch, self.trials_done = "", None, {}, 0
        # First, so that those connected later (the panel) see where the study stands.
        self.trial_started.connect(self._on_trial_started)
        self.epoch_finished.connect(lambda info: setattr(self, "epoch", dict(info)))
        self.trial_finished.connect(self._on_trial_finished)

    def _on_trial_started(self, number: int) -> None:
        self.trial, self.epoch = number, {}

    def _on_trial_finished(self, _trial: Any) -> None:
        self.trial, self.epoch = None, {}
        self.trials_done += 1

    def start(self, worker: StudyWorker) -> None:
        """Run ``worker``'s study in a new thread."""
        if self.is_running():
            raise RuntimeError("a study is already running")
        # The study thread must not be the first to import torch (see workbench.qt.startup)
        # nor Optuna's lazily imported parts while a pool job computes importances.
        from workbench.qt.startup import torch_loader

        torch_loader().ensure_loaded()
        import optuna.importance  # noqa: F401

        self._thread = WorkerThread("workbench-study")
        self.study_name, self.trial, self.epoch, self.trials_done = \
            worker.study_name, None, {}, 0
        self._launch(worker, self._thread)

    def shutdown(self) -> None:
        """Stop the study and wait for its thread (used when closing)."""
        if self._thread is None:
            return
        self.stop()
        self._join()

    def _end(self, failed: bool) -> None:
        self._join()

    def _join(self) -> None:
        # Keep the worker referenced until its thread has stopped.
        thread, worker = self._thread, self._job
        self._thread = self._job = None
        if thread is not None:
            thread.end("the search", worker)
