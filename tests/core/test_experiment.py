"""The Experiment spec: JSON round-trip and messages that name the offending field."""

from __future__ import annotations

import json

import pytest

from workbench.core.errors import SpecError
from workbench.core.experiment import FORMAT_VERSION, Experiment
from workbench.core.registry import Component


def test_default_round_trips_through_json(tmp_path):
    exp = Experiment()
    exp.validate()
    path = tmp_path / "exp.json"
    exp.save(path)
    data = json.loads(path.read_text())
    assert data["format_version"] == FORMAT_VERSION
    again = Experiment.load(path)
    assert again == exp
    assert again.to_dict() == exp.to_dict()


def test_default_experiment_is_the_seed_cnn():
    exp = Experiment()
    types = [layer.type for layer in exp.model.layers]
    assert types == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten",
                     "Linear", "ReLU", "Linear"]


def test_validation_fills_component_defaults():
    exp = Experiment.from_dict({"optimizer": {"type": "SGD", "params": {"lr": 0.1}}})
    assert exp.optimizer.params["lr"] == 0.1
    assert "momentum" in exp.optimizer.params  # declared default filled in


def test_edited_values_survive_round_trip():
    exp = Experiment()
    exp.data.input_size = [28, 28]
    exp.data.channels = 1
    exp.data.mean, exp.data.std = [0.1307], [0.3081]
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": None})]
    exp.optimizer = Component("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True})
    exp.training.epochs = 3
    again = Experiment.from_json(exp.validate().to_json())
    assert again.data.input_size == [28, 28] and again.data.channels == 1
    assert again.optimizer.params["nesterov"] is True
    assert again.model.layers[1].params["out_features"] is None
    assert again.training.epochs == 3


@pytest.mark.parametrize("patch, field, words", [
    ({"data": {"batch_sise": 4}}, "data.batch_sise", "unknown field"),
    ({"bogus": 1}, "bogus", "unknown field"),
    ({"data": {"batch_size": "big"}}, "data.batch_size", "integer"),
    ({"data": {"batch_size": 0}}, "data.batch_size", "minimum"),
    ({"data": {"val_fraction": 1.5}}, "data.val_fraction", "maximum"),
    ({"data": {"channels": 2}}, "data.channels", "not one of"),
    ({"data": {"input_size": [32]}}, "data.input_size", "2 values"),
    # A hand edit's number where a list goes says how to write it (stop 31's note).
    ({"data": {"input_size": 200}}, "data.input_size",
     "expected a list of 2 whole numbers, e.g. [200, 200], got 200"),
    ({"augment": {"transforms": [{"type": "Resize", "params": {"size": "big"}}]}},
     "augment.transforms[0].params.size", "expected a list of 1 or 2 whole numbers, got"),
    ({"training": {"epochs": True}}, "training.epochs", "integer"),
    ({"training": {"device": "tpu"}}, "training.device", "not a device"),
    ({"optimizer": {"type": "Adamm"}}, "optimizer.type", "unknown optimizer"),
    ({"optimizer": {"type": "Adam", "params": {"lr": -1}}}, "optimizer.params.lr", "minimum"),
    ({"optimizer": {"type": "Adam", "params": {"momentum": 0.9}}},
     "optimizer.params.momentum", "unknown parameter"),
    ({"model": {"layers": [{"type": "Conv3x"}]}}, "model.layers[0].type", "unknown layer"),
    ({"model": {"layers": [{"type": "Linear", "params": {"out_features": "ten"}}]}},
     "model.layers[0].params.out_features", "integer"),
    ({"augment": {"transforms": [{"type": "RandomHorizontalFlip", "params": {"p": 2}}]}},
     "augment.transforms[0].params.p", "maximum"),
    ({"data": {"channels": 1}}, "data.mean", "channel"),
    ({"augment": {"transforms": [{"type": "RandomResizedCrop",
                                  "params": {"scale": [0.9, 0.5]}}]}},
     "augment.transforms[0].params.scale", "range"),
    ({"format_version": 99}, "format_version", "newer"),
])
def test_bad_values_are_rejected_naming_the_field(patch, field, words):
    with pytest.raises(SpecError) as err:
        Experiment.from_dict(patch)
    assert err.value.field == field
    assert words in str(err.value)
    assert str(err.value).startswith(field)


def test_bad_json_names_the_file_and_position(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"data": {"batch_size": 4,}}')
    with pytest.raises(SpecError) as err:
        Experiment.load(path)
    assert "broken.json" in str(err.value) and "line 1" in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        Experiment.load(tmp_path / "nope.json")


def test_json_that_is_not_an_object_is_rejected():
    with pytest.raises(SpecError, match="expected a JSON object"):
        Experiment.from_json("[1, 2]")
