"""More training-time transform entries; :mod:`.transforms` adds them to its registry.

Geometry (RandomAffine, RandomPerspective), colour (RandomGrayscale), blur and noise
(GaussianBlur, GaussianNoise), occlusion (RandomErasing, a.k.a. Cutout) and the learned
or random policies (RandAugment, TrivialAugmentWide, AutoAugment). Every one is random,
so evaluation drops it. The meta keys are documented in :mod:`.transforms`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from workbench.core.data.augment.common import _data
from workbench.core.errors import SpecError
from workbench.core.registry import Param, Registry

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

#: The entries of this module, in the order they are listed.
ENTRIES = Registry("transform")


def _check_order(*names: str):
    def check(params: dict) -> None:
        for name in names:
            lo, hi = params[name]
            if lo > hi:
                raise SpecError(name, f"[{lo:g}, {hi:g}] is not a range: put the smaller "
                                      f"value first")
    return check


def _prob(default: float, what: str) -> Param:
    return Param("p", float, default, min=0.0, max=1.0,
                 help=f"Probability of {what} an image; {default:g} is a good start.")


# -- geometry ----------------------------------------------------------------------------
def _affine(degrees: float = 10.0, translate: list[float] = (0.1, 0.1),
            scale: list[float] = (0.9, 1.1), shear: float = 0.0, *,
            exp: "Experiment | None" = None) -> v2.Transform:
    _check_order("scale")({"scale": scale})
    return v2.RandomAffine(degrees=(-degrees, degrees), translate=tuple(translate),
                           scale=tuple(scale), shear=(-shear, shear) if shear else None)


def _describe_affine(p: dict, exp: Any) -> str:
    tx, ty = p["translate"]
    s0, s1 = p["scale"]
    return (f"Random affine: rotate up to {p['degrees']:g} degrees, shift up to {tx:.0%} x "
            f"{ty:.0%}, scale {s0:g}-{s1:g}, shear up to {p['shear']:g} degrees")


ENTRIES.register(
    "RandomAffine",
    params=[Param("degrees", float, 10.0, min=0.0, max=180.0,
                  help="Largest rotation either way, in degrees; 0-15 suits photos."),
            Param("translate", list, [0.1, 0.1], min=0.0, max=1.0, item_type=float,
                  length=(2,), help="Largest shift as a share of the width and height; "
                                    "[0.1, 0.1] is typical."),
            Param("scale", list, [0.9, 1.1], min=0.1, max=10.0, item_type=float, length=(2,),
                  help="Range of the zoom factor; [0.9, 1.1] is mild, [0.8, 1.2] strong."),
            Param("shear", float, 0.0, min=0.0, max=90.0,
                  help="Largest shear either way, in degrees; 0 turns it off, 5-10 is "
                       "mild.")],
    group="geometry", check=_check_order("scale"),
    help="Rotate, shift, zoom and shear at random in one step; uncovered corners are black.",
    random=True, eval=None, describe=_describe_affine)(_affine)


def _perspective(distortion_scale: float = 0.3, p: float = 0.5, *,
                 exp: "Experiment | None" = None) -> v2.Transform:
    return v2.RandomPerspective(distortion_scale=distortion_scale, p=p)


ENTRIES.register(
    "RandomPerspective",
    params=[Param("distortion_scale", float, 0.3, min=0.0, max=1.0,
                  help="How far corners may move, as a share of the size; 0.2-0.5 is "
                       "typical, 1 is extreme."),
            _prob(0.5, "distorting")],
    group="geometry", help="Warp images as if seen from a slightly different angle.",
    random=True, eval=None,
    describe=lambda p, exp: f"Perspective warp of up to {p['distortion_scale']:g} with "
                            f"probability {p['p']:g}")(_perspective)


# -- colour ------------------------------------------------------------------------------
class _RandomGrayscale(torch.nn.Module):
    """v2.RandomGrayscale that also passes 1-channel images through unchanged."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self._t = v2.RandomGrayscale(p)

    def forward(self, img: Any) -> Any:
        if isinstance(img, torch.Tensor) and img.ndim >= 3 and img.shape[-3] == 1:
            return img
        return self._t(img)


def _random_grayscale(p: float = 0.1, *, exp: "Experiment | None" = None) -> Any:
    return _RandomGrayscale(p)


ENTRIES.register(
    "RandomGrayscale", params=[_prob(0.1, "converting to grayscale")], group="colour",
    help="Drop colour at random (channel count kept), so the model relies on shape; "
         "not when colour tells classes apart. No effect on grayscale experiments.",
    random=True, eval=None,
    describe=lambda p, exp: f"Grayscale with probability {p['p']:g}" +
    (" (kept as 3 equal channels)" if _data(exp).channels == 3 else ""))(_random_grayscale)


# -- blur and noise ----------------------------------------------------------------------
class _GaussianBlur(torch.nn.Module):
    """v2.GaussianBlur whose kernel shrinks to fit images smaller than it."""

    def __init__(self, kernel_size: int, sigma: tuple[float, float]):
        super().__init__()
        self.kernel_size, self.sigma = kernel_size, sigma
        self._cache: dict[int, v2.GaussianBlur] = {}

    def forward(self, img: Any) -> Any:
        h, w = F.get_size(img)
        k = min(self.kernel_size, 2 * min(h, w) - 1)  # reflect padding needs pad < size
        k = max(1, k if k % 2 else k - 1)
        if k not in self._cache:
            self._cache[k] = v2.GaussianBlur(k, sigma=self.sigma)
        return self._cache[k](img)


def _check_blur(params: dict) -> None:
    if params["kernel_size"] % 2 == 0:
        raise SpecError("kernel_size", f"{params['kernel_size']} is even: use an odd size "
                                       f"(3, 5, 7...)")
    _check_order("sigma")(params)


def _blur(kernel_size: int = 5, sigma: list[float] = (0.1, 2.0), *,
          exp: "Experiment | None" = None) -> Any:
    _check_blur({"kernel_size": kernel_size, "sigma": sigma})
    return _GaussianBlur(kernel_size, (float(sigma[0]), float(sigma[1])))


ENTRIES.register(
    "GaussianBlur",
    params=[Param("kernel_size", int, 5, min=1, max=31, step=2,
                  help="Odd size of the blur kernel in pixels; about a tenth of the image "
                       "side (3 for 32x32, 23 for 224x224)."),
            Param("sigma", list, [0.1, 2.0], min=0.01, max=50.0, item_type=float,
                  length=(2,), help="Range the blur's standard deviation is drawn from, in "
                                    "pixels; [0.1, 2.0] is typical.")],
    group="blur and noise", check=_check_blur,
    help="Blur images by a random amount, for robustness to focus and resolution.",
    random=True, eval=None,
    describe=lambda p, exp: f"Gaussian blur, kernel {p['kernel_size']}, sigma "
                            f"{p['sigma'][0]:g}-{p['sigma'][1]:g}")(_blur)


class _GaussianNoise(torch.nn.Module):
    """Add N(mean, sigma) noise to float images in [0, 1] and clip (v2.GaussianNoise's
    behaviour, for torchvision versions without it)."""

    def __init__(self, mean: float, sigma: float):
        super().__init__()
        self.mean, self.sigma = mean, sigma

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        noisy = img + torch.randn_like(img) * self.sigma + self.mean
        return type(img)(noisy.clamp_(0.0, 1.0)) if isinstance(img, torch.Tensor) else noisy


def _noise(mean: float = 0.0, sigma: float = 0.05, *,
           exp: "Experiment | None" = None) -> Any:
    if hasattr(v2, "GaussianNoise"):
        return v2.GaussianNoise(mean=mean, sigma=sigma, clip=True)
    return _GaussianNoise(mean, sigma)  # pragma: no cover (older torchvision)


ENTRIES.register(
    "GaussianNoise",
    params=[Param("mean", float, 0.0, min=-1.0, max=1.0,
                  help="Mean of the noise on pixel values in [0, 1]; keep 0."),
            Param("sigma", float, 0.05, min=0.0, max=1.0,
                  help="Standard deviation of the noise on values in [0, 1]; 0.02-0.1 is "
                       "visible but mild.")],
    group="blur and noise", float=True,
    help="Add random Gaussian noise to every pixel (then clip to [0, 1]).",
    random=True, eval=None,
    describe=lambda p, exp: f"Gaussian noise, mean {p['mean']:g}, sigma {p['sigma']:g} "
                            f"(values in [0, 1])")(_noise)


def _erasing(p: float = 0.5, scale: list[float] = (0.02, 0.2),
             ratio: list[float] = (0.3, 3.3), value: float = 0.0, *,
             exp: "Experiment | None" = None) -> v2.Transform:
    _check_order("scale", "ratio")({"scale": scale, "ratio": ratio})
    return v2.RandomErasing(p=p, scale=tuple(scale), ratio=tuple(ratio), value=value)


ENTRIES.register(
    "RandomErasing",
    params=[_prob(0.5, "erasing a rectangle of"),
            Param("scale", list, [0.02, 0.2], min=0.001, max=1.0, item_type=float,
                  length=(2,), help="Range of the erased area as a share of the image; "
                                    "[0.02, 0.2] is typical."),
            Param("ratio", list, [0.3, 3.3], min=0.01, max=100.0, item_type=float,
                  length=(2,), help="Range of the rectangle's aspect ratio; [0.3, 3.3] is "
                                    "the usual choice."),
            Param("value", float, 0.0, min=0.0, max=1.0,
                  help="Fill value on pixel values in [0, 1]: 0 black, 0.5 grey.")],
    group="occlusion", check=_check_order("scale", "ratio"), float=True,
    help="Cutout: blank a random rectangle, so the model cannot rely on one region.",
    random=True, eval=None,
    describe=lambda p, exp: f"Erase a rectangle of {p['scale'][0]:.0%}-{p['scale'][1]:.0%} "
                            f"of the area (fill {p['value']:g}) with probability "
                            f"{p['p']:g}")(_erasing)


# -- policies ----------------------------------------------------------------------------
def _randaugment(num_ops: int = 2, magnitude: int = 9, *,
                 exp: "Experiment | None" = None) -> v2.Transform:
    return v2.RandAugment(num_ops=num_ops, magnitude=magnitude)


ENTRIES.register(
    "RandAugment",
    params=[Param("num_ops", int, 2, min=1, max=10,
                  help="Operations applied to each image; 2 is the usual choice."),
            Param("magnitude", int, 9, min=0, max=30,
                  help="Strength of every operation, 0-30; 5-10 suits most datasets.")],
    group="policies",
    help="Apply a few random operations (rotate, shear, colour, contrast...) of one "
         "strength; two numbers to tune instead of many.", random=True, eval=None,
    describe=lambda p, exp: f"RandAugment: {p['num_ops']} random operation(s) at "
                            f"magnitude {p['magnitude']}")(_randaugment)


def _trivial(*, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.TrivialAugmentWide()


ENTRIES.register(
    "TrivialAugmentWide", params=[], group="policies",
    help="One random operation at a random strength per image; no parameters to tune and "
         "a strong default.", random=True, eval=None,
    describe=lambda p, exp: "TrivialAugmentWide: one random operation at a random "
                            "strength")(_trivial)

_POLICIES = {"imagenet": v2.AutoAugmentPolicy.IMAGENET, "cifar10": v2.AutoAugmentPolicy.CIFAR10,
             "svhn": v2.AutoAugmentPolicy.SVHN}


def _autoaugment(policy: str = "imagenet", *, exp: "Experiment | None" = None) -> v2.Transform:
    return v2.AutoAugment(_POLICIES[policy])


ENTRIES.register(
    "AutoAugment",
    params=[Param("policy", str, "imagenet", choices=tuple(_POLICIES),
                  help="Policy learned on imagenet (photos), cifar10 (small photos) or svhn "
                       "(house numbers: no flips); pick the closest to your data.")],
    group="policies", help="Operations from a policy learned on a reference dataset.",
    random=True, eval=None,
    describe=lambda p, exp: f"AutoAugment ({p['policy']} policy)")(_autoaugment)
