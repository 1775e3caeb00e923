"""A backbone's multiply-adds, as its card, the summary and the memory hint show them.

A transformer applies each Linear to every token, and its attention multiplies QKᵀ and AV:
vit_tiny at 224 px is about 1.25 G multiply-adds (1.07 G in its Linear layers, the figure
timm publishes, plus 0.18 G of attention), not the 34 M of counting each Linear once.
"""

from __future__ import annotations

import pytest

from workbench.core.model.builder import infer_shapes
from workbench.core.registry import Component as C
from workbench.core.train.memory import estimate


def backbone_summary(arch: str, mode: str = "feature_extraction", size: int = 224):
    layers = [C("Backbone", {"arch": arch, "weights": "random", "mode": mode}), C("Linear")]
    return infer_shapes(layers, (3, size, size), 4)


def test_a_vit_counts_every_linear_once_per_token_and_its_attention():
    pytest.importorskip("timm")
    summary = backbone_summary("timm/vit_tiny_patch16_224")
    linear = 1_074_659_328  # 12 blocks and the patch embedding, every token
    attention = 12 * 2 * 197 * 197 * 192  # QKᵀ and AV: 197 tokens, width 192, 12 blocks
    assert summary.layers[0].macs == linear + attention
    assert summary.total_macs == pytest.approx(1.25e9, rel=0.01)
    # 96 x 128 px: 6 x 8 patches and the class token, a quarter of the tokens.
    small = infer_shapes([C("Backbone", {"arch": "timm/vit_tiny_patch16_224",
                                         "weights": "random"}), C("Linear")], (3, 96, 128), 4)
    assert 2.5e8 < small.layers[0].macs < 3e8


def test_convolutional_backbones_keep_their_counts():
    assert backbone_summary("resnet18").layers[0].macs == 1_816_045_056
    assert backbone_summary("efficientnet_b0").layers[0].macs == 391_272_448


def test_a_fine_tuned_vit_is_given_the_activation_memory_of_its_size():
    pytest.importorskip("timm")
    tuned = estimate(backbone_summary("timm/vit_tiny_patch16_224", "fine_tune"), "Adam")
    frozen = estimate(backbone_summary("timm/vit_tiny_patch16_224"), "Adam")
    # Measured: a training step keeps about 40 MiB per 224 px image inside vit_tiny.
    assert 20 * 2**20 < tuned.per_image - frozen.per_image < 80 * 2**20


@pytest.mark.parametrize("arch, measured_mib", [("resnet18", 42.5), ("efficientnet_b0", 91.8)])
def test_a_fine_tuned_backbones_memory_is_within_a_factor_of_two_of_what_it_keeps(
        arch, measured_mib):
    # Measured (saved-tensor hooks, 224 px, per image): the tensors a fine-tuning step
    # keeps. From multiply-adds, efficientnet_b0's depthwise layers read 10.5 MiB, 9x short.
    tuned = estimate(backbone_summary(arch, "fine_tune"), "Adam")
    frozen = estimate(backbone_summary(arch), "Adam")
    kept = (tuned.per_image - frozen.per_image) / 2**20
    assert measured_mib / 2 < kept < measured_mib * 2, kept
