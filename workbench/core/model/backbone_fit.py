"""Whether an input fits a Backbone layer's arch: RGB, at least :data:`MIN_SIZE` pixels a
side, and for a vision transformer a multiple of its patch size (:func:`patch_size`).

Kept apart from :mod:`.backbones`, whose Backbone class code export copies as it is.
"""

from __future__ import annotations

import re
from typing import Any

# Smallest height/width: every arch halves the image five times; below 32x32 the last
# stages see less than one pixel (vgg16 fails outright, the others learn nothing useful).
MIN_SIZE = 32


def input_misfit(params: dict[str, Any], shape: tuple[int, ...]) -> str | None:
    """What a Backbone with ``params`` cannot take about an input of ``shape`` (C, H, W),
    with the setting to change; ``None`` when it fits."""
    c, h, w = shape
    arch = params["arch"]
    if c != 3:
        return (f"expects RGB images (3 channels) as {arch} was trained on, but receives "
                f"{c} channel{'s' if c != 1 else ''}: set data.channels to 3 (grayscale "
                f"images are converted)")
    if h < MIN_SIZE or w < MIN_SIZE:
        return (f"gets a {h}x{w} input, smaller than the {MIN_SIZE}x{MIN_SIZE} {arch} needs: "
                f"set data.input_size to at least {MIN_SIZE}x{MIN_SIZE} (224x224 is what it "
                f"was pretrained at)")
    patch = patch_size(arch)
    if patch and (h % patch or w % patch):
        fit = "x".join(str(-(-n // patch) * patch) for n in (h, w))  # rounded up
        return (f"gets a {h}x{w} input, but {arch} needs a height and width that are "
                f"multiples of {patch} (it cuts the image into {patch}x{patch} patches): "
                f"change data.input_size, e.g. to {fit}")
    return None


def patch_size(arch: str) -> int | None:
    """The patch size of a vision transformer arch (``"vit_tiny_patch16_224"``: 16), whose
    input height and width must be multiples of it; ``None`` for a CNN."""
    found = re.search(r"vit_.*patch(\d+)", arch)
    return int(found.group(1)) if found else None


__all__ = ["MIN_SIZE", "input_misfit", "patch_size"]
