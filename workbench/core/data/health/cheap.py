"""The cheap checks: blank images, extreme aspect ratios, images far below the input size.

They read only the :class:`~.fingerprint.Fingerprint` (the original size and the colour
spread of a small version), so they cost nothing beyond the one small decode.
"""

from __future__ import annotations

from typing import Any, Sequence

from workbench.core.data.health.duplicates import BLANK_SPREAD
from workbench.core.data.health.fingerprint import Fingerprint

#: Longer side over shorter side above which an image is called extreme: a 4:1 strip
#: squeezed into a square input loses most of its detail along one side.
ASPECT_LIMIT = 4.0
#: An image whose shorter side is below this share of the input size's is tiny: it is
#: blown up 4 times or more, and the network sees mostly interpolation.
TINY_SHARE = 0.25


def blank_images(fps: Sequence[Fingerprint]) -> list[str]:
    """Images of (nearly) one colour: a colour spread under :data:`BLANK_SPREAD` of 255
    (:func:`~.fingerprint.colour_spread`: a picture whose colours differ but whose
    brightness does not is not blank)."""
    return sorted(f.path for f in fps if not f.error and f.spread < BLANK_SPREAD)


def extreme_aspect(fps: Sequence[Fingerprint]) -> list[dict[str, Any]]:
    return [{"path": f.path, "width": f.width, "height": f.height} for f in fps
            if not f.error and min(f.width, f.height) > 0
            and max(f.width, f.height) / min(f.width, f.height) > ASPECT_LIMIT]


def tiny_images(fps: Sequence[Fingerprint], input_size: Sequence[int]) -> list[dict[str, Any]]:
    limit = TINY_SHARE * min(int(v) for v in input_size)
    return [{"path": f.path, "width": f.width, "height": f.height} for f in fps
            if not f.error and min(f.width, f.height) < limit]
