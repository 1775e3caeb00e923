"""Tune panel: a hyperparameter search (Optuna) over the current Experiment.

The space editor (:mod:`.space_editor`) lists the Experiment's searchable fields; the
settings choose Optuna's sampler and pruner, the budget and the study's storage (by default
``studies.sqlite`` in the runs folder, so a study survives a restart and can be continued).
The study runs in a background thread (:mod:`.worker`) and fills a live trials table
and two plots (:mod:`.plots`); every trial that finished an epoch is an ordinary run in
the run history.
"Apply best" writes the best trial's parameters into the current Experiment, in place (with
the other settings the trial trained, once the user agrees: :mod:`.applying`), and the
Experiment announces it as replaced: every tab shows the tuned values.

The file dialogs are attributes (``ask_open_path``, ``ask_save_path``) so a test can answer
them. ``python -m workbench.qt.panels.tune.panel [folder]`` shows the panel alone.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QStatusTipEvent
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDoubleSpinBox,
                               QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
                               QSplitter, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment

from workbench.qt.common import run_standalone
from workbench.qt.evented import subscribe
from workbench.qt.panels.tune.applying import apply_best, ask_trial_settings
from workbench.qt.panels.tune.metric_hint import MetricHint
from workbench.qt.panels.tune.results import TrialsView, metric_value
from workbench.qt.panels.tune.space_editor import SpaceEditor
from workbench.qt.panels.tune.space_file import PRUNER_TIP, PRUNERS, SpaceFile
from workbench.qt.panels.tune.state import continuing_text
from workbench.qt.panels.tune.study_link import StudyFollower, ask_apply_other
from workbench.qt.panels.tune.widgets import (HidingMessageLabel, SplitFit, WholeRows,
                                              ask_open_path, ask_save_path, metric_combo)
from workbench.qt.panels.tune.worker import StudyRun, StudyWorker

SAMPLERS = ("tpe", "random", "grid")
__all__ = ["PRUNERS", "SAMPLERS", "TunePanel"]


class TunePanel(QWidget):
    """Search an Experiment's hyperparameters with Optuna, in the background.

    Parameters
    ----------
    experiment
        The current Experiment (or its holder, shared by the app's tabs): studies start
        from a snapshot of it, and "Apply best" writes into this very object.
    runs_parent
        Where trials' run folders (and the default storage) go; default the runs folder.

    Signals
    -------
    study_started()
        A study began in the background.
    trial_finished(trial)
        One of this study's trials ended: ``{"number", "state", "value", "params",
        "duration_s", "run_dir", "error"}``.
    study_finished(summary)
        The study ended (budget spent, or stopped): a
        :class:`~workbench.core.tune.study.StudySummary`; or None when it could not run (the
        message line says why).
    experiment_changed()
        "Apply best" changed the Experiment.
    run_requested(path)
        The user asked to see a trial's run on the Runs tab (its folder).
    """

    study_started = Signal()
    trial_finished = Signal(object)
    study_finished = Signal(object)
    experiment_changed = Signal()
    run_requested = Signal(str)

    def __init__(self, experiment: Experiment | CurrentExperiment,
                 runs_parent: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment.of(experiment)
        self.runs_parent = runs_parent
        self.ask_open_path: Callable[[QWidget], str] = ask_open_path
        self.ask_save_path: Callable[[QWidget, str], str] = ask_save_path
        #: Asked before "Apply best" writes a study's best into an experiment it did not
        #: search (a test answers it).
        self.ask_apply_other: Callable[[QWidget, str], bool] = ask_apply_other
        #: Asked when the best trial trained other settings than the experiment has now:
        #: True applies them too, False only the searched values, None nothing.
        self.ask_trial_settings: Callable[[QWidget, str], bool | None] = ask_trial_settings
        self.space_file = SpaceFile(self)
        self._applying = False
        self.summary: Any = None
        self._study_name = ""
        self._opening: tuple = ()  # what the table shows once the study is open
        self._shut_down = False
        self.run = StudyRun(self)
        self.run.loaded.connect(self._on_loaded)
        self.run.epoch_finished.connect(self._on_epoch_finished)
        self.run.trial_finished.connect(self._on_trial_finished)
        self.run.finished.connect(self._on_study_finished)
        self.run.errored.connect(self._on_study_errored)
        self._build()
        # The table shows the study the Study name and Storage fields name (study_link).
        self.follower = StudyFollower(self)
        self._update_buttons()
        subscribe(self, self.current.replaced, self._on_replaced)

    @property
    def experiment(self) -> Experiment:
        return self.current.experiment

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.editor = SpaceEditor(self.experiment)
        self.sampler_combo = QComboBox()
        self.sampler_combo.addItems(list(SAMPLERS))
        self.pruner_combo = QComboBox()
        self.pruner_combo.addItems(list(PRUNERS))
        self.pruner_combo.setToolTip(PRUNER_TIP)
        self.metric_combo = metric_combo()  # each metric explained in its tooltip
        self.trials_spin = QSpinBox()
        self.trials_spin.setRange(0, 100000)
        self.trials_spin.setValue(20)
        self.trials_spin.setSpecialValueText("no limit")
        self.minutes_spin = QDoubleSpinBox()
        self.minutes_spin.setRange(0, 100000)
        self.minutes_spin.setDecimals(1)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.setSpecialValueText("no limit")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(0, 100000)
        self.epochs_spin.setSpecialValueText("the experiment's")
        self.epochs_spin.setToolTip("Epochs each trial trains (0: the experiment's epochs)")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("<dataset>-<network>, as runs are named")
        self.storage_edit = QLineEdit()
        self.storage_edit.setPlaceholderText(self.default_storage_text())
        self.storage_edit.setToolTip("An Optuna storage URL (sqlite:///file.sqlite, "
                                     "postgresql://...) or a SQLite file's path. Empty: "
                                     "studies.sqlite in the runs folder")
        self.continue_check = QCheckBox("Continue study (add to its stored trials)")
        self.continue_check.setChecked(True)
        form = QFormLayout()
        for label, widget in (("Sampler", self.sampler_combo), ("Pruner", self.pruner_combo),
                              ("Metric", self.metric_combo), ("Trials", self.trials_spin),
                              ("Time budget", self.minutes_spin),
                              ("Epochs per trial", self.epochs_spin),
                              ("Study name", self.name_edit), ("Storage", self.storage_edit)):
            form.addRow(label, widget)
        form.addRow("", self.continue_check)
        self.metric_hint = MetricHint(self, form)  # under Metric: on imbalanced classes

        self.load_button = QPushButton("Load space…")
        self.load_button.clicked.connect(self.load_space)
        self.save_button = QPushButton("Save space…")
        self.save_button.clicked.connect(self.save_space)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.apply_button = QPushButton("Apply best")
        self.apply_button.setToolTip("Write the best trial's parameters into the experiment")
        self.apply_button.clicked.connect(self.apply_best)
        buttons = QHBoxLayout()
        for b in (self.load_button, self.save_button, self.start_button, self.stop_button,
                  self.apply_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.message = HidingMessageLabel("")  # hidden while empty: no blank band
        self.status = HidingMessageLabel("")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.editor_rows = WholeRows(self.editor)  # rows shown whole, the form right below
        left_layout.addWidget(self.editor_rows)
        left_layout.addLayout(form)
        left_layout.addStretch(1)

        self.results = TrialsView(self.metric_combo.currentText(), self.editor.label_of)
        self.results.trials_changed.connect(self._update_buttons)
        self.results.run_requested.connect(self.run_requested)
        self.results.run_missing.connect(lambda text: self.message.show_message(text,
                                                                                "warning"))
        # Short names for what tests and the main window look at.
        self.trials_table = self.results.table
        self.history_plot = self.results.history_plot
        self.importance_plot = self.results.importance_plot
        split = QSplitter(Qt.Orientation.Horizontal, objectName="tune.space_results")
        split.addWidget(left)
        split.addWidget(self.results)
        split.setStretchFactor(1, 1)
        self.split = split
        self._sized = False  # the split is sized to the field names when first shown
        self.split_fit = SplitFit(split, self.editor)  # and again as they change, undragged

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

    def default_storage_text(self) -> str:
        """The storage a study uses when none is typed (shown, not created)."""
        from workbench.core.io import runs_dir

        folder = Path(self.runs_parent) if self.runs_parent is not None else runs_dir()
        return f"sqlite:///{folder.resolve() / 'studies.sqlite'}"

    # -- experiment ------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Search ``experiment`` from now on (a study already running keeps its snapshot);
        it replaces the current one, for every view of it."""
        self.current.replace(experiment)

    def _on_replaced(self, _experiment: Any) -> None:
        self.refresh_fields()
        if not self._applying:  # another experiment: its study (a blank name follows it)
            self.follower.follow()

    def showEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        # Other tabs may have added, removed or changed layers, transforms or the
        # optimizer: list the fields the experiment has now.
        self.refresh_fields()
        super().showEvent(event)
        self.follower.relist()  # a terminal's `workbench tune` may have added trials
        if not self._sized:  # (a split restored from the last session stays as it was)
            self._sized = True
            self.split_fit.fit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802  (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow() \
                and self.isVisible():  # back from a terminal: list the study again
            self.follower.relist()

    def refresh_fields(self) -> list[str]:
        """List the searchable fields of the Experiment as it is now, keeping the user's
        ticks and ranges on the fields still there; a ticked field that is gone (a layer
        deleted, another layer at its place) is taken out and named on the message line.
        Returns the names taken out."""
        dropped = self.editor.set_experiment(self.experiment)
        if dropped:
            self.message.show_message(
                f"The experiment changed since these fields were chosen: "
                f"{', '.join(dropped)} {'is' if len(dropped) == 1 else 'are'} no longer in "
                f"it and {'was' if len(dropped) == 1 else 'were'} taken out of the search. "
                f"Check the ticked fields, then press Start.", "warning")
        return dropped

    # -- the space ---------------------------------------------------------------------------
    def space_dict(self) -> dict[str, Any]:
        """The SPACE.json the panel shows, with what a loaded file gave that the tab does not
        show (:mod:`.space_file`); SpecError for a cell it cannot read."""
        return self.space_file.space_dict()

    @Slot()
    def save_space(self) -> None:
        self.space_file.save()

    @Slot()
    def load_space(self) -> None:
        self.space_file.load()

    # -- the study ---------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.run.is_running()

    @Slot()
    def start(self) -> bool:
        """Check the space against the Experiment and start the study; False (with the
        core's message on the message line) when it cannot start."""
        if self.is_running() or self._shut_down:
            return False
        from workbench.qt.startup import torch_loader

        torch_loader().ensure_loaded()  # checking the space validates (torch registries)
        from workbench.core.tune.space import SearchSpace
        from workbench.core.tune.storage import default_storage

        # The experiment may have changed since the fields were listed (the tab was left
        # open, or it was edited in code): never search a field it no longer has.
        if self.refresh_fields():
            return False
        trials = self.trials_spin.value() or None
        minutes = self.minutes_spin.value()
        try:
            space = self.space_dict()
            parsed = SearchSpace.from_dict(space)
            parsed.check(self.experiment)
            if trials is None and not minutes and parsed.sampler != "grid":
                raise WorkbenchError("trials: give a number of trials and/or a time budget "
                                     "(a search has no natural end)")
        except WorkbenchError as e:
            self.message.show_message(str(e), "error")
            return False
        # Unnamed, a study (and its trials' runs) is named as runs are: <dataset>-<network>;
        # a plain file path as storage is a SQLite file.
        url, self._study_name = self.follower.key()
        if not self.storage_edit.text().strip():
            try:
                url = default_storage(self.runs_parent)  # its folder made, if need be
            except WorkbenchError as e:
                self.message.show_message(str(e), "error")
                return False
        # Another Metric than the listed study's is refused from what the listing read
        # (the table keeps its trials); the worker reads the storage, off the GUI thread.
        refusal = self.follower.refusal(parsed.metric)
        if refusal:
            self.message.show_message(refusal, "error")
            return False
        # The table turns to this study once the worker has opened it (_on_loaded).
        self._opening = (url, self._study_name, parsed.metric,
                         parsed.direction == "maximize", list(space["params"]))
        worker = StudyWorker(self.experiment, space, trials, minutes * 60 if minutes else None,
                             url, self._study_name, self.continue_check.isChecked(),
                             self.runs_parent)
        self.run.start(worker)
        # The window's status bar may still tell of an earlier study ("Applied the best
        # trial's parameters"): an empty status tip, which the window shows, clears it.
        QApplication.sendEvent(self, QStatusTipEvent(""))
        self.message.show_message(f"Study {self._study_name} running ({url})")
        self.status.show_message("Starting the first trial…")
        self._update_buttons()
        self.study_started.emit()
        return True

    @Slot()
    def stop(self) -> None:
        """Stop the study: the running trial ends at its next batch, no other starts."""
        if self.is_running():
            self.run.stop()
            self.status.show_message("Stopping after the running trial's current batch…")

    @Slot(list, str)
    def _on_loaded(self, trials: list, sampler: str = "") -> None:
        self.summary = None
        self.results.reset(*self._opening)
        self.follower.mark = self.follower.metric = None
        self.follower.show_caption()
        self.results.add_trials(trials)
        if trials:
            self.message.show_message(continuing_text(
                self._study_name, len(trials), sampler, self.sampler_combo.currentText()))

    @Slot(object)
    def _on_epoch_finished(self, info: dict) -> None:
        metric = self.results.metric_name  # the running study's, whatever Metric shows now
        value = info.get(metric)
        shown = "-" if value is None else metric_value(metric, value)
        epochs = info.get("epochs")
        self.status.show_message(f"Running trial: epoch {info.get('epoch')}"
                                 f"{f'/{epochs}' if epochs else ''}, {metric} {shown}")

    @Slot(object)
    def _on_trial_finished(self, trial: dict) -> None:
        self.results.add_trials([trial])
        self.trial_finished.emit(trial)

    @Slot(object)
    def _on_study_finished(self, summary: Any) -> None:
        self.summary = summary
        self.results.add_trials(summary.trials)  # every process's trials, as stored
        self.follower.shown(summary, summary.metric)
        best = ("no trial completed" if summary.best_trial is None else
                f"best: trial {summary.best_trial}, {summary.metric} "
                f"{metric_value(summary.metric, summary.best_value)}")
        failed = summary.all_failed()  # why none of this study's new trials has a value
        failed = failed if failed and failed.get("failure") != "stopped" else None
        why = f"; trial {failed['number']} failed: {failed['error']}" if failed else ""
        self.status.show_message("")
        self.message.show_message(summary.note or f"Study {summary.study_name} ended: "
                                  f"{len(summary.trials)} trial(s); {best}{why}",
                                  "error" if failed else "ok")
        self._update_buttons()
        self.follower.timer.start()  # a name typed while it ran: that study is listed next
        self.study_finished.emit(summary)

    @Slot(str)
    def _on_study_errored(self, message: str) -> None:
        self.status.show_message("")
        self.message.show_message(message, "error")
        self._update_buttons()
        self.follower.timer.start()  # the table kept its study: the one named is listed
        self.study_finished.emit(None)

    # -- apply best --------------------------------------------------------------------------
    def best_trial(self) -> dict[str, Any] | None:
        """The best complete trial shown (None when none has completed)."""
        return self.results.best_trial()

    @Slot()
    def apply_best(self) -> bool:
        """Write the best trial's parameters, with the settings it trained them with when
        the user agrees, into the Experiment (the same object), announce it as replaced
        (every view shows it anew) and emit ``experiment_changed`` (:mod:`.applying`)."""
        return apply_best(self)

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.load_button.setEnabled(not running)
        self.apply_button.setEnabled(self.best_trial() is not None)

    # -- closing -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the study and wait for its thread (the running trial ends at a batch)."""
        self._shut_down = True
        self.results.shutdown()
        self.run.shutdown()


def _main() -> int:
    from workbench.core.model.presets import preset_layers

    exp = Experiment()
    if len(sys.argv) > 1:
        exp.data.folder = sys.argv[1]
    if not exp.model.layers:
        exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    return run_standalone(lambda: TunePanel(exp), "Tune")


if __name__ == "__main__":
    sys.exit(_main())
