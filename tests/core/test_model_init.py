"""Init schemes: what each does to the weights and biases, statistically."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from workbench.core.errors import SpecError
from workbench.core.registry import Component
from workbench.core.model.init import (INITS, apply_init, recommended_init,
                                       recommended_scheme, validate_layer_init)

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
    assert INITS.names() == ["default", "zeros", "constant", "uniform", "normal",
                             "xavier_uniform", "xavier_normal", "kaiming_uniform",
                             "kaiming_normal", "orthogonal"]
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


def test_constant():
    model = _init("constant", val=0.25)
    assert torch.all(_linear(model).weight == 0.25) and torch.all(model[0].weight == 0.25)
    _biases_zero(model)


# -- a layer's own init ------------------------------------------------------------------

def _layers(**inits) -> tuple[nn.Sequential, list[Component]]:
    """model[i] is layer i, as build_network makes it; ``inits`` maps "l<i>" to an init."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 6 * 6, 32), nn.Tanh(), nn.Linear(32, 4, bias=False))
    layers = [Component(t) for t in ("Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear",
                                     "Tanh", "Linear")]
    for key, value in inits.items():
        layers[int(key[1:])].init = value
    return model, layers


def test_a_layers_own_init_overrides_the_global_scheme_for_that_layer_only():
    model, layers = _layers(l4={"weight": {"type": "normal", "params": {"mean": 1.0,
                                                                       "std": 0.01}},
                                "bias": {"type": "constant", "params": {"val": 0.1}}})
    apply_init(model, Component("xavier_uniform"), torch.Generator().manual_seed(0), layers)
    assert model[4].weight.mean().item() == pytest.approx(1.0, abs=0.01)
    assert torch.all(model[4].bias == 0.1)
    # the others keep the global behaviour: xavier weights, zero biases, BatchNorm untouched
    assert model[0].weight.std().item() == pytest.approx(math.sqrt(2 / (27 + 72)), rel=0.1)
    assert torch.count_nonzero(model[0].bias) == 0
    assert torch.equal(model[1].weight, torch.ones(8))
    assert model[6].weight.std().item() == pytest.approx(math.sqrt(2 / 36), rel=0.15)


def test_a_layer_bias_follows_its_weight_scheme_unless_given():
    model, layers = _layers(l0={"weight": "orthogonal"}, l4={"weight": "default"})
    pytorch_linear = model[4].weight.detach().clone(), model[4].bias.detach().clone()
    apply_init(model, Component("kaiming_normal"), None, layers)
    assert torch.count_nonzero(model[0].bias) == 0  # a scheme: bias zeroed, as globally
    w = model[0].weight.flatten(1)
    assert torch.allclose(w @ w.T, torch.eye(8), atol=1e-4)
    # default: this layer keeps PyTorch's weight and bias although the global is kaiming
    assert torch.equal(model[4].weight, pytorch_linear[0])
    assert torch.equal(model[4].bias, pytorch_linear[1])


def test_only_a_bias_keeps_the_global_weight():
    model, layers = _layers(l4={"bias": {"type": "uniform", "params": {"a": 0.1, "b": 0.2}}})
    apply_init(model, Component("constant", {"val": 0.3}), None, layers)
    assert torch.all(model[4].weight == 0.3)
    assert model[4].bias.min() >= 0.1 and model[4].bias.max() <= 0.2


def test_batchnorm_scale_can_take_a_constant():
    # "zero-init the last BatchNorm" trick: a 1-D weight with a scheme that needs no matrix
    model, layers = _layers(l1={"weight": {"type": "constant", "params": {"val": 0.0}}})
    apply_init(model, Component("default"), None, layers)
    assert torch.count_nonzero(model[1].weight) == 0 and torch.count_nonzero(model[1].bias) == 0


@pytest.mark.parametrize("inits, field, words", [
    ({"l4": {"bias": "kaiming_normal"}}, "model.layers[4].init.bias.type",
     "a bias is 1-D: use zeros, constant, normal or uniform"),
    ({"l4": {"bias": {"type": "xavier_uniform"}}}, "model.layers[4].init.bias.type",
     "needs a weight matrix"),
    ({"l1": {"weight": "xavier_normal"}}, "model.layers[1].init.weight.type",
     "layer 2 (BatchNorm2d)'s weight is 1-D"),
    ({"l2": {"weight": "normal"}}, "model.layers[2].init.weight",
     "layer 3 (ReLU) has no weight to initialise"),
    ({"l6": {"bias": "zeros"}}, "model.layers[6].init.bias", "has no bias (bias is off)"),
    ({"l4": {"weight": "he"}}, "model.layers[4].init.weight.type", "unknown init 'he'"),
    ({"l4": {"wieght": "normal"}}, "model.layers[4].init.wieght", "has weight and bias"),
    ({"l4": {"weight": {"type": "uniform", "params": {"a": 1.0, "b": 0.0}}}},
     "model.layers[4].init.weight.params.b", "must be above"),
    ({"l4": {"weight": {"type": "normal", "params": {"sd": 1.0}}}},
     "model.layers[4].init.weight.params.sd", "unknown parameter"),
])
def test_a_bad_layer_init_names_its_field_and_changes_nothing(inits, field, words):
    model, layers = _layers(**inits)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(SpecError) as info:
        apply_init(model, Component("kaiming_normal"), None, layers)
    assert info.value.field == field and words in str(info.value)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_validate_layer_init_fills_defaults_and_accepts_shorthand():
    assert validate_layer_init({"weight": "kaiming_uniform", "bias": "zeros"}) == {
        "weight": {"type": "kaiming_uniform",
                   "params": {"a": 0.0, "mode": "fan_in", "nonlinearity": "relu"}},
        "bias": {"type": "zeros", "params": {}}}
    with pytest.raises(SpecError) as info:
        validate_layer_init(["normal"], "model.layers[0].init")
    assert info.value.field == "model.layers[0].init"


def test_unknown_keys_of_mixed_types_are_named_not_a_type_error():
    # Called directly (not through Experiment.from_dict, whose JSON keys are strings).
    with pytest.raises(SpecError) as info:
        validate_layer_init({1: "zeros", "x": "zeros"}, "model.layers[0].init")
    assert info.value.field == "model.layers[0].init.1"
    with pytest.raises(SpecError) as info:
        validate_layer_init({"weight": {"type": "zeros", 2: 0, "y": 0}}, "init")
    assert info.value.field == "init.weight.2"


def test_a_layers_init_is_reproducible_with_a_seed_and_differs_without():
    def run(seed):
        model, layers = _layers(l4={"weight": "kaiming_normal", "bias": "normal"})
        apply_init(model, Component("xavier_normal"), torch.Generator().manual_seed(seed),
                   layers)
        return model

    a, b, c = run(3), run(3), run(4)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    assert not torch.equal(a[4].weight, c[4].weight)
    assert not torch.equal(a[4].bias, c[4].bias)


def test_global_scheme_keeps_a_pretrained_modules_weights():
    inner = nn.Sequential(nn.Conv2d(3, 4, 3))
    inner.workbench_keep_init = True
    model = nn.Sequential(inner, nn.Flatten(), nn.Linear(4, 2))
    kept = inner[0].weight.detach().clone()
    apply_init(model, Component("zeros"))
    assert torch.equal(inner[0].weight, kept)
    assert torch.count_nonzero(model[2].weight) == 0


def test_trainer_applies_a_layers_init_reproducibly(tiny_experiment):
    from workbench.core.train.trainer import Callback, Trainer

    class Snapshot(Callback):
        def on_fit_start(self, trainer, info):
            self.state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
            trainer.request_stop()  # the initial weights are all this test needs

    exp = tiny_experiment
    exp.init = Component("kaiming_normal")
    exp.model.layers[1].init = {"bias": {"type": "constant", "params": {"val": 0.05}}}
    exp.model.layers[3].init = {"weight": {"type": "constant", "params": {"val": 0.5}}}
    first, second = Snapshot(), Snapshot()
    Trainer(exp, [first]).fit()
    Trainer(exp, [second]).fit()
    assert torch.all(first.state["1.bias"] == 0.05)
    assert torch.all(first.state["3.weight"] == 0.5)
    assert torch.count_nonzero(first.state["3.bias"]) == 0
    for k, v in first.state.items():
        assert torch.equal(v, second.state[k]), k


# -- recommended pairing -----------------------------------------------------------------

def _stack(*types) -> list[Component]:
    return [Component(t) if isinstance(t, str) else Component(*t) for t in types]


def test_recommended_init_follows_the_activation():
    layers = _stack("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "Tanh",
                    "Linear", ("LeakyReLU", {"negative_slope": 0.2}), "Linear")
    assert recommended_scheme(layers, 0).type == "kaiming_normal"
    assert "He/Kaiming" in recommended_init(layers, 0) and "ReLU" in recommended_init(layers, 0)
    assert recommended_scheme(layers, 5).type == "xavier_uniform"
    assert "Xavier" in recommended_init(layers, 5) and "Tanh" in recommended_init(layers, 5)
    leaky = recommended_scheme(layers, 7)
    assert leaky.params == {"a": 0.2, "nonlinearity": "leaky_relu"}
    assert "a = 0.2" in recommended_init(layers, 7)
    # the output layer (no activation after it) and layers without weights get none
    assert recommended_init(layers, 9) is None
    assert recommended_init(layers, 2) is None and recommended_init(layers, 1) is None
    # a weighted layer before the activation ends the search
    assert recommended_init(_stack("Linear", "Linear", "ReLU"), 0) is None
    assert recommended_init(_stack("Linear", "GELU"), 0).startswith("He/Kaiming")
    assert recommended_init(_stack("Linear", "Sigmoid"), 0).startswith("Glorot/Xavier")


def test_recommended_scheme_is_a_valid_init():
    layers = _stack("Linear", ("LeakyReLU", {"negative_slope": 0.1}))
    scheme = recommended_scheme(layers, 0)
    model = nn.Sequential(nn.Linear(256, 64))
    apply_init(model, scheme, torch.Generator().manual_seed(0))
    expected = math.sqrt(2.0 / (1 + 0.01) / 256)
    assert model[0].weight.std().item() == pytest.approx(expected, rel=0.1)
