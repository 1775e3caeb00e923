"""Init schemes: what each does to the weights and biases, statistically."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from workbench.core.errors import SpecError
from workbench.core.experiment import Component
from workbench.core.model.init import INITS, apply_init

FAN_IN, FAN_OUT = 512, 128


def _model() -> nn.Sequential:
    # A Linear whose fan-in and fan-out differ (to tell the modes apart), a conv, a BatchNorm
    # and a nested container, so apply_init must walk submodules.
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(16, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.Flatten(),
                         nn.Sequential(nn.Linear(FAN_IN, FAN_OUT), nn.Linear(FAN_OUT, 10)))


def _linear(model: nn.Sequential) -> nn.Linear:
    return model[4][0]


def _init(name: str, **params) -> nn.Sequential:
    model = _model()
    apply_init(model, Component(name, params), torch.Generator().manual_seed(1))
    return model


def test_registry_holds_every_scheme():
    assert INITS.names() == ["default", "zeros", "uniform", "normal", "xavier_uniform",
                             "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal"]
    for entry in INITS:
        assert entry.help
        assert all(p.help for p in entry.params)


def test_default_leaves_the_model_untouched():
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    apply_init(model, Component("default"))
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    # and PyTorch's default Linear init is not zero biases: the check above means something
    assert _linear(model).bias.abs().sum() > 0


def test_zeros_gives_zero_weights_and_biases_but_keeps_batchnorm():
    model = _init("zeros")
    for m in (model[0], _linear(model), model[4][1]):
        assert torch.count_nonzero(m.weight) == 0
        assert torch.count_nonzero(m.bias) == 0
    assert torch.equal(model[1].weight, torch.ones(64))  # BatchNorm scale stays 1


def _biases_zero(model):
    for m in (model[0], _linear(model), model[4][1]):
        assert torch.count_nonzero(m.bias) == 0


def test_uniform():
    model = _init("uniform", a=-0.2, b=0.1)
    w = _linear(model).weight
    assert w.min() >= -0.2 and w.max() <= 0.1
    assert w.mean().item() == pytest.approx(-0.05, abs=0.005)
    assert w.std().item() == pytest.approx(0.3 / math.sqrt(12), rel=0.05)
    assert model[0].weight.min() >= -0.2 and model[0].weight.max() <= 0.1
    _biases_zero(model)


def test_uniform_needs_a_below_b():
    with pytest.raises(SpecError) as info:
        apply_init(_model(), Component("uniform", {"a": 0.5, "b": 0.1}))
    assert info.value.field == "init.params.b"


def test_normal():
    model = _init("normal", mean=0.3, std=0.02)
    w = _linear(model).weight
    assert w.mean().item() == pytest.approx(0.3, abs=0.002)
    assert w.std().item() == pytest.approx(0.02, rel=0.05)
    _biases_zero(model)


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal"])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(name, gain):
    model = _init(name, gain=gain)
    w = _linear(model).weight
    expected = gain * math.sqrt(2.0 / (FAN_IN + FAN_OUT))
    assert w.std().item() == pytest.approx(expected, rel=0.05)
    assert abs(w.mean().item()) < 0.05 * expected
    if name == "xavier_uniform":
        assert w.abs().max().item() <= expected * math.sqrt(3) + 1e-6
    conv = model[0].weight  # fan_in = 16*3*3, fan_out = 64*3*3
    assert conv.std().item() == pytest.approx(gain * math.sqrt(2.0 / (144 + 576)), rel=0.05)
    _biases_zero(model)


@pytest.mark.parametrize("name", ["kaiming_uniform", "kaiming_normal"])
@pytest.mark.parametrize("mode, fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT)])
def test_kaiming_relu(name, mode, fan):
    model = _init(name, mode=mode, nonlinearity="relu")
    w = _linear(model).weight
    expected = math.sqrt(2.0 / fan)
    assert w.std().item() == pytest.approx(expected, rel=0.05)
    if name == "kaiming_uniform":
        assert w.abs().max().item() <= expected * math.sqrt(3) + 1e-6
    conv_fan = 16 * 9 if mode == "fan_in" else 64 * 9
    assert model[0].weight.std().item() == pytest.approx(math.sqrt(2.0 / conv_fan), rel=0.05)
    _biases_zero(model)


def test_kaiming_leaky_relu_uses_a():
    w = _linear(_init("kaiming_normal", a=0.5, nonlinearity="leaky_relu")).weight
    assert w.std().item() == pytest.approx(math.sqrt(2.0 / (1 + 0.25) / FAN_IN), rel=0.05)


def test_kaiming_defaults_differ_from_pytorch_default():
    # PyTorch's own Linear init has std sqrt(1 / (3 fan_in)), He's sqrt(2 / fan_in).
    default = _linear(_model()).weight.std().item()
    he = _linear(_init("kaiming_uniform")).weight.std().item()
    assert default == pytest.approx(math.sqrt(1 / (3 * FAN_IN)), rel=0.05)
    assert he == pytest.approx(math.sqrt(2 / FAN_IN), rel=0.05)


@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal(gain):
    model = _init("orthogonal", gain=gain)
    w = _linear(model).weight  # 128 x 512: orthonormal rows, scaled by gain
    assert torch.allclose(w @ w.T, gain ** 2 * torch.eye(FAN_OUT), atol=1e-4)
    conv = model[0].weight.flatten(1)  # 64 x 144
    assert torch.allclose(conv @ conv.T, gain ** 2 * torch.eye(64), atol=1e-4)
    _biases_zero(model)


def test_generator_makes_it_reproducible():
    a = _init("kaiming_normal")
    b = _init("kaiming_normal")
    assert torch.equal(_linear(a).weight, _linear(b).weight)
    c = _model()
    apply_init(c, Component("kaiming_normal"), torch.Generator().manual_seed(2))
    assert not torch.equal(_linear(a).weight, _linear(c).weight)


def test_unknown_scheme_and_bad_params():
    with pytest.raises(SpecError) as info:
        apply_init(_model(), Component("he"))
    assert info.value.field == "init.type" and "kaiming_normal" in str(info.value)
    with pytest.raises(SpecError) as info:
        apply_init(_model(), Component("kaiming_normal", {"mode": "fan_both"}))
    assert info.value.field == "init.params.mode"
    with pytest.raises(SpecError):
        apply_init(_model(), Component("normal", {"std": -1.0}))
