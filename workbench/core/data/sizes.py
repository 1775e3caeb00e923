"""An image or input size in words, the same way wherever a person reads it.

Sizes are kept ``[height, width]`` (``data.input_size``, a tensor's shape) but said width
first, as image viewers and the images' own sizes say them (:mod:`.summary`), with the order
named when the size is not square: ``"28x28"``, ``"48x40 (width x height)"``. Imports
nothing, so any module can use it.
"""

from __future__ import annotations

from typing import Sequence


def hw_text(size: Sequence[int]) -> str:
    """``[height, width]`` in words: ``"28x28"``, or ``"200x150 (width x height)"`` like
    the image sizes (which are written width first)."""
    h, w = int(size[0]), int(size[1])
    return f"{w}x{h}" if w == h else f"{w}x{h} (width x height)"
