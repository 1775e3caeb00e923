"""The model doctor's dropout-rate checks: each fires on a bad rate, stays quiet on a usual
one, never repeats what another dropout finding already says, and its fix makes it go away."""

from __future__ import annotations

import pytest

from workbench.core.experiment import Experiment
from workbench.core.model.doctor import diagnose
from workbench.core.model.doctor_checks import CHECKS
from workbench.core.model.doctor_dropout import check_high_dropout, check_input_dropout
from workbench.core.model.findings import Finding
from workbench.core.model.layers import LAYERS
from workbench.core.model.presets import list_presets, preset_layers
from workbench.core.registry import Component as C

K = 10
CNN = [("Conv2d", {"out_channels": 8}), ("ReLU", {}), ("MaxPool2d", {}), ("Dropout2d", {}),
       ("Flatten", {}), ("Dropout", {}), ("Linear", {"out_features": 32}), ("ReLU", {}),
       ("Linear", {})]  # layer 3 is the Dropout2d, 5 the Dropout
DROPOUT_CODES = {"dropout-too-high", "dropout-drops-everything", "dropout-on-input",
                 "dropout-at-end"}


def _exp(layers) -> Experiment:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [C(t, dict(p)) for t, p in layers]
    return exp


def _with(index: int, p: float, layers=CNN) -> Experiment:
    layers = [(t, dict(q)) for t, q in layers]
    layers[index][1]["p"] = p
    return _exp(layers)


def _dropout_findings(exp: Experiment) -> list[Finding]:
    return [f for f in diagnose(exp, K) if f.code in DROPOUT_CODES]


def _fixed(exp: Experiment, finding: Finding) -> Experiment:
    fixed = exp.copy()
    finding.fix.apply(fixed)
    return fixed


def test_the_checks_are_run_by_the_doctor():
    assert check_high_dropout in CHECKS and check_input_dropout in CHECKS


def test_usual_rates_and_every_preset_are_not_flagged():
    assert _dropout_findings(_exp(CNN)) == []  # the registry's defaults: 0.2 and 0.5
    assert _dropout_findings(_with(5, 0.7)) == [] and _dropout_findings(_with(3, 0.79)) == []
    for name, _ in list_presets():
        exp = Experiment()
        exp.model.layers = preset_layers(name)
        assert _dropout_findings(exp) == [], name


@pytest.mark.parametrize("index, kind, what, safe", [(5, "Dropout", "inputs", 0.5),
                                                     (3, "Dropout2d", "channels", 0.2)])
def test_a_rate_of_0_8_or_more_is_a_warning_with_a_safe_rate_as_fix(index, kind, what, safe):
    exp = _with(index, 0.9)
    [f] = _dropout_findings(exp)
    assert (f.code, f.severity, f.layer) == ("dropout-too-high", "warning", index)
    assert f.title == (f"layer {index + 1} ({kind}) drops 90% of its {what}: the layers "
                       f"after it see almost nothing")
    assert "only 10% get through" in f.explanation and "slow and noisy" in f.explanation
    assert f.fix.label == f"Set p of layer {index + 1} ({kind}) to {safe:g}"
    fixed = _fixed(exp, f)
    assert fixed.model.layers[index].params["p"] == safe
    assert _dropout_findings(fixed) == []
    assert [f.code for f in _dropout_findings(_with(index, 0.8))] == ["dropout-too-high"]


def test_a_rate_of_1_passes_nothing_and_says_so():
    assert LAYERS.get("Dropout").validate({"p": 1.0})["p"] == 1.0  # allowed: hence the check
    exp = _with(5, 1.0)
    [f] = _dropout_findings(exp)
    assert (f.code, f.severity, f.layer) == ("dropout-drops-everything", "warning", 5)
    assert f.title == ("layer 6 (Dropout) drops all of its inputs (p = 1): nothing passes "
                       "during training")
    assert "no longer depends on the image" in f.explanation
    assert "no gradient" in f.explanation
    assert _dropout_findings(_fixed(exp, f)) == []


def test_dropout_after_the_last_learned_layer_is_told_once():
    # dropout-at-end's fix (remove it) is the fix whatever the rate: no second finding.
    exp = _exp(CNN + [("Dropout", {"p": 0.95})])
    assert [(f.code, f.layer) for f in _dropout_findings(exp)] == [("dropout-at-end", 9)]
    exp = _exp(CNN + [("Dropout", {"p": 1.0})])
    assert [(f.code, f.layer) for f in _dropout_findings(exp)] == [("dropout-at-end", 9)]


@pytest.mark.parametrize("layers, unit", [
    ([("Dropout", {"p": 0.5}), ("Flatten", {}), ("Linear", {})], "pixels"),
    ([("Flatten", {}), ("Dropout", {"p": 0.6}), ("Linear", {})], "pixels"),  # still pixels
    ([("Dropout2d", {"p": 0.5}), ("Conv2d", {}), ("ReLU", {}), ("Flatten", {}),
      ("Linear", {})], "colour channels")])
def test_half_the_pixels_dropped_before_any_layer_is_an_info(layers, unit):
    exp = _exp(layers)
    [f] = _dropout_findings(exp)
    i = next(i for i, (t, _) in enumerate(layers) if t.startswith("Dropout"))
    assert (f.code, f.severity, f.layer) == ("dropout-on-input", "info", i)
    assert f"of the image's {unit} before any layer" in f.title
    assert "RandomErasing" in f.explanation
    fixed = _fixed(exp, f)
    assert fixed.model.layers[i].params["p"] == 0.2
    assert _dropout_findings(fixed) == []


def test_input_dropout_rules():
    # A usual rate on the input is fine; after a learned layer 0.5 is fine; 0.8 on the input
    # is the warning only (one finding per layer and reason).
    assert _dropout_findings(_exp([("Dropout", {"p": 0.2}), ("Flatten", {}),
                                   ("Linear", {})])) == []
    assert _dropout_findings(_exp([("Flatten", {}), ("Linear", {"out_features": 8}),
                                   ("ReLU", {}), ("Dropout", {"p": 0.5}),
                                   ("Linear", {})])) == []
    exp = _exp([("Dropout", {"p": 0.85}), ("Flatten", {}), ("Linear", {})])
    assert [f.code for f in _dropout_findings(exp)] == ["dropout-too-high"]
    # The rate left at the default counts as that default (Dropout's is 0.5).
    exp = _exp([("Dropout", {}), ("Flatten", {}), ("Linear", {})])
    assert [f.code for f in _dropout_findings(exp)] == ["dropout-on-input"]


def test_unreadable_rates_and_fixes_on_a_changed_network_do_nothing():
    assert _dropout_findings(_with(5, "high")) == []
    assert _dropout_findings(_with(5, True)) == []
    exp = _with(5, 0.9)
    [f] = _dropout_findings(exp)
    moved = exp.copy()
    del moved.model.layers[0]
    before = [(c.type, dict(c.params)) for c in moved.model.layers]
    f.fix.apply(moved)  # layer 6 is no longer the Dropout: left alone
    assert [(c.type, dict(c.params)) for c in moved.model.layers] == before
