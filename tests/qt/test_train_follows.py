"""The Train tab shows what Start trains, and says what it did in words (UI review 2).

- The Epochs box kept its old value when a Doctor or Tune fix changed ``training.epochs``
  (only the batch size was followed), so Start trained 40 epochs under a box saying 2; the
  other settings boxes of the tab follow such edits too.
- A dataset folder deleted while the app was open was found only when Start was pressed,
  and the line then named the Data tab twice.
- The Softmax fix said "Remove layer 7 (Softmax): layers = Flatten, Linear, … set." and
  "Fixed: layers = …": the list it left, which reads like code.
- A start the core refused before a batch trained (batch size 1 with BatchNorm) spoke of a
  run that never was: "Training stopped: failed", the last run's cache line and bar, "the
  run ended before the first sample".
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from helpers import make_image_folder
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.qt.panels.train.fixes import apply_settings

RUN_TIMEOUT_MS = 120000


def test_the_settings_boxes_follow_a_fix_made_elsewhere(qtbot, train_panel):
    panel = train_panel()
    assert panel.epochs_spin.value() == 2
    apply_settings(panel.current, {"training.epochs": 40})  # a Doctor or Tune fix's path
    assert panel.epochs_spin.value() == 40  # what Start trains
    apply_settings(panel.current, {"training.early_stopping": True, "training.patience": 7,
                                   "data.num_workers": 1})
    options = panel.options_editor
    assert options.editor("early_stopping").isChecked()
    assert options.editor("patience").value() == 7
    assert options.editor("patience").isEnabled()  # used now that early stopping is on
    assert options.workers_spin.value() == 1
    apply_settings(panel.current, {"optimizer.params.lr": 0.0005})
    assert panel.lr_spin.value() == pytest.approx(0.0005)
    apply_settings(panel.current, {"scheduler.type": "StepLR"})
    assert panel.schedule_editor.combo.currentText() == "StepLR"
    # The boxes' own edits still write the Experiment (and are not echoed back).
    panel.epochs_spin.setValue(5)
    panel.lr_spin.setValue(0.002)
    assert panel.experiment.training.epochs == 5
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.002)
    assert panel.epochs_spin.value() == 5 and panel.lr_spin.value() == pytest.approx(0.002)


def test_a_folder_deleted_meanwhile_is_found_when_the_tab_shows(qtbot, train_panel,
                                                                 tiny_experiment, tmp_path):
    folder = make_image_folder(tmp_path / "here", size=16)
    tiny_experiment.data.folder = folder
    panel = train_panel()
    assert panel.start_button.isEnabled()
    missing = []
    panel.folder_missing.connect(missing.append)
    shutil.rmtree(folder)  # moved away while the app was open, the tab hidden
    panel.show()
    assert not panel.start_button.isEnabled()  # before Start is pressed
    text = panel.status.text()
    assert text == (f"Cannot train yet: the dataset folder {folder} is missing (moved, "
                    f"renamed, or on a drive that is not connected): open it where it is now "
                    f"on the Data tab (File → Open dataset folder…)")
    assert text.count("Data tab") == 1 and panel.start_button.toolTip().count("Data tab") == 1
    assert missing == [folder]  # the window's status bar says so (test_missing_dataset)
    make_image_folder(tmp_path / "here", size=16)  # the drive connected again
    QApplication.sendEvent(panel, QEvent(QEvent.Type.WindowActivate))  # back to the app
    assert panel.start_button.isEnabled()
    assert panel.status.text() == "Press Start to train the model on the loaded dataset."


def test_the_softmax_fix_says_what_it_did_not_the_list_it_left(qtbot, train_panel):
    from workbench.core.train.doctor.causes import model_causes

    panel = train_panel()
    exp = panel.experiment
    exp.model.layers = preset_layers("mlp") + [Component("Softmax", {})]
    panel.findings.trained = exp.copy()  # the run's experiment
    panel.findings.classes = ["blue", "green", "red"]
    (cause,) = [c for c in model_causes(exp, 3) if "Softmax" in c.why]
    panel.run.finding.emit({"kind": "loss_floor", "epoch": 3, "severity": "warning",
                            "message": f"The loss stays high: {cause.why}.",
                            "fix": cause.fix, "action": cause.action})
    button = panel.findings.fix_button(0)
    assert button.text() == "Remove layer 7 (Softmax)"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [c.type for c in exp.model.layers][-1] == "Linear"
    assert panel.status.text() == ("Removed layer 7 (Softmax) on the Model tab: Start "
                                   "training trains a new run without it.")
    assert panel.findings.view.addressed() == [
        "Applied: removed layer 7 (Softmax) on the Model tab."]


@pytest.fixture
def refused(qtbot, train_panel):
    """A Train panel after a run that filled the decoded-image cache, then a start the core
    refuses (batch size 1 with BatchNorm), its fix declined."""
    panel = train_panel(epochs=1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert panel.cache_label.text().startswith("Decoded-image cache")  # the run's own
    panel.experiment.model.layers = preset_layers("cnn-bn")
    panel.experiment.data.batch_size = 1
    panel.ask = lambda title, text: False  # "Set the batch size to 32 and start training?"
    with qtbot.waitSignal(panel.training_not_started, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    return panel


def test_a_refused_start_speaks_of_no_run(refused):
    panel = refused
    assert panel.status.text().startswith("Cannot start training: The batch size is 1")
    assert panel.cache_label.text() == "" and not panel.cache_bar.isVisibleTo(panel)
    assert panel.progress.format() == ""  # not "Failed in epoch 1; nothing kept"
    plots = panel.plots
    assert plots.notes[plots.norms_plot].text == "No data yet"  # not "the run ended…"
    assert plots.notes[plots.loss_plot].text == "No data yet"


def test_the_window_says_training_not_started(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow

    tiny_experiment.model.layers = preset_layers("cnn-bn")
    tiny_experiment.data.batch_size = 1
    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    panel = w.train_panel
    panel.ask = lambda title, text: False
    with qtbot.waitSignal(panel.training_not_started, timeout=RUN_TIMEOUT_MS):
        panel.start()
    assert w.statusBar().currentMessage() == ("Training not started (the Train tab says why "
                                              "and what to do)")
    w.shutdown()
