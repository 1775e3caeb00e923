"""Copies cut down by a few pixels on every side (a crop, often resized back): the part of
the near-copy search (:func:`~.duplicates.near_pairs`) that plain hashes miss.

Cutting 2 px from each side of a 32 px image and resizing it back enlarges what is left
by 14%: its 32x32 version and its hashes no longer match the original's. So each
fingerprint also holds the luma hashes of its 32x32 version enlarged about its centre as
if each of :data:`~.fingerprint.CROP_PIXELS` had been cut from each side of the original
(:attr:`~.fingerprint.Fingerprint.crop_hashes`, by ``side / (side - 2 * c)``, ``side`` its
smaller side). Those are compared with every other image's luma hash; pairs that come
within :data:`CROP_HASH_BITS` are confirmed as any near copy is (:mod:`.compare`, within
:data:`CROP_STRICT` of its limits), the enlarged version standing for the original.
Images large enough that such a crop enlarges them by under :data:`MIN_ZOOM` are left to
the plain search, and those it would enlarge by over :data:`MAX_ZOOM` are too small for it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from workbench.core.data.health import compare
from workbench.core.data.health.fingerprint import (CROP_PIXELS, HASH_SIDE, crop_zoom,
                                                    zoom_matrix)

#: The share of each of :mod:`.compare`'s limits a crop may use: the enlargement is one more
#: way two different pictures can be made to agree (a small black dot enlarged has the
#: coarse contrast of a larger grey one). Cropped copies, enlarged back, use under half.
CROP_STRICT = 0.6
#: Hash bits apart an enlarged original and its crop may be.
CROP_HASH_BITS = 10
#: Enlargements smaller than this are not searched (the plain hashes find those copies),
#: nor larger ones: 3 px cut from each side of an image under 24 px is no longer a few.
MIN_ZOOM = 1.02
MAX_ZOOM = 1.35
_ROWS = 128  # enlarged hashes compared against all others at once (in cache)


def zoomed(rgb: np.ndarray, zooms: np.ndarray) -> np.ndarray:
    """``(n, 32, 32, 3)`` uint8 images, each enlarged by its ``zooms[k]`` about its centre
    (:func:`~.fingerprint.zoom_matrix`)."""
    out = np.empty_like(rgb)
    for zoom in np.unique(zooms):
        k = np.nonzero(zooms == zoom)[0]
        m = zoom_matrix(float(zoom)).astype(np.float32)
        planes = rgb[k].transpose(0, 3, 1, 2).reshape(-1, HASH_SIDE, HASH_SIDE)
        n = len(planes)
        x = (planes.astype(np.float32).reshape(n * HASH_SIDE, HASH_SIDE) @ m.T)
        x = x.reshape(n, HASH_SIDE, HASH_SIDE).transpose(0, 2, 1)
        x = (x.reshape(n * HASH_SIDE, HASH_SIDE) @ m.T).reshape(n, HASH_SIDE, HASH_SIDE)
        x = x.transpose(0, 2, 1).reshape(len(k), 3, HASH_SIDE, HASH_SIDE).transpose(0, 2, 3, 1)
        out[k] = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return out


def crop_pairs(rgbs: np.ndarray, lay: compare.Layouts, luma: np.ndarray,
               enlarged: np.ndarray,
               near: Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]
               ) -> dict[tuple[int, int], float]:
    """Index pairs ``(i, j)``, ``i < j``, of images one of which is the other cropped,
    with their :func:`~.compare.scores` (over :data:`CROP_STRICT`).

    ``rgbs``, ``lay``, ``luma``, ``enlarged``: the images, their
    :func:`~.compare.layouts`, luma hashes and ``(n, len(CROP_PIXELS))`` enlarged luma
    hashes; ``near(a, b, bits)``: the index pairs of the hashes of ``a`` and ``b`` at most
    ``bits`` apart."""
    found: dict[tuple[int, int], float] = {}
    for col, c in enumerate(CROP_PIXELS):
        zoom = np.array([crop_zoom(s, c) for s in lay.side])
        big = np.nonzero((zoom >= MIN_ZOOM) & (zoom <= MAX_ZOOM))[0]  # may be originals
        originals, copies = [np.empty(0, int)], [np.empty(0, int)]
        for start in range(0, len(big), _ROWS):
            a, b = near(enlarged[big[start:start + _ROWS], col], luma, CROP_HASH_BITS)
            a = big[a + start]
            keep = a != b
            originals.append(a[keep])
            copies.append(b[keep])
        every_a, every_b = np.concatenate(originals), np.concatenate(copies)
        for at in range(0, len(every_a), 4096):
            a, b = every_a[at:at + 4096], every_b[at:at + 4096]
            # Confirmed as any near copy is, the enlarged original standing for it.
            ua, ub = np.unique(a), np.unique(b)
            ia, ib = np.searchsorted(ua, a), len(ua) + np.searchsorted(ub, b)
            both = np.concatenate([zoomed(rgbs[ua], zoom[ua]), rgbs[ub]])
            both_lay = compare.layouts(both, np.concatenate([lay.side[ua] - 2 * c,
                                                             lay.side[ub]]))
            score = compare.scores(both, both_lay, ia, ib, CROP_STRICT) / CROP_STRICT
            for i, j, value in zip(a.tolist(), b.tolist(), score.tolist()):
                pair = (min(i, j), max(i, j))
                if value <= 1 and value < found.get(pair, np.inf):
                    found[pair] = value
    return found
