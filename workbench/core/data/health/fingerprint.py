"""What the health checks know of an image: :class:`Fingerprint`, one small decode each.

Each image is decoded once at a small size (JPEG draft mode and ``reduce`` through
:func:`~workbench.core.data.images.load_image`, so a 12-megapixel photo costs a few ms),
in parallel threads, into a 32x32 colour version (:attr:`Fingerprint.rgb`), and from that:

- two 64-bit perceptual hashes (pHash: the signs of the 8x8 lowest frequencies of a 32x32
  image's DCT, against their median), which survive re-encoding, resizing, slight blur
  and recompression: one of the brightness (luma, :attr:`Fingerprint.lhash`), which JPEG
  keeps best, and one along the image's main colour axis (the direction in RGB along
  which its pixels vary most, :attr:`Fingerprint.phash`): blue-green for a blue triangle
  on a green ground of the same brightness, whose luma is nearly flat and would hash
  noise. A small JPEG blurs colour (it keeps it at half the resolution), which can turn
  the main axis of a picture whose colours vary finely: its luma hash still matches;
- its colour spread (:func:`colour_spread`) and mean level, to normalise the 32x32 colour
  version (:attr:`Fingerprint.thumb`), and for the blank check;
- the luma hashes of the 32x32 version enlarged about its centre as if
  :data:`CROP_PIXELS` had been cut from each side of the original
  (:attr:`Fingerprint.crop_hashes`), to find its cropped copies (:mod:`.crops`);
- the original size (after the EXIF orientation), for the cheap checks and to know how
  much of the 32x32 version is the image's own detail.

The exact-pixel hash (the whole decoded image) is computed only for images that may be
exact copies (:func:`pixel_hash`).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
from PIL import Image

#: Side of the colour image the hash and the thumbnail are made from.
HASH_SIDE = 32
#: Pixels cut from each side of an original whose cropped copies are looked for (they are
#: hashed into each fingerprint: changing them calls for a new :data:`.fpcache.FORMAT`).
CROP_PIXELS = (2, 3)
_ORIENTATION = 0x0112  # EXIF tag; values 5-8 swap width and height


@dataclass
class Fingerprint:
    """One image, as the health checks compare it (``error``: why it could not be read)."""

    path: str
    phash: int = 0
    spread: float = 0.0  # colour spread of the 32x32 version, 0-255 (colour_spread)
    level: float = 0.0  # mean of its values (all three channels)
    width: int = 0
    height: int = 0
    error: str = ""
    rgb: np.ndarray | None = None  # the (32, 32, 3) uint8 image all the above come from
    lhash: int = 0  # the pHash of its luma (phash: along its main colour axis)
    #: The pHashes of its luma enlarged as if CROP_PIXELS were cut from each side (by
    #: crop_zoom): what a crop of it, resized, hashes like.
    crop_hashes: tuple[int, ...] = ()

    @property
    def thumb(self) -> np.ndarray | None:
        """The ``(32, 32, 3)`` float32 thumbnail, less its mean level, over its spread:
        one offset and scale for all three channels, so a brighter or more contrasted
        copy gives the same thumbnail while another colour does not."""
        if self.rgb is None:
            return None
        return (self.rgb.astype(np.float32) - self.level) / max(self.spread, 1e-3)


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float64)


_DCT = _dct_matrix(HASH_SIDE)


def phash(grey: np.ndarray, zoom: float = 1.0) -> int:
    """The 64-bit perceptual hash of a ``(32, 32)`` grey image (first enlarged ``zoom``
    times about its centre, :func:`zoom_matrix`, if ``zoom`` is not 1)."""
    m = _low_dct(zoom)  # only the 8x8 lowest frequencies are needed
    low = (m @ grey.astype(np.float64) @ m.T).flatten()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) left out of the median
    return int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])


@lru_cache(maxsize=256)
def _low_dct(zoom: float) -> np.ndarray:
    """The ``(8, 32)`` rows of the DCT for the 8 lowest frequencies, after ``zoom``."""
    return _DCT[:8] if zoom == 1.0 else _DCT[:8] @ zoom_matrix(zoom)


_LUMA = np.array([0.299, 0.587, 0.114])  # Rec. 601 brightness


def crop_zoom(side: float, pixels: float) -> float:
    """How much cutting ``pixels`` from each side of an image of (smaller) ``side``
    enlarges what is left, once resized (rounded: the zooms of one size are shared)."""
    return round(float(side) / max(float(side) - 2 * pixels, 1.0), 4)


@lru_cache(maxsize=256)
def zoom_matrix(zoom: float) -> np.ndarray:
    """The ``(32, 32)`` bilinear matrix that enlarges a line ``zoom`` times about its
    centre (``m @ image @ m.T`` enlarges an image)."""
    half = HASH_SIDE / 2
    x = half + (np.arange(HASH_SIDE) + 0.5 - half) / zoom - 0.5
    lo = np.clip(np.floor(x).astype(int), 0, HASH_SIDE - 1)
    hi = np.clip(lo + 1, 0, HASH_SIDE - 1)
    w = x - np.floor(x)
    m = np.zeros((HASH_SIDE, HASH_SIDE))
    m[np.arange(HASH_SIDE), lo] += 1 - w
    m[np.arange(HASH_SIDE), hi] += w
    return m


def colour_spread(rgb: np.ndarray) -> float:
    """How much an ``(..., 3)`` image varies, 0-255: the root mean square of its three
    channels' standard deviations. For a grey image, the grey standard deviation; a blue
    triangle on a green ground of the same brightness varies little in grey, much here."""
    return _colour_stats(rgb)[1]


def main_axis(rgb: np.ndarray) -> np.ndarray:
    """The ``(32, 32)`` projection of an ``(32, 32, 3)`` image on its main colour axis (the
    first principal direction of its pixels' colours, signed towards white)."""
    return _colour_stats(rgb)[2]


def _colour_stats(rgb: np.ndarray) -> tuple[float, float, np.ndarray]:
    # The mean level, the colour spread and the main-axis projection, from one covariance.
    flat = rgb.reshape(-1, 3).astype(np.float64)
    centred = flat - flat.mean(axis=0)
    cov = centred.T @ centred / len(flat)
    _, vectors = np.linalg.eigh(cov)
    axis = vectors[:, -1]
    if axis.sum() < 0:
        axis = -axis
    spread = float(np.sqrt(max(np.trace(cov), 0.0) / 3))
    return float(flat.mean()), spread, (flat @ axis).reshape(rgb.shape[:-1])


def fingerprint(path: str) -> Fingerprint:
    """Decode ``path`` small and fingerprint it; a file that cannot be read gets ``error``
    (the reason :func:`~workbench.core.data.images.load_image` gives)."""
    from workbench.core.data.images import load_image
    from workbench.core.errors import ImageDecodeError

    try:
        img = load_image(path, 3, min_side=2 * HASH_SIDE)
        rgb = np.asarray(img.resize((HASH_SIDE, HASH_SIDE), Image.BILINEAR,
                                    reducing_gap=2.0), dtype=np.uint8)
        with Image.open(path) as im:  # only the header: the size before any reduction
            width, height = im.size
            try:
                if im.getexif().get(_ORIENTATION, 1) in (5, 6, 7, 8):
                    width, height = height, width
            except Exception:  # noqa: BLE001  (a broken EXIF block: keep the stored size)
                pass
    except ImageDecodeError as e:
        return Fingerprint(path, error=e.reason)
    except Exception as e:  # noqa: BLE001  (any decoder error is the file's, reported)
        return Fingerprint(path, error=str(e) or type(e).__name__)
    return from_rgb(path, rgb, width, height)


def from_rgb(path: str, rgb: np.ndarray, width: int, height: int) -> Fingerprint:
    """The fingerprint of an image whose ``(32, 32, 3)`` uint8 colour version is ``rgb``
    (what :func:`fingerprint` decodes, or what :mod:`.fpcache` kept of it)."""
    level, spread, projection = _colour_stats(rgb)
    side = min(int(width), int(height)) or HASH_SIDE
    luma = rgb.reshape(-1, 3).astype(np.float64).dot(_LUMA).reshape(rgb.shape[:2])
    return Fingerprint(path, phash(projection), spread, level, int(width), int(height),
                       rgb=rgb, lhash=phash(luma),
                       crop_hashes=tuple(phash(luma, crop_zoom(side, c)) for c in CROP_PIXELS))


def fingerprints(paths: Sequence[str], progress: Callable[[int, int], None] | None = None,
                 threads: int | None = None) -> list[Fingerprint]:
    """:func:`fingerprint` of every path, in order, decoded in parallel threads (Pillow
    releases the interpreter lock while it decodes); ``progress(done, total)`` as they
    come, about every 1%."""
    from workbench.core.data.index import decode_workers  # not cache's: that imports torch

    out: list[Fingerprint] = []
    total = len(paths)
    step = max(1, total // 100)
    with ThreadPoolExecutor(max_workers=threads or decode_workers()) as pool:
        for i, fp in enumerate(pool.map(fingerprint, paths, chunksize=16)):
            out.append(fp)
            if progress is not None and ((i + 1) % step == 0 or i + 1 == total):
                progress(i + 1, total)
    return out


def pixel_hash(path: str) -> str:
    """A hash of every decoded pixel (RGB, upright), for exact copies whatever the file
    format, compression or metadata; "" when the file cannot be read."""
    from workbench.core.data.images import load_image

    try:
        img = load_image(path, 3)
    except Exception:  # noqa: BLE001
        return ""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{img.size}".encode())
    h.update(img.tobytes())
    return h.hexdigest()
