"""The Tune tab shows a stored study as it is (walk-tune report): a trial whose process died
reads "interrupted" as soon as the study is listed (a live process's trial stays running),
Training (s) is the run's training time and never Optuna's wall time, the Metric box does
not relabel the stored study's plot and Start with another Metric is refused naming it
(from what the listing read, else by the study's worker: never opening the storage on the
GUI thread, review-qt 6), the importance says it is computing, and an unticked field's
range survives a restart."""

from __future__ import annotations

import json
import threading

import pytest

from workbench.core.runs.lock import LOCK_NAME, RunLock
from workbench.core.runs.store import write_run_info
from workbench.qt.panels.tune.panel import TunePanel
from workbench.qt.panels.tune.results import TrialsView
from workbench.qt.panels.tune.space_editor import COL
from workbench.qt.panels.tune.state import restore_tune_state, tune_state
from workbench.qt.workers import task_pool

optuna = pytest.importorskip("optuna")

TIMEOUT_MS = 60000
LR, WD = "optimizer.params.lr", "optimizer.params.weight_decay"
TRAINING = 3  # the Training (s) column


@pytest.fixture
def panel(tune_panel):
    return tune_panel


def _study(url, name="s", values=(0.5,)):
    """Study ``name`` (val_acc, maximized) with complete trials of these values."""
    study = optuna.create_study(storage=url, study_name=name, direction="maximize")
    study.set_user_attr("metric", "val_acc")
    for i, value in enumerate(values):
        study.add_trial(optuna.trial.create_trial(
            params={LR: 0.001 * (i + 1), WD: 1e-4 * (i + 1)}, value=value, user_attrs={
                "train_s": 2.0},
            distributions={p: optuna.distributions.FloatDistribution(1e-6, 0.1, log=True)
                           for p in (LR, WD)}))
    return study


def _trial_in(study, folder, name: str, seconds: float):
    """A RUNNING trial whose run folder is ``folder``: run.json "running" after 2 epochs
    (a lock file, held by no one until a test takes it)."""
    folder.mkdir(parents=True)
    write_run_info(folder, {"name": name, "experiment_name": name, "status": "running",
                            "epochs_done": 2, "epochs_planned": 6, "duration_s": seconds})
    (folder / LOCK_NAME).touch()
    trial = study.ask()
    trial.set_user_attr("run_dir", str(folder))
    return trial


def _show(qtbot, panel, url, name, rows):
    panel.storage_edit.setText(url)
    panel.name_edit.setText(name)
    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == rows, timeout=TIMEOUT_MS)


def _cells(panel, column):
    table = panel.trials_table
    return [table.item(r, column).text() for r in range(table.rowCount())]


def test_a_dead_trial_reads_interrupted_when_listed_and_a_live_one_running(
        qtbot, panel, tmp_path):
    url, runs = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "runs"
    study = _study(url)
    dead = _trial_in(study, runs / "dead", "s-trial-1", 5.128)  # the app was killed
    live = _trial_in(study, runs / "live", "s-trial-2", 3.0)  # another process trains it
    lock = RunLock(runs / "live")
    assert lock.acquire()
    try:
        _show(qtbot, panel, url, "s", 3)
    finally:
        lock.release()
    assert _cells(panel, 1) == ["complete", "interrupted", "running"]
    tip = panel.trials_table.item(1, 1).toolTip()
    assert tip.startswith("its process ended during the trial") and \
        "kept 2 finished epochs and is listed as interrupted: Continue in Train goes on " \
        "from it" in tip
    assert _cells(panel, TRAINING)[:2] == ["2.0", "5.1"]  # run.json's duration_s
    # Written into the storage, as Start would: every front end sees it so.
    states = {t.number: t.state.name for t in
              optuna.load_study(study_name="s", storage=url).trials}
    assert states == {0: "COMPLETE", dead.number: "FAIL", live.number: "RUNNING"}


def test_training_seconds_are_the_runs_never_optunas_wall_time(qtbot):
    view = TrialsView("val_acc")
    qtbot.addWidget(view)
    view.reset("sqlite://", "s", "val_acc", True, [LR])
    why = "stopped by the user after 0 epoch(s)"
    view.add_trials([
        {"number": 0, "state": "fail", "failure": "stopped", "value": None,
         "params": {LR: 0.01}, "duration_s": 37.2, "train_s": 5.128, "run_dir": "/r/a",
         "error": why},
        {"number": 1, "state": "fail", "failure": "stopped", "value": None,
         "params": {LR: 0.02}, "duration_s": 0.9, "run_dir": None, "error": why}])
    assert [view.table.item(r, TRAINING).text() for r in range(2)] == ["5.1", ""]
    tip = view.table.item(1, TRAINING).toolTip()
    assert tip.startswith(why) and "kept no run" in tip and "wall time" in tip \
        and "0.9 s" in tip


def test_the_metric_box_leaves_the_stored_studys_plot_and_start_names_the_metric(
        qtbot, panel, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _study(url)
    _show(qtbot, panel, url, "s", 1)
    axis = panel.history_plot.plot_item.getAxis("left")
    assert axis.labelText == "val_acc"
    panel.metric_combo.setCurrentText("val_loss")
    assert (panel.history_plot.metric_name, axis.labelText) == ("val_acc", "val_acc")
    started = []
    panel.study_started.connect(lambda: started.append(1))
    assert not panel.start()
    assert panel.message.text() == ("Study s measures val_acc: set Metric to val_acc, or "
                                    "type another Study name")
    assert panel.message.level == "error"
    assert not started and not panel.is_running()
    assert _cells(panel, 1) == ["complete"]  # still the stored study's table
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 1


@pytest.fixture
def opened_on(monkeypatch):
    """The threads that opened a study storage (open_storage) during the test."""
    from workbench.core.tune import storage

    threads, real = [], storage.open_storage

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)
    monkeypatch.setattr(storage, "open_storage", recording)
    return threads


def test_start_refuses_another_metric_without_opening_the_storage_on_the_gui_thread(
        qtbot, panel, tmp_path, opened_on):
    # A database that does not answer would freeze the window until it timed out.
    url = f"sqlite:///{tmp_path / 's.db'}"
    _study(url)
    _show(qtbot, panel, url, "s", 1)
    panel.metric_combo.setCurrentText("val_loss")
    assert not panel.start()  # refused from what the listing read
    assert panel.message.text() == ("Study s measures val_acc: set Metric to val_acc, or "
                                    "type another Study name")
    assert opened_on and threading.main_thread() not in opened_on


def test_start_before_the_study_is_listed_is_refused_by_the_worker_the_table_kept(
        qtbot, panel, tmp_path, opened_on):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _study(url, name="a", values=(0.5, 0.6))
    _study(url)  # s, val_acc
    _show(qtbot, panel, url, "a", 2)
    panel.metric_combo.setCurrentText("val_loss")
    panel.name_edit.setText("s")  # Start at once: study s is not listed yet
    started = []
    panel.run.trial_started.connect(started.append)
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        panel.start()
    assert blocker.args == [None]
    assert panel.message.text() == ("Study s measures val_acc: set Metric to val_acc, or "
                                    "type another Study name")
    assert panel.message.level == "error" and panel.status.text() == ""
    assert _cells(panel, 1) == ["complete", "complete"]  # the table as it was
    assert panel.results.study == (url, "a")
    assert threading.main_thread() not in opened_on
    study = optuna.load_study(study_name="s", storage=url)
    assert not started and len(study.trials) == 1 and "sampler" not in study.user_attrs
    _show(qtbot, panel, url, "s", 1)  # then the named study is listed
    assert panel.results.study == (url, "s")


def test_the_importance_says_computing_until_it_arrives(qtbot, tmp_path):
    from workbench.qt.panels.tune.results import COMPUTING

    url = f"sqlite:///{tmp_path / 's.db'}"
    study = _study(url, values=(0.5, 0.75, 0.6))
    view = TrialsView("val_acc")
    qtbot.addWidget(view)
    view.reset(url, "s", "val_acc", True, [LR, WD])
    plot = view.importance_plot
    trials = [{"number": t.number, "state": "complete", "value": t.value,
               "params": dict(t.params)} for t in study.trials]
    view.add_trials(trials[:2])
    assert plot.note.isVisible() and plot.note.toPlainText() == COMPUTING
    qtbot.waitUntil(lambda: bool(plot.importances), timeout=TIMEOUT_MS)
    assert not plot.note.isVisible()
    view.add_trials(trials[2:])  # a newer estimate: the bars stay meanwhile
    assert plot.importances and not plot.note.isVisible()
    view.shutdown()
    task_pool().waitForDone()


def test_a_range_typed_on_an_unticked_field_is_kept_across_a_restart(qtbot, panel,
                                                                      tiny_experiment):
    editor = panel.editor
    editor.set_checked(WD)
    editor.set_cell(WD, "Low", "1e-05")
    editor.set_cell(WD, "High", "0.001")
    editor.set_checked(WD, False)  # set aside, to try the learning rate alone
    editor.set_cell(LR, "High", "0.05")
    saved = json.loads(json.dumps(tune_state(panel)))  # as the session file keeps it

    again = TunePanel(tiny_experiment)
    qtbot.addWidget(again)
    restore_tune_state(again, saved)
    row = again.editor.row_of(WD)
    assert [again.editor.item(row, COL[c]).text() for c in ("Low", "High")] == \
        ["1e-05", "0.001"]
    assert again.editor.checked_paths() == [LR]  # restored, not ticked
    assert again.editor.space_params()[LR]["high"] == 0.05

    # A session file of an earlier version (the ticked rows only) still loads.
    older = TunePanel(tiny_experiment)
    qtbot.addWidget(older)
    restore_tune_state(older, {"params": saved["params"]})
    assert older.editor.checked_paths() == [LR]
    assert older.editor.space_params()[LR]["high"] == 0.05
    row = older.editor.row_of(WD)
    assert older.editor.item(row, COL["Low"]).text() == "1e-06"  # the default
    for p in (again, older):
        p.shutdown()
