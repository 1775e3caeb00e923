"""Batch forms of the colour and blur transforms: ColorJitter and GaussianBlur.

See :mod:`.batch_ops` for the protocol (``draw`` then ``apply``). Both follow v2's
arithmetic step by step (the same float32 operations in the same order, including v2's
truncation to uint8 after every colour step), so each image comes out as v2's functional
op makes it for the same parameters: bit for bit in the tests, and in general up to a
float32 rounding that can move a uint8 value by one grey level.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as nnf
from torchvision.transforms import v2

from workbench.core.data.augment.batch_base import (BatchTransform, Params, each_image, uniform,
                                                   where_selected)

_BRIGHTNESS, _CONTRAST, _SATURATION, _HUE = range(4)


def _factor(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image factors (CPU float64) as a (n, 1, 1, 1) float32 tensor on x's device: the
    float32 value v2 gets when a Python float meets a float32 tensor."""
    return f.to(device=x.device, dtype=torch.float32).view(-1, 1, 1, 1)


def _done(out: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Clamp to the dtype's range and convert back (truncating, as v2 does for uint8)."""
    out = out.clamp_(0, 1.0 if like.is_floating_point() else 255)
    return out if like.is_floating_point() else out.to(like.dtype)


def _gray(x: torch.Tensor) -> torch.Tensor:
    """v2's luma (its ``_rgb_to_grayscale_image`` without casting back), floored for ints."""
    r, g, b = x.unbind(dim=-3)
    gray = r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(-3)
    return gray if x.is_floating_point() else gray.floor_()


def _blend(x: torch.Tensor, other: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    # v2: x.mul(f).add_(other, alpha=1 - f). addcmul rounds like add_ with alpha (one fused
    # step), which a separate multiply does not; 1 - f is taken in float64 like Python.
    out = torch.addcmul(x.mul(_factor(f, x)), other, _factor(1.0 - f, x))
    return _done(out, x)


def adjust_brightness(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    return _done(x.mul(_factor(f, x)), x)


def adjust_contrast(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    gray = _gray(x) if x.shape[-3] == 3 else x.to(torch.float32)
    return _blend(x, gray.mean(dim=(-3, -2, -1), keepdim=True), f)


def adjust_saturation(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    if x.shape[-3] == 1:  # v2 (like PIL) leaves grayscale images alone
        return x
    return _blend(x, _gray(x), f)


def _rgb_to_hsv(image: torch.Tensor) -> torch.Tensor:
    # v2's _rgb_to_hsv, operation for operation (it is private, so it is copied).
    r, g, _ = image.unbind(dim=-3)
    minc, maxc = torch.aminmax(image, dim=-3)
    eqc = maxc == minc
    channels_range = maxc - minc
    ones = torch.ones_like(maxc)
    s = channels_range / torch.where(eqc, ones, maxc)
    divisor = torch.where(eqc, ones, channels_range).unsqueeze_(dim=-3)
    rc, gc, bc = ((maxc.unsqueeze(dim=-3) - image) / divisor).unbind(dim=-3)
    neq_r = maxc != r
    eq_g = maxc == g
    hg = rc.add(2.0).sub_(bc).mul_(eq_g & neq_r)
    hr = bc.sub_(gc).mul_(~neq_r)
    hb = gc.add_(4.0).sub_(rc).mul_(neq_r.logical_and_(eq_g.logical_not_()))
    h = hr.add_(hg).add_(hb).mul_(1.0 / 6.0).add_(1.0).fmod_(1.0)
    return torch.stack((h, s, maxc), dim=-3)


def _hsv_to_rgb(img: torch.Tensor) -> torch.Tensor:
    # v2's _hsv_to_rgb: pick each channel among v, p, q, t by the hue's sector.
    h, s, v = img.unbind(dim=-3)
    h6 = h.mul(6)
    i = torch.floor(h6)
    f = h6.sub_(i)
    i = i.to(dtype=torch.int32).remainder_(6)
    sxf = s * f
    one_minus_s = 1.0 - s
    q = (1.0 - sxf).mul_(v).clamp_(0.0, 1.0)
    t = sxf.add_(one_minus_s).mul_(v).clamp_(0.0, 1.0)
    p = one_minus_s.mul_(v).clamp_(0.0, 1.0)
    vpqt = torch.stack((v, p, q, t), dim=-3)
    select = torch.tensor([[0, 2, 1, 1, 3, 0], [3, 0, 0, 2, 1, 1], [1, 1, 3, 0, 0, 2]],
                          dtype=torch.long, device=img.device)
    return vpqt.gather(-3, select[:, i].moveaxis(0, -3))


def adjust_hue(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    if x.shape[-3] == 1:
        return x
    # v2 works in float32 [0, 1]: x / 255 in, x * 255.999 truncated out.
    img = x.to(torch.float32).mul_(1.0 / 255) if not x.is_floating_point() else x
    hsv = _rgb_to_hsv(img)
    hsv[:, 0].add_(_factor(f, x).view(-1, 1, 1)).remainder_(1.0)
    rgb = _hsv_to_rgb(hsv)
    return rgb if x.is_floating_point() else rgb.mul(255 + 1.0 - 1e-3).to(x.dtype)


_ADJUST = {_BRIGHTNESS: adjust_brightness, _CONTRAST: adjust_contrast,
           _SATURATION: adjust_saturation, _HUE: adjust_hue}


class BatchColorJitter(BatchTransform):
    """v2.ColorJitter with its own factors and its own order of the four steps per image.

    ``draw`` gives ``order`` (B, 4), a random permutation of the steps per image as v2's
    ``torch.randperm(4)``, and ``factors`` (B, 4) (brightness, contrast, saturation, hue;
    unused columns are NaN). ``apply`` runs four rounds; in round k each step is applied
    to the images whose k-th step it is, so every image sees its steps in its own order
    and each image is computed once per step.
    """

    cpu_batched_up_to = 96

    def __init__(self, transform: v2.ColorJitter):
        self.transform = transform
        self.ranges = [transform.brightness, transform.contrast, transform.saturation,
                       transform.hue]
        self.active = [k for k, r in enumerate(self.ranges) if r is not None]

    def draw(self, shape: torch.Size) -> Params:
        b = shape[0]
        factors = torch.full((b, 4), float("nan"), dtype=torch.float64)
        for k in self.active:
            factors[:, k] = uniform(b, *self.ranges[k])
        return {"order": torch.rand(b, 4).argsort(dim=1), "factors": factors}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        order, factors = params["order"], params["factors"]
        if not self.active:
            return x
        x = x.clone()  # one copy that the rounds then update in place
        for k in range(4):
            for step in self.active:
                fn = _ADJUST[step]
                x = where_selected(x, order[:, k] == step,
                                   lambda imgs, idx, fn=fn, step=step:
                                   fn(imgs, factors[idx, step]), inplace=True)
        return x

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        if not self.active:
            return x
        names = ("brightness_factor", "contrast_factor", "saturation_factor", "hue_factor")
        order, factors = params["order"], params["factors"].tolist()
        return each_image(x, lambda i, img: self.transform.transform(img, {
            "fn_idx": order[i], **{n: None if math.isnan(f) else f
                                   for n, f in zip(names, factors[i])}}))

    def __repr__(self) -> str:
        names = ("brightness", "contrast", "saturation", "hue")
        return "BatchColorJitter(" + ", ".join(f"{names[k]}={self.ranges[k]}"
                                               for k in self.active) + ")"


def _kernel1d(size: int, sigma: torch.Tensor) -> torch.Tensor:
    """v2's Gaussian kernel (softmax of -(x / sigma)^2) for each sigma: (n, size)."""
    lim = (size - 1) / (2.0 * math.sqrt(2.0))
    x = torch.linspace(-lim, lim, steps=size, dtype=torch.float32)
    return torch.softmax(x.div(sigma.float().view(-1, 1)).pow(2).neg(), dim=1)


class BatchGaussianBlur(BatchTransform):
    """v2.GaussianBlur (and our size-fitting wrapper) with a sigma drawn per image.

    v2 convolves with a 2-D kernel after reflect padding; here every (image, channel) gets
    its own kernel in one grouped convolution, the same arithmetic. ``draw`` gives
    ``sigma`` (B,).
    """

    def __init__(self, kernel_size: int | tuple[int, int] | Callable[[int, int], int],
                 sigma: tuple[float, float]):
        self.kernel_size, self.sigma = kernel_size, (float(sigma[0]), float(sigma[1]))

    def _size(self, h: int, w: int) -> tuple[int, int]:
        ks = self.kernel_size
        if callable(ks):  # our wrapper's kernel shrinks to fit small images
            k = ks(h, w)
            return k, k
        return (ks, ks) if isinstance(ks, int) else (int(ks[0]), int(ks[1]))

    cpu_batched_up_to = 160

    def draw(self, shape: torch.Size) -> Params:
        return {"sigma": uniform(shape[0], *self.sigma)}

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        kx, ky = self._size(*x.shape[-2:])
        sigma = params["sigma"].tolist()
        return each_image(x, lambda i, img: v2.functional.gaussian_blur(
            img, [kx, ky], [sigma[i], sigma[i]]))

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        b, c, h, w = x.shape
        kx, ky = self._size(h, w)
        sigma = params["sigma"]
        kernel = _kernel1d(ky, sigma).unsqueeze(-1) * _kernel1d(kx, sigma).unsqueeze(-2)
        weight = kernel.to(x.device).repeat_interleave(c, dim=0).unsqueeze(1)  # (B*C,1,ky,kx)
        img = x if x.is_floating_point() else x.to(torch.float32)
        img = nnf.pad(img, [kx // 2, kx // 2, ky // 2, ky // 2], mode="reflect")
        out = nnf.conv2d(img.reshape(1, b * c, *img.shape[-2:]), weight.to(img.dtype),
                         groups=b * c).view(b, c, h, w)
        return out if x.is_floating_point() else out.round_().to(x.dtype)

    def __repr__(self) -> str:
        return f"BatchGaussianBlur(sigma={self.sigma})"


def vectorize(transform: Any) -> BatchTransform | None:
    """The batch form of a colour or blur transform, or ``None`` (see
    :func:`.batch_ops.vectorize`)."""
    from workbench.core.data.augment.more_transforms import _GaussianBlur

    if isinstance(transform, v2.ColorJitter):
        return BatchColorJitter(transform)
    if isinstance(transform, _GaussianBlur):
        def fit(h: int, w: int, k: int = transform.kernel_size) -> int:
            k = min(k, 2 * min(h, w) - 1)  # as _GaussianBlur.forward
            return max(1, k if k % 2 else k - 1)
        return BatchGaussianBlur(fit, transform.sigma)
    if isinstance(transform, v2.GaussianBlur):
        return BatchGaussianBlur(tuple(transform.kernel_size), transform.sigma)
    return None
