"""The basic transform entries: sizing (Resize, CenterCrop, RandomResizedCrop, RandomCrop),
flips, rotation, colour (ColorJitter, Grayscale) and an extra Normalize.

They are added to :data:`~.transforms.TRANSFORMS` first, so they lead the Augment tab's
lists; the meta keys are documented in :mod:`.transforms`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from workbench.core.data.augment.common import (ImageTooSmall, _data, _exact, _hw, _per_channel,
                                               _same, _size, _size_param)
from workbench.core.data.sizes import hw_text
from workbench.core.errors import SpecError
from workbench.core.registry import Param, Registry

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

#: The entries of this module, in the order they are listed.
ENTRIES = Registry("transform")


def _resize(size: list[int] | None = None, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.Resize(_size(size, exp), antialias=True)


def _describe_resize(params: dict, exp: Any) -> str:
    size = _size(params["size"], exp)
    if len(size) == 1:
        return f"Resize: shorter side to {size[0]} pixels (keeps the aspect ratio)"
    return f"Resize to {hw_text(size)}"


ENTRIES.register(
    "Resize", params=[_size_param("Output size")], group="size",
    help="Resize the image; one number resizes the shorter side and keeps the aspect ratio.",
    random=False, eval=_same(_resize), describe=_describe_resize,
    output_size=lambda p, exp: None if len(_size(p["size"], exp)) == 1
    else _exact(_size(p["size"], exp)))(_resize)


def _center_crop(size: list[int] | None = None, *,
                 exp: "Experiment | None" = None) -> v2.Transform:
    return v2.CenterCrop(_size(size, exp))


ENTRIES.register(
    "CenterCrop", params=[_size_param("Crop size")], group="size",
    help="Cut the central region out (padding with black when the image is smaller); "
         "usually after a Resize to a slightly larger size.",
    random=False, eval=_same(_center_crop),
    describe=lambda p, exp: f"Crop the centre {hw_text(_exact(_size(p['size'], exp)))}",
    output_size=lambda p, exp: _exact(_size(p["size"], exp)))(_center_crop)


def _check_ranges(params: dict) -> None:
    for name in ("scale", "ratio"):
        lo, hi = params[name]
        if lo > hi:
            raise SpecError(name, f"[{lo:g}, {hi:g}] is not a range: put the smaller value "
                                  f"first")


def _random_resized_crop(size: list[int] | None = None, scale: list[float] = (0.5, 1.0),
                         ratio: list[float] = (0.75, 4 / 3), *,
                         exp: "Experiment | None" = None) -> v2.Transform:
    _check_ranges({"scale": scale, "ratio": ratio})
    return v2.RandomResizedCrop(_size(size, exp), scale=tuple(scale), ratio=tuple(ratio),
                                antialias=True)


def _describe_rrc(p: dict, exp: Any) -> str:
    lo, hi = p["scale"]
    r0, r1 = p["ratio"]
    return (f"Random crop of {lo:.0%}-{hi:.0%} of the area, aspect ratio {r0:.2f}-{r1:.2f}, "
            f"resized to {hw_text(_exact(_size(p['size'], exp)))}")


ENTRIES.register(
    "RandomResizedCrop",
    params=[_size_param("Output size"),
            Param("scale", list, [0.5, 1.0], min=0.01, max=1.0, item_type=float, length=(2,),
                  help="Range of the crop's area as a share of the image. torchvision's "
                       "ImageNet default [0.08, 1.0] is too aggressive for small or centred "
                       "objects; [0.5, 1.0] is a safer start."),
            Param("ratio", list, [0.75, 4 / 3], min=0.1, max=10.0, item_type=float,
                  length=(2,), help="Range of the crop's width/height ratio before resizing; "
                                    "[0.75, 1.333] is the usual choice.")],
    group="size",
    help="Crop a random part of the image and resize it; evaluation resizes the whole "
         "image to the same size instead.",
    random=True, check=_check_ranges,
    eval=lambda p, exp: v2.Resize(list(_exact(_size(p["size"], exp))), antialias=True),
    describe=_describe_rrc,
    output_size=lambda p, exp: _exact(_size(p["size"], exp)))(_random_resized_crop)


class _RandomCrop(v2.RandomCrop):
    """v2.RandomCrop whose ``fill`` is a 0-255 pixel value on uint8 and float images alike,
    and whose crop larger than the (padded) image, or padding by reflection wider than the
    image, is an :class:`~.common.ImageTooSmall` naming the step (``where``, set by the
    plan) and what to change."""

    def __init__(self, size: list[int], padding: int, pad_if_needed: bool, fill: int,
                 padding_mode: str):
        super().__init__(size, padding=padding or None, pad_if_needed=pad_if_needed,
                         fill=fill, padding_mode=padding_mode)
        self.fill255 = int(fill)
        self.where = ""  # the step's field, "augment.transforms[0]"

    def _too_small(self, problem: str) -> ImageTooSmall:
        return ImageTooSmall(self.where, problem, "RandomCrop")

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        h, w = F.get_size(flat_inputs[0])
        try:
            params = super().make_params(flat_inputs)
        except ValueError:
            pad = self.padding[0] if self.padding else 0
            raise self._too_small(
                f"the crop {_hw(self.size)} (height x width) is larger than the {h}x{w} "
                f"image" + (f" padded by {pad}" if pad else "") + ": turn on pad_if_needed, "
                f"crop less, or put a Resize before it") from None
        left, top, right, bottom = params["padding"]
        most = (h, w) if self.padding_mode == "symmetric" else (h - 1, w - 1)
        if self.padding_mode in ("reflect", "symmetric") and \
                (max(top, bottom) > most[0] or max(left, right) > most[1]):
            raise self._too_small(
                f"padding_mode {self.padding_mode} pads the {h}x{w} image by up to "
                f"{max(params['padding'])} pixels a side (to crop {_hw(self.size)}), more "
                f"than it can mirror: use padding_mode constant or edge, crop less, or put a "
                f"Resize before it")
        return params

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if params["needs_pad"] and isinstance(inpt, torch.Tensor) and \
                inpt.is_floating_point():  # after a float step: the fill in [0, 1]
            inpt = self._call_kernel(F.pad, inpt, padding=params["padding"],
                                     fill=self.fill255 / 255.0,
                                     padding_mode=self.padding_mode)
            params = {**params, "needs_pad": False}
        return super().transform(inpt, params)


def _random_crop(size: list[int] | None = None, padding: int = 0, pad_if_needed: bool = True,
                 fill: int = 0, padding_mode: str = "constant", *,
                 exp: "Experiment | None" = None) -> v2.Transform:
    return _RandomCrop(list(_exact(_size(size, exp))), padding, pad_if_needed, fill,
                       padding_mode)


def _describe_random_crop(p: dict, exp: Any) -> str:
    text = f"Random crop of {hw_text(_exact(_size(p['size'], exp)))}"
    pads = {"constant": f"pixel value {p['fill']}", "edge": "the edge pixels",
            "reflect": "a reflection", "symmetric": "a mirror image"}[p["padding_mode"]]
    if p["padding"]:
        text += f" after padding each side by {p['padding']} pixels ({pads})"
    if p["pad_if_needed"]:
        text += "; smaller images padded up to it" + ("" if p["padding"] else f" ({pads})")
    return text


ENTRIES.register(
    "RandomCrop",
    params=[_size_param("Crop size"),
            Param("padding", int, 0, min=0, max=512,
                  help="Pixels added on every side before cropping; with the crop at the "
                       "image's size, 4 on 32x32 images shifts them by up to 4 pixels (the "
                       "classic CIFAR recipe). 0: no padding."),
            Param("pad_if_needed", bool, True,
                  help="Pad images smaller than the crop up to its size; off, such an image "
                       "stops training with an error (torchvision's default)."),
            Param("fill", int, 0, min=0, max=255,
                  help="Pixel value of the padding when padding_mode is constant (0 black, "
                       "255 white)."),
            Param("padding_mode", str, "constant",
                  choices=("constant", "edge", "reflect", "symmetric"),
                  help="constant: the fill value; edge: repeat the border pixels; reflect "
                       "and symmetric: mirror the image at its border.")],
    group="size",
    help="Cut a random region of the crop size out of the image, optionally padded first "
         "(shifts the picture without resizing it); evaluation crops the centre instead.",
    random=True,
    eval=lambda p, exp: v2.CenterCrop(list(_exact(_size(p["size"], exp)))),
    eval_describe=lambda p, exp: f"Crop the centre {hw_text(_exact(_size(p['size'], exp)))} "
                                 f"(evaluation counterpart of RandomCrop)",
    describe=_describe_random_crop,
    output_size=lambda p, exp: _exact(_size(p["size"], exp)))(_random_crop)


def _hflip(p: float = 0.5, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.RandomHorizontalFlip(p)


def _vflip(p: float = 0.5, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.RandomVerticalFlip(p)


def _p_param(what: str) -> Param:
    return Param("p", float, 0.5, min=0.0, max=1.0,
                 help=f"Probability of {what}; 0.5 flips half the images.")


ENTRIES.register(
    "RandomHorizontalFlip", params=[_p_param("flipping an image left-right")],
    group="geometry",
    help="Mirror images left-right at random; right for most photos, wrong for text or "
         "digits.", random=True, eval=None,
    describe=lambda p, exp: f"Flip left-right with probability {p['p']:g}")(_hflip)

ENTRIES.register(
    "RandomVerticalFlip", params=[_p_param("flipping an image upside-down")],
    group="geometry",
    help="Flip images upside-down at random; for views with no natural up (microscopy, "
         "satellite images).", random=True, eval=None,
    describe=lambda p, exp: f"Flip upside-down with probability {p['p']:g}")(_vflip)


def _rotation(degrees: float = 15.0, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.RandomRotation(degrees=(-degrees, degrees))


def _describe_rotation(p: dict, exp: Any) -> str:
    d = abs(float(p["degrees"]))
    if d == 0:
        return "No rotation (degrees 0)"
    return f"Rotate by a random angle between -{d:g} and {d:g} degrees"


ENTRIES.register(
    "RandomRotation",
    params=[Param("degrees", float, 15.0, min=0.0, max=180.0,
                  help="Largest rotation either way, in degrees (±degrees: 15 rotates by "
                       "an angle between -15 and 15); 10-20 suits photos. Corners that "
                       "come into view are black.")],
    group="geometry", help="Rotate images by a random angle between -degrees and +degrees.",
    random=True, eval=None, describe=_describe_rotation)(_rotation)


def _color_jitter(brightness: float = 0.2, contrast: float = 0.2, saturation: float = 0.2,
                  hue: float = 0.0, *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.ColorJitter(brightness=brightness, contrast=contrast, saturation=saturation,
                          hue=hue)


def _describe_jitter(p: dict, exp: Any) -> str:
    parts = [f"{k} up to {p[k]:g}" for k in ("brightness", "contrast", "saturation", "hue")
             if p[k] > 0]
    return "Colour jitter: " + (", ".join(parts) if parts else "none (all amounts are 0)")


def _jitter_param(name: str, what: str) -> Param:
    return Param(name, float, 0.2, min=0.0, max=5.0,
                 help=f"How much to vary {what}: a factor drawn from [1 - x, 1 + x]; "
                      f"0 leaves it, 0.1-0.4 is typical.")


ENTRIES.register(
    "ColorJitter",
    params=[_jitter_param("brightness", "brightness"), _jitter_param("contrast", "contrast"),
            _jitter_param("saturation", "colour saturation (no effect on grayscale)"),
            Param("hue", float, 0.0, min=0.0, max=0.5,
                  help="Shift of the hue, up to x of a full turn either way; 0 keeps "
                       "colours (keep it 0 when colour is what tells classes apart).")],
    group="colour", help="Vary brightness, contrast, saturation and hue at random.",
    random=True, eval=None, describe=_describe_jitter)(_color_jitter)


def _grayscale(*, exp: "Experiment | None" = None) -> v2.Transform:
    # The output keeps the experiment's channel count so the network's input never changes.
    return v2.Grayscale(num_output_channels=_data(exp).channels)


def _describe_gray(p: dict, exp: Any) -> str:
    n = _data(exp).channels
    return "Convert to grayscale" + (" (kept as 3 equal channels)" if n == 3 else "")


ENTRIES.register(
    "Grayscale", params=[], group="colour",
    help="Drop colour (also at evaluation); the number of channels stays the experiment's.",
    random=False, eval=_same(_grayscale), describe=_describe_gray)(_grayscale)


def _normalize(mean: list[float] = (0.0,), std: list[float] = (1.0,), *,
               exp: "Experiment | None" = None) -> v2.Transform:
    n = _data(exp).channels
    return v2.Normalize(_per_channel(mean, n, "Normalize.mean"),
                        _per_channel(std, n, "Normalize.std"))


ENTRIES.register(
    "Normalize",
    params=[Param("mean", list, [0.0], item_type=float, length=(1, 3),
                  help="Subtracted per channel (1 value: every channel)."),
            Param("std", list, [1.0], item_type=float, length=(1, 3), min=1e-6,
                  help="Divided by per channel (1 value: every channel).")],
    group="normalisation",
    help="An extra (x - mean) / std at this point, on values in [0, 1]. Rarely needed: "
         "every pipeline already ends with data.mean and data.std. Put it last.",
    random=False, eval=_same(_normalize), float=True,
    describe=lambda p, exp: f"Normalize: mean {p['mean']}, std {p['std']}")(_normalize)
