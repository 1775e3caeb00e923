"""The seed-cnn, the app's good first model, has one Model doctor finding: a tip (info)
about its large Linear layer, worded as a tip, which ``workbench train`` does not print
(the app's title says "no problems found; 1 tip")."""

from __future__ import annotations

from workbench.core.experiment import Experiment
from workbench.core.model.doctor import diagnose, network_check
from workbench.core.model.presets import preset_layers


def test_the_seed_cnns_big_linear_layer_is_a_tip_not_a_problem():
    exp = Experiment()
    exp.data.input_size = [32, 32]
    exp.model.layers = preset_layers("seed-cnn")
    [f] = diagnose(exp, 4)
    assert (f.code, f.severity) == ("dominant-layer", "info")
    assert "not a mistake" in f.explanation
    assert "training accuracy runs far ahead of the validation accuracy" in f.explanation
    assert "64x8x8" in f.explanation and "MaxPool2d" in f.explanation  # what to do
    assert network_check(exp, 4) == (False, [])  # the CLI says nothing about it
