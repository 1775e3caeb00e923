"""The Tune tab as the user left it: its settings, kept in the session file, and its study's
stored trials, shown again when the app reopens.

:func:`tune_state` reads the settings (sampler, pruner, metric, budget, study name,
storage, the searched fields with their ranges) as plain JSON values;
:func:`restore_tune_state` gives them back, ignoring any value the tab cannot take (a
hand edit, another Workbench version). :class:`StoredStudy` then lists the study of that
name when its storage already holds it (never creating a storage file), off the GUI
thread, so the trials table and plots show where the search stands and Start continues it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot

from workbench.core.errors import WorkbenchError

from workbench.qt.workers import TaskRunner, TaskState


def tune_state(panel: Any, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Tune tab's settings as JSON values; the searched fields as SPACE.json
    ``params`` (``previous``'s while a cell holds no value, the user typing in it), the
    other fields' ranges as ``unchecked`` (:meth:`.space_editor.SpaceEditor.
    unchecked_params`)."""
    state: dict[str, Any] = {
        "sampler": panel.sampler_combo.currentText(),
        "pruner": panel.pruner_combo.currentText(),
        "metric": panel.metric_combo.currentText(),
        "trials": panel.trials_spin.value(), "minutes": panel.minutes_spin.value(),
        "epochs": panel.epochs_spin.value(), "study": panel.name_edit.text().strip(),
        "storage": panel.storage_edit.text().strip(),
        "continue": panel.continue_check.isChecked(),
        # What a loaded space file gave that the tab does not show (space_file.py).
        "carried": dict(panel.space_file.carried)}
    try:
        state["params"] = panel.editor.space_params()
    except WorkbenchError:
        if isinstance((previous or {}).get("params"), dict):
            state["params"] = previous["params"]
    state["unchecked"] = panel.editor.unchecked_params()
    return state


def restore_tune_state(panel: Any, state: dict[str, Any]) -> None:
    """Show the saved ``state`` (from :func:`tune_state`); a value of the wrong kind or
    out of range is left at the tab's default."""
    panel.space_file.restore(state.get("carried"))  # first: it may offer a pruner
    for key, combo in (("sampler", panel.sampler_combo), ("pruner", panel.pruner_combo),
                       ("metric", panel.metric_combo)):
        value = state.get(key)
        if isinstance(value, str) and combo.findText(value) >= 0:
            combo.setCurrentText(value)
    for key, spin, kind in (("trials", panel.trials_spin, int),
                            ("minutes", panel.minutes_spin, (int, float)),
                            ("epochs", panel.epochs_spin, int)):
        value = state.get(key)
        if isinstance(value, kind) and not isinstance(value, bool) and \
                spin.minimum() <= value <= spin.maximum():
            spin.setValue(value)
    for key, edit in (("study", panel.name_edit), ("storage", panel.storage_edit)):
        if isinstance(state.get(key), str):
            edit.setText(state[key])
    if isinstance(state.get("continue"), bool):
        panel.continue_check.setChecked(state["continue"])
    params, unchecked = state.get("params"), state.get("unchecked")
    if _specs(params):
        # A field the experiment no longer has is taken out, and named, when the tab
        # shows (TunePanel.refresh_fields). Unticked ranges: none in an older session.
        panel.editor.set_params(params, unchecked if _specs(unchecked) else None)


def _specs(value: Any) -> bool:
    """Whether ``value`` is ``{path: {...}}``, as SPACE.json ``params`` are."""
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, dict)
                                           for k, v in value.items())


def continuing_text(study: str, count: int, earlier: str, sampler: str) -> str:
    """What Start says when it continues a stored study: how many trials it has, and when
    they were drawn by another sampler, that the new ones are drawn by this one."""
    text = f"Continuing study {study}: {count} earlier trial(s)"
    if earlier and earlier != sampler:
        text += (f", drawn by the {earlier} sampler; the new trials are drawn by the "
                 f"{sampler} sampler chosen here (a study keeps no sampler of its own)")
    return text


class StoredStudy(QObject):
    """Lists the Tune tab's study (its name, else ``<dataset>-<network>`` as Start names
    it) from its storage when it is already there, and shows its trials in the tab. With no
    name typed and no such study stored, the studies stored under another name that searched
    the open experiment (``workbench tune`` once named one after the experiment) are named
    on the message line, with how to show one.

    The metric the study measures is kept with it (:meth:`.study_link.StudyFollower.shown`):
    Start refuses another Metric from it, opening no storage on the GUI thread.

    Only a storage that exists is opened: a SQLite file that is not there is not created.
    Trials left running by a process that died are marked interrupted in it first
    (:func:`workbench.core.tune.stale.fail_dead_trials`), as Start would. Nothing changes
    when a study was started meanwhile; when the table shows the study's trials already,
    those another process added or changed since are merged in by number.
    """

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self.runner = TaskRunner(self, supersede=True)
        self.runner.finished.connect(self._on_listed)
        self.shown = ""  # the study shown, once listed

    def list(self, again: bool = False) -> None:
        """Look the study up (off the GUI thread); ``again``: the study shown, for trials
        another process added since (merged into the table, :meth:`_merge`)."""
        url, name = self.panel.follower.key()
        if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
            return
        # The experiment as it is now (a copy: it is read in the pool thread).
        unnamed = None if again or self.panel.name_edit.text().strip() else \
            self.panel.experiment.copy()
        runs_parent = self.panel.runs_parent

        def study(state: TaskState) -> Any:
            import optuna

            from workbench.core.tune.stale import fail_dead_trials
            from workbench.core.tune.storage import open_storage, studies_of
            from workbench.core.tune.study import summarize

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            storage = open_storage(optuna, url)
            if name not in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
                if unnamed is None:
                    return None
                others = [n for n, count in studies_of(optuna, url, unnamed).items() if count]
                return ("others", url, name, others) if others else None
            found = optuna.load_study(study_name=name, storage=storage)
            # A trial whose process died (the app killed mid-trial) is "interrupted", as
            # Start would mark it, not "running" (a live process's trial is spared).
            with contextlib.suppress(Exception):  # a read-only storage: listed as stored
                fail_dead_trials(found, runs_parent)
            space = found.user_attrs.get("space") or {}
            metric = found.user_attrs.get("metric")  # what Start checks the Metric against
            summary = summarize(found, url, metric if isinstance(metric, str) else "value")
            from workbench.qt.panels.tune.results import read_runs

            # The Run cells' names, and which runs were deleted: read here, not per row on
            # the GUI thread.
            return ("study", url, summary, list(space.get("params") or {}),
                    metric if isinstance(metric, str) else None, read_runs(summary.trials))
        self.runner.submit(study)

    @Slot(int, object)
    def _on_listed(self, _job: int, result: Any) -> None:
        panel = self.panel
        if result is None or panel.is_running():
            return
        if panel.results.trials:
            if result[0] == "study":
                self._merge(*result[1:])
            return
        follower = panel.follower  # it made this lister (study_link.StudyFollower)
        if result[0] == "others":  # no study of the default name; these of this experiment
            _, url, name, others = result
            if follower.key() == (url, name):
                panel.message.show_message(
                    f"No study {name} is stored yet; {' and '.join(others)} searched this "
                    f"experiment: type {'its' if len(others) == 1 else 'one'} name in Study "
                    f"name to show it and continue it")
            return
        _, url, summary, params, metric, runs = result
        if follower.key() != (url, summary.study_name):
            return  # the fields name another study since (it is listed in turn)
        follower.shown(summary, metric)
        if not summary.trials:
            return
        panel.results.reset(url, summary.study_name, summary.metric,
                            summary.direction == "maximize", params)
        panel.results.runs.update(runs)
        panel.results.add_trials(summary.trials)
        follower.shown(summary, metric)  # the caption counts the trials now shown
        self.shown = summary.study_name
        from workbench.qt.panels.tune.results import metric_value

        best = ("" if summary.best_trial is None else
                f"; best: trial {summary.best_trial}, {summary.metric} "
                f"{metric_value(summary.metric, summary.best_value)}")
        panel.message.show_message(
            f"Study {summary.study_name}: {len(summary.trials)} trial(s) stored in "
            f"{summary.storage}{best}. Start adds trials to it (Continue study); another "
            f"study name starts a new one.")

    def _merge(self, url: str, summary: Any, _params: list, metric: str | None,
               runs: dict[str, tuple[str, bool]]) -> None:
        """Add to the table the trials of the study it shows that another process (a
        terminal's ``workbench tune``) added or changed since, by number: the rows shown
        stay where they are, selected as they were. Runs renamed or deleted on the Runs
        tab since show so (``runs``: :func:`.results.read_runs`)."""
        panel, follower = self.panel, self.panel.follower
        if panel.results.study != (url, summary.study_name) or \
                follower.key() != panel.results.study:
            return
        panel.results.set_runs(runs)
        shown = panel.results.trials
        changed = [t for t in summary.trials if shown.get(int(t["number"])) != t]
        if not changed:
            return
        before = (panel.best_trial() or {}).get("number")
        added = len([t for t in changed if int(t["number"]) not in shown])
        panel.results.add_trials(changed)
        follower.shown(summary, metric)
        best = panel.best_trial()
        if added and best is not None and best["number"] != before:
            from workbench.qt.panels.tune.results import metric_value

            panel.message.show_message(
                f"Study {summary.study_name}: {added} trial(s) added by another process; "
                f"best now: trial {best['number']}, {summary.metric} "
                f"{metric_value(summary.metric, best['value'])} (Apply best applies it)")
