"""Optimizers: every registry entry builds, steps, and passes its declared settings on."""

from __future__ import annotations

import pytest
import torch

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.optim import OPTIMIZERS, build_optimizer, optimizer_lr


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def _step(model: torch.nn.Module, opt: torch.optim.Optimizer) -> None:
    opt.zero_grad()
    model(torch.randn(5, 4)).pow(2).mean().backward()
    opt.step()


def _other_value(p):
    """A valid value different from the declared default."""
    if p.type is bool:
        return not p.default
    if p.type is list:
        return [0.8, 0.95]
    if p.type is float:
        return p.default * 0.5 if p.default else 0.01
    raise AssertionError(f"no test value for {p.name} ({p.type})")


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_builds_from_defaults_and_steps(name):
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    opt = build_optimizer(Component(name, {}), model.parameters())
    _step(model, opt)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert opt.defaults["lr"] == pytest.approx(OPTIMIZERS.get(name).defaults()["lr"])


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_declared_settings_reach_the_torch_optimizer(name):
    entry = OPTIMIZERS.get(name)
    params = {p.name: _other_value(p) for p in entry.params}
    if name == "SGD":
        params["dampening"] = 0.0  # Nesterov (switched on) requires it
    opt = build_optimizer(Component(name, params), _model().parameters())
    for key, value in params.items():
        got = opt.defaults[key]
        if isinstance(value, list):
            assert list(got) == pytest.approx(value), key
        else:
            assert got == pytest.approx(value), key


def test_every_setting_explains_itself():
    for entry in OPTIMIZERS:
        assert entry.help, entry.name
        for p in entry.params:
            assert len(p.help) > 20, f"{entry.name}.{p.name}"


def test_parameter_groups_keep_their_own_lr():
    model = _model()
    groups = [{"params": list(model[0].parameters()), "lr": 0.1},
              {"params": list(model[2].parameters()), "lr": 0.01}]
    for name in OPTIMIZERS.names():
        opt = build_optimizer(Component(name, {"lr": 0.5}), groups)
        assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01], name


def test_nesterov_with_dampening_is_refused_by_name():
    with pytest.raises(SpecError, match="dampening") as e:
        build_optimizer(Component("SGD", {"nesterov": True, "dampening": 0.1}),
                        _model().parameters())
    assert e.value.field == "optimizer.params.dampening"


def test_nesterov_without_momentum_falls_back_to_plain_sgd():
    opt = build_optimizer(Component("SGD", {"nesterov": True, "momentum": 0.0}),
                          _model().parameters())
    assert opt.defaults["nesterov"] is False


@pytest.mark.parametrize("params, field", [
    ({"betas": [0.9]}, "optimizer.params.betas"),
    ({"betas": [0.9, 1.5]}, "optimizer.params.betas[1]"),
    ({"amsgrad": "yes"}, "optimizer.params.amsgrad"),
])
def test_bad_adam_settings_name_the_field(params, field):
    with pytest.raises(SpecError) as e:
        Experiment.from_dict({"optimizer": {"type": "Adam", "params": params}})
    assert e.value.field == field


def test_optimizer_lr_reads_the_set_or_default_lr():
    assert optimizer_lr(Component("RMSprop", {"lr": 0.003})) == 0.003
    assert optimizer_lr(Component("Adadelta", {})) == 1.0


def test_log_softmax_output_gets_nll_loss_with_the_same_value():
    import torch
    from workbench.core.train.optim import build_loss, loss_note

    torch.manual_seed(0)
    logits, target = torch.randn(6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    ce = build_loss(Component("CrossEntropy"))
    nll = build_loss(Component("CrossEntropy"), log_probs=True)
    assert isinstance(nll, torch.nn.NLLLoss)
    log_probs = torch.log_softmax(logits, 1)
    assert torch.allclose(nll(log_probs, target), ce(logits, target))
    soft = torch.softmax(torch.randn(6, 3), 1)  # MixUp/CutMix targets
    assert torch.allclose(nll(log_probs, soft), ce(logits, soft))
    assert "NLLLoss" in loss_note(Component("CrossEntropy"), True)
    assert loss_note(Component("CrossEntropy"), False) == ""


def test_class_weights_are_used_and_checked_against_the_classes():
    import torch
    from workbench.core.errors import SpecError
    from workbench.core.train.optim import build_loss

    spec = Component("CrossEntropy", {"class_weights": [1.0, 3.0]})
    loss = build_loss(spec, num_classes=2)
    assert torch.equal(loss.weight, torch.tensor([1.0, 3.0]))
    with pytest.raises(SpecError, match="loss.params.class_weights.*2 weights.*3 classes"):
        build_loss(spec, num_classes=3)
    with pytest.raises(SpecError, match="every weight is 0"):
        build_loss(Component("CrossEntropy", {"class_weights": [0.0, 0.0]}), num_classes=2)
