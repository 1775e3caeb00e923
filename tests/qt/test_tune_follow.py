"""The Tune tab's table shows the study its fields name, and Apply best goes only to the
experiment that study searched (or asks); integer fields offer no float range; a loaded
space keeps its step, seed and pruner options; a read-only storage says so; values read as
percentages; a trial's run is one double-click away."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from workbench.core.runs.names import run_name_base
from workbench.qt.panels.tune.space_editor import COL

optuna = pytest.importorskip("optuna")

TIMEOUT_MS = 60000
LR, BATCH = "optimizer.params.lr", "data.batch_size"


@pytest.fixture
def panel(tune_panel):
    return tune_panel


def _study(url, name, lr, mark=None):
    """Study ``name`` with one complete trial of learning rate ``lr``; ``mark``: the
    experiment it searched, as run_study records it."""
    study = optuna.create_study(storage=url, study_name=name, direction="maximize")
    study.set_user_attr("metric", "val_acc")
    if mark is not None:
        study.set_user_attr("experiment", mark)
    study.add_trial(optuna.trial.create_trial(
        params={LR: lr}, value=0.5,
        distributions={LR: optuna.distributions.FloatDistribution(1e-4, 0.1, log=True)}))


def _rows(panel):
    return panel.trials_table.rowCount()


def test_the_table_follows_the_study_name_and_apply_best_asks_for_another_experiment(
        qtbot, panel, tiny_experiment, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    elsewhere = {"name": "hard", "data": str(tmp_path / "hard"), "layers": ["Flatten"]}
    _study(url, "pr", 0.0019, mark=elsewhere)
    _study(url, "mine", 0.003)  # no mark: a study from before marks were kept
    panel.storage_edit.setText(url)
    panel.name_edit.setText("pr")
    qtbot.waitUntil(lambda: _rows(panel) == 1, timeout=TIMEOUT_MS)
    caption = panel.results.caption.text()
    assert "Study pr" in caption and 'searched on experiment "hard"' in caption
    asked = []
    panel.ask_apply_other = lambda _parent, text: asked.append(text) or False
    lr = tiny_experiment.optimizer.params["lr"]
    assert not panel.apply_best()
    assert "its dataset was" in asked[0] and "Apply them anyway?" in asked[0]
    assert panel.experiment.optimizer.params["lr"] == lr  # not written
    assert "Did not apply study pr's best trial" in panel.message.text()
    panel.ask_apply_other = lambda _parent, _text: True
    assert panel.apply_best()
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.0019)
    assert _rows(panel) == 1  # applying keeps the study shown
    # Another study name: the table lists that study, and Apply best applies its best.
    panel.name_edit.setText("nothing-here")
    qtbot.waitUntil(lambda: _rows(panel) == 0, timeout=TIMEOUT_MS)
    assert not panel.apply_button.isEnabled()
    panel.name_edit.setText("mine")
    qtbot.waitUntil(lambda: _rows(panel) == 1, timeout=TIMEOUT_MS)
    panel.ask_apply_other = lambda _parent, _text: pytest.fail("asked for a same study")
    assert panel.apply_best()
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.003)
    assert "Applied trial 0 of study mine" in panel.message.text()


def test_apply_best_right_after_typing_another_name_applies_nothing(qtbot, panel, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _study(url, "pr", 0.0019)
    panel.storage_edit.setText(url)
    panel.name_edit.setText("pr")
    qtbot.waitUntil(lambda: _rows(panel) == 1, timeout=TIMEOUT_MS)
    lr = panel.experiment.optimizer.params["lr"]
    panel.name_edit.setText("other")  # the table is not listed again yet
    assert not panel.apply_best()
    assert panel.experiment.optimizer.params["lr"] == lr
    assert "listing study other now" in panel.message.text()


def test_opening_another_experiment_shows_its_own_study(qtbot, panel, tiny_experiment,
                                                        tmp_path):
    (tmp_path / "runs").mkdir()
    _study(panel.default_storage_text(), run_name_base(tiny_experiment), 0.0019)
    panel.follower.follow()  # as the tab does when it is restored
    qtbot.waitUntil(lambda: _rows(panel) == 1, timeout=TIMEOUT_MS)
    other = tiny_experiment.copy()
    other.data.folder = str(tmp_path / "another")
    panel.set_experiment(other)
    assert _rows(panel) == 0 and not panel.apply_button.isEnabled()
    assert run_name_base(other) in panel.results.caption.text()


def test_integer_fields_offer_no_float_range(panel):
    def kinds(path):
        combo = panel.editor.cellWidget(panel.editor.row_of(path), COL["Type"])
        return [combo.itemText(i) for i in range(combo.count())]

    assert kinds(BATCH) == ["int", "categorical"]
    assert kinds("model.layers[1].params.out_features") == ["int", "categorical"]
    assert kinds(LR) == ["float", "int", "categorical"]


def test_a_loaded_space_keeps_its_step_seed_and_pruner_options(panel, tmp_path):
    source, saved = tmp_path / "space.json", tmp_path / "saved.json"
    source.write_text(json.dumps({
        "params": {BATCH: {"type": "int", "low": 8, "high": 32, "step": 8}},
        "pruner": {"type": "median", "n_startup_trials": 3, "n_warmup_steps": 2},
        "seed": 9, "sampler": "random"}))
    panel.ask_open_path = lambda _parent: str(source)
    panel.load_space()
    text = panel.message.text()
    assert "step 8 of Batch size" in text and "seed 9" in text
    assert "n_startup_trials=3" in text
    space = panel.space_dict()
    assert space["params"][BATCH]["step"] == 8 and space["seed"] == 9
    assert space["pruner"] == {"type": "median", "n_startup_trials": 3, "n_warmup_steps": 2}
    panel.ask_save_path = lambda _parent, _name: str(saved)
    panel.save_space()
    written = json.loads(saved.read_text())
    assert written["params"][BATCH]["step"] == 8 and written["seed"] == 9
    assert written["pruner"]["n_warmup_steps"] == 2
    # A threshold pruner is offered once a file gave its bound, and used with it.
    source.write_text(json.dumps({"params": {LR: {"type": "float", "low": 1e-4,
                                                  "high": 0.1, "log": True}},
                                  "pruner": {"type": "threshold", "lower": 0.2}}))
    panel.load_space()
    assert panel.pruner_combo.currentText() == "threshold"
    assert panel.space_dict()["pruner"] == {"type": "threshold", "lower": 0.2}
    assert "seed" not in panel.space_dict()


def test_a_read_only_storage_is_one_line_saying_so(qtbot, panel, tmp_path):
    db = tmp_path / "st.sqlite"
    _study(f"sqlite:///{db}", "ro", 0.01)
    panel.storage_edit.setText(f"sqlite:///file:{db}?mode=ro&uri=true")
    panel.name_edit.setText("ro")
    panel.trials_spin.setValue(1)
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        assert panel.start()
    assert blocker.args[0] is None
    text = panel.message.text()
    assert f"cannot write the study storage {db}" in text and "read-only" in text
    assert "unexpected" not in text and "bug" not in text


def test_values_read_as_percentages_and_a_row_leads_to_its_run(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow

    tiny_experiment.training.epochs = 1
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    tune = window.tune_panel
    tune.trials_spin.setValue(1)
    tune.name_edit.setText("runs-link")
    with qtbot.waitSignal(tune.study_finished, timeout=TIMEOUT_MS) as blocker:
        assert tune.start()
    trial = blocker.args[0].trials[0]
    table = tune.trials_table
    assert table.item(0, 2).text() == f"{100 * trial['value']:.1f}%"
    assert "val_acc" in tune.message.text() and "%" in tune.message.text()
    run_col = table.columnCount() - 1
    assert table.horizontalHeaderItem(run_col).text() == "Run"
    assert table.item(0, run_col).text() == "runs-link-trial-0"  # as the Runs tab names it
    assert table.item(0, run_col).toolTip().startswith(trial["run_dir"])
    table.cellDoubleClicked.emit(0, 0)
    runs = window.runs_panel
    assert window.tabs.currentWidget() is runs
    qtbot.waitUntil(lambda: runs.selected_paths() == [trial["run_dir"]], timeout=TIMEOUT_MS)
    window.shutdown()
