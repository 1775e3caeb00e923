"""Model panel: Backbone cards (weights notes, preprocessing), the Data tab kept in step, and
the Train tab's notes at the start of a run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.presets import preset_layers
from workbench.qt.main_window import MainWindow
from workbench.qt.panels.model.panel import ModelPanel
from workbench.qt.panels.train.panel import TrainPanel

from qt_helpers import shown_level

IMAGENET_MEAN = [0.485, 0.456, 0.406]


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


@pytest.fixture(autouse=True)
def torch_home(tmp_path, monkeypatch):
    """torchvision's cache in a fresh folder: no pretrained file is found unless a test puts
    one there."""
    home = tmp_path / "torch"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


def _backbone_experiment() -> Experiment:
    exp = Experiment()
    exp.data.input_size = [64, 64]
    exp.data.mean, exp.data.std = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]
    exp.model.layers = [Component("Backbone", {"arch": "resnet18"}),
                        Component("Linear", {"out_features": None})]
    return exp


def _panel(qtbot, exp: Experiment) -> ModelPanel:
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    return panel


def test_backbone_card_says_where_to_put_the_weights(qtbot, torch_home):
    panel = _panel(qtbot, _backbone_experiment())
    card = panel.stack.cards[0]
    assert card.notes_label is not None and not card.notes_label.isHidden()
    text = card.notes_label.text()
    assert "No pretrained weights found" in text and "random weights" in text
    assert str(torch_home) in text and "resnet18" in text
    assert panel.stack.cards[1].notes_label is None  # only Backbone cards have notes
    # The file appears (the learner copied it there): the note says it will be used.
    path = text.split("found at ")[1].split(";")[0]
    import os

    import torch

    os.makedirs(os.path.dirname(path))
    torch.save({}, path)  # a PyTorch file: the card's quick look does not load it
    panel.refresh()
    assert "No pretrained weights found" in card.notes_label.text()  # looked up a moment ago
    panel.show()  # coming back to the Model tab looks again
    qtbot.waitUntil(lambda: "Pretrained weights will be loaded from" in
                    card.notes_label.text(), timeout=WAIT_MS)
    # Random weights, fine-tuned: nothing to warn about.
    values = {**card.form.values(), "weights": "random", "mode": "fine_tune"}
    panel.set_layer_params(0, values)
    panel.refresh()
    assert card.notes_label.isHidden()


def test_use_backbone_preprocessing_is_one_undoable_step_that_tells_the_data_tab(qtbot):
    exp = _backbone_experiment()
    panel = _panel(qtbot, exp)
    button = panel.stack.cards[0].preprocessing_button
    with qtbot.waitSignals([panel.data_settings_changed, panel.model_changed]):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert exp.data.mean == pytest.approx(IMAGENET_MEAN)
    assert exp.data.input_size == [224, 224]
    assert panel.input_shape() == (3, 224, 224)
    assert "224" in panel.message.text()
    with qtbot.waitSignal(panel.data_settings_changed, timeout=WAIT_MS):
        panel.undo_action.trigger()
    assert exp.data.mean == [0.5, 0.5, 0.5] and exp.data.input_size == [64, 64]
    with qtbot.waitSignal(panel.data_settings_changed, timeout=WAIT_MS):
        panel.redo_action.trigger()
    assert exp.data.input_size == [224, 224]
    # Pressed again: nothing to change, no new undo step.
    steps = panel.undo_stack.count()
    button.click()
    assert panel.undo_stack.count() == steps and "already match" in panel.message.text()


def test_layer_edits_do_not_say_the_data_changed(qtbot):
    panel = _panel(qtbot, _backbone_experiment())
    fired = []
    panel.data_settings_changed.connect(lambda: fired.append(1))
    panel.duplicate_layer(1)
    panel.undo_action.trigger()
    assert fired == []


def test_the_data_tab_follows_model_tab_edits_of_the_data_settings(qtbot):
    exp = _backbone_experiment()
    window = MainWindow(exp)
    qtbot.addWidget(window)
    settings = window.data_panel.settings
    assert settings.height_spin.value() == 64
    window.model_panel.stack.cards[0].preprocessing_button.click()
    assert (settings.height_spin.value(), settings.width_spin.value()) == (224, 224)
    assert "0.485" in settings.norm_values.text()
    window.model_panel.undo_action.trigger()
    assert settings.height_spin.value() == 64
    assert exp.data.input_size == [64, 64]  # showing it did not write anything back


def test_the_doctors_batch_size_fix_tells_the_data_tab_too(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.data.batch_size = 1
    exp.model.layers, exp.model.preset = preset_layers("cnn-bn"), "cnn-bn"
    panel = _panel(qtbot, exp)
    [i] = [n for n, f in enumerate(panel.doctor.findings) if f.code == "batchnorm-batch-one"]
    with qtbot.waitSignal(panel.data_settings_changed, timeout=WAIT_MS):
        panel.apply_fix(i)
    assert exp.data.batch_size == 32
    with qtbot.waitSignal(panel.data_settings_changed, timeout=WAIT_MS):
        panel.undo_action.trigger()
    assert exp.data.batch_size == 1


def test_the_data_tabs_input_size_reshapes_the_network(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = preset_layers("mlp")
    window = MainWindow(exp)
    qtbot.addWidget(window)
    assert window.model_panel.row_texts()[0][3] == "(768)"  # Flatten of 3x16x16
    window.data_panel.settings.height_spin.setValue(32)
    assert window.model_panel.row_texts()[0][3] == "(1536)"


def test_the_train_tab_shows_the_runs_notes(qtbot):
    panel = TrainPanel(Experiment())
    qtbot.addWidget(panel)
    note = ("layer 1 (Backbone resnet18): no pretrained weights found at /x/resnet18.pth; "
            "training from random weights")
    info = {"epochs": 1, "batches_per_epoch": 2, "device": "cpu", "num_train": 4,
            "num_val": 2, "classes": ["a", "b"], "num_params": 10, "cache": "off",
            "notes": [note]}
    panel.run.fit_started.emit(info)
    assert not panel.notes_label.isHidden()
    assert note in panel.notes_label.text() and panel.notes_label.level == "warning"
    panel.run.fit_started.emit({**info, "notes": []})
    assert panel.notes_label.isHidden()


def test_a_vit_at_a_size_off_its_patch_grid_turns_its_card_red(qtbot):
    # From a tester's day: the shape check raised, the cards kept resnet18's figures and
    # the panel still said "The layers fit together".
    exp = _backbone_experiment()
    exp.data.input_size = [120, 160]
    panel = _panel(qtbot, exp)
    card = panel.stack.cards[0]
    assert not card.misfit and "params" in card.params_label.text()
    panel.set_layer_params(0, {**card.form.values(), "arch": "timm/vit_tiny_patch16_224",
                               "weights": "random", "mode": "fine_tune"})
    panel.refresh()
    assert card.misfit and card.params_label.text() == ""
    for shown in (card.error_label.text(), panel.message.text(),
                  panel.doctor.findings[0].title):
        assert "timm/vit_tiny_patch16_224" in shown and "multiples of 16" in shown
        assert "128x160" in shown and "data.input_size" in shown
    assert "fit together" not in panel.message.text()


def test_a_weights_file_that_is_a_folder_or_garbage_is_a_red_note_on_its_card(qtbot,
                                                                               tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"garbage")
    panel = _panel(qtbot, _backbone_experiment())
    card = panel.stack.cards[0]
    panel.set_layer_params(0, {**card.form.values(), "weights": "pretrained",
                               "weights_file": str(garbage)})
    panel.refresh()
    text = card.notes_label.text()
    assert "cannot be read as weights" in text and "will be loaded" not in text
    assert "training will stop" in text and shown_level(card.notes_label) == "error"
    panel.set_layer_params(0, {**card.form.values(), "weights_file": str(tmp_path)})
    panel.refresh()
    text = card.notes_label.text()
    assert f"{tmp_path} is a folder: choose the .pth or .safetensors" in text
    assert "not found" not in text
