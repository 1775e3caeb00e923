"""Model tab: leaving the resnet18 preset for one without a Backbone puts back the data and
training settings it set and nobody changed since (what the dataset chooses, or the
defaults), in the same undo step and with a note; the resnet18 note says when its weights
are missing; the Backbone card greys "Use this backbone's preprocessing" once in use."""

from __future__ import annotations

import pytest

from helpers import make_image_folder
from workbench.core.data.defaults import adopt_data_defaults
from workbench.core.data.scan import scan_folder
from workbench.core.data.summary import summarize_images
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment
from workbench.qt.panels.model.panel import ModelPanel

IMAGENET_MEAN = [0.485, 0.456, 0.406]


@pytest.fixture(autouse=True)
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no resnet18 weights here


def _panel(qtbot, folder: str | None = None) -> tuple[ModelPanel, Experiment]:
    """A Model tab over an experiment; given ``folder`` (40x40 images), its dataset is
    opened as the Data tab does: scanned, fitted to it, published."""
    exp = Experiment()
    current = CurrentExperiment(exp)
    if folder is not None:
        exp.data.folder = folder
        index = scan_folder(folder)
        summary = summarize_images([p for p, _ in index.samples])
        adopt_data_defaults(exp, index, summary)
        current.set_dataset(index)
        current.set_images_summary(folder, summary)
    panel = ModelPanel(current, num_classes=3)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.torch_ready, timeout=30000)
    return panel, exp


@pytest.fixture
def small(tmp_path):
    return make_image_folder(tmp_path / "small", per_class=4, size=40)


def test_a_plain_preset_after_resnet18_puts_back_what_the_dataset_chose(qtbot, small):
    panel, exp = _panel(qtbot, small)
    assert exp.data.input_size == [40, 40]
    panel.set_preset("resnet18")
    assert exp.data.input_size == [224, 224] and exp.training.feature_views == 2
    steps = panel.undo_stack.count()
    panel.set_preset("seed-cnn")
    assert panel.undo_stack.count() == steps + 1  # one step
    assert exp.data.input_size == [40, 40] and exp.data.channels == 3
    assert exp.data.mean == [0.5, 0.5, 0.5] and exp.data.std == [0.5, 0.5, 0.5]
    assert exp.training.feature_views == 0
    assert panel.input_shape() == (3, 40, 40)
    note = panel.presets.note
    assert note.isVisibleTo(panel)
    for said in ("Preset seed-cnn put back what the dataset chooses", "input 40×40",
                 "mean and std 0.5 (Data → Settings)", "feature_views 0 (Train → Device & run)",
                 "resnet18", "pretrained backbone", "Ctrl+Z"):
        assert said in note.text()
    panel.undo_action.trigger()
    assert exp.data.input_size == [224, 224] and exp.training.feature_views == 2
    assert exp.data.mean == pytest.approx(IMAGENET_MEAN) and exp.model.preset == "resnet18"
    assert not note.isVisibleTo(panel)


def test_settings_changed_since_the_backbone_preset_stay_and_are_named(qtbot, small):
    panel, exp = _panel(qtbot, small)
    panel.set_preset("resnet18")
    exp.data.input_size = [112, 112]  # the user's own choice on the Data tab
    panel.set_preset("seed-cnn")
    assert exp.data.input_size == [112, 112]
    assert exp.data.mean == [0.5, 0.5, 0.5] and exp.training.feature_views == 0
    text = panel.presets.note.text()
    assert "Kept as you changed them: input 112×112 (Data → Settings)" in text
    assert "input 40×40" not in text


def test_without_a_dataset_the_defaults_are_put_back(qtbot):
    panel, exp = _panel(qtbot)
    panel.set_preset("resnet18")
    panel.set_preset("seed-cnn")
    assert exp.data.input_size == [32, 32] and exp.data.mean == [0.5, 0.5, 0.5]
    assert "the experiment's defaults (no dataset is open): input 32×32" in \
        panel.presets.note.text()


def test_the_resnet18_note_says_its_weights_are_not_on_this_machine(qtbot):
    panel, _exp = _panel(qtbot)
    panel.set_preset("resnet18")
    assert "what the pretrained resnet18 expects (its pretrained weights are not on this " \
        "machine yet: see the card), input 224×224" in panel.presets.note.text()


def test_the_cards_preprocessing_button_is_greyed_while_the_data_settings_are_its(qtbot):
    panel, exp = _panel(qtbot)
    panel.set_preset("resnet18")
    panel.refresh()
    button = panel.stack.cards[0].preprocessing_button
    assert not button.isEnabled() and "use this backbone's preprocessing" in button.text()
    exp.data.mean, exp.data.std = [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]
    panel.refresh()
    assert button.isEnabled() and button.text() == "Use this backbone's preprocessing"
