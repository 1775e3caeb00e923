"""Batch forms of the geometric transforms, and of RandomErasing.

See :mod:`.batch_ops` for the protocol (``draw`` then ``apply``). Parameters are drawn
with v2's formulas, one set per image, on the CPU (in float64 where v2 uses Python floats).

How close each is to v2's functional op for the same parameters:

RandomRotation, RandomAffine, RandomPerspective
    The same inverse matrices (or perspective coefficients), the same sampling grid and
    the same ``grid_sample`` call as v2, batched: equal to v2 bit for bit in the tests.
    A sampling point that falls exactly between two pixels could round the other way if
    a batched matrix product rounds differently, which the tests have not seen.
RandomResizedCrop
    Each output pixel is a weighted sum of the crop's pixels, with the weights of torch's
    antialiased bilinear resize (a triangle filter widened by the downscale factor, cut at
    the crop's edges and renormalised), computed in float64 and applied as row gathers
    in two passes (columns, then rows). So antialiasing is kept, also for downscaled
    crops, and a crop of the output's size comes out unchanged, as in v2.
    v2 resizes uint8 images on the CPU with a fixed-point kernel: results differ from it
    by at most one grey level (float images: by float32 rounding).
RandomErasing
    A box mask per image: exact.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as nnf
from torchvision.transforms import InterpolationMode, v2

from workbench.core.data.augment.batch_base import (BatchTransform, Params, coin, each_image,
                                                   randint, uniform, where_selected)


def _mode(interpolation: Any) -> str | None:
    """The grid_sample mode of an interpolation (an InterpolationMode or its value, as v2
    keeps it): ``"nearest"`` or ``"bilinear"``, else None (no batch form here)."""
    try:
        value = InterpolationMode(interpolation).value
    except ValueError:
        return None
    return value if value in ("nearest", "bilinear") else None


# -- boxes (RandomResizedCrop, RandomErasing) --------------------------------------------
def _draw_sides(b: int, area: int, scale: Sequence[float], ratio: Sequence[float],
                tries: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """v2's ``tries`` candidate boxes per image: ``round(sqrt(area * r))`` and
    ``round(sqrt(area / r))`` for a share of the area and an aspect ratio r drawn
    log-uniformly (float32 draws, float64 arithmetic, as v2). Both (b, tries), long."""
    log_ratio = torch.log(torch.tensor([float(ratio[0]), float(ratio[1])]))
    target = area * torch.empty(b, tries).uniform_(float(scale[0]), float(scale[1])).double()
    r = torch.exp(torch.empty(b, tries).uniform_(float(log_ratio[0]), float(log_ratio[1])))
    r = r.double()
    # torch.round rounds halves to even, like Python's round.
    return (target * r).sqrt().round().long(), (target / r).sqrt().round().long()


def _first(ok: torch.Tensor, *values: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Per row, whether any try is ``ok`` and the values of the first that is (0 when
    none is)."""
    found = ok.any(dim=1)
    pick = ok.long().argmax(dim=1, keepdim=True)  # argmax: index of the first maximum
    return (found,) + tuple(v.gather(1, pick).squeeze(1) * found for v in values)


def _taps(start: torch.Tensor, length: torch.Tensor, out: int,
          antialias: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Input indices and weights, (B, out, T), of torch's bilinear resize of the span
    ``[start, start + length)`` of an axis to ``out`` pixels (align_corners=False).

    As torch's antialiased kernel: output pixel i samples at ``c = scale * (i + 0.5)``
    (scale = length / out); input pixel j weighs ``max(0, 1 - |j + 0.5 - c| / s)`` with
    s = scale when downscaling with antialias, else 1; the window is cut at the span's
    edges and the weights renormalised. Upscaling, this is plain bilinear interpolation
    with its clamped edges.
    """
    length_f = length.double().view(-1, 1, 1)
    scale = length_f / out
    wide = (scale >= 1.0) & antialias
    support = torch.where(wide, scale, torch.ones_like(scale))
    center = scale * (torch.arange(out, dtype=torch.float64).view(1, -1, 1) + 0.5)
    lo = (center - support + 0.5).floor().clamp(min=0)  # = torch's max(trunc(.), 0)
    hi = torch.minimum((center + support + 0.5).floor(), length_f)
    taps = int(math.ceil(float(support.max()))) * 2 + 1
    j = lo + torch.arange(taps, dtype=torch.float64)
    weight = (1.0 - ((j + 0.5 - center) / support).abs()).clamp(min=0) * (j < hi)
    weight = weight / weight.sum(dim=-1, keepdim=True)
    index = start.view(-1, 1, 1) + torch.minimum(j, length_f - 1).long()
    return index, weight


def _resample(rows: torch.Tensor, n: int, index: torch.Tensor,
              weight: torch.Tensor) -> torch.Tensor:
    """Weighted sums of rows: ``rows`` is (B * n, K) float, n rows per image; ``index`` and
    ``weight`` (B, m, T) say which rows of its image each of the m outputs adds up and
    how much of each. Returns (B, m, K).

    One row gather (index_select, which copies whole rows and is fast on every device)
    per tap; taps whose weights are all zero are skipped.
    """
    b, m, taps = index.shape
    index = (index + n * torch.arange(b).view(b, 1, 1)).to(rows.device)
    weight_dev = weight.to(rows.device, rows.dtype)
    out = None
    for t in range(taps):
        if not bool(weight[..., t].any()):
            continue
        term = rows.index_select(0, index[..., t].reshape(-1)).view(b, m, -1)
        term.mul_(weight_dev[..., t].unsqueeze(-1))
        out = term if out is None else out.add_(term)
    assert out is not None  # every output pixel has a tap of positive weight
    return out


class BatchRandomResizedCrop(BatchTransform):
    """v2.RandomResizedCrop with a crop box per image, each resized to ``size``.

    ``draw`` gives ``top``, ``left``, ``height``, ``width`` (B,), drawn as v2's
    ``make_params`` (ten tries, then the central fallback).
    """

    cpu_batched_up_to = 48

    def __init__(self, transform: v2.RandomResizedCrop):
        self.transform = transform
        self.size = (int(transform.size[0]), int(transform.size[1]))
        self.scale, self.ratio = tuple(transform.scale), tuple(transform.ratio)
        self.antialias = bool(transform.antialias)

    def draw(self, shape: torch.Size) -> Params:
        b, (height, width) = shape[0], shape[-2:]
        w, h = _draw_sides(b, height * width, self.scale, self.ratio)
        found, w, h = _first((w > 0) & (w <= width) & (h > 0) & (h <= height), w, h)
        # v2's fallback: the central crop of the widest allowed aspect ratio.
        in_ratio = width / height
        fw, fh = width, height
        if in_ratio < min(self.ratio):
            fh = int(round(fw / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            fw = int(round(fh * max(self.ratio)))
        w, h = torch.where(found, w, fw), torch.where(found, h, fh)
        top = torch.where(found, randint(height - h + 1), (height - fh) // 2)
        left = torch.where(found, randint(width - w + 1), (width - fw) // 2)
        return {"top": top, "left": left, "height": h, "width": w}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        b, c, h, w = x.shape
        oh, ow = self.size
        # Columns first, on the images' columns as rows (B * w, C * h); then the rows.
        # The layouts are chosen so the one full transpose is on the input (uint8 when
        # it is, and small) and the last copy moves whole rows.
        cols = x.permute(0, 3, 1, 2).reshape(b * w, c * h).to(torch.float32)
        cols = _resample(cols, w, *_taps(params["left"], params["width"], ow, self.antialias))
        rows = cols.view(b, ow, c, h).permute(0, 3, 2, 1).reshape(b * h, c * ow)
        out = _resample(rows, h, *_taps(params["top"], params["height"], oh, self.antialias))
        if not x.is_floating_point():
            out = out.round_().clamp_(0, 255).to(x.dtype)
        return out.view(b, oh, c, ow).transpose(1, 2).contiguous()

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        box = {k: params[k].tolist() for k in ("top", "left", "height", "width")}
        return each_image(x, lambda i, img: self.transform.transform(
            img, {k: int(v[i]) for k, v in box.items()}))

    def __repr__(self) -> str:
        return f"BatchRandomResizedCrop(size={self.size}, scale={self.scale}, " \
               f"ratio={self.ratio})"


# -- warps (RandomRotation, RandomAffine, RandomPerspective) -----------------------------
def _fill(transform: Any) -> list[float] | None | bool:
    """The transform's fill as v2 passes it to the kernel, or False when it is per type."""
    fill = transform.fill
    if isinstance(fill, dict):
        return False
    if fill is None or isinstance(fill, (int, float)):
        return fill if fill is None else [float(fill)]
    return [float(v) for v in fill]


def _base_grid(h: int, w: int, perspective: bool, device: torch.device) -> torch.Tensor:
    """v2's (1, h * w, 3) grid of output pixel centres (x, y, 1): counted from the image
    centre for affine grids, from the top-left corner (0.5 ... n - 0.5) for perspective
    ones."""
    def axis(n: int) -> torch.Tensor:
        if perspective:
            return torch.linspace(0.5, n + 0.5 - 1.0, steps=n, device=device)
        return torch.linspace((1.0 - n) * 0.5, (n - 1.0) * 0.5, steps=n, device=device)

    grid = torch.empty(1, h, w, 3, device=device)
    grid[..., 0].copy_(axis(w))
    grid[..., 1].copy_(axis(h).unsqueeze(-1))
    grid[..., 2].fill_(1)
    return grid.view(1, h * w, 3)


class _Warp(BatchTransform):
    """Shared sampling of the warps: v2's ``_apply_grid_transform`` with a grid per image
    (a ones channel marks the pixels that came from inside the image, for the fill)."""

    def __init__(self, transform: Any):
        self.transform = transform
        self.mode = _mode(transform.interpolation)
        self.fill = _fill(transform)

    def grid(self, params: Params, h: int, w: int, device: torch.device) -> torch.Tensor:
        raise NotImplementedError

    def warp(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        b, c, h, w = x.shape
        img = x if x.is_floating_point() else x.to(torch.float32)
        grid = self.grid(params, h, w, x.device).to(img.dtype).view(b, h, w, 2)
        if self.fill is not None:
            img = torch.cat((img, torch.ones_like(img[:, :1])), dim=1)
        img = nnf.grid_sample(img, grid, mode=self.mode, padding_mode="zeros",
                              align_corners=False)
        if self.fill is not None:
            img, mask = img[:, :c], img[:, c:].expand(b, c, h, w)
            fill = torch.tensor(self.fill, dtype=img.dtype, device=img.device).view(1, -1, 1, 1)
            if self.mode == "nearest":
                img = torch.where(mask < 0.5, fill.expand_as(img), img)
            else:
                img = img.sub(fill).mul_(mask).add_(fill)
        return img if x.is_floating_point() else img.round_().to(x.dtype)

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return self.warp(x, params)


def _inverse_affine(angle: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor,
                    scale: torch.Tensor, shear_x: torch.Tensor,
                    shear_y: torch.Tensor) -> torch.Tensor:
    """v2's ``_get_inverse_affine_matrix`` about the image centre, per image: (B, 2, 3)
    float64 (angles in degrees)."""
    rot, sx, sy = (torch.as_tensor(v, dtype=torch.float64) * (math.pi / 180.0)
                   for v in (angle, shear_x, shear_y))
    a = torch.cos(rot - sy) / torch.cos(sy)
    b = -(a * torch.tan(sx) + torch.sin(rot))
    c = torch.sin(rot - sy) / torch.cos(sy)
    d = torch.cos(rot) - c * torch.tan(sx)
    m0, m1, m3, m4 = d / scale, -b / scale, -c / scale, a / scale
    m2 = (0.0 - m0 * tx) - m1 * ty
    m5 = (0.0 - m3 * tx) - m4 * ty
    return torch.stack((m0, m1, m2, m3, m4, m5), dim=1).view(-1, 2, 3)


class _AffineWarp(_Warp):
    def matrices(self, params: Params) -> torch.Tensor:
        raise NotImplementedError

    def grid(self, params: Params, h: int, w: int, device: torch.device) -> torch.Tensor:
        # v2's _affine_grid: theta in float32, scaled to grid_sample's [-1, 1] coordinates.
        theta = self.matrices(params).float().to(device)
        theta = theta.transpose(1, 2).div_(torch.tensor([0.5 * w, 0.5 * h], device=device))
        return _base_grid(h, w, False, device).expand(len(theta), -1, -1).bmm(theta)


class BatchRandomRotation(_AffineWarp):
    """v2.RandomRotation (no ``expand``, no ``center``). ``draw`` gives ``angle`` (B,)."""

    def __init__(self, transform: v2.RandomRotation):
        super().__init__(transform)
        self.degrees = (float(transform.degrees[0]), float(transform.degrees[1]))

    def draw(self, shape: torch.Size) -> Params:
        return {"angle": uniform(shape[0], *self.degrees)}

    cpu_batched_up_to = 96

    def matrices(self, params: Params) -> torch.Tensor:
        # v2.functional.rotate turns by -(angle % 360) in affine's convention.
        angle = -torch.remainder(params["angle"], 360.0)
        zero = torch.zeros_like(angle)
        return _inverse_affine(angle, zero, zero, torch.ones_like(angle), zero, zero)

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        angles = params["angle"].tolist()
        return each_image(x, lambda i, img: self.transform.transform(
            img, {"angle": angles[i]}))

    def __repr__(self) -> str:
        return f"BatchRandomRotation(degrees={self.degrees})"


class BatchRandomAffine(_AffineWarp):
    """v2.RandomAffine (no ``center``). ``draw`` gives ``angle``, ``tx``, ``ty`` (whole
    pixels, as v2 rounds them), ``scale``, ``shear_x``, ``shear_y`` (B,)."""

    def __init__(self, transform: v2.RandomAffine):
        super().__init__(transform)
        self.t = transform

    def draw(self, shape: torch.Size) -> Params:
        t, b, (h, w) = self.t, shape[0], shape[-2:]
        zero = torch.zeros(b, dtype=torch.float64)
        p = {"angle": uniform(b, *t.degrees), "tx": zero, "ty": zero,
             "scale": zero + 1.0, "shear_x": zero, "shear_y": zero}
        if t.translate is not None:
            max_dx, max_dy = float(t.translate[0] * w), float(t.translate[1] * h)
            p["tx"] = uniform(b, -max_dx, max_dx).round()
            p["ty"] = uniform(b, -max_dy, max_dy).round()
        if t.scale is not None:
            p["scale"] = uniform(b, *t.scale)
        if t.shear is not None:
            p["shear_x"] = uniform(b, t.shear[0], t.shear[1])
            if len(t.shear) == 4:
                p["shear_y"] = uniform(b, t.shear[2], t.shear[3])
        return p

    cpu_batched_up_to = 128

    def matrices(self, params: Params) -> torch.Tensor:
        return _inverse_affine(params["angle"], params["tx"], params["ty"], params["scale"],
                               params["shear_x"], params["shear_y"])

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        p = {k: v.tolist() for k, v in params.items()}
        return each_image(x, lambda i, img: self.transform.transform(img, {
            "angle": p["angle"][i], "translate": (int(p["tx"][i]), int(p["ty"][i])),
            "scale": p["scale"][i], "shear": (p["shear_x"][i], p["shear_y"][i])}))


class BatchRandomPerspective(_Warp):
    """v2.RandomPerspective. ``draw`` gives ``apply`` (B,) and ``coefficients`` (B, 8),
    v2's eight perspective coefficients per image (float32, from a float64 least-squares
    fit of the drawn corners)."""

    def __init__(self, transform: v2.RandomPerspective):
        super().__init__(transform)
        self.p, self.distortion = float(transform.p), float(transform.distortion_scale)

    def draw(self, shape: torch.Size) -> Params:
        b, (h, w) = shape[0], shape[-2:]
        bh, bw = int(self.distortion * (h // 2)) + 1, int(self.distortion * (w // 2)) + 1

        def pick(lo: int, hi: int) -> torch.Tensor:
            return lo + randint(torch.full((b,), hi - lo))

        end = torch.stack([torch.stack(xy, dim=1).double() for xy in (
            (pick(0, bw), pick(0, bh)), (pick(w - bw, w), pick(0, bh)),
            (pick(w - bw, w), pick(h - bh, h)), (pick(0, bw), pick(h - bh, h)))], dim=1)
        start = torch.tensor([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]],
                             dtype=torch.float64).expand(b, 4, 2)
        # v2's _get_perspective_coeffs: rows [x, y, 1, 0, 0, 0, -X x, -X y] per corner.
        ex, ey, sx, sy = end[..., 0], end[..., 1], start[..., 0], start[..., 1]
        one, zero = torch.ones_like(ex), torch.zeros_like(ex)
        rows_x = torch.stack((ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey), dim=-1)
        rows_y = torch.stack((zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey), dim=-1)
        a = torch.stack((rows_x, rows_y), dim=2).reshape(b, 8, 8)
        coeffs = torch.linalg.lstsq(a, start.reshape(b, 8, 1), driver="gels").solution
        return {"apply": coin(b, self.p), "coefficients": coeffs.squeeze(-1).float()}

    def grid(self, params: Params, h: int, w: int, device: torch.device) -> torch.Tensor:
        # v2's _perspective_grid, per image.
        c = params["coefficients"].to(device)
        b, one = len(c), torch.ones(len(c), device=device)
        theta1 = torch.stack((c[:, 0:3], c[:, 3:6]), dim=1)
        theta2 = torch.stack((c[:, 6], c[:, 7], one), dim=1).unsqueeze(1).expand(b, 2, 3)
        base = _base_grid(h, w, True, device).expand(b, -1, -1)
        g1 = base.bmm(theta1.transpose(1, 2).div_(torch.tensor([0.5 * w, 0.5 * h],
                                                               device=device)))
        return g1.div_(base.bmm(theta2.transpose(1, 2))).sub_(1.0)

    cpu_batched_up_to = 160

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return where_selected(x, params["apply"], lambda imgs, idx: self.warp(
            imgs, {"coefficients": params["coefficients"][idx]}))

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        on, coefficients = params["apply"].tolist(), params["coefficients"].tolist()
        return each_image(x, lambda i, img: self.transform.transform(
            img, {"coefficients": coefficients[i]}) if on[i] else img)

    def __repr__(self) -> str:
        return f"BatchRandomPerspective(distortion_scale={self.distortion:g}, p={self.p:g})"


# -- occlusion ---------------------------------------------------------------------------
class BatchRandomErasing(BatchTransform):
    """v2.RandomErasing with a constant value. ``draw`` gives ``apply`` (B,: the coin and
    a box found in ten tries, as v2) and ``top``, ``left``, ``height``, ``width`` (B,)."""

    cpu_batched_up_to = 96

    def __init__(self, transform: v2.RandomErasing):
        self.transform = transform
        self.p, self.value = float(transform.p), list(transform.value)
        self.scale, self.ratio = tuple(transform.scale), tuple(transform.ratio)

    def draw(self, shape: torch.Size) -> Params:
        b, (height, width) = shape[0], shape[-2:]
        on = coin(b, self.p)
        h, w = _draw_sides(b, height * width, self.scale, self.ratio)  # note: h first
        found, h, w = _first((h < height) & (w < width), h, w)
        return {"apply": on & found, "top": randint(height - h + 1),
                "left": randint(width - w + 1), "height": h, "width": w}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        if not bool(params["apply"].any()):
            return x
        b, c, h, w = x.shape
        dev = x.device
        top, left = params["top"].to(dev).view(b, 1), params["left"].to(dev).view(b, 1)
        bottom = top + params["height"].to(dev).view(b, 1)
        right = left + params["width"].to(dev).view(b, 1)
        rows, cols = torch.arange(h, device=dev), torch.arange(w, device=dev)
        inside = ((rows >= top) & (rows < bottom)).view(b, 1, h, 1) & \
            ((cols >= left) & (cols < right)).view(b, 1, 1, w)
        inside &= params["apply"].to(dev).view(b, 1, 1, 1)
        # v2 writes its float32 value into the image: a cast, truncating for uint8.
        value = torch.tensor(self.value, dtype=torch.float32).to(x.dtype).to(dev)
        return torch.where(inside, value.view(1, -1, 1, 1), x)

    def apply_each(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        on = params["apply"].tolist()
        box = [params[k].tolist() for k in ("top", "left", "height", "width")]
        value = torch.tensor(self.value, dtype=torch.float32)[:, None, None]
        return each_image(x, lambda i, img: self.transform.transform(img, {
            "i": box[0][i], "j": box[1][i], "h": box[2][i], "w": box[3][i], "v": value})
            if on[i] else img)

    def __repr__(self) -> str:
        return f"BatchRandomErasing(p={self.p:g}, scale={self.scale}, ratio={self.ratio})"


def vectorize(transform: Any) -> BatchTransform | None:
    """The batch form of a geometric transform or of RandomErasing, or ``None`` (see
    :func:`.batch_ops.vectorize`)."""
    if isinstance(transform, v2.RandomResizedCrop):
        if _mode(transform.interpolation) == "bilinear":
            return BatchRandomResizedCrop(transform)
        return None
    if isinstance(transform, (v2.RandomRotation, v2.RandomAffine, v2.RandomPerspective)):
        if _mode(transform.interpolation) is None or _fill(transform) is False or \
                getattr(transform, "center", None) is not None or \
                getattr(transform, "expand", False):
            return None
        if isinstance(transform, v2.RandomRotation):
            return BatchRandomRotation(transform)
        if isinstance(transform, v2.RandomAffine):
            return BatchRandomAffine(transform)
        return BatchRandomPerspective(transform)
    if isinstance(transform, v2.RandomErasing) and transform.value is not None:
        return BatchRandomErasing(transform)
    return None
