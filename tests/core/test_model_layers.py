"""The layer registry's declarations: names, groups, parameters, auto-filled fields."""

from __future__ import annotations

import pytest
from torch import nn

from workbench.core.errors import SpecError
from workbench.core.model.layers import CHANNELS, CLASSES, FEATURES, LAYERS, SOURCES
from workbench.core.registry import Param

TORCH_NN = ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d",
            "BatchNorm1d", "LayerNorm", "GroupNorm", "ReLU", "LeakyReLU", "PReLU", "ELU",
            "SiLU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Dropout", "Dropout2d",
            "Flatten", "Identity", "Linear"]
OURS = ["RowRNN", "RowLSTM", "RowGRU"]
GROUPS = {"convolution", "pooling", "normalisation", "activation", "regularisation",
          "reshaping", "recurrent", "dense", "pretrained"}


def test_every_required_layer_is_registered_and_builds_its_torch_class():
    assert set(TORCH_NN + OURS) <= set(LAYERS.names())
    for name in TORCH_NN:
        entry = LAYERS[name]
        assert entry.builder is getattr(nn, name)
        assert entry.meta["torch"] == f"torch.nn.{name}"
    for name in OURS:
        assert LAYERS[name].meta["torch"] == f"workbench.core.model.recurrent.{name}"


def test_groups_are_the_declared_ones():
    # "pretrained" holds the Backbone, registered by its own module.
    assert set(LAYERS.groups()) <= GROUPS
    assert set(LAYERS.groups()) >= GROUPS - {"pretrained"}
    expected = {"Conv2d": "convolution", "Linear": "dense", "Flatten": "reshaping",
                "Identity": "reshaping", "Dropout": "regularisation",
                "Dropout2d": "regularisation", "LayerNorm": "normalisation",
                "GroupNorm": "normalisation", "BatchNorm1d": "normalisation",
                "PReLU": "activation", "Softmax": "activation", "RowLSTM": "recurrent"}
    assert {name: LAYERS[name].group for name in expected} == expected


@pytest.mark.parametrize("name", LAYERS.names())
def test_entry_declarations_are_complete(name):
    entry = LAYERS[name]
    assert entry.help, f"{name} has no help text"
    assert entry.meta["input"] in ("image", "flat", "any")
    assert callable(entry.meta.get("shape", len)) and callable(entry.meta.get("macs", len))
    for p in entry.params:
        assert p.help, f"{name}.{p.name} has no help text"
        # The declared default must pass the declaration's own validation.
        assert p.validate(p.default, p.name) == p.default
    auto_params = {p.name for p in entry.params if p.auto is not None}
    # Exactly the params whose None is filled in have an auto text, and vice versa.
    assert auto_params == set(entry.meta["auto"]), name
    for param, source in entry.meta["auto"].items():
        assert source in SOURCES or source == CLASSES or source in {p.name for p in
                                                                     entry.params}


def test_auto_sources():
    assert LAYERS["Conv2d"].meta["auto"] == {"in_channels": CHANNELS}
    assert LAYERS["BatchNorm2d"].meta["auto"] == {"num_features": CHANNELS}
    assert LAYERS["Linear"].meta["auto"] == {"in_features": FEATURES, "out_features": CLASSES}
    assert LAYERS["MaxPool2d"].meta["auto"] == {"stride": "kernel_size"}
    assert LAYERS["Linear"].param("out_features").auto == "number of classes"
    assert LAYERS["Linear"].param("out_features").default is None


def test_validate_fills_defaults_and_accepts_auto():
    params = LAYERS["Conv2d"].validate({"out_channels": 16})
    assert params == {"in_channels": None, "out_channels": 16, "kernel_size": 3, "stride": 1,
                      "padding": 1, "dilation": 1, "groups": 1, "bias": True}
    assert LAYERS["Linear"].validate({"in_features": None})["in_features"] is None
    assert LAYERS["MaxPool2d"].validate({}) == {"kernel_size": 2, "stride": None, "padding": 0}


@pytest.mark.parametrize("name, params, field", [
    ("Conv2d", {"out_channels": 0}, "out_channels"),
    ("Conv2d", {"kernel_size": 2.5}, "kernel_size"),
    ("Conv2d", {"out_channels": None}, "out_channels"),  # not auto: None is not allowed
    ("Dropout", {"p": 1.5}, "p"),
    ("GELU", {"approximate": "fast"}, "approximate"),
    ("ReLU", {"inplace": True}, "inplace"),
    ("Linear", {"bias": 1}, "bias"),
    ("Conv2d", {"padding": "full"}, "padding"),
    ("Conv2d", {"stride": "same"}, "stride"),  # words are declared per parameter
    ("Conv2d", {"groups": 0}, "groups"),
    ("LayerNorm", {"normalized_shape": [4, 4, 4, 4]}, "normalized_shape"),
    ("RowRNN", {"nonlinearity": "sigmoid"}, "nonlinearity"),
    ("RowLSTM", {"nonlinearity": "tanh"}, "nonlinearity"),  # only the plain RNN has one
])
def test_validate_rejects_bad_values_naming_the_field(name, params, field):
    with pytest.raises(SpecError) as info:
        LAYERS[name].validate(params, "model.layers[0].params")
    assert info.value.field == f"model.layers[0].params.{field}"


def test_unknown_layer_lists_the_choices():
    with pytest.raises(SpecError) as info:
        LAYERS.get("Conv3d", "model.layers[2].type")
    assert "Conv3d" in str(info.value) and "Conv2d" in str(info.value)
    assert info.value.field == "model.layers[2].type"


def test_new_auto_sources():
    assert LAYERS["BatchNorm1d"].meta["auto"] == {"num_features": FEATURES}
    assert LAYERS["GroupNorm"].meta["auto"] == {"num_channels": CHANNELS}
    assert LAYERS["LayerNorm"].meta["auto"] == {"normalized_shape": "shape"}
    assert LAYERS["PReLU"].meta["auto"] == {"num_parameters": "channels or 1"}
    assert LAYERS["PReLU"].param("num_parameters").default == 1  # PyTorch's: one slope
    assert SOURCES["row"].read((3, 8, 5)) == 15
    assert SOURCES["shape"].read((3, 8, 5)) == [3, 8, 5]


@pytest.mark.parametrize("value", [0, 3, "same", "valid"])
def test_conv_padding_takes_numbers_and_words(value):
    assert LAYERS["Conv2d"].validate({"padding": value})["padding"] == value


def test_param_words():
    p = Param("padding", int, 0, min=0, max=8, words=("same", "valid"), help="h")
    assert p.validate("same", "x") == "same"
    assert p.validate(3.0, "x") == 3 and p.validate(2, "x") == 2
    for bad, problem in [("Same", "expected an integer, 'same' or 'valid', got 'Same'"),
                         (True, "expected an integer, 'same' or 'valid', got True"),
                         (9, "9 is above the maximum 8")]:
        with pytest.raises(SpecError) as raised:
            p.validate(bad, "model.layers[0].params.padding")
        assert raised.value.problem == problem
    one = Param("size", float, 1.0, words=("auto",))
    assert one.validate("auto", "x") == "auto" and one.validate(2, "x") == 2.0
    with pytest.raises(SpecError, match="expected a number or 'auto', got 'big'"):
        one.validate("big", "x")
    with pytest.raises(SpecError, match="expected an integer, got 'same'"):
        Param("stride", int, 1).validate("same", "x")  # no words: numbers only
