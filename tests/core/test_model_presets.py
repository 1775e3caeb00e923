"""Presets: names, the layers they give, and their networks against real forward passes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.builder import build_network, infer_shapes
from workbench.core.model.layers import LAYERS
from workbench.core.model.presets import list_presets, preset_experiment, preset_layers

NAMES = [name for name, _ in list_presets()]
INPUTS = [(3, 32, 32), (1, 32, 32), (1, 28, 28)]
INPUT_IDS = ["32x32x3", "32x32x1", "28x28x1"]
# The transfer-learning preset needs the Backbone layer type, registered by
# workbench.core.model.backbones; its tests skip until that exists.
NEEDS_BACKBONE = {"resnet18"}


def _needs(name: str) -> None:
    if name in NEEDS_BACKBONE and "Backbone" not in LAYERS:
        pytest.skip(f"preset {name!r} needs the Backbone layer type, which is not registered")


def test_required_presets_are_listed_with_descriptions():
    assert {"mlp", "seed-cnn", "lenet5", "cnn-bn", "logistic", "vgg-small", "row-lstm",
            "resnet18"} <= set(NAMES)
    assert len(NAMES) == len(set(NAMES))
    for name, description in list_presets():
        assert len(description) > 20, name


def test_seed_cnn_is_the_specified_network():
    layers = preset_layers("seed-cnn")
    assert [c.type for c in layers] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU",
                                        "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    conv1, conv2 = (LAYERS["Conv2d"].validate(layers[i].params) for i in (0, 3))
    assert (conv1["out_channels"], conv1["kernel_size"], conv1["padding"], conv1["stride"]) == \
        (32, 3, 1, 1)
    assert (conv2["out_channels"], conv2["kernel_size"], conv2["padding"]) == (64, 3, 1)
    for i in (2, 5):
        assert LAYERS["MaxPool2d"].validate(layers[i].params)["kernel_size"] == 2
    assert layers[7].params["out_features"] == 128
    assert LAYERS["Linear"].validate(layers[9].params)["out_features"] is None  # = classes


@pytest.mark.parametrize("name", NAMES)
def test_preset_params_are_valid_and_leave_shapes_auto(name):
    _needs(name)
    for comp in preset_layers(name):
        params = LAYERS[comp.type].validate(comp.params)
        for key in ("in_channels", "in_features", "num_features", "input_size"):
            assert params.get(key) is None  # so each preset fits any channel count
    last = LAYERS["Linear"].validate(preset_layers(name)[-1].params)
    assert last["out_features"] is None


def _forward_shapes(model, x):
    """Output shape of every module of a Sequential, from a real forward pass."""
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
             for m in model]
    try:
        out = model(x)
    finally:
        for h in hooks:
            h.remove()
    return out, shapes


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", INPUTS, ids=INPUT_IDS)
def test_preset_shapes_and_counts_match_a_real_forward_pass(name, shape):
    _needs(name)
    if name in NEEDS_BACKBONE and shape != (3, 32, 32):
        pytest.skip("ImageNet backbones take RGB images of 32x32 or more: see "
                    "test_backbone_preset_explains_what_it_needs")
    num_classes = 10
    summary = infer_shapes(preset_layers(name), shape, num_classes)
    assert summary.ok, summary.error
    model, built = build_network(preset_layers(name), shape, num_classes)
    model.eval()
    with torch.no_grad():
        out, shapes = _forward_shapes(model, torch.randn(3, *shape))
    assert out.shape == (3, num_classes)
    assert [r.output_shape for r in summary.layers] == shapes
    assert summary.output_shape == (num_classes,)
    for info, module in zip(summary.layers, model):
        assert info.num_params == sum(p.numel() for p in module.parameters()), info.type
    assert summary.total_params == sum(p.numel() for p in model.parameters())
    assert built.total_params == summary.total_params


@pytest.mark.parametrize("shape", [(1, 32, 32), (3, 28, 28)], ids=["grey", "small"])
def test_backbone_preset_explains_what_it_needs(shape):
    _needs("resnet18")
    summary = infer_shapes(preset_layers("resnet18"), shape, 10)
    assert not summary.ok and summary.error_index == 0
    assert "Backbone" in summary.error and "data." in summary.error  # names the setting


def test_new_presets_are_the_specified_networks():
    vgg = [c.type for c in preset_layers("vgg-small")]
    block = ["Conv2d", "BatchNorm2d", "ReLU"]
    assert vgg == block * 2 + ["MaxPool2d"] + block * 2 + ["MaxPool2d"] + block + [
        "MaxPool2d", "AdaptiveAvgPool2d", "Flatten", "Dropout", "Linear"]
    convs = [LAYERS["Conv2d"].validate(c.params) for c in preset_layers("vgg-small")
             if c.type == "Conv2d"]
    assert [c["out_channels"] for c in convs] == [32, 32, 64, 64, 128]
    assert all(c["kernel_size"] == 3 and c["padding"] == 1 and not c["bias"] for c in convs)
    lstm = preset_layers("row-lstm")
    assert [(c.type, c.params) for c in lstm] == [("RowLSTM", {"hidden_size": 128}),
                                                  ("Linear", {"out_features": None})]
    resnet = preset_layers("resnet18")
    assert [c.type for c in resnet] == ["Backbone", "Linear"]
    assert resnet[0].params == {"arch": "resnet18", "weights": "auto",
                                "mode": "feature_extraction"}


def test_new_presets_work_at_any_input_size_from_8x8():
    for name in ("vgg-small", "row-lstm"):
        for shape in [(1, 8, 8), (3, 8, 8), (3, 64, 48)]:
            assert infer_shapes(preset_layers(name), shape, 3).ok, (name, shape)


def test_known_parameter_counts():
    # LeNet-5 on 28x28 digits, 10 classes: the classic 61,706 parameters.
    lenet = infer_shapes(preset_layers("lenet5"), (1, 28, 28), 10)
    assert lenet.total_params == 61706
    assert lenet.layers[6].output_shape == (400,)  # 16 x 5 x 5 before the dense layers
    seed = infer_shapes(preset_layers("seed-cnn"), (3, 32, 32), 4)
    assert seed.total_params == (3 * 9 * 32 + 32) + (32 * 9 * 64 + 64) + \
        (64 * 8 * 8 * 128 + 128) + (128 * 4 + 4)
    mlp = infer_shapes(preset_layers("mlp"), (1, 28, 28), 10)
    assert mlp.layers[1].params["in_features"] == 784


def test_preset_layers_are_fresh_copies():
    a = preset_layers("seed-cnn")
    a[0].params["out_channels"] = 1
    a.pop()
    b = preset_layers("seed-cnn")
    assert b[0].params["out_channels"] == 32 and len(b) == 10


def test_unknown_preset_names_the_choices():
    with pytest.raises(SpecError) as info:
        preset_layers("resnet50")
    message = str(info.value)
    assert "resnet50" in message
    for name in NAMES:
        assert name in message
    assert info.value.field == "model.preset"
    with pytest.raises(SpecError):
        preset_experiment("Seed-CNN")  # names are exact


@pytest.mark.parametrize("name", NAMES)
def test_preset_experiment(name):
    exp = preset_experiment(name, folder="/data/shapes")
    assert isinstance(exp, Experiment)
    assert exp.model.preset == name
    assert exp.model.layers == preset_layers(name)
    assert all(isinstance(c, Component) for c in exp.model.layers)
    assert exp.data.folder == "/data/shapes"
    assert preset_experiment(name).data.folder == ""
    # The Experiment's JSON form holds the layers as plain {"type", "params"} objects.
    layers = exp.to_dict()["model"]["layers"]
    assert layers == [{"type": c.type, "params": c.params} for c in preset_layers(name)]


def test_presets_do_not_import_torch():
    code = ("import sys; from workbench.core.model import presets; "
            "presets.preset_experiment('seed-cnn'); presets.list_presets(); "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_a_new_experiment_starts_from_the_seed_cnn_preset():
    exp = Experiment()
    assert exp.model.preset == "seed-cnn"
    assert exp.model.layers == preset_layers("seed-cnn")
    exp.model.layers[0].params["out_channels"] = 7  # a fresh copy each time
    assert Experiment().model.layers == preset_layers("seed-cnn")


def test_the_defaults_presets_are_compared_with_are_the_registrys():
    from workbench.core.model import presets

    used = {c.type for name in NAMES for c in preset_layers(name)}
    for kind in used:
        _needs("resnet18") if kind == "Backbone" else None
        assert presets._DEFAULTS[kind] == LAYERS.get(kind).defaults(), kind


@pytest.mark.parametrize("edit", [
    lambda c: c[7].params.update(in_features=4096),  # pinned where the preset says auto
    lambda c: c[0].params.update(bias=False),        # a setting the preset leaves out
    lambda c: setattr(c[7], "init", {"weight": {"type": "zeros", "params": {}}}),
    lambda c: setattr(c[9], "share", 7),             # a weight tie
], ids=["pinned-auto", "unnamed-setting", "own-init", "weight-tie"])
def test_any_edit_makes_the_network_custom(edit):
    from workbench.core.model.codegen import network_code
    from workbench.core.model.presets import CUSTOM, network_label

    exp = Experiment()
    assert network_label("seed-cnn", exp.model.layers) == "seed-cnn"
    assert network_label("seed-cnn", exp.copy().validate().model.layers) == "seed-cnn"
    edit(exp.model.layers)
    assert network_label("seed-cnn", exp.model.layers) == CUSTOM
    assert network_label("seed-cnn", [c.to_dict() for c in exp.model.layers]) == CUSTOM
    try:  # the exported code's header says so too (a tie of unlike layers does not export)
        code = network_code(exp, 10)
    except WorkbenchError:
        return
    assert "a custom network" in code and "seed-cnn" not in code


def test_a_network_with_the_presets_values_in_full_is_the_preset():
    from workbench.core.model.presets import network_label

    for name in NAMES:
        _needs(name)
        full = [Component(c.type, LAYERS.get(c.type).validate(c.params))
                for c in preset_layers(name)]
        assert network_label(name, full) == name
