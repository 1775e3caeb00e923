"""Batch-level MixUp and CutMix: soft labels that sum to 1 and match the pixels mixed."""

from __future__ import annotations

import pytest
import torch

from workbench.core.data.augment.mixing import CutMix, MixUp
from workbench.core.data.augment.transforms import build_batch_transform
from workbench.core.experiment import Experiment
from workbench.core.registry import Component


def _exp(*transforms) -> Experiment:
    exp = Experiment()
    exp.augment.transforms = [Component(t, dict(p)) for t, p in transforms]
    return exp.validate()


def _batch(b=6, k=6, size=8):
    """Image i is a constant ``i + 1`` with label i: a pixel's value tells its source."""
    y = torch.arange(b) % k
    x = (torch.arange(b, dtype=torch.float32) + 1)[:, None, None, None].expand(b, 3, size,
                                                                             size).clone()
    return x, y


def test_none_without_batch_steps():
    assert build_batch_transform(_exp(("RandomHorizontalFlip", {}))) is None
    assert build_batch_transform(_exp()) is None


@pytest.mark.parametrize("name, alpha", [("MixUp", 0.2), ("MixUp", 1.0), ("CutMix", 1.0),
                                         ("CutMix", 0.3)])
def test_soft_labels_sum_to_one_and_match_the_mixed_pixels(name, alpha):
    fn = build_batch_transform(_exp(("RandomHorizontalFlip", {}), (name, {"alpha": alpha})),
                               num_classes=6)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        x, y = _batch()
        out, soft = fn(x, y, generator=g)
        assert out.shape == x.shape and soft.shape == (6, 6)
        assert soft.dtype == torch.float32 and (soft >= 0).all()
        assert torch.allclose(soft.sum(1), torch.ones(6), atol=1e-6)
        # The mean pixel of each output is the label-weighted mean of the sources' values.
        values = torch.arange(6, dtype=torch.float32) + 1
        assert torch.allclose(out.mean((1, 2, 3)), soft @ values, atol=1e-4)


def test_cutmix_pastes_a_box_and_mixup_blends_everywhere():
    x, y = _batch(size=16)
    torch.manual_seed(3)
    out, _ = CutMix(alpha=1.0, num_classes=6)(x, y)
    # Every pixel comes whole from one image (no blending).
    assert all(set(out[i].unique().tolist()) <= set(range(1, 7)) for i in range(6))
    out, soft = MixUp(alpha=1.0, num_classes=6)(x, y)
    assert all(out[i].unique().numel() == 1 for i in range(6))


def test_both_listed_picks_one_per_batch_and_order_does_not_matter():
    a = build_batch_transform(_exp(("MixUp", {}), ("CutMix", {})), num_classes=6)
    b = build_batch_transform(_exp(("CutMix", {}), ("RandomRotation", {}), ("MixUp", {})),
                              num_classes=6)
    assert sorted(type(c).__name__ for c in a.choices) == ["CutMix", "MixUp"]
    assert sorted(type(c).__name__ for c in b.choices) == ["CutMix", "MixUp"]
    x, y = _batch()
    _, soft = a(x, y)
    assert torch.allclose(soft.sum(1), torch.ones(6))


def test_num_classes_per_call_or_inferred():
    fn = build_batch_transform(_exp(("MixUp", {})))
    x, y = _batch(b=4, k=4)
    assert fn(x, y, num_classes=10)[1].shape == (4, 10)
    assert fn(x, y)[1].shape == (4, 4)


def test_seeded_generator_is_reproducible_and_tiny_batches_pass():
    fn = build_batch_transform(_exp(("CutMix", {})), num_classes=6)
    x, y = _batch()
    r1 = fn(x, y, generator=torch.Generator().manual_seed(5))
    r2 = fn(x, y, generator=torch.Generator().manual_seed(5))
    assert torch.equal(r1[0], r2[0]) and torch.equal(r1[1], r2[1])
    out, soft = fn(x[:1], y[:1])  # one image: nothing to mix with, a plain one-hot
    assert torch.equal(out, x[:1]) and soft.tolist() == [[1.0, 0, 0, 0, 0, 0]]


def test_soft_targets_train_with_cross_entropy():
    fn = build_batch_transform(_exp(("MixUp", {"alpha": 0.4})), num_classes=3)
    x, y = torch.randn(8, 3, 4, 4), torch.randint(0, 3, (8,))
    out, soft = fn(x, y)
    logits = torch.nn.Linear(48, 3)(out.flatten(1))
    loss = torch.nn.CrossEntropyLoss()(logits, soft)
    loss.backward()
    assert torch.isfinite(loss)
