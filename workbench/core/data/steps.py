"""The first step of every pipeline: a PIL image (or tensor) with the experiment's channels."""

from __future__ import annotations

from typing import Any

import torch
from PIL import Image
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as F

from workbench.core.data.images import to_channels


class ToChannelsImage:
    """PIL image -> uint8 ``tv_tensors.Image`` with the experiment's channel count.

    Tensors (C, H, W) are passed through when their channel count already fits.
    """

    def __init__(self, channels: int):
        self.channels = channels

    def __call__(self, img: Any) -> torch.Tensor:
        if isinstance(img, Image.Image):
            return tv_tensors.Image(F.pil_to_tensor(to_channels(img, self.channels)))
        if isinstance(img, torch.Tensor) and img.ndim == 3 and img.shape[0] == self.channels:
            return tv_tensors.Image(img)
        got = tuple(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
        raise TypeError(f"expected a PIL image or a ({self.channels}, H, W) tensor, got {got}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channels={self.channels})"
