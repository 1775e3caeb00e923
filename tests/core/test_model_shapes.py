"""Every layer type's shape rule, checks, parameter count and multiply-adds, held to real
forward passes over many random configurations (seeded, so a failure replays exactly).

The reference side never asks the registry what an auto parameter should be: it reads it
off the real tensor, and counts multiply-adds as "each weight is used once per output
position (Conv2d), once per sample (Linear) or once per row (recurrent)".
"""

from __future__ import annotations

import random

import pytest
import torch

from workbench.core.errors import ShapeError
from workbench.core.registry import Component as C
from workbench.core.model.builder import build_network, infer_shapes
from workbench.core.model.layers import LAYERS

# PyTorch's note that 'same' padding with an even kernel copies the input: expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

# Covered by its own tests (a whole torchvision model is too slow for hundreds of configs).
NOT_HERE = {"Backbone"}
RECURRENT = {"RowRNN", "RowLSTM", "RowGRU"}
NORMS = {"BatchNorm2d", "BatchNorm1d", "LayerNorm", "GroupNorm"}
NUM_CLASSES = 5


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _conv(rng, s):
    c = s[0]
    groups = rng.choice(_divisors(c)) if rng.random() < 0.85 else rng.randint(1, 4)
    out = groups * rng.randint(1, 3) if rng.random() < 0.9 else rng.randint(1, 8)
    r = rng.random()
    if r < 0.2:  # 'same' needs stride 1: now and then, a stride that does not fit
        padding, stride = "same", 1 if rng.random() < 0.85 else rng.randint(2, 3)
    elif r < 0.3:
        padding, stride = "valid", rng.randint(1, 3)
    else:
        padding, stride = rng.randint(0, 3), rng.randint(1, 3)
    p = {"out_channels": out, "kernel_size": rng.randint(1, 5), "stride": stride,
         "padding": padding, "dilation": rng.choice([1, 1, 1, 2, 3]), "groups": groups,
         "bias": rng.random() < 0.7}
    if rng.random() < 0.1:  # pinned: right or wrong
        p["in_channels"] = rng.choice([c, c + 1])
    return p


def _pool(rng, s):
    k = rng.randint(1, 4)
    return {"kernel_size": k, "stride": rng.choice([None, 1, 2, 3]),
            "padding": rng.randint(0, k // 2 + (rng.random() < 0.1))}


def _pinned(name, right):
    def gen(rng, s):
        if rng.random() < 0.8:
            return {}
        return {name: rng.choice([right(s), right(s) + 1])}
    return gen


def _layer_norm(rng, s):
    r = rng.random()
    p = {"elementwise_affine": rng.random() < 0.8}
    if r < 0.3:  # any trailing part of the shape is valid
        p["normalized_shape"] = list(s[rng.randint(0, len(s) - 1):])
    elif r < 0.4:
        p["normalized_shape"] = [n + 1 for n in s[-rng.randint(1, len(s)):]]
    return p


def _group_norm(rng, s):
    groups = rng.choice(_divisors(s[0])) if rng.random() < 0.8 else rng.randint(1, 6)
    return {"num_groups": groups, "affine": rng.random() < 0.8}


def _prelu(rng, s):
    p = {"init": rng.random()}
    r = rng.random()
    if r < 0.4:
        p["num_parameters"] = None
    elif r < 0.8:
        p["num_parameters"] = 1
    else:
        p["num_parameters"] = rng.choice([s[0], s[0] + 1])
    return p


def _recurrent(kind):
    def gen(rng, s):
        p = {"hidden_size": rng.randint(1, 8), "num_layers": rng.randint(1, 2),
             "bidirectional": rng.random() < 0.5}
        if kind == "RowRNN":
            p["nonlinearity"] = rng.choice(["tanh", "relu"])
        if rng.random() < 0.1 and len(s) == 3:
            p["input_size"] = rng.choice([s[0] * s[2], s[0] * s[2] + 1])
        return p
    return gen


def _linear(rng, s):
    p = {"out_features": rng.choice([None, rng.randint(1, 16)]), "bias": rng.random() < 0.8}
    if rng.random() < 0.1:
        p["in_features"] = rng.choice([s[0], s[0] + 1])
    return p


def _dim(rng, s):
    return {"dim": rng.randint(1, 3) if rng.random() < 0.3 else 1}


GENERATORS = {
    "Conv2d": _conv,
    "MaxPool2d": _pool,
    "AvgPool2d": _pool,
    "AdaptiveAvgPool2d": lambda rng, s: {"output_size": rng.randint(1, 4)},
    "BatchNorm2d": _pinned("num_features", lambda s: s[0]),
    "BatchNorm1d": _pinned("num_features", lambda s: s[0]),
    "LayerNorm": _layer_norm,
    "GroupNorm": _group_norm,
    "ReLU": lambda rng, s: {},
    "LeakyReLU": lambda rng, s: {"negative_slope": rng.random() * 0.3},
    "PReLU": _prelu,
    "ELU": lambda rng, s: {"alpha": rng.random() * 2},
    "SiLU": lambda rng, s: {},
    "GELU": lambda rng, s: {"approximate": rng.choice(["none", "tanh"])},
    "Sigmoid": lambda rng, s: {},
    "Tanh": lambda rng, s: {},
    "Softmax": _dim,
    "LogSoftmax": _dim,
    "Dropout": lambda rng, s: {"p": rng.random()},
    "Dropout2d": lambda rng, s: {"p": rng.random()},
    "Flatten": lambda rng, s: {},
    "Identity": lambda rng, s: {},
    "RowRNN": _recurrent("RowRNN"),
    "RowLSTM": _recurrent("RowLSTM"),
    "RowGRU": _recurrent("RowGRU"),
    "Linear": _linear,
}
TYPES = [name for name in LAYERS.names() if name not in NOT_HERE]


def test_every_layer_type_has_a_generator():
    # A new layer type must join these tests: add a generator of its configurations.
    assert set(TYPES) <= set(GENERATORS), sorted(set(TYPES) - set(GENERATORS))


def _autos(kind: str, p: dict, s: tuple[int, ...]) -> dict:
    """Auto parameters as read off a real input of shape ``s`` (no batch dimension)."""
    if len(s) == 3:
        c, w = s[0], s[2]
        by_shape = {"Conv2d": {"in_channels": c}, "BatchNorm2d": {"num_features": c},
                    "GroupNorm": {"num_channels": c}, "RowRNN": {"input_size": c * w},
                    "RowLSTM": {"input_size": c * w}, "RowGRU": {"input_size": c * w}}
    else:
        by_shape = {"BatchNorm1d": {"num_features": s[0]},
                    "Linear": {"in_features": s[0], "out_features": NUM_CLASSES}}
    by_shape.update({"PReLU": {"num_parameters": s[0]}, "LayerNorm": {"normalized_shape":
                                                                      list(s)}})
    if kind in ("MaxPool2d", "AvgPool2d"):
        by_shape[kind] = {"stride": p["kernel_size"]}
    return {k: v for k, v in by_shape.get(kind, {}).items() if p.get(k) is None}


def _expected_macs(kind: str, module: torch.nn.Module, x: torch.Tensor,
                   y: torch.Tensor) -> int:
    """Each weight times the number of times one sample uses it."""
    weights = sum(t.numel() for name, t in module.named_parameters() if "weight" in name)
    if kind == "Conv2d":
        return weights * y.shape[2] * y.shape[3]
    if kind == "Linear":
        return weights
    if kind in RECURRENT:
        return weights * x.shape[2]  # once per row
    if kind in NORMS:
        return x[0].numel()  # one scale-and-shift per value
    return 0


def _real(kind: str, params: dict, x: torch.Tensor):
    """Build and run the real module; ``None`` where PyTorch refuses it.

    An input of the wrong rank counts as refused even where PyTorch would run: Linear
    would apply itself to the last dimension of an image, Dropout2d would treat a flat
    batch as one image; the builder reports both as a missing or misplaced Flatten.
    """
    wants = LAYERS[kind].meta["input"]
    if (wants == "image" and x.dim() != 4) or (wants == "flat" and x.dim() != 2):
        return None
    p = LAYERS[kind].validate(params)
    p.update(_autos(kind, p, tuple(x.shape[1:])))
    try:
        module = LAYERS[kind].builder(**p)
        module.train()
        y = module(x)
    except (RuntimeError, ValueError, IndexError):
        return None
    return module, y, p


def _check_layer(info, kind, params, x, where):
    """Compare one inferred row with the real module on ``x``; return the real output."""
    real = _real(kind, params, x)
    if real is None:
        assert info.error is not None, f"{where}: inferred to fit but PyTorch refuses it"
        assert info.error.startswith(f"layer {info.index + 1} ({kind})"), info.error
        assert ": " in info.error, f"{where}: the message names no fix: {info.error}"
        return None
    module, y, p = real
    assert info.error is None, f"{where}: PyTorch runs it but inference says {info.error}"
    assert info.params == p, where
    assert info.output_shape == tuple(y.shape[1:]), where
    assert info.num_params == sum(t.numel() for t in module.parameters()), where
    assert info.macs == _expected_macs(kind, module, x, y), where
    return y


def _input_for(rng, kind):
    wants = LAYERS[kind].meta["input"]
    if wants == "any":
        wants = rng.choice(["image", "flat"])
    if rng.random() < 0.05:  # the wrong kind, now and then
        wants = "flat" if wants == "image" else "image"
    if wants == "image":
        return (rng.randint(1, 6), rng.randint(1, 12), rng.randint(1, 12))
    return (rng.randint(1, 24),)


@pytest.mark.parametrize("kind", TYPES)
def test_each_layer_type_agrees_with_real_modules(kind):
    fits = 0
    for seed in range(40):
        rng = random.Random(f"{kind}-{seed}")
        shape = _input_for(rng, kind)
        params = GENERATORS[kind](rng, shape)
        where = f"{kind} seed {seed}: {params} on {shape}"
        summary = infer_shapes([C(kind, params)], shape, NUM_CLASSES)  # never raises
        y = _check_layer(summary.layers[0], kind, params, torch.randn(2, *shape), where)
        fits += y is not None
    assert fits >= 10, f"only {fits} of 40 {kind} configurations fit: widen the generator"


def _random_stack(seed: int):
    """Image layers, then Flatten and flat layers, chosen by the running shape; now and
    then a layer that takes the other kind of input."""
    rng = random.Random(seed)
    shape = (rng.choice([1, 3, 4]), rng.randint(2, 16), rng.randint(2, 16))
    start, layers = shape, []
    image = [k for k in TYPES if LAYERS[k].meta["input"] in ("image", "any")
             and k != "Flatten" and k not in RECURRENT]
    flat = [k for k in TYPES if LAYERS[k].meta["input"] in ("flat", "any")
            and k not in ("Flatten", "Linear")]
    for _ in range(rng.randint(0, 5)):
        kind = rng.choice(image)
        layers.append(C(kind, GENERATORS[kind](rng, shape)))
        shape = infer_shapes(layers, start, NUM_CLASSES).layers[-1].output_shape
        if shape is None:
            break
    if shape is not None:
        ending = rng.choice(["Flatten"] * 3 + sorted(RECURRENT))
        layers.append(C(ending, GENERATORS[ending](rng, shape)))
        shape = infer_shapes(layers, start, NUM_CLASSES).layers[-1].output_shape
    shape = shape or (8,)  # after a misfit: any shape will do to generate the rest
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(flat + ["Linear", "Linear"] + (["Conv2d"] if rng.random() < 0.1
                                                          else []))
        layers.append(C(kind, GENERATORS[kind](rng, shape)))
        shape = infer_shapes(layers, start, NUM_CLASSES).layers[-1].output_shape or shape
    layers.append(C("Linear"))
    return layers, start


@pytest.mark.parametrize("seed", range(120))
def test_random_stacks_agree_with_real_forward(seed):
    layers, shape = _random_stack(seed)
    summary = infer_shapes(layers, shape, NUM_CLASSES)
    x = torch.randn(2, *shape)
    for info, comp in zip(summary.layers, layers):
        where = f"seed {seed}, layer {info.index + 1}: {comp}"
        x = _check_layer(info, comp.type, comp.params, x, where)
        if x is None:
            assert summary.error == info.error and summary.error_index == info.index
            assert all(later.output_shape is None for later in summary.layers[info.index:])
            with pytest.raises(ShapeError) as raised:
                build_network(layers, shape, NUM_CLASSES)
            assert raised.value.index == info.index
            return
    assert summary.total_macs == sum(info.macs for info in summary.layers)
    assert summary.ok == (tuple(x.shape[1:]) == (NUM_CLASSES,))
    if summary.ok:
        model, _ = build_network(layers, shape, NUM_CLASSES)
        assert model(torch.randn(2, *shape)).shape == (2, NUM_CLASSES)
        assert sum(p.numel() for p in model.parameters()) == summary.total_params


def test_random_stacks_exercise_both_outcomes():
    oks = sum(infer_shapes(*_random_stack(s), NUM_CLASSES).ok for s in range(120))
    assert 0.2 * 120 < oks < 0.9 * 120
    kinds = {c.type for s in range(120) for c in _random_stack(s)[0]}
    assert set(TYPES) <= kinds, sorted(set(TYPES) - kinds)


def test_macs_of_conv_and_linear_by_hand():
    layers = [C("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
              C("Conv2d", {"out_channels": 8, "kernel_size": 5, "padding": 0, "stride": 2,
                           "groups": 4, "dilation": 1}),
              C("Flatten"), C("Linear", {"out_features": 10}), C("ReLU"), C("Linear")]
    summary = infer_shapes(layers, (3, 16, 16), 4)
    assert summary.ok, summary.error
    conv1 = 8 * 16 * 16 * 3 * 3 * 3          # outputs x (in channels) x kernel
    conv2 = 8 * 6 * 6 * (8 // 4) * 5 * 5     # (16 - 5) // 2 + 1 = 6; 2 channels per group
    linear1, linear2 = 8 * 6 * 6 * 10, 10 * 4
    assert [r.macs for r in summary.layers] == [conv1, conv2, 0, linear1, 0, linear2]
    assert summary.total_macs == conv1 + conv2 + linear1 + linear2


def test_macs_of_recurrent_layers_by_hand():
    # 2 x 6 x 5 image: 6 rows of 10 features; a 2-layer bidirectional LSTM of 4 units.
    summary = infer_shapes([C("RowLSTM", {"hidden_size": 4, "num_layers": 2,
                                          "bidirectional": True}), C("Linear")], (2, 6, 5), 3)
    assert summary.ok and summary.layers[0].output_shape == (8,)
    layer1 = 2 * 4 * 4 * (10 + 4)   # directions x gates x hidden x (input + hidden)
    layer2 = 2 * 4 * 4 * (8 + 4)    # reads both directions' 4 outputs
    assert summary.layers[0].macs == (layer1 + layer2) * 6
    gru = infer_shapes([C("RowGRU", {"hidden_size": 3}), C("Linear")], (1, 4, 4), 3)
    assert gru.layers[0].macs == 3 * 3 * (4 + 3) * 4
    rnn = infer_shapes([C("RowRNN", {"hidden_size": 3}), C("Linear")], (1, 4, 4), 3)
    assert rnn.layers[0].macs == 1 * 3 * (4 + 3) * 4


def test_macs_count_normalisation_per_value_and_nothing_else():
    summary = infer_shapes([C("BatchNorm2d"), C("ReLU"), C("MaxPool2d"), C("Dropout"),
                            C("Flatten"), C("Linear")], (3, 4, 4), 2)
    assert [r.macs for r in summary.layers] == [48, 0, 0, 0, 0, 12 * 2]


def test_macs_of_a_misfit_and_after_it_are_zero():
    summary = infer_shapes([C("Conv2d"), C("Linear"), C("Linear")], (3, 8, 8), 2)
    assert summary.error_index == 1
    assert summary.layers[0].macs == 32 * 8 * 8 * 27
    assert [r.macs for r in summary.layers[1:]] == [0, 0]
    assert summary.total_macs == summary.layers[0].macs
