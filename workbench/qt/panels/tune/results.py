"""The Tune panel's results: the live trials table, the optimisation history and the
parameter importances (computed off the GUI thread by Optuna)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QMenu, QSplitter,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from workbench.core.train.metric_words import metric_text
from workbench.core.tune.trained import trained_value
from workbench.qt.accessible import name_field
from workbench.qt.keyboard import menu_keys, tab_leaves
from workbench.qt.plots.header import stacked
from workbench.qt.workers import TaskRunner, TaskState
from workbench.qt.panels.tune.plots import HistoryPlot, ImportancePlot

TRIAL_COLUMNS = ("#", "State", "Value", "Training (s)")
#: The importance plot's note while its first estimate is computed (off the GUI thread).
COMPUTING = "computing…"
#: The last column: the trial's run folder (double-click it, or "Show in Runs").
RUN_COLUMN = "Run"
#: Header tooltips of the fixed columns.
COLUMN_TIPS = {
    "Value": "The study's metric of the model the trial's run saved (the epoch its bundle "
             "holds), as the Runs tab and Evaluate give it",
    "Training (s)": "The trial's training time, as run.json and the Runs tab give it "
                    "(pauses and setup excluded); empty for a trial that kept no run (its "
                    "wall time in the cell's tooltip)",
    RUN_COLUMN: "The trial's run folder: double-click a row (or right-click, Show in Runs) "
                "to select it on the Runs tab"}
#: A greyed parameter cell's tooltip: a field the trial did not search.
UNSEARCHED_TIP = ("Not searched in this trial: the experiment's value when it ran (what it "
                  "trained with; Apply best applies it too, once you agree)")


class TrialsView(QWidget):
    """A study's trials (one row each, one column per searched parameter) and plots.

    Trials are plain dicts (:func:`workbench.core.tune.study.trial_dict`), kept by number in
    :attr:`trials`, so a trial reported twice (live, then in the final summary) is one row.
    The parameter columns keep the space's order (:meth:`reset`), headed by ``label(path)``
    (the field's name in the space editor) with the path in the tooltip.

    Signals
    -------
    trials_changed()
        Trials were added or the view was reset.
    run_requested(path)
        The user asked to see a trial's run (double-click, or Show in Runs).
    run_missing(text)
        The user asked for a trial's run that was deleted since: ``text`` says so.

    The Run cells read no file: :attr:`runs` holds each run folder's name and whether it is
    gone, read off the GUI thread (:func:`read_runs`, by the study's lister) and passed in
    (:meth:`set_runs`); a run not read yet shows its folder's name (:func:`folder_label`).
    """

    trials_changed = Signal()
    run_requested = Signal(str)
    run_missing = Signal(str)

    def __init__(self, metric: str = "val_acc", label: Callable[[str], str] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.label = label or (lambda path: path)
        self.trials: dict[int, dict[str, Any]] = {}
        self.maximize = True
        self.metric_name = metric
        self._param_columns: list[str] = []
        #: Run folder -> (its Run cell's name, whether it is gone), as last read.
        self.runs: dict[str, tuple[str, bool]] = {}
        self._study: tuple[str, str] = ("", "")  # storage URL, study name
        self._shut_down = False
        self._importance_runner = TaskRunner(self, supersede=True)
        self._importance_runner.finished.connect(self._on_importances)
        self._importance_runner.errored.connect(self._on_importance_failed)

        self.table = tab_leaves(QTableWidget(0, len(TRIAL_COLUMNS)))
        self.table.setHorizontalHeaderLabels(list(TRIAL_COLUMNS))
        name_field(None, self.table, "Trials")
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)  # no blank stub after it
        # Every column as wide as its header and cells: the parameters get the rest.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # One line a cell; a long run folder name keeps its end ("…study-trial-3").
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideLeft)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.request_run(row))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        # Shift+F10 opens the menu; Enter shows the trial's run, as a double-click does.
        menu_keys(self.table, lambda index: self.request_run(index.row()))
        self.history_plot = HistoryPlot(metric)
        self.importance_plot = ImportancePlot(self.label)
        # One plot at a time, each the width of the results: side by side on a laptop's
        # screen the importance bars were a few pixels long beside their names.
        self.plots = QTabWidget(objectName="tune.plot_tabs")
        self.plots.setDocumentMode(True)
        self.plots.addTab(stacked(self.history_plot.header, self.history_plot),
                          "Optimisation history")
        self.plots.addTab(self.importance_plot, "Parameter importance")
        split = QSplitter(Qt.Orientation.Vertical, objectName="tune.trials_plots")
        split.addWidget(self.table)
        split.addWidget(self.plots)
        split.setStretchFactor(1, 1)  # a taller window gives the plots the room
        split.setChildrenCollapsible(False)
        #: Which study the table shows (set by the panel: study_link.StudyFollower).
        self.caption = QLabel("")
        self.caption.setTextFormat(Qt.TextFormat.PlainText)  # a study named "<b>x<"
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(split)

    def reset(self, storage_url: str, study_name: str, metric: str, maximize: bool,
              params: Sequence[str] = ()) -> None:
        """Empty the table and plots for a new study searching ``params`` (paths, in the
        space's order: the parameter columns' order; a stored trial's other fields follow)."""
        self._study = (storage_url, study_name)
        self.maximize = maximize
        self.metric_name = metric
        self.trials.clear()
        self._param_columns = list(params)
        self.history_plot.set_metric(metric)
        self.importance_plot.clear_importances()
        self._show()
        self.trials_changed.emit()

    def set_runs(self, runs: dict[str, tuple[str, bool]]) -> None:
        """Take the run folders as :func:`read_runs` read them (renamed or deleted on the
        Runs tab since); the table is redrawn when a Run cell changes."""
        if any(self.runs.get(path) != value for path, value in runs.items()):
            self.runs.update(runs)
            self._show()

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        """Show ``trials`` (new ones, or newer states of shown ones); refresh importances."""
        for t in trials:
            self.trials[int(t["number"])] = t
        self._show()
        self._schedule_importances()
        self.trials_changed.emit()

    def best_trial(self) -> dict[str, Any] | None:
        """The best complete trial shown (None when none has completed)."""
        done = [t for t in self.trials.values()
                if t.get("state") == "complete" and t.get("value") is not None]
        if not done:
            return None
        pick = max if self.maximize else min
        return pick(done, key=lambda t: t["value"])

    @property
    def study(self) -> tuple[str, str]:
        """The storage URL and name of the study shown (``("", "")`` before any)."""
        return self._study

    def run_dir(self, row: int) -> str | None:
        """The run folder of the trial in ``row`` (None: it left none)."""
        trials = [self.trials[n] for n in sorted(self.trials)]
        return trials[row].get("run_dir") if 0 <= row < len(trials) else None

    def request_run(self, row: int) -> bool:
        """Ask for the run of the trial in ``row`` (``run_requested``); False when it left
        none, or its run was deleted since (``run_missing`` says so)."""
        path = self.run_dir(row)
        if path and not Path(str(path)).is_dir():  # one stat, on the user's request
            number = sorted(self.trials)[row]
            self.run_missing.emit(f"The run of trial {number} was deleted (its folder "
                                  f"{path} is gone): it cannot be shown on the Runs tab")
            self.set_runs({str(path): ("", True)})  # its Run cell says so now
            return False
        if path:
            self.run_requested.emit(str(path))
        return bool(path)

    def _menu(self, pos: Any) -> None:
        row = self.table.rowAt(pos.y())
        if row < 0:
            return
        menu = QMenu(self.table)
        action = menu.addAction("Show in Runs")
        action.setEnabled(bool(self.run_dir(row)))  # a deleted one says so when asked
        action.triggered.connect(lambda: self.request_run(row))
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def shutdown(self) -> None:
        self._shut_down = True
        self._importance_runner.cancel_all()

    # -- drawing ---------------------------------------------------------------------------
    def _show(self) -> None:
        trials = [self.trials[n] for n in sorted(self.trials)]
        # Fields only earlier trials searched: after the space's, in a fixed order.
        self._param_columns += sorted({p for t in trials for p in t.get("params") or {}}
                                      - set(self._param_columns))
        table = self.table
        headers = ([*TRIAL_COLUMNS] + [self.label(p) for p in self._param_columns]
                   + [RUN_COLUMN])
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for c, path in enumerate(self._param_columns, start=len(TRIAL_COLUMNS)):
            table.horizontalHeaderItem(c).setToolTip(path)
        for c, name in enumerate(headers):
            if name in COLUMN_TIPS and (c < len(TRIAL_COLUMNS) or c == len(headers) - 1):
                table.horizontalHeaderItem(c).setToolTip(COLUMN_TIPS[name])
        table.setRowCount(len(trials))
        for r, t in enumerate(trials):
            seconds = t.get("train_s")  # the run's; Optuna's wall time is no training time
            run = t.get("run_dir")
            cells = [str(t["number"]), state_text(t), value_text(self.metric_name, t),
                     "" if seconds is None else f"{seconds:.1f}"]
            params = t.get("params") or {}
            # A field this trial did not search: the value it trained with, greyed.
            unsearched = {c for c, p in enumerate(self._param_columns, start=len(cells))
                          if p not in params}
            cells += [fmt(params[p]) if p in params else fmt(trained_value(t, p))
                      for p in self._param_columns]
            # As last read off the GUI thread (set_runs): a stat or a run.json read per
            # row on every redraw made the window stutter with a study on a share.
            label, gone = self.runs.get(str(run), (folder_label(run), False)) if run else \
                ("", False)
            cells.append(DELETED if gone else label)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in unsearched:
                    item.setForeground(self.palette().brush(QPalette.ColorGroup.Disabled,
                                                            QPalette.ColorRole.Text))
                    item.setToolTip(UNSEARCHED_TIP if text else "Not searched in this "
                                    "trial; the value it trained with is not known")
                elif c == 3 and seconds is None and t.get("duration_s") is not None:
                    item.setToolTip("\n".join(str(x) for x in (t.get("error"), wall_text(t))
                                              if x))
                elif t.get("error"):  # why a trial failed: on hover, on every cell of its row
                    item.setToolTip(str(t["error"]))
                elif c == 2 and t.get("epoch") is not None and text:
                    item.setToolTip(f"{self.metric_name} of the model the trial's run saved "
                                    f"(epoch {t['epoch']}'s weights)")
                elif c == len(cells) - 1 and gone:
                    item.setToolTip(f"The run of this trial was deleted: {run} is gone")
                elif c == len(cells) - 1 and run:
                    item.setToolTip(f"{run}\nDouble-click to show it on the Runs tab")
                elif c == len(cells) - 1 and t.get("state") not in ("running", "waiting"):
                    item.setToolTip("This trial kept no run (it ended before its first "
                                    "epoch finished)")
                table.setItem(r, c, item)
        self.history_plot.set_trials(trials, self.maximize)

    def _schedule_importances(self) -> None:
        complete = [t for t in self.trials.values() if t.get("state") == "complete"]
        if len(complete) < 2 or self._shut_down:
            return
        url, name = self._study
        if not self.importance_plot.importances:  # not "needs 2 complete trials": it has
            self.importance_plot.clear_importances(COMPUTING)

        def importances(state: TaskState) -> dict[str, float]:
            # Off the GUI thread: Optuna reads every trial and fits its estimate.
            import optuna

            from workbench.core.tune.storage import load_study

            study = load_study(optuna, url, name)
            # With few trials Optuna's default (PED-ANOVA) estimate warns that all
            # importances are equal; the bars show that already.
            warnings.filterwarnings("ignore", message="Target and region quantiles",
                                    category=UserWarning)
            return {k: float(v) for k, v in
                    optuna.importance.get_param_importances(study).items()}
        self._importance_runner.submit(importances)

    @Slot(int, object)
    def _on_importances(self, _job: int, result: dict) -> None:
        if result:
            self.importance_plot.set_importances(result)
        else:
            self.importance_plot.clear_importances("no parameter varied")

    @Slot(int, str)
    def _on_importance_failed(self, _job: int, message: str) -> None:
        self.importance_plot.clear_importances(f"importance unavailable: {message}")


def wall_text(trial: dict) -> str:
    """The Training (s) cell's tooltip for a trial without a run's training time: Optuna's
    wall time, said as such."""
    why = "not recorded: see its run on the Runs tab" if trial.get("run_dir") else \
        "the trial kept no run"
    return (f"No training time ({why}); the trial's wall time, setup included: "
            f"{trial['duration_s']:.1f} s")


def run_label(run_dir: Any) -> str:
    """The Run cell: the run's name as the Runs tab gives it (its run.json's, once renamed
    there), else :func:`folder_label`; the whole path is its tooltip. It reads a file: call
    it off the GUI thread (:func:`read_runs`)."""
    if not run_dir:
        return ""
    from workbench.core.runs.store import read_run_info

    name = read_run_info(run_dir).get("name")
    if isinstance(name, str) and name.strip():
        return name
    return folder_label(run_dir)


def folder_label(run_dir: Any) -> str:
    """The run folder's name without the time it was made
    (``2026-12-07_08-10-59-mm-trial-3`` -> ``mm-trial-3``): the Run cell until its run.json
    is read, and the name a run keeps until it is renamed. Reads nothing."""
    if not run_dir:
        return ""
    return re.sub(r"^\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-", "", Path(str(run_dir)).name)


def read_runs(trials: Any) -> dict[str, tuple[str, bool]]:
    """Each of ``trials``' run folders -> (its Run cell's name, :func:`run_label`; whether
    it is gone): a stat and a run.json read each, so call it off the GUI thread (the
    study's lister does, :class:`.state.StoredStudy`) and pass it to
    :meth:`TrialsView.set_runs`."""
    runs: dict[str, tuple[str, bool]] = {}
    for t in trials:
        run = t.get("run_dir")
        if run and str(run) not in runs:
            gone = not Path(str(run)).is_dir()  # deleted on the Runs tab
            runs[str(run)] = ("", True) if gone else (run_label(run), False)
    return runs


#: The Run cell of a trial whose run was deleted (on the Runs tab) since it ran.
DELETED = "(deleted)"


def value_text(metric: str, trial: dict) -> str:
    """The Value cell: nothing when the trial has no value, else :func:`metric_value`."""
    value = trial.get("value")
    return "" if value is None else metric_value(metric, float(value))


def metric_value(metric: str, value: float) -> str:
    """A metric as the command line and the other tabs give it: an accuracy as a
    percentage (``93.8%``), a loss to 4 decimals (:func:`workbench.core.train.
    metric_words.metric_text`, which imports no torch)."""
    return metric_text(metric, value)


def fmt(value: Any) -> str:
    """A table cell: floats to 4 significant digits, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


#: How the State column names a failed trial's ``failure`` kind (core: ``trial_dict``).
FAILURE_STATES = {"stopped": "stopped", "diverged": "diverged",
                  "out_of_memory": "out of memory", "interrupted": "interrupted"}


def state_text(trial: dict) -> str:
    """The State cell: Optuna's state, or for a failed trial how it failed (a trial cut
    short by Stop is "stopped", not "fail")."""
    state = str(trial.get("state", ""))
    if state == "fail":
        return FAILURE_STATES.get(str(trial.get("failure")), state)
    return state
