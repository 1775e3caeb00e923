"""Shape inference and the Sequential builder, checked against real forward passes."""

from __future__ import annotations

import copy
import random

import pytest
import torch
from torch import nn

from workbench.core.errors import ShapeError, SpecError
from workbench.core.registry import Component as C
from workbench.core.model.builder import build_network, infer_shapes
from workbench.core.model.layers import LAYERS


IMAGE_LAYERS = {"Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d"}


def _reference(layers, input_shape, num_classes):
    """Run real modules one by one on a zero batch, resolving autos independently.

    Returns (index of the first layer that fails or None, output shapes, parameter counts).
    Linear on a non-flat input counts as failing: PyTorch would silently apply it to the
    last dimension, which the builder reports as a missing Flatten. Likewise an image layer
    on a flat input (PyTorch may read (batch, features) as one unbatched image).
    """
    x = torch.zeros(2, *input_shape)
    shapes, counts = [], []
    for i, comp in enumerate(layers):
        p = LAYERS[comp.type].validate(comp.params)
        if comp.type == "Conv2d" and p["in_channels"] is None:
            p["in_channels"] = x.shape[1]
        if comp.type == "BatchNorm2d" and p["num_features"] is None:
            p["num_features"] = x.shape[1]
        if comp.type in IMAGE_LAYERS and x.dim() != 4:
            return i, shapes, counts
        if comp.type == "Linear":
            if x.dim() != 2:
                return i, shapes, counts
            p["in_features"] = p["in_features"] or x.shape[1]
            p["out_features"] = p["out_features"] or num_classes
        module = getattr(nn, comp.type)(**p)
        try:
            x = module(x)
        except (RuntimeError, ValueError, IndexError):
            return i, shapes, counts
        shapes.append(tuple(x.shape[1:]))
        counts.append(sum(t.numel() for t in module.parameters()))
    return None, shapes, counts


def _random_network(seed: int):
    """A random stack: image layers, Flatten, dense layers. Some fit, some do not."""
    rng = random.Random(seed)
    shape = (rng.choice([1, 3]), rng.randint(1, 40), rng.randint(1, 40))
    channels, layers = shape[0], []

    def image_layer():
        nonlocal channels
        kind = rng.choice(["Conv2d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
                           "BatchNorm2d", "ReLU", "LeakyReLU", "GELU", "Tanh", "Sigmoid",
                           "Dropout"])
        if kind == "Conv2d":
            out = rng.randint(1, 8)
            p = {"out_channels": out, "kernel_size": rng.randint(1, 5),
                 "stride": rng.randint(1, 3), "padding": rng.randint(0, 2),
                 "bias": rng.random() < 0.7}
            if rng.random() < 0.15:  # pinned: right or wrong
                p["in_channels"] = rng.choice([channels, channels + 1])
            channels = out
        elif kind in ("MaxPool2d", "AvgPool2d"):
            k = rng.randint(1, 3)
            p = {"kernel_size": k, "stride": rng.choice([None, 1, 2, 3]),
                 "padding": rng.randint(0, k // 2 + (rng.random() < 0.1))}
        elif kind == "AdaptiveAvgPool2d":
            p = {"output_size": rng.randint(1, 4)}
        elif kind == "BatchNorm2d":
            p = {} if rng.random() < 0.8 else {"num_features": rng.choice([channels, 99])}
        elif kind == "LeakyReLU":
            p = {"negative_slope": rng.random() * 0.3}
        elif kind == "Dropout":
            p = {"p": rng.random()}
        else:
            p = {}
        return C(kind, p)

    for _ in range(rng.randint(0, 6)):
        layers.append(image_layer())
    if rng.random() < 0.05:
        layers.append(C("Linear", {"out_features": 5}))  # Linear on an image: a misfit
    layers.append(C("Flatten"))
    if rng.random() < 0.05:
        layers.append(image_layer())  # an image layer after Flatten: usually a misfit
    for _ in range(rng.randint(0, 2)):
        p = {"out_features": rng.randint(1, 32), "bias": rng.random() < 0.8}
        if rng.random() < 0.1:
            p["in_features"] = rng.randint(1, 64)
        layers.append(C("Linear", p))
        layers.append(C(rng.choice(["ReLU", "Tanh", "Dropout", "GELU"])))
    layers.append(C("Linear", {} if rng.random() < 0.9 else {"out_features": 3}))
    return layers, shape, rng.randint(2, 10)


SEEDS = range(200)


@pytest.mark.parametrize("seed", SEEDS)
def test_inference_agrees_with_real_forward(seed):
    layers, shape, num_classes = _random_network(seed)
    original = copy.deepcopy(layers)
    summary = infer_shapes(layers, shape, num_classes)
    assert layers == original  # inference never edits the spec
    failing, shapes, counts = _reference(layers, shape, num_classes)

    assert summary.error_index == failing, summary.error
    known = summary.layers[:len(shapes)]
    assert [info.output_shape for info in known] == shapes
    assert [info.num_params for info in known] == counts
    assert summary.total_params == sum(counts)
    if failing is not None:
        bad = summary.layers[failing]
        assert bad.error and bad.error.startswith(f"layer {failing + 1} ({bad.type})")
        assert summary.error == bad.error and not summary.ok
        assert all(info.output_shape is None for info in summary.layers[failing:])
        with pytest.raises(ShapeError) as info:
            build_network(layers, shape, num_classes)
        assert info.value.index == failing and info.value.layer_type == bad.type
        assert info.value.input_shape == bad.input_shape
        return
    assert summary.ok == (shapes[-1] == (num_classes,))
    if not summary.ok:
        assert summary.error.startswith("the network outputs")
        return
    model, built = build_network(layers, shape, num_classes)
    assert built == summary
    model.train()
    out = model(torch.randn(2, *shape))
    assert out.shape == (2, num_classes)
    assert sum(p.numel() for p in model.parameters()) == summary.total_params
    assert summary.trainable_params == summary.total_params


def test_random_networks_exercise_both_outcomes():
    oks = sum(infer_shapes(*_random_network(s)).ok for s in SEEDS)
    assert 0.3 * len(SEEDS) < oks < 0.9 * len(SEEDS)


def _seed_cnn():
    return [C("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}), C("ReLU"),
            C("MaxPool2d", {"kernel_size": 2}),
            C("Conv2d", {"out_channels": 64, "kernel_size": 3, "padding": 1}), C("ReLU"),
            C("MaxPool2d", {"kernel_size": 2}), C("Flatten"),
            C("Linear", {"out_features": 128}), C("ReLU"), C("Linear")]


def test_autos_are_resolved():
    summary = infer_shapes(_seed_cnn(), (1, 28, 28), 7)
    assert summary.ok and summary.output_shape == (7,)
    rows = summary.layers
    assert rows[0].params["in_channels"] == 1
    assert rows[3].params["in_channels"] == 32
    assert rows[2].params["stride"] == 2
    assert rows[7].params["in_features"] == 64 * 7 * 7
    assert rows[9].params == {"in_features": 128, "out_features": 7, "bias": True}
    assert [r.output_shape for r in rows] == [
        (32, 28, 28), (32, 28, 28), (32, 14, 14), (64, 14, 14), (64, 14, 14), (64, 7, 7),
        (3136,), (128,), (128,), (7,)]
    assert [r.input_shape for r in rows][1:] == [r.output_shape for r in rows][:-1]
    assert rows[0].input_shape == (1, 28, 28) == summary.input_shape


def test_pinned_values_that_fit_are_kept():
    layers = _seed_cnn()
    layers[0].params["in_channels"] = 3
    layers[7].params["in_features"] = 4096
    layers.insert(1, C("BatchNorm2d", {"num_features": 32}))
    summary = infer_shapes(layers, [3, 32, 32], 2)
    assert summary.ok, summary.error


def _error(layers, shape=(3, 32, 32), num_classes=4):
    summary = infer_shapes(layers, shape, num_classes)
    assert not summary.ok and summary.output_shape is None
    return summary


def test_linear_with_pinned_in_features_that_disagree():
    layers = _seed_cnn()
    layers[7].params["in_features"] = 3136  # right for 28x28 inputs
    assert infer_shapes(layers, (3, 28, 28), 4).ok
    summary = _error(layers, (3, 20, 20))  # 64 * 5 * 5 = 1600
    assert summary.error == ("layer 8 (Linear) expects 3136 input features but receives "
                             "1600: set in_features to auto")
    assert summary.error_index == 7 and summary.layers[7].error == summary.error
    assert summary.layers[7].input_shape == (1600,)
    assert summary.layers[6].output_shape == (1600,)
    assert all(r.output_shape is None for r in summary.layers[7:])
    assert all(r.error is None for r in summary.layers[8:])
    assert summary.total_params == 896 + 18496  # the layers that fit


def test_linear_on_an_image_asks_for_flatten():
    layers = _seed_cnn()
    del layers[6]  # Flatten
    summary = _error(layers)
    assert summary.error == ("layer 7 (Linear) receives an image-shaped input (64, 8, 8) but "
                             "needs a flat list of features: add Flatten before it")
    with pytest.raises(ShapeError) as info:
        build_network(layers, (3, 32, 32), 4)
    assert (info.value.index, info.value.layer_type, info.value.input_shape) == \
        (6, "Linear", (64, 8, 8))
    assert str(info.value) == summary.error


def test_image_layer_after_flatten():
    layers = [C("Flatten"), C("BatchNorm2d"), C("Linear")]
    assert _error(layers, (3, 4, 4)).error == (
        "layer 2 (BatchNorm2d) needs an image-shaped input (channels, height, width) but "
        "receives 48 flat features: move it before Flatten")


def test_image_layer_after_another_layer_that_makes_the_input_flat():
    # No Flatten in the network: the message names the layer that made the input flat.
    layers = [C("RowLSTM", {"hidden_size": 16}), C("Conv2d"), C("Linear")]
    assert _error(layers, (1, 8, 8)).error == (
        "layer 2 (Conv2d) needs an image-shaped input (channels, height, width) but "
        "receives 16 flat features: move it before layer 1 (RowLSTM), which outputs flat "
        "features")
    layers = [C("AdaptiveAvgPool2d"), C("Flatten"), C("ReLU"), C("Conv2d"), C("Linear")]
    assert _error(layers, (3, 4, 4)).error.endswith("move it before Flatten")


def test_conv_with_wrong_pinned_channels():
    layers = _seed_cnn()
    layers[3].params["in_channels"] = 16
    assert _error(layers).error == ("layer 4 (Conv2d) expects 16 input channels but receives "
                                    "32: set in_channels to auto")
    layers = _seed_cnn()
    layers[0].params["in_channels"] = 1
    assert _error(layers).error == ("layer 1 (Conv2d) expects 1 input channel but receives "
                                    "3: set in_channels to auto")


def test_batchnorm_with_wrong_pinned_features():
    layers = [C("Conv2d", {"out_channels": 8}), C("BatchNorm2d", {"num_features": 16})]
    assert _error(layers).error == ("layer 2 (BatchNorm2d) expects 16 input channels but "
                                    "receives 8: set num_features to auto")


def test_pooling_below_one_pixel():
    layers = [C("MaxPool2d", {"kernel_size": 2}) for _ in range(6)] + [C("Flatten"),
                                                                        C("Linear")]
    summary = _error(layers, (3, 16, 16))
    assert summary.error == ("layer 5 (MaxPool2d) gets a 1x1 input, smaller than its 2x2 "
                             "kernel: remove it or use a larger input size")
    assert summary.layers[4].input_shape == (3, 1, 1)
    assert summary.layers[3].output_shape == (3, 1, 1)
    layers = [C("AvgPool2d", {"kernel_size": 4, "padding": 1})]
    assert _error(layers, (3, 1, 5)).error == (
        "layer 1 (AvgPool2d) gets a 1x5 input (3x7 with padding 1), smaller than its 4x4 "
        "kernel: remove it or use a larger input size")


def test_conv_kernel_larger_than_the_image():
    layers = [C("Conv2d", {"kernel_size": 7, "padding": 0}), C("Flatten"), C("Linear")]
    assert _error(layers, (1, 6, 9)).error == (
        "layer 1 (Conv2d) gets a 6x9 input, smaller than its 7x7 kernel: remove it, lower "
        "kernel_size, add padding, or use a larger input size")
    assert infer_shapes(layers, (1, 7, 9), 4).ok  # exactly the kernel's size fits


def test_pool_padding_over_half_the_kernel():
    layers = [C("MaxPool2d", {"kernel_size": 3, "padding": 2}), C("Flatten"), C("Linear")]
    assert _error(layers).error == ("layer 1 (MaxPool2d) has padding 2, more than half its "
                                    "3x3 kernel: use padding 1 or less")


@pytest.mark.parametrize("layers, message", [
    ([], "the network outputs (3, 32, 32) but the dataset has 4 classes: end with Flatten and "
         "Linear(out_features=auto)"),
    ([C("Conv2d", {"out_channels": 64}), C("MaxPool2d"), C("MaxPool2d")],
     "the network outputs (64, 8, 8) but the dataset has 4 classes: end with Flatten and "
     "Linear(out_features=auto)"),
    ([C("Flatten"), C("Linear", {"out_features": 10})],
     "the network outputs 10 values but the dataset has 4 classes: set out_features of layer "
     "2 (Linear) to auto"),
    ([C("Flatten"), C("Linear", {"out_features": 10}), C("ReLU")],
     "the network outputs 10 values but the dataset has 4 classes: end with "
     "Linear(out_features=auto)"),
])
def test_output_must_be_one_score_per_class(layers, message):
    summary = _error(layers)
    assert summary.error == message
    assert summary.error_index is None and all(r.error is None for r in summary.layers)
    assert all(r.output_shape is not None for r in summary.layers)
    with pytest.raises(ShapeError) as info:
        build_network(layers, (3, 32, 32), 4)
    assert str(info.value) == message and info.value.index is None


def test_out_features_auto_is_the_number_of_classes():
    for n in (2, 5, 1000):
        model, summary = build_network(_seed_cnn(), (3, 32, 32), n)
        assert model[-1].out_features == n
        assert model(torch.zeros(1, 3, 32, 32)).shape == (1, n)
        assert summary.layers[-1].num_params == 128 * n + n


def test_parameter_counts_of_seed_cnn_by_hand():
    model, summary = build_network(_seed_cnn(), (3, 32, 32), 10)
    expected = [3 * 32 * 9 + 32, 0, 0, 32 * 64 * 9 + 64, 0, 0, 0, 64 * 8 * 8 * 128 + 128, 0,
                128 * 10 + 10]
    assert [r.num_params for r in summary.layers] == expected
    assert summary.total_params == sum(expected) == sum(p.numel() for p in model.parameters())
    assert [m.__class__.__name__ for m in model] == [c.type for c in _seed_cnn()]
    assert "7.weight" in model.state_dict()  # plain Sequential keys, as in hand-written code
    bias_free = _seed_cnn()
    bias_free[0].params["bias"] = False
    assert infer_shapes(bias_free, (3, 32, 32), 10).total_params == sum(expected) - 32


def test_batchnorm_counts_weight_and_bias_not_running_stats():
    summary = infer_shapes([C("Conv2d", {"out_channels": 16, "bias": False}),
                            C("BatchNorm2d"), C("Flatten"), C("Linear")], (3, 8, 8), 2)
    assert [r.num_params for r in summary.layers] == [3 * 16 * 9, 32, 0, 16 * 64 * 2 + 2]


def test_bad_parameters_become_layer_errors_and_spec_errors():
    layers = _seed_cnn()
    layers[3].params["out_channels"] = 0
    summary = _error(layers)
    assert summary.error == "layer 4 (Conv2d): out_channels: 0 is below the minimum 1"
    assert summary.layers[2].output_shape == (32, 16, 16)
    with pytest.raises(SpecError) as info:
        build_network(layers, (3, 32, 32), 4)
    assert info.value.field == "model.layers[3].params.out_channels"

    layers = _seed_cnn()
    layers[1] = C("Swish")
    summary = _error(layers)
    assert summary.error.startswith("layer 2 (Swish): unknown layer 'Swish'; choose one of")
    with pytest.raises(SpecError) as info:
        build_network(layers, (3, 32, 32), 4)
    assert info.value.field == "model.layers[1].type"


def test_huge_layers_are_inferred_without_allocating():
    # 3 x 4096 x 4096 inputs into a 4096-unit Linear: 200 billion weights. Inference must not
    # build them (it would need 800 GB).
    layers = [C("Flatten"), C("Linear", {"out_features": 4096}), C("Linear")]
    summary = infer_shapes(layers, (3, 4096, 4096), 10)
    assert summary.ok and summary.layers[1].num_params == 3 * 4096 * 4096 * 4096 + 4096
