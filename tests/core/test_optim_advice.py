"""Learning-rate (and weight-decay) advice before a run starts: the thresholds per optimizer
family, the suggested value, and odd parameters that must never raise."""

from __future__ import annotations

import pytest

from workbench.core.registry import Component
from workbench.core.train.optim import OPTIMIZERS
from workbench.core.train.optim_advice import fmt, optimizer_advice


def advice(name, **params):
    return optimizer_advice(Component(name, params))


def test_adam_at_lr_10_warns_that_it_will_diverge_and_suggests_its_default():
    a = advice("Adam", lr=10)
    assert a is not None and a.severity == "warning" and a.param == "lr"
    assert a.value == 10 and a.suggested == pytest.approx(0.001)
    assert a.message.startswith("lr 10 is very high for Adam")
    assert "diverge" in a.message and "about 0.001" in a.message
    assert a.fix_label == "Use lr 0.001"


@pytest.mark.parametrize("name, lr", [("Adam", 1e-3), ("AdamW", 3e-4), ("SGD", 0.1),
                                      ("SGD", 0.5), ("RMSprop", 1e-4), ("Adam", 0.03)])
def test_usual_rates_are_left_alone(name, lr):
    assert advice(name, lr=lr) is None


def test_every_optimizer_is_silent_at_its_defaults():
    for entry in OPTIMIZERS:
        assert optimizer_advice(Component(entry.name, entry.defaults())) is None, entry.name
        assert optimizer_advice(Component(entry.name, {})) is None, entry.name


def test_sgd_warns_only_far_above_what_adam_tolerates():
    assert advice("SGD", lr=5).message.startswith("lr 5 is very high for SGD")
    assert advice("SGD", lr=5).suggested == pytest.approx(0.01)  # SGD's default
    assert advice("Adam", lr=0.1) is not None and advice("SGD", lr=0.1) is None


@pytest.mark.parametrize("name", ["Adam", "SGD", "NAdam"])
def test_a_tiny_rate_warns_that_the_weights_barely_move(name):
    a = advice(name, lr=1e-8)
    assert a is not None and "1e-8 is very low" in a.message and "barely move" in a.message
    assert a.suggested == pytest.approx(OPTIMIZERS.get(name).param("lr").default)


def test_lr_0_says_nothing_is_learnt():
    a = advice("Adam", lr=0)
    assert a is not None and "learn nothing" in a.message and a.suggested == 0.001


def test_an_optimizer_of_no_known_family_uses_its_default_times_100_and_over_1000():
    # Adadelta's lr is a multiplier (default 1): 10 is within 100x, 1e-4 below 1/1000.
    assert advice("Adadelta", lr=10) is None
    a = advice("Adadelta", lr=1e-4)
    assert a is not None and a.suggested == 1.0 and "about 1" in a.message


def test_a_huge_weight_decay_warns_after_the_rate():
    a = advice("Adam", weight_decay=0.5)
    assert a is not None and a.param == "weight_decay" and a.suggested == pytest.approx(5e-4)
    assert "AdamW" in a.message and a.fix_label == "Use weight_decay 0.0005"
    assert advice("SGD", weight_decay=5e-4) is None
    assert advice("AdamW", weight_decay=0.1) is None  # decoupled: 0.1 is ordinary
    assert advice("AdamW", weight_decay=1.0).suggested == pytest.approx(0.01)
    assert advice("Adam", lr=10, weight_decay=0.5).param == "lr"  # the worse one first


@pytest.mark.parametrize("spec", [
    Component("Adam", {"lr": "fast"}), Component("Adam", {"lr": None}),
    Component("Adam", {"lr": -1.0}), Component("Adam", {"lr": float("nan")}),
    Component("Adam", {"lr": True}), Component("Adam", {"lr": 11.0}),
    Component("Adam", {"lr": [1, 2]}), Component("Adam", None),
    Component("Adam", "lr=10"), Component("NoSuchOptimizer", {"lr": 10}),
    Component(None, {}), None, "Adam", {"type": "Adam", "params": {"lr": 10}},
])
def test_odd_params_never_raise_and_get_no_advice(spec):
    assert optimizer_advice(spec) is None


def test_rates_are_written_as_a_person_writes_them():
    assert [fmt(v) for v in (10, 0.001, 1e-5, 2.5e-7, 0.05)] == \
        ["10", "0.001", "1e-5", "2.5e-7", "0.05"]
