"""A weight tie that no longer fits is explained in the user's terms: in the app by layer
numbers and the card's menu (a reorder put the tied layer above its source), in a file by
its ``share`` field; and the layers offered instead are earlier layers of the same type
whose weights have the same shape, never a Flatten or a Linear of another size."""

from __future__ import annotations

import pytest

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.model.builder import infer_shapes
from workbench.core.registry import Component

INPUT = (3, 8, 8)


def _moved() -> list[Component]:
    """Layer 6 (Linear 64 -> 64) tied to layer 4, then moved above it to be layer 3 (the
    app keeps the tie, pointing at its source, now layer 5)."""
    return [Component("Flatten"), Component("Linear", {"out_features": 64}),
            Component("Linear", {"out_features": 64}, share=4), Component("ReLU"),
            Component("Linear", {"out_features": 64}), Component("ReLU"),
            Component("ReLU"), Component("Linear")]


def test_a_tie_moved_above_its_source_is_said_by_layer_numbers():
    summary = infer_shapes(_moved(), INPUT, 3)
    # Layer 2 is a Linear 192 -> 64: its weight is not layer 3's shape, so not offered.
    assert summary.error == ("layer 3 (Linear) uses layer 5's weights, which now comes after "
                             "it: move it below layer 5 or remove the tie (⋯ menu)")
    assert summary.error_index == 2 and "share" not in summary.error


def test_the_layers_it_could_share_with_instead_have_its_weight_shape():
    layers = [Component("Flatten"), Component("Linear", {"out_features": 64}),
              Component("ReLU"), Component("Linear", {"out_features": 64}),
              Component("ReLU"), Component("Linear", {"out_features": 64}, share=7),
              Component("ReLU"), Component("Linear", {"out_features": 64}),
              Component("ReLU"), Component("Linear")]
    summary = infer_shapes(layers, INPUT, 3)
    assert summary.error == ("layer 6 (Linear) uses layer 8's weights, which now comes after "
                             "it: move it below layer 8, tie it to layer 4 instead, or remove "
                             "the tie (⋯ menu)")


def _file_layers() -> list[Component]:
    conv = "Conv2d"
    return [Component("Linear"),
            Component(conv, {"out_channels": 32, "kernel_size": 3, "padding": 1}),
            Component("ReLU"),
            Component(conv, {"in_channels": 8, "out_channels": 64, "kernel_size": 3}),
            Component(conv, {"in_channels": 8, "out_channels": 32, "kernel_size": 3}),
            Component(conv, {"in_channels": 8, "out_channels": 32, "kernel_size": 3}),
            Component("Flatten"), Component("Linear")]


@pytest.mark.parametrize("j, words", [
    # Only a Linear comes before the Conv2d: nothing it could share with.
    (1, "model.layers[1].share: layer 2 (Conv2d) can share weights only with an earlier "
        "layer: share 9 names layer 10 (share counts from 0) and no earlier Conv2d has "
        "weights of the same shape: remove the tie"),
    # Layer 6's weight is 32x8x3x3: layer 5's too; layer 4's is 64x8x3x3, not offered;
    # layer 2's in_channels are auto (its shape is not known in the file): offered.
    (5, "model.layers[5].share: layer 6 (Conv2d) can share weights only with an earlier "
        "layer: share 9 names layer 10 (share counts from 0) and it can share with layers 2 "
        "and 5, i.e. share 1 or 4; pick one of them or remove the tie"),
])
def test_a_file_is_told_by_its_share_field_and_offered_only_its_type(j, words):
    exp = Experiment()
    exp.model.layers = _file_layers()
    exp.model.layers[j].share = 9
    with pytest.raises(SpecError) as info:
        exp.validate()
    assert str(info.value) == words
