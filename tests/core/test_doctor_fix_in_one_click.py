"""Model doctor fixes that take one click: a very high dropout on the raw input goes straight
to the input's rate, and hidden layers with a constant initialisation are one finding whose
fix randomises them all."""

from __future__ import annotations

import dataclasses

import pytest

from workbench.core.experiment import Experiment
from workbench.core.model.doctor import diagnose
from workbench.core.model.doctor_dropout import INPUT_FIX_P
from workbench.core.registry import Component as C

K = 10
DROPOUT_CODES = {"dropout-too-high", "dropout-drops-everything", "dropout-on-input",
                 "dropout-at-end"}
# Layers 1, 4 (Conv2d), 8 and 10 (Linear) are hidden weighted layers; 12 is the output.
NET = [("Conv2d", {"out_channels": 8}), ("ReLU", {}), ("MaxPool2d", {}),
       ("Conv2d", {"out_channels": 8}), ("ReLU", {}), ("AdaptiveAvgPool2d", {}),
       ("Flatten", {}), ("Linear", {"out_features": 16}), ("ReLU", {}),
       ("Linear", {"out_features": 16}), ("ReLU", {}), ("Linear", {})]
ZEROS = {"weight": {"type": "zeros", "params": {}}}


def _exp(layers) -> Experiment:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [C(t, dict(p)) for t, p in layers]
    return exp


def _fixed(exp: Experiment, finding) -> Experiment:
    fixed = exp.copy()
    finding.fix.apply(fixed)
    return fixed


@pytest.mark.parametrize("first", [[], [("Flatten", {})]])
@pytest.mark.parametrize("p", [0.9, 1.0])
def test_very_high_dropout_on_the_input_is_fixed_in_one_click(first, p):
    exp = _exp(first + [("Dropout", {"p": p})] + NET)
    [f] = [f for f in diagnose(exp, K) if f.code in DROPOUT_CODES]
    assert f.fix.label.endswith(f"Dropout) to {INPUT_FIX_P:g}")
    assert "raw pixels" in f.explanation
    fixed = _fixed(exp, f)
    assert fixed.model.layers[len(first)].params["p"] == INPUT_FIX_P
    assert [g for g in diagnose(fixed, K) if g.code in DROPOUT_CODES] == []


def test_very_high_dropout_between_layers_keeps_its_usual_fix():
    layers = [(t, dict(q)) for t, q in NET]
    layers.insert(8, ("Dropout", {"p": 0.9}))
    [f] = [f for f in diagnose(_exp(layers), K) if f.code in DROPOUT_CODES]
    assert f.fix.label == "Set p of layer 9 (Dropout) to 0.5"
    assert "raw pixels" not in f.explanation


@pytest.fixture
def layer_init():
    if "init" not in {f.name for f in dataclasses.fields(C)}:
        pytest.skip("Component has no per-layer init yet")


@pytest.mark.parametrize("global_init", ["default", "zeros"])
def test_several_constant_layers_are_one_finding_with_one_fix(layer_init, global_init):
    exp = _exp(NET)
    exp.init = C(global_init)
    for i in (0, 3, 7, 9):
        exp.model.layers[i].init = dict(ZEROS)
    found = [f for f in diagnose(exp, K) if f.code == "constant-init"]
    [f] = [f for f in found if f.layer is not None]
    assert f.layer == 0
    assert f.title == ("layers 1 (Conv2d), 4 (Conv2d), 8 (Linear) and 10 (Linear) start "
                       "from zeros initialisation (every weight 0)")
    assert f.fix.label == ("Use a random initialisation for layers 1 (Conv2d), 4 (Conv2d), "
                           "8 (Linear) and 10 (Linear)")
    assert [g.layer for g in found] == [0]  # every hidden layer has its own init
    fixed = _fixed(exp, f)
    assert [g for g in diagnose(fixed, K) if g.code == "constant-init"] == []
    assert all(fixed.model.layers[i].init == (None if global_init == "default" else
               {"weight": {"type": "default", "params": {}}}) for i in (0, 3, 7, 9))


def test_the_experiments_constant_init_fix_also_fixes_the_layers_own(layer_init):
    exp = _exp(NET)
    exp.init = C("zeros")
    exp.model.layers[3].init = dict(ZEROS)
    exp.model.layers[9].init = {"weight": {"type": "constant", "params": {"val": 0.1}}}
    [g] = [f for f in diagnose(exp, K) if f.code == "constant-init" and f.layer is None]
    assert "layers 4 (Conv2d) and 10 (Linear) also set a constant" in g.explanation
    fixed = _fixed(exp, g)
    assert fixed.init.type == "default"
    assert [f for f in diagnose(fixed, K) if f.code == "constant-init"] == []
    [f] = [f for f in diagnose(exp, K) if f.code == "constant-init" and f.layer is not None]
    assert f.title.startswith("layers 4 (Conv2d) and 10 (Linear) start from constant "
                              "initialisation")


def test_one_constant_layer_keeps_its_wording(layer_init):
    exp = _exp(NET)
    exp.model.layers[3].init = dict(ZEROS)
    [f] = [f for f in diagnose(exp, K) if f.code == "constant-init"]
    assert f.title == "layer 4 (Conv2d) starts from zeros initialisation (every weight 0)"
    assert f.fix.label == "Use a random initialisation for layer 4 (Conv2d)"
