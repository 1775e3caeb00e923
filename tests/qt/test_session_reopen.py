"""Reopening where the user left off, even from a damaged session file (tester report
"reopen", items 2, 3, 9 and 11): one bad value resets that field alone, a file cut short
keeps what came before the cut (the last run first of all), a binary file is said to be
damaged in words, a deleted last run is said on the Train tab, and the Runs tab's
selection, the splitters, the typed run name and the Tune tab come back."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QMessageBox, QSplitter

import workbench.qt.app as app
from workbench.core.experiment import Experiment
from workbench.core.io import runs_dir
from workbench.core.registry import Component
from workbench.core.runs.store import write_run_info
from workbench.core.session import session_path, session_text, write_session
from workbench.qt.main_window import _default_experiment
from workbench.qt.workers import task_pool

TIMEOUT_MS = 30000
LR = "optimizer.params.lr"


def _window(qtbot, **kwargs):
    window = app.create_window(**kwargs)
    qtbot.addWidget(window)
    return window


def _boxes(window) -> list[str]:
    return [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]


def _file() -> dict:
    try:
        return json.loads(session_path().read_text())
    except (OSError, ValueError):
        return {}


def _custom(folder) -> Experiment:
    """A user's experiment: their dataset, network, augmentations and epochs."""
    exp = _default_experiment()
    exp.data.folder = str(folder)
    exp.data.input_size = [16, 16]
    exp.model.layers.insert(7, Component("Dropout", {"p": 0.3}))
    exp.model.preset = None
    exp.augment.transforms = [Component("RandomRotation", {"degrees": 9.0})]
    exp.training.epochs = 3
    return exp.validate()


def _run(name: str) -> str:
    folder = runs_dir() / name
    folder.mkdir(parents=True)
    write_run_info(folder, {"name": name, "status": "finished", "epochs_done": 1,
                            "epochs_planned": 1})
    (folder / "metrics.json").write_text(json.dumps({"epochs": [
        {"epoch": 1, "train_loss": 1.0, "val_loss": 1.1, "train_acc": 0.4, "val_acc": 0.3,
         "lr": 0.001, "seconds": 1.0}]}))
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.pt").write_bytes(b"")  # what Continue… looks for
    return str(folder)


def _layers(exp: Experiment) -> list[str]:
    return [layer.type for layer in exp.model.layers]


def test_one_bad_value_resets_that_field_alone(qtbot, image_folder):
    saved = _custom(image_folder)
    doc = json.loads(session_text(saved, b"", "Model"))
    doc["experiment"]["data"]["val_fraction"] = 5
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text(json.dumps(doc))
    window = _window(qtbot)
    exp = window.experiment
    assert exp.data.val_fraction == 0.2
    # Everything else is the user's, not the demo's and the defaults.
    assert exp.data.folder == str(image_folder) and exp.data.input_size == [16, 16]
    assert _layers(exp) == _layers(saved) and "Dropout" in _layers(exp)
    assert [t.type for t in exp.augment.transforms] == ["RandomRotation"]
    assert exp.training.epochs == 3
    qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
    [text] = _boxes(window)
    assert "data.val_fraction: 5.0 is above the maximum 0.9 (reset to 0.2)" in text
    assert "Everything else was kept" in text and str(image_folder) in text
    kept = session_path().with_name("session.unreadable.json")
    assert str(kept) in text
    assert json.loads(kept.read_text())["experiment"]["data"]["val_fraction"] == 5


def test_a_layer_type_this_workbench_lacks_is_removed_once_torch_loads(qtbot, image_folder,
                                                                       monkeypatch):
    from workbench.qt import startup

    saved = _custom(image_folder)
    doc = json.loads(session_text(saved, b"", "Model"))
    doc["experiment"]["model"]["layers"][3]["type"] = "Conv9d"  # another version's layer
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text(json.dumps(doc))
    loader = startup.TorchLoader()  # as the app starts: the registries come later
    monkeypatch.setattr(startup, "_LOADER", loader)
    loader.defer()
    window = _window(qtbot)
    assert loader.ensure_loaded()
    exp = window.experiment
    expected = _layers(saved)
    del expected[3]
    assert _layers(exp) == expected
    assert exp.data.folder == str(image_folder) and exp.training.epochs == 3
    assert [t.type for t in exp.augment.transforms] == ["RandomRotation"]
    assert len(window.model_panel.row_texts()) == len(expected)
    qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
    [text] = _boxes(window)
    assert "model.layers[3].type: unknown layer 'Conv9d' (layer 4, Conv9d, was removed " \
           "from the network; the other layers were kept)" in text
    assert "session.unreadable.json" in text


def test_a_file_cut_short_keeps_the_last_run_and_what_came_before_the_cut(qtbot,
                                                                          image_folder):
    run = _run("ds-cnn-1")
    saved = _custom(image_folder)
    text = session_text(saved, b"", "Train", run, run_name="my-named-run")
    cut = text.index('"model"')  # in the experiment's network: a full disk
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text(text[:cut + 40])
    window = _window(qtbot)
    train = window.train_panel
    assert train.last_run_dir == run and train.continue_button.isEnabled()
    assert train.setup.name_edit.text() == "my-named-run"
    exp = window.experiment
    assert exp.data.folder == str(image_folder) and exp.data.input_size == [16, 16]
    assert [t.type for t in exp.augment.transforms] == ["RandomRotation"]
    qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
    [box] = _boxes(window)
    assert "cut short or damaged in experiment.model" in box
    assert "optimizer, loss, scheduler, training: not in what could be read" in box
    assert "The last run, ds-cnn-1, was kept" in box


def test_a_binary_session_file_is_called_damaged_and_kept(qtbot):
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_bytes(b"\x00\x81\xfe" + bytes(range(256)))
    window = _window(qtbot)
    qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
    [text] = _boxes(window)
    assert "is damaged (it is not text)" in text and "codec" not in text
    assert "the app starts with the default experiment" in text
    assert str(session_path().with_name("session.unreadable.json")) in text


def test_a_deleted_last_run_is_said_on_the_train_tab_and_forgotten(qtbot, image_folder):
    gone = runs_dir() / "ds-cnn-4"
    write_session(session_text(_custom(image_folder), b"", "Train", str(gone)))
    window = _window(qtbot)
    label = window.train_panel.run_label
    assert f"The last run, ds-cnn-4, is no longer in {runs_dir()} (deleted or moved)" in \
        label.text()
    assert label.level == "warning"
    assert not window.train_panel.continue_button.isEnabled()
    window.close()
    assert _file()["train"]["last_run"] == ""  # said once, not at every start


def test_the_tabs_come_back_as_they_were_left(qtbot, image_folder):
    runs = [_run("ds-cnn-1"), _run("ds-cnn-2"), _run("ds-cnn-3")]
    write_session(session_text(_custom(image_folder), b"", "Model"))
    window = _window(qtbot)
    window.show()
    window.resize(1200, 760)
    panel = window.runs_panel
    window.tabs.setCurrentWidget(panel)  # shown: it lists the runs
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=TIMEOUT_MS)
    panel.select_paths([runs[1]])
    window.train_panel.setup.name_edit.setText("my-named-run")
    window.tabs.setCurrentWidget(window.model_panel)
    split = window.model_panel.findChild(QSplitter, "model.palette_network")
    qtbot.waitUntil(split.isVisible, timeout=TIMEOUT_MS)
    split.setSizes([120, sum(split.sizes()) - 120])
    left = split.sizes()[0]
    tune = window.tune_panel
    tune.sampler_combo.setCurrentText("random")
    tune.trials_spin.setValue(3)
    tune.name_edit.setText("mystudy")
    window.close()
    saved = _file()
    assert saved["runs"]["selected"] == [runs[1]]
    assert saved["train"]["run_name"] == "my-named-run"
    assert saved["tune"]["sampler"] == "random" and saved["tune"]["study"] == "mystudy"
    assert list(saved)[:2] == ["session_version", "train"] and list(saved)[-1] == "experiment"

    again = _window(qtbot)
    again.show()
    again.tabs.setCurrentWidget(again.model_panel)
    split = again.model_panel.findChild(QSplitter, "model.palette_network")
    qtbot.waitUntil(split.isVisible, timeout=TIMEOUT_MS)
    assert abs(split.sizes()[0] - left) <= 2
    assert again.train_panel.setup.name_edit.text() == "my-named-run"
    assert again.train_panel.setup.run_name() == "my-named-run"
    qtbot.waitUntil(lambda: again.runs_panel.selected_paths() == [runs[1]],
                    timeout=TIMEOUT_MS)
    t = again.tune_panel
    assert (t.sampler_combo.currentText(), t.trials_spin.value(), t.name_edit.text()) == \
        ("random", 3, "mystudy")
    # Nothing typed: the next run is named automatically, then as now.
    again.train_panel.setup.name_edit.clear()
    again.close()
    assert "run_name" not in _file()["train"]
    third = _window(qtbot)
    suggested = third.train_panel.setup.name_edit.placeholderText()
    assert suggested and third.train_panel.setup.name_edit.text() == suggested
    third.close()
    task_pool().waitForDone()



def test_the_tune_tabs_stored_study_is_shown_again_with_its_trials(qtbot, image_folder):
    import optuna
    from optuna.distributions import FloatDistribution

    from workbench.core.tune.storage import default_storage

    study = optuna.create_study(storage=default_storage(), study_name="mystudy",
                                direction="maximize")
    study.set_user_attr("metric", "val_acc")
    study.set_user_attr("space", {"params": {LR: {"type": "float", "low": 1e-4,
                                                  "high": 0.1, "log": True}},
                                  "sampler": "random"})
    for value in (0.5, 0.75):
        study.tell(study.ask({LR: FloatDistribution(1e-4, 0.1, log=True)}), value)
    write_session(session_text(_custom(image_folder), b"", "Tune",
                               tune={"sampler": "random", "trials": 3, "study": "mystudy",
                                     "params": {LR: {"type": "float", "low": 1e-4,
                                                     "high": 0.01, "log": True}}}))
    window = _window(qtbot)
    panel = window.tune_panel
    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == 2, timeout=TIMEOUT_MS)
    assert [panel.trials_table.item(r, 1).text() for r in range(2)] == ["complete"] * 2
    text = panel.message.text()
    assert "Study mystudy: 2 trial(s) stored in" in text and "best: trial 1, val_acc 75.0%" \
        in text and "Start adds trials to it" in text
    assert panel.best_trial()["number"] == 1  # Apply best has it
    assert panel.editor.checked_paths() == [LR]  # the searched field, with its range
    assert panel.editor.space_params()[LR]["high"] == 0.01
    window.close()
    task_pool().waitForDone()


def test_continuing_a_study_with_another_sampler_says_so(qtbot, tiny_experiment):
    from workbench.qt.panels.tune.panel import TunePanel

    tiny_experiment.training.epochs = 1
    panel = TunePanel(tiny_experiment)
    qtbot.addWidget(panel)
    panel.trials_spin.setValue(1)
    panel.name_edit.setText("mystudy")
    try:
        with qtbot.waitSignal(panel.study_finished, timeout=120000):
            assert panel.start()  # tpe, the default
        panel.sampler_combo.setCurrentText("random")
        with qtbot.waitSignal(panel.study_finished, timeout=120000):
            with qtbot.waitSignal(panel.run.loaded, timeout=120000):
                assert panel.start()
            assert panel.message.text() == (
                "Continuing study mystudy: 1 earlier trial(s), drawn by the tpe sampler; "
                "the new trials are drawn by the random sampler chosen here (a study keeps "
                "no sampler of its own)")
    finally:
        panel.shutdown()
        task_pool().waitForDone()
