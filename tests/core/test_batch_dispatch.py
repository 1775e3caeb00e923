"""Each vectorised augmentation op picks the faster way to do a batch: its batched
arithmetic, or torchvision's kernels image by image (on the CPU, for images larger than
the op's measured threshold). Either way the draws are the same, so a seeded run does not
depend on the path, and the per-image path gives exactly v2's result for those draws."""

from __future__ import annotations

import pytest
import torch
from torchvision.transforms import v2

from workbench.core.data.augment.batch_ops import vectorize

OPS = {
    "RandomResizedCrop": lambda size: v2.RandomResizedCrop(size, scale=(0.5, 1.0),
                                                           antialias=True),
    "RandomHorizontalFlip": lambda size: v2.RandomHorizontalFlip(0.5),
    "RandomRotation": lambda size: v2.RandomRotation(15),
    "RandomAffine": lambda size: v2.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1),
                                                 shear=5),
    "RandomPerspective": lambda size: v2.RandomPerspective(0.2, p=0.5),
    "ColorJitter": lambda size: v2.ColorJitter(0.3, 0.3, 0.3, 0.05),
    "GaussianBlur": lambda size: v2.GaussianBlur(5, (0.1, 2.0)),
    "RandomErasing": lambda size: v2.RandomErasing(0.7),
}
#: Grey levels the batched arithmetic may differ from v2 by (documented per op).
ROUNDING = {"RandomResizedCrop": 1}


def _batch(size: int, n: int = 5) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(size))


@pytest.mark.parametrize("name", OPS)
def test_the_path_follows_the_image_size_on_the_cpu_and_the_draws_do_not(name):
    op = vectorize(OPS[name](8))
    limit = op.cpu_batched_up_to
    assert limit is not None
    small, large = _batch(limit), _batch(limit + 8)
    assert op.path_for(small) == "batched" and op.path_for(large) == "per image"
    assert op.path_for(torch.empty(2, 3, limit + 8, limit + 8, device="meta")) == "batched"

    op = vectorize(OPS[name](limit + 8))
    torch.manual_seed(3)
    chosen = op(large)  # per image here
    torch.manual_seed(3)
    batched = op.apply(large, op.draw(large.shape))
    assert (chosen.int() - batched.int()).abs().max().item() <= ROUNDING.get(name, 0)
    assert not torch.equal(chosen, large)  # it did transform the images


@pytest.mark.parametrize("name", OPS)
def test_the_per_image_path_does_each_image_on_its_own_and_agrees_with_the_batched_one(name):
    size = 72
    transform = OPS[name](size)
    op, x = vectorize(transform), _batch(size)
    torch.manual_seed(5)
    params = op.draw(x.shape)
    out = op.apply_each(x, params)
    assert out.shape == x.shape and out.dtype == x.dtype
    # Image by image, v2's transform with the parameters drawn for that image.
    for i in range(len(x)):
        one = {k: v[i:i + 1] for k, v in params.items()}
        torch.testing.assert_close(op.apply_each(x[i:i + 1], one)[0], out[i], rtol=0, atol=0)
    assert (op.apply(x, params).int() - out.int()).abs().max().item() <= ROUNDING.get(name, 0)
