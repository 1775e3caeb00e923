"""The layer registry's declarations: names, groups, parameters, auto-filled fields."""

from __future__ import annotations

import pytest
from torch import nn

from workbench.core.errors import SpecError
from workbench.core.model.layers import CHANNELS, CLASSES, FEATURES, LAYERS

REQUIRED = ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout",
            "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Flatten", "Linear"]
GROUPS = {"convolution", "pooling", "normalisation", "activation", "regularisation",
          "reshaping", "dense"}


def test_every_required_layer_is_registered_and_builds_its_torch_class():
    assert set(REQUIRED) <= set(LAYERS.names())
    for name in REQUIRED:
        entry = LAYERS[name]
        assert entry.builder is getattr(nn, name)
        assert entry.meta["torch"] == f"torch.nn.{name}"


def test_groups_are_the_declared_ones():
    assert set(LAYERS.groups()) == GROUPS
    assert LAYERS["Conv2d"].group == "convolution"
    assert LAYERS["Linear"].group == "dense"
    assert LAYERS["Flatten"].group == "reshaping"
    assert LAYERS["Dropout"].group == "regularisation"


@pytest.mark.parametrize("name", REQUIRED)
def test_entry_declarations_are_complete(name):
    entry = LAYERS[name]
    assert entry.help, f"{name} has no help text"
    assert entry.meta["input"] in ("image", "flat", "any")
    for p in entry.params:
        assert p.help, f"{name}.{p.name} has no help text"
        # The declared default must pass the declaration's own validation.
        assert p.validate(p.default, p.name) == p.default
    auto_params = {p.name for p in entry.params if p.auto is not None}
    # Exactly the params whose None is filled in have an auto text, and vice versa.
    assert auto_params == set(entry.meta["auto"]), name
    for param, source in entry.meta["auto"].items():
        assert source in (CHANNELS, FEATURES, CLASSES) or source in {p.name for p in
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
                      "padding": 1, "bias": True}
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
