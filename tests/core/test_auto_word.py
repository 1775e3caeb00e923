"""The word "auto", which every card shows and messages say ("set out_features of layer 10
(Linear) to auto"), is taken as null in an experiment file and in ``--set``."""

from __future__ import annotations

import json

import pytest

from workbench.cli.common import UserError, apply_sets
from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.model.layers import LAYERS
from workbench.core.registry import Component


def test_auto_in_a_hand_edited_file_is_null(tmp_path, tiny_folder):
    layers = [{"type": "Conv2d", "params": {"in_channels": "auto", "out_channels": 4}},
              {"type": "MaxPool2d", "params": {"kernel_size": 2, "stride": "auto"}},
              {"type": "Flatten"},
              {"type": "Linear", "params": {"in_features": "auto", "out_features": "auto"}}]
    path = tmp_path / "hand.json"
    path.write_text(json.dumps({"data": {"folder": str(tiny_folder)},
                                "model": {"layers": layers, "preset": None}}))
    exp = Experiment.load(str(path)).validate()
    params = [c.params for c in exp.model.layers]
    assert params[0]["in_channels"] is None and params[1]["stride"] is None
    assert params[3]["in_features"] is None and params[3]["out_features"] is None


def test_auto_in_set_is_null(tiny_experiment):
    exp = tiny_experiment
    exp.model.layers[3] = Component("Linear", {"out_features": 5})
    exp = apply_sets(exp, ["model.layers[3].params.out_features=auto"])
    assert exp.model.layers[3].params["out_features"] is None


def test_auto_is_still_refused_where_a_setting_has_no_auto(tiny_experiment):
    with pytest.raises(SpecError, match=r"kernel_size: expected an integer, got 'auto'"):
        LAYERS.get("Conv2d").validate({"kernel_size": "auto"}, "params")
    exp = apply_sets(tiny_experiment, ["model.layers[1].params.out_features=auto"])
    assert exp.model.layers[1].params["out_features"] is None  # Linear's is auto
    with pytest.raises(UserError, match="--set training.epochs: expected an integer, "
                                        "got 'auto'"):
        apply_sets(tiny_experiment, ["training.epochs=auto"])
