"""The Tune panel: a study in the background, its table and plots, stopping, apply best."""

from __future__ import annotations

import json
import sys

import pytest

from workbench.core.io import runs_dir
from workbench.qt.panels.tune.panel import TunePanel
from workbench.qt.workers import task_pool

TIMEOUT_MS = 120000
LR = "optimizer.params.lr"


@pytest.fixture
def panel(qtbot, tiny_experiment):
    tiny_experiment.training.epochs = 1
    p = TunePanel(tiny_experiment)
    qtbot.addWidget(p)
    p.trials_spin.setValue(2)
    p.sampler_combo.setCurrentText("random")  # two quick, different trials
    yield p
    p.shutdown()
    task_pool().waitForDone()


def test_the_editor_offers_the_experiments_fields(panel):
    paths = panel.editor.paths
    assert LR in paths and "optimizer.params.weight_decay" in paths
    assert "optimizer.type" in paths and "data.batch_size" in paths
    # The mlp preset: two hidden Linear widths, not the output layer (None: the classes).
    assert "model.layers[1].params.out_features" in paths
    assert "model.layers[3].params.out_features" in paths
    assert "model.layers[5].params.out_features" not in paths
    assert "augment.transforms[0].params.p" in paths
    assert panel.editor.checked_paths() == [LR]
    assert panel.storage_edit.placeholderText().endswith("studies.sqlite")


def test_a_two_trial_study_fills_the_table_and_plot_and_apply_best_updates_the_experiment(
        qtbot, panel, tiny_experiment):
    experiment = tiny_experiment
    finished = []
    panel.trial_finished.connect(finished.append)
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        assert panel.start()
    summary = blocker.args[0]
    assert summary is not None and len(summary.trials) == 2
    assert [t["number"] for t in finished] == [0, 1]
    assert panel.trials_table.rowCount() == 2
    headers = [panel.trials_table.horizontalHeaderItem(c).text()
               for c in range(panel.trials_table.columnCount())]
    assert headers == ["#", "State", "Value", "Training (s)", "Learning rate", "Run"]
    assert panel.trials_table.horizontalHeaderItem(4).toolTip() == LR
    assert panel.trials_table.item(0, 1).text() == "complete"
    assert len(panel.history_plot.points) == 2
    # Every trial is a run in the run history.
    run_dirs = {t["run_dir"] for t in summary.trials}
    assert all(d and d.startswith(str(runs_dir())) for d in run_dirs)
    assert len(run_dirs) == 2
    # Unnamed, the study and its trials are named as runs are (not "experiment-trial-0").
    from workbench.core.runs.names import run_name_base
    from workbench.core.runs.store import read_run_info

    base = run_name_base(experiment)
    assert summary.study_name == base
    assert sorted(read_run_info(d)["name"] for d in run_dirs) == [f"{base}-trial-0",
                                                                    f"{base}-trial-1"]
    # Importance is computed off the GUI thread once two trials are complete.
    qtbot.waitUntil(lambda: bool(panel.importance_plot.importances), timeout=30000)
    assert set(panel.importance_plot.importances) == {LR}

    best = summary.trials[summary.best_trial]
    changed = []
    panel.experiment_changed.connect(lambda: changed.append(True))
    assert panel.apply_best()
    assert changed == [True]
    assert panel.experiment is experiment  # the shared object, changed in place
    assert experiment.optimizer.params["lr"] == pytest.approx(best["params"][LR])
    assert experiment.training.epochs == 1


def test_stop_mid_study_ends_it_cleanly(qtbot, panel, tiny_experiment):
    tiny_experiment.training.epochs = 200
    tiny_experiment.data.batch_size = 2
    panel.trials_spin.setValue(50)
    with qtbot.waitSignal(panel.run.epoch_finished, timeout=TIMEOUT_MS):
        panel.start()
    assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        panel.stop_button.click()
    summary = blocker.args[0]
    assert len(summary.trials) == 1 and summary.trials[0]["state"] == "fail"
    assert "stopped" in summary.trials[0]["error"]
    assert panel.trials_table.item(0, 1).text() == "stopped"  # not "fail"
    assert not panel.is_running() and panel.start_button.isEnabled()


def test_trials_table_says_how_a_failed_trial_failed(qtbot):
    from workbench.qt.panels.tune.results import TrialsView

    view = TrialsView()
    qtbot.addWidget(view)
    kinds = ["stopped", "diverged", "out_of_memory", "failed", None]
    view.add_trials([{"number": i, "state": "fail", "failure": kind, "value": None,
                      "params": {}, "error": "why"} for i, kind in enumerate(kinds)]
                    + [{"number": 5, "state": "complete", "value": 0.5, "params": {}}])
    states = [view.table.item(r, 1).text() for r in range(view.table.rowCount())]
    assert states == ["stopped", "diverged", "out of memory", "fail", "fail", "complete"]


def test_shutdown_mid_study_stops_and_joins_the_thread(qtbot, panel, tiny_experiment):
    tiny_experiment.training.epochs = 200
    tiny_experiment.data.batch_size = 2
    panel.trials_spin.setValue(50)
    with qtbot.waitSignal(panel.run.epoch_finished, timeout=TIMEOUT_MS):
        panel.start()
    thread, worker = panel.run._thread, panel.run.worker
    assert thread.isRunning()
    panel.shutdown()
    assert worker.stop_event.is_set()
    assert thread.isFinished() and not panel.is_running()
    assert not panel.start()  # a closed panel starts nothing


def test_a_bad_range_shows_the_cores_message(qtbot, panel):
    panel.editor.set_cell(LR, "Low", "0.5")
    panel.editor.set_cell(LR, "High", "0.1")
    assert not panel.start()
    assert panel.message.level == "error"
    assert "space.params.optimizer.params.lr" in panel.message.text()
    assert "must be below" in panel.message.text()
    panel.editor.set_cell(LR, "Low", "abc")
    assert not panel.start()
    assert "space.params.optimizer.params.lr.low" in panel.message.text()
    assert not panel.is_running()


def test_a_study_whose_every_trial_failed_says_why(qtbot, panel, monkeypatch):
    import workbench.core.tune.study as tune
    from workbench.core.errors import SpecError

    def refused(exp, params):
        raise SpecError("data.batch_size", "too big for this dataset")

    monkeypatch.setattr(tune, "apply_params", refused)
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS):
        assert panel.start()
    assert panel.message.level == "error"
    assert "trial 0 failed: invalid combination" in panel.message.text()
    assert "too big for this dataset" in panel.message.text()


def test_no_budget_is_refused(panel):
    panel.trials_spin.setValue(0)
    assert not panel.start()
    assert "trials" in panel.message.text() and "time budget" in panel.message.text()


def test_save_and_load_a_space(panel, tmp_path, tiny_experiment):
    path = tmp_path / "space.json"
    panel.editor.set_checked("optimizer.type")
    panel.pruner_combo.setCurrentText("hyperband")
    panel.epochs_spin.setValue(3)
    panel.ask_save_path = lambda parent, suggested: str(path)
    panel.save_space()
    saved = json.loads(path.read_text())
    assert set(saved["params"]) == {LR, "optimizer.type"}
    assert saved["pruner"] == {"type": "hyperband"} and saved["epochs"] == 3

    saved["params"] = {"data.batch_size": {"type": "int", "low": 4, "high": 16, "step": 4}}
    saved["sampler"] = "grid"
    path.write_text(json.dumps(saved))
    panel.ask_open_path = lambda parent: str(path)
    panel.load_space()
    assert panel.editor.checked_paths() == ["data.batch_size"]
    assert panel.sampler_combo.currentText() == "grid"
    assert panel.space_dict()["params"]["data.batch_size"]["low"] == 4

    path.write_text('{"params": {}}')
    panel.load_space()
    assert panel.message.level == "error" and "space.params" in panel.message.text()


def test_a_continued_study_shows_its_stored_trials_first(qtbot, panel):
    panel.trials_spin.setValue(1)
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS):
        panel.start()
    assert panel.trials_table.rowCount() == 1
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        panel.start()
    assert len(blocker.args[0].trials) == 2
    assert panel.trials_table.rowCount() == 2
    # Not continuing a study that has trials is refused with a message saying what to do.
    panel.continue_check.setChecked(False)
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        panel.start()
    assert blocker.args[0] is None
    assert "Continue study" in panel.message.text()


def test_importing_the_panel_imports_neither_torch_nor_optuna():
    import subprocess

    code = ("import os; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
            "import sys, workbench.qt.panels.tune.panel\n"
            "print('torch' in sys.modules, 'optuna' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_apply_best_in_the_main_window_shows_in_the_other_tabs(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow

    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs[tabs.index("Train") + 1] == "Tune"
    tune = window.tune_panel
    assert tune.experiment is window.experiment
    width = "model.layers[1].params.out_features"
    # A trial as the study reports it: apply best must not need a study to have run here
    # (the table shows the study the Tune tab's fields name).
    tune.results.reset(*tune.follower.key(), "val_acc", True)
    tune.results.add_trials([{"number": 0, "state": "complete", "value": 0.9,
                              "params": {width: 64, LR: 0.02}, "duration_s": 1.0}])
    refreshed = []
    window.model_panel.refresh = lambda: refreshed.append(True)  # the Model tab redraws
    assert tune.apply_button.isEnabled()
    tune.apply_button.click()
    assert window.experiment.model.layers[1].params["out_features"] == 64
    assert window.experiment.optimizer.params["lr"] == 0.02
    assert window.train_panel.experiment is window.experiment
    assert refreshed
    window.shutdown()


# -- the fields follow the experiment ---------------------------------------------------------
HIDDEN_1 = "model.layers[1].params.out_features"
HIDDEN_2 = "model.layers[3].params.out_features"


def _delete_second_hidden_layer(experiment):
    """What the Model tab does in place: the mlp loses its second Linear+ReLU (layers 4
    and 5), so model.layers[3] is now the output layer, which has no width to search."""
    del experiment.model.layers[3:5]


def test_fields_follow_a_model_edit_when_the_tab_is_shown(qtbot, panel, tiny_experiment):
    editor = panel.editor
    row = editor.row_of(HIDDEN_2)
    assert editor.item(row, 0).text() == "Layer 4 (Linear) out_features"  # as the Model tab
    editor.set_checked(HIDDEN_1)
    editor.set_cell(HIDDEN_1, "High", "1024")
    editor.set_checked(HIDDEN_2)
    panel.hide()
    _delete_second_hidden_layer(tiny_experiment)
    panel.show()  # back on the Tune tab
    assert HIDDEN_2 not in editor.paths
    assert not any("Layer 4" in editor.item(r, 0).text() for r in range(editor.rowCount()))
    # The user's ticks and ranges stay on the fields that are still there.
    assert editor.checked_paths() == [LR, HIDDEN_1]
    assert editor.space_params()[HIDDEN_1]["high"] == 1024
    assert panel.message.level == "warning"
    assert "Layer 4 (Linear) out_features" in panel.message.text()
    assert "taken out of the search" in panel.message.text()


def test_start_checks_the_fields_against_the_experiment_as_it_is_now(qtbot, panel,
                                                                     tiny_experiment):
    panel.show()
    panel.editor.set_checked(HIDDEN_2)
    _delete_second_hidden_layer(tiny_experiment)  # changed while the tab was open
    assert not panel.start()  # no study over a field the network no longer has
    assert not panel.is_running()
    assert HIDDEN_2 not in panel.editor.paths
    assert "Layer 4 (Linear) out_features" in panel.message.text()
    assert "model.layers[3]" not in json.dumps(panel.space_dict())
    # The fields now match: a second press is the user's informed choice, and starts.
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        assert panel.start()
    assert blocker.args[0] is not None


def test_a_layer_that_replaced_another_does_not_inherit_its_range(panel, tiny_experiment):
    from workbench.core.registry import Component

    dropout = "model.layers[2].params.p"
    tiny_experiment.model.layers.insert(2, Component("Dropout", {"p": 0.5}))
    panel.refresh_fields()
    panel.editor.set_checked(dropout)
    panel.editor.set_cell(dropout, "High", "0.3")
    tiny_experiment.model.layers[2] = Component("Dropout2d", {"p": 0.5})  # same path
    assert panel.refresh_fields() == ["Layer 3 (Dropout) p"]
    row = panel.editor.row_of(dropout)
    assert panel.editor.item(row, 0).text() == "Layer 3 (Dropout2d) p"
    assert dropout not in panel.editor.checked_paths()
    panel.editor.set_checked(dropout)
    assert panel.editor.space_params()[dropout]["high"] == 0.7  # its own default range


def test_rows_loaded_from_a_space_file_are_kept_while_their_layer_exists(panel, tmp_path,
                                                                         tiny_experiment):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"params": {
        "model.layers[5].params.bias": {"type": "categorical", "choices": [True, False]},
        "model.layers[9].params.p": {"type": "float", "low": 0.1, "high": 0.5}}}))
    panel.ask_open_path = lambda parent: str(path)
    panel.load_space()
    assert "model.layers[9].params.p" in panel.editor.paths  # listed as loaded
    panel.refresh_fields()
    # Layer 10 does not exist: taken out, and said; the output layer's bias stays.
    assert panel.editor.checked_paths() == ["model.layers[5].params.bias"]
    assert "model.layers[9].params.p" in panel.message.text()


def test_field_names_are_shown_whole_at_a_laptop_width(qtbot, tiny_experiment):
    """At 1366x768 the Field column was cut to "Lea… rate"."""
    from PySide6.QtWidgets import QApplication

    from workbench.core.model.presets import preset_layers

    tiny_experiment.model.layers = preset_layers("seed-cnn")  # the longest default names
    p = TunePanel(tiny_experiment)
    qtbot.addWidget(p)
    p.resize(1346, 680)  # the Tune tab's page in a 1366x768 window
    p.show()
    qtbot.waitExposed(p)
    QApplication.processEvents()
    editor = p.editor
    metrics = editor.fontMetrics()
    width = editor.columnWidth(0)
    names = [editor.item(r, 0).text() for r in range(editor.rowCount())]
    assert "Learning rate" in names and "Layer 8 (Linear) out_features" in names
    for name in names:
        # The tick box and the cell's margins take ~30 px of the column.
        assert metrics.horizontalAdvance(name) + 30 <= width, name
    assert not editor.wordWrap()
    assert editor.horizontalScrollBar().maximum() == 0  # every column in view
    p.shutdown()
