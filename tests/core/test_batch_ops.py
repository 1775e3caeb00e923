"""Batch ops: for the same draws, each image comes out as v2's functional op makes it."""

from __future__ import annotations

import pytest
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from workbench.core.data.augment.more_transforms import _GaussianBlur, _GaussianNoise, _RandomGrayscale
from workbench.core.data.augment.batch_base import BatchTransform
from workbench.core.data.augment.batch_ops import PerSample, vectorize
from workbench.core.data.augment.transforms import TRANSFORMS

B, H, W = 6, 14, 18  # not square, so a swapped height and width shows


def _images(dtype=torch.uint8, channels=3, b=B, h=H, w=W, seed=0) -> torch.Tensor:
    """Random images with some structure (a ramp plus noise): a warp or blur moves it."""
    g = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(0, 160, w).view(1, 1, 1, w) + torch.linspace(0, 60, h).view(1, 1, h, 1)
    x = (ramp + torch.randint(0, 96, (b, channels, h, w), generator=g)).clamp(0, 255)
    x = x.to(torch.uint8)
    return x if dtype == torch.uint8 else x.to(dtype) / 255


def _row(params: dict, i: int) -> dict:
    return {k: v[i] for k, v in params.items()}


# -- per transform: a factory and v2's functional op for one image's parameters ----------
_JITTER_FNS = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)


def _jitter_ref(img, p):
    for k in p["order"].tolist():
        f = float(p["factors"][k])
        if f == f:  # NaN: the step is off
            img = _JITTER_FNS[k](img, f)
    return img


def _masked(fn):
    return lambda img, p: fn(img) if p["apply"] else img


def _box(p):
    return int(p["top"]), int(p["left"]), int(p["height"]), int(p["width"])


CASES = {
    "hflip": (lambda: v2.RandomHorizontalFlip(0.5), _masked(F.horizontal_flip)),
    "vflip": (lambda: v2.RandomVerticalFlip(0.5), _masked(F.vertical_flip)),
    "grayscale": (lambda: _RandomGrayscale(0.5),
                  _masked(lambda img: F.rgb_to_grayscale(img, img.shape[0]))),
    "jitter": (lambda: v2.ColorJitter(0.4, 0.4, 0.4, 0.2), _jitter_ref),
    "jitter-some": (lambda: v2.ColorJitter(brightness=0.3, saturation=0.5), _jitter_ref),
    "blur": (lambda: _GaussianBlur(5, (0.1, 2.0)),
             lambda img, p: F.gaussian_blur(img, [5, 5], [float(p["sigma"])] * 2)),
    "blur-v2": (lambda: v2.GaussianBlur((3, 5), (0.5, 1.5)),
                lambda img, p: F.gaussian_blur(img, [3, 5], [float(p["sigma"])] * 2)),
    "rotation": (lambda: v2.RandomRotation((-40, 40)),
                 lambda img, p: F.rotate(img, float(p["angle"]), fill=0)),
    "rotation-bilinear": (
        lambda: v2.RandomRotation(30, interpolation=v2.InterpolationMode.BILINEAR, fill=7),
        lambda img, p: F.rotate(img, float(p["angle"]), v2.InterpolationMode.BILINEAR,
                                fill=7)),
    "affine": (lambda: v2.RandomAffine(20, translate=(0.2, 0.1), scale=(0.7, 1.3),
                                       shear=(-10, 10, -5, 5)),
               lambda img, p: F.affine(img, float(p["angle"]), [int(p["tx"]), int(p["ty"])],
                                       float(p["scale"]),
                                       [float(p["shear_x"]), float(p["shear_y"])], fill=0)),
    "perspective": (lambda: v2.RandomPerspective(0.5, p=0.7),
                    lambda img, p: F.perspective(img, None, None, fill=0,
                                                 coefficients=p["coefficients"].tolist())
                    if p["apply"] else img),
    "resized-crop": (lambda: v2.RandomResizedCrop((12, 16), scale=(0.08, 1.0)),
                     lambda img, p: F.resized_crop(img, *_box(p), [12, 16])),
    "resized-crop-up": (lambda: v2.RandomResizedCrop((20, 24), scale=(0.3, 1.0)),
                        lambda img, p: F.resized_crop(img, *_box(p), [20, 24])),
    "resized-crop-down": (lambda: v2.RandomResizedCrop((5, 6), scale=(0.5, 1.0)),
                          lambda img, p: F.resized_crop(img, *_box(p), [5, 6])),
    "erasing": (lambda: v2.RandomErasing(0.7, value=0.5),
                lambda img, p: F.erase(img, *_box(p), torch.tensor([0.5])[:, None, None])
                if p["apply"] else img),
}
RESIZES = {"resized-crop", "resized-crop-up", "resized-crop-down"}
COLOUR = {"grayscale", "jitter", "jitter-some", "blur", "erasing"}


def _op(name) -> BatchTransform:
    op = vectorize(CASES[name][0]())
    assert isinstance(op, BatchTransform), name
    return op


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_each_image_is_what_v2_gives_it_for_the_same_draw(name, dtype):
    ref_fn = CASES[name][1]
    for channels in (3, 1) if name in COLOUR else (3,):
        x = _images(dtype, channels)
        op = _op(name)
        torch.manual_seed(1)
        params = op.draw(x.shape)
        out = op.apply(x, params)
        ref = torch.stack([ref_fn(x[i], _row(params, i)) for i in range(len(x))])
        assert out.dtype == ref.dtype and out.shape == ref.shape
        if name in RESIZES and dtype == torch.uint8:
            # v2 resizes uint8 on the CPU with a fixed-point kernel; ours rounds the float
            # result (as v2 does on the GPU): one grey level apart at most.
            assert (out.int() - ref.int()).abs().max() <= 1
        elif name in RESIZES:
            torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)
        else:
            assert torch.equal(out, ref), name


def test_resized_crop_matches_v2s_float_resize_rounded():
    """Against v2's float path (the GPU's), uint8 crops agree almost everywhere."""
    x = _images(b=16, h=32, w=32)
    op = _op("resized-crop")
    params = op.draw(x.shape)
    out = op.apply(x, params)
    ref = torch.stack([F.resized_crop(x[i].float(), *_box(_row(params, i)), [12, 16])
                       for i in range(16)]).round().to(torch.uint8)
    diff = (out.int() - ref.int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 0.01


@pytest.mark.parametrize("name", list(CASES))
def test_images_of_one_batch_get_their_own_draws(name):
    x = _images(b=8)[:1].expand(8, -1, -1, -1).contiguous()  # eight copies of one image
    torch.manual_seed(0)
    out = _op(name)(x)
    assert len({tuple(img.flatten().tolist()) for img in out}) > 1


@pytest.mark.parametrize("name", list(CASES))
def test_dtype_shape_and_input_are_kept_and_seeds_repeat(name):
    for dtype in (torch.uint8, torch.float32):
        x = _images(dtype)
        before = x.clone()
        op = _op(name)
        torch.manual_seed(7)
        a = op(x)
        torch.manual_seed(7)
        b = op(x)
        assert torch.equal(a, b)
        assert torch.equal(x, before)  # the input batch is never written to
        assert a.dtype == dtype
        size = tuple(CASES[name][0]().size) if name in RESIZES else (H, W)
        assert a.shape == (B, 3) + size
        assert op(x[:0]).shape[0] == 0


@pytest.mark.parametrize("make", [
    lambda p: v2.RandomHorizontalFlip(p), lambda p: v2.RandomVerticalFlip(p),
    lambda p: _RandomGrayscale(p), lambda p: v2.RandomPerspective(0.5, p=p),
    lambda p: v2.RandomErasing(p, scale=(0.1, 0.3), value=0)])
def test_probability_zero_keeps_the_batch_and_one_changes_every_image(make):
    x = _images()
    torch.manual_seed(0)
    assert torch.equal(vectorize(make(0.0))(x), x)
    out = vectorize(make(1.0))(x)
    assert all(not torch.equal(out[i], x[i]) for i in range(B))


@pytest.mark.parametrize("off, on", [
    (v2.ColorJitter(0, 0, 0, 0), v2.ColorJitter(brightness=(1.5, 2.0))),
    (v2.RandomRotation(0), v2.RandomRotation((170, 190))),
    (v2.RandomAffine(0), v2.RandomAffine(0, scale=(0.5, 0.6))),
    (v2.RandomResizedCrop((H, W), scale=(1, 1), ratio=(W / H, W / H)),
     v2.RandomResizedCrop((H, W), scale=(0.2, 0.3))),
    (_GaussianBlur(1, (0.5, 1.0)), _GaussianBlur(5, (1.5, 2.0)))])
def test_settings_that_do_nothing_keep_the_batch_and_strong_ones_change_every_image(off, on):
    x = _images()
    torch.manual_seed(0)
    assert torch.equal(vectorize(off)(x), x)
    out = vectorize(on)(x)
    assert all(not torch.equal(out[i], x[i]) for i in range(B))


def test_draws_stay_in_v2s_ranges():
    torch.manual_seed(0)
    shape = torch.Size((500, 3, H, W))
    jitter = vectorize(v2.ColorJitter(0.4, 0.3, 0.2, 0.1)).draw(shape)
    assert len({tuple(r) for r in jitter["order"].tolist()}) == 24  # every order occurs
    for k, (lo, hi) in enumerate([(0.6, 1.4), (0.7, 1.3), (0.8, 1.2), (-0.1, 0.1)]):
        f = jitter["factors"][:, k]
        assert lo <= f.min() < lo + 0.05 and hi - 0.05 < f.max() <= hi
    for t in (v2.RandomResizedCrop(8, scale=(0.08, 1.0)),
              v2.RandomErasing(1.0, scale=(0.02, 0.5), value=0)):
        p = vectorize(t).draw(shape)
        top, left, h, w = p["top"], p["left"], p["height"], p["width"]
        assert (top >= 0).all() and (left >= 0).all()
        assert (top + h <= H).all() and (left + w <= W).all()
        assert (h > 0).all() and (w > 0).all()
        assert len(set(top.tolist())) > 3 and len(set(left.tolist())) > 3
    affine = vectorize(v2.RandomAffine(10, translate=(0.1, 0.2))).draw(shape)
    assert affine["tx"].abs().max() <= round(0.1 * W) and affine["ty"].abs().max() <= 3
    assert torch.equal(affine["tx"], affine["tx"].round())


def test_resized_crop_falls_back_to_v2s_central_crop():
    # No box of 1% of a 1x20 strip has a ratio in [1, 1]: v2 crops the centre instead.
    op = vectorize(v2.RandomResizedCrop(4, scale=(0.01, 0.01), ratio=(1.0, 1.0)))
    p = op.draw(torch.Size((3, 3, 1, 20)))
    assert p["height"].tolist() == [1] * 3 and p["width"].tolist() == [1] * 3
    assert p["left"].tolist() == [9] * 3 and p["top"].tolist() == [0] * 3


def test_registry_steps_vectorise_except_the_policies():
    vectorised = ["RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
                  "RandomRotation", "ColorJitter", "RandomAffine", "RandomPerspective",
                  "RandomGrayscale", "GaussianBlur", "RandomErasing"]
    for name in vectorised + ["GaussianNoise"]:
        entry = TRANSFORMS.get(name)
        step = entry.builder(**entry.validate({}), exp=None)
        op = vectorize(step)
        assert op is not None, name
        if name != "GaussianNoise":
            assert isinstance(op, BatchTransform), name
    for name in ("RandAugment", "TrivialAugmentWide", "AutoAugment"):
        entry = TRANSFORMS.get(name)
        assert vectorize(entry.builder(**entry.validate({}), exp=None)) is None


@pytest.mark.parametrize("t", [
    v2.RandomRotation(10, expand=True), v2.RandomRotation(10, center=(3, 3)),
    v2.RandomAffine(10, interpolation=v2.InterpolationMode.BICUBIC),
    v2.RandomResizedCrop(8, interpolation=v2.InterpolationMode.NEAREST),
    v2.RandomErasing(value="random"), v2.RandomRotation(10, fill={tv_tensors.Image: 1}),
    v2.RandAugment()])
def test_options_without_a_batch_form_fall_back(t):
    assert vectorize(t) is None


@pytest.mark.parametrize("t", [v2.RandomErasing(value="random"), v2.RandAugment()])
def test_per_sample_applies_the_fallback_to_each_image(t):
    x = _images()
    torch.manual_seed(0)
    out = PerSample(t)(x)
    assert out.shape == x.shape and out.dtype == x.dtype


def test_noise_passes_through_and_per_sample_stacks():
    noise = _GaussianNoise(0.0, 0.1)
    assert vectorize(noise) is noise
    x = _images()
    torch.manual_seed(0)
    out = PerSample(v2.RandomHorizontalFlip(0.5))(x)
    assert out.shape == x.shape and PerSample(noise)(x[:0]).shape[0] == 0
