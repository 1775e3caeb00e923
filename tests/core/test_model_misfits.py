"""Stacks a learner can get wrong with the newer layers: each gives one message naming the
layer, what is wrong and what to do; inference never raises, building raises ShapeError."""

from __future__ import annotations

import pytest

from workbench.core.errors import ShapeError, SpecError
from workbench.core.registry import Component as C
from workbench.core.model.builder import build_network, infer_shapes

TAIL = [C("Flatten"), C("Linear")]

MISFITS = [
    pytest.param([C("Conv2d", {"out_channels": 8}), C("Conv2d", {"out_channels": 6,
                                                                 "groups": 4})] + TAIL,
                 (3, 8, 8), 1,
                 "layer 2 (Conv2d) has groups 4 with 8 input channels and 6 output channels: "
                 "in_channels and out_channels must both be divisible by groups; use groups "
                 "2, or change out_channels or the layers before it", id="groups"),
    pytest.param([C("Conv2d", {"padding": "same", "stride": 2})] + TAIL, (3, 8, 8), 0,
                 "layer 1 (Conv2d) has padding 'same' with stride 2, which PyTorch does not "
                 "support: set stride to 1, or give padding as a number (e.g. 1)",
                 id="same-with-stride"),
    pytest.param([C("Conv2d", {"kernel_size": 3, "padding": 0, "dilation": 3})] + TAIL,
                 (3, 6, 6), 0,
                 "layer 1 (Conv2d) gets a 6x6 input, smaller than its 3x3 kernel (spanning "
                 "7x7 with dilation 3): remove it, lower kernel_size, add padding, or use a "
                 "larger input size", id="dilated-kernel"),
    pytest.param([C("Conv2d", {"kernel_size": 3, "padding": "valid"})] + TAIL, (3, 2, 6), 0,
                 "layer 1 (Conv2d) gets a 2x6 input, smaller than its 3x3 kernel: remove it, "
                 "lower kernel_size, add padding, or use a larger input size", id="valid"),
    pytest.param([C("Flatten"), C("LayerNorm", {"normalized_shape": [3, 8, 8]}), C("Linear")],
                 (3, 8, 8), 1,
                 "layer 2 (LayerNorm) normalizes over (3, 8, 8) but receives 192 flat "
                 "features: normalized_shape must be the input's last dimensions; set it to "
                 "auto (the whole input)", id="layernorm-after-flatten"),
    pytest.param([C("Flatten"), C("RowLSTM"), C("Linear")], (3, 8, 8), 1,
                 "layer 2 (RowLSTM) needs an image-shaped input (channels, height, width) but "
                 "receives 192 flat features: move it before Flatten",
                 id="recurrent-after-flatten"),
    pytest.param([C("RowGRU", {"input_size": 20}), C("Linear")], (3, 8, 8), 0,
                 "layer 1 (RowGRU) expects 20 features per row (channels x width) but "
                 "receives 24: set input_size to auto", id="recurrent-pinned"),
    pytest.param([C("GroupNorm", {"num_groups": 8})] + TAIL, (12, 8, 8), 0,
                 "layer 1 (GroupNorm) has num_groups 8 but 12 channels: the channels must be "
                 "divisible by num_groups; use num_groups 6", id="groupnorm"),
    pytest.param([C("PReLU", {"num_parameters": 4})] + TAIL, (3, 8, 8), 0,
                 "layer 1 (PReLU) expects 4 input channels but receives 3: set "
                 "num_parameters to auto or 1", id="prelu"),
    pytest.param([C("Flatten"), C("PReLU", {"num_parameters": 4}), C("Linear")], (3, 8, 8), 1,
                 "layer 2 (PReLU) expects 4 input features but receives 192: set "
                 "num_parameters to auto or 1", id="prelu-flat"),
    pytest.param([C("Flatten"), C("Softmax", {"dim": 2}), C("Linear")], (3, 8, 8), 1,
                 "layer 2 (Softmax) has dim 2 but its input (192) has only 1 dimension after "
                 "the batch: use dim 1 (channels, or features when flat)", id="softmax-dim"),
    pytest.param([C("BatchNorm1d"), C("Linear")], (3, 8, 8), 0,
                 "layer 1 (BatchNorm1d) receives an image-shaped input (3, 8, 8) but needs a "
                 "flat list of features: add Flatten before it", id="batchnorm1d-on-image"),
    pytest.param([C("Flatten"), C("BatchNorm1d", {"num_features": 1}), C("Linear")],
                 (3, 8, 8), 1,
                 "layer 2 (BatchNorm1d) expects 1 input feature but receives 192: set "
                 "num_features to auto", id="batchnorm1d-pinned"),
    pytest.param([C("Flatten"), C("Dropout2d"), C("Linear")], (3, 8, 8), 1,
                 "layer 2 (Dropout2d) needs an image-shaped input (channels, height, width) "
                 "but receives 192 flat features: move it before Flatten",
                 id="dropout2d-after-flatten"),
]


@pytest.mark.parametrize("layers, shape, index, message", MISFITS)
def test_misfit_message(layers, shape, index, message):
    summary = infer_shapes(layers, shape, 4)
    assert summary.error == message
    assert summary.error_index == index and summary.layers[index].error == message
    assert all(r.output_shape is None for r in summary.layers[index:])
    with pytest.raises(ShapeError) as raised:
        build_network(layers, shape, 4)
    assert str(raised.value) == message and raised.value.index == index


@pytest.mark.parametrize("padding, problem", [
    ("full", "expected an integer, 'same' or 'valid', got 'full'"),
    (2.5, "expected an integer, 'same' or 'valid', got 2.5"),
    (-1, "-1 is below the minimum 0"),
])
def test_bad_padding_names_the_words_too(padding, problem):
    layers = [C("Conv2d", {"padding": padding})] + TAIL
    assert infer_shapes(layers, (3, 8, 8), 4).error == f"layer 1 (Conv2d): padding: {problem}"
    with pytest.raises(SpecError) as raised:
        build_network(layers, (3, 8, 8), 4)
    assert raised.value.field == "model.layers[0].params.padding"


@pytest.mark.parametrize("layers, shape", [
    ([C("Conv2d", {"padding": "same", "kernel_size": 4, "dilation": 2})] + TAIL, (3, 5, 7)),
    ([C("Conv2d", {"out_channels": 6, "groups": 3}), C("GroupNorm", {"num_groups": 3}),
      C("PReLU", {"num_parameters": None})] + TAIL, (3, 5, 5)),
    ([C("Conv2d", {"out_channels": 4}), C("LayerNorm", {"normalized_shape": [5, 5]}),
      C("PReLU", {"num_parameters": 1})] + TAIL, (3, 5, 5)),
    ([C("RowRNN", {"bidirectional": True, "hidden_size": 5}), C("BatchNorm1d"), C("ELU"),
      C("Linear")], (1, 3, 3)),
])
def test_what_pytorch_accepts_fits(layers, shape):
    summary = infer_shapes(layers, shape, 4)
    assert summary.ok, summary.error
