"""Model tab: choosing the transfer-learning preset sets what its pretrained weights expect
(one undo step, with a note naming the controls), its weights file has a Choose… button and
keeps the preset's name, and the Train tab names the feature-views control by its tab."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from workbench.core.experiment import Experiment
from workbench.qt.common import MessageLabel
from workbench.qt.panels.model.panel import ModelPanel
from workbench.qt.panels.train.status import show_start_notes

IMAGENET_MEAN = [0.485, 0.456, 0.406]


@pytest.fixture(autouse=True)
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


def _panel(qtbot) -> tuple[ModelPanel, Experiment]:
    exp = Experiment()
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.torch_ready, timeout=30000)
    return panel, exp


def test_choosing_the_resnet18_preset_sets_its_preprocessing_in_one_undo_step(qtbot):
    panel, exp = _panel(qtbot)
    assert exp.data.input_size == [32, 32] and exp.data.mean == [0.5, 0.5, 0.5]
    steps = panel.undo_stack.count()
    with qtbot.waitSignal(panel.data_settings_changed):
        panel.set_preset("resnet18")
    assert panel.undo_stack.count() == steps + 1
    assert exp.data.input_size == [224, 224] and exp.data.mean == pytest.approx(IMAGENET_MEAN)
    assert exp.training.feature_views == 2
    assert panel.input_shape() == (3, 224, 224)
    note = panel.presets.note
    assert note.isVisibleTo(panel)
    for said in ("224×224", "Data → Settings", "feature_views 2 (Train → Device & run)",
                 "cached", "Ctrl+Z"):
        assert said in note.text()
    assert "training.feature_views" not in note.text()
    panel.undo_action.trigger()
    assert exp.data.input_size == [32, 32] and exp.data.mean == [0.5, 0.5, 0.5]
    assert exp.training.feature_views == 0 and exp.model.preset != "resnet18"
    assert not note.isVisibleTo(panel)
    panel.redo_action.trigger()
    assert exp.data.input_size == [224, 224] and exp.training.feature_views == 2
    # A change of the user's own afterwards stays; the doctor speaks of it instead.
    exp.data.input_size = [64, 64]
    panel.refresh()
    assert exp.data.input_size == [64, 64]


def test_the_weights_file_has_a_choose_button_and_keeps_the_presets_name(qtbot, tmp_path,
                                                                         monkeypatch):
    panel, exp = _panel(qtbot)
    panel.set_preset("resnet18")
    weights = tmp_path / "resnet18-f37072fd.pth"
    import torch

    torch.save({}, weights)  # a whole file (a cut-short one is said to be incomplete)
    asked = []

    def fake_dialog(parent, caption, start, filters):
        asked.append(filters)
        return str(weights), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_dialog))
    card = panel.stack.cards[0]
    button = card.weights_button
    assert button is not None and button.text() == "Choose…"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert ".pth" in asked[0] and ".safetensors" in asked[0]
    assert exp.model.layers[0].params["weights_file"] == str(weights)
    assert panel.preset_combo.currentText() == "resnet18"  # not "(custom)"
    panel.refresh()
    assert "will be loaded from" in panel.stack.cards[0].notes_label.text()


def test_the_train_tab_names_the_feature_views_control_by_its_tab(qtbot):
    label = MessageLabel("")
    qtbot.addWidget(label)
    show_start_notes(label, ["Backbone features are computed every batch: the training "
                             "augmentation is random. Set training.feature_views to K to "
                             "compute K augmented views."])
    assert "Set feature_views (Train → Device & run) to K" in label.text()
    assert "training.feature_views" not in label.text()
