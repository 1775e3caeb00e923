"""Leaving a pretrained-Backbone preset for a plain one puts back what the Backbone's preset
set and nobody changed since: the dataset's own choice (here grayscale 40x40 images: 1
channel), or the experiment's defaults without a dataset; what the user changed stays."""

from __future__ import annotations

from helpers import make_image_folder
from workbench.core.data.defaults import adopt_data_defaults
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.core.model.preset_settings import apply_preset_changes, preset_changes
from workbench.core.model.presets import preset_experiment, preset_layers


def _choose(exp: Experiment, name: str, dataset=None):
    changes = preset_changes(name, preset_layers(name), exp, dataset)
    exp.model.layers, exp.model.preset = preset_layers(name), name
    apply_preset_changes(exp, changes)
    return changes


def test_a_plain_preset_puts_back_the_datasets_choice_for_it(tmp_path):
    folder = make_image_folder(tmp_path / "gray", per_class=3, size=40, mode="L")
    index = scan_folder(folder)
    exp = Experiment()
    exp.data.folder = folder
    adopt_data_defaults(exp, index)
    assert (exp.data.input_size, exp.data.channels) == ([40, 40], 1)
    _choose(exp, "resnet18", (index, None))
    assert (exp.data.input_size, exp.data.channels) == ([224, 224], 3)
    changes = _choose(exp, "seed-cnn", (index, None))
    assert (exp.data.input_size, exp.data.channels) == ([40, 40], 1)
    assert exp.data.mean == [0.5] and exp.data.std == [0.5]
    assert exp.training.feature_views == 0
    assert changes.left == "resnet18" and changes.source == "dataset" and not changes.kept
    assert "put back" in changes.describe()


def test_what_the_user_changed_stays_and_without_a_dataset_the_defaults_come_back():
    exp = preset_experiment("resnet18")
    exp.training.feature_views = 4  # the user's
    changes = _choose(exp, "seed-cnn")
    assert exp.data.input_size == Experiment().data.input_size
    assert exp.data.mean == Experiment().data.mean and exp.training.feature_views == 4
    assert changes.source == "defaults" and changes.kept == {"training.feature_views": 4}


def test_init_of_a_plain_preset_starts_fresh():
    assert preset_experiment("seed-cnn").to_dict() == preset_experiment("seed-cnn").to_dict()
    changes = preset_changes("seed-cnn", preset_layers("seed-cnn"), Experiment())
    assert not changes.changes and not changes.put_back and not changes.kept
