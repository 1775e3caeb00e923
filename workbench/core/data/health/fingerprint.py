"""What the health checks know of an image: :class:`Fingerprint`, one small decode each.

Each image is decoded once at a small size (JPEG draft mode and ``reduce`` through
:func:`~workbench.core.data.images.load_image`, so a 12-megapixel photo costs a few ms),
in parallel threads, into:

- a 64-bit perceptual hash (pHash: the signs of the 8x8 lowest frequencies of a 32x32
  grey thumbnail's DCT, against their median), which survives re-encoding, resizing,
  slight blur and recompression;
- a 16x16 grey thumbnail, normalised to zero mean and unit variance, to confirm that two
  images with close hashes really are copies (and not two similar pictures);
- the original size (after the EXIF orientation) and the thumbnail's spread, for the cheap
  checks.

The exact-pixel hash (the whole decoded image) is computed only for images that may be
exact copies (:func:`pixel_hash`).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from PIL import Image

#: Side of the grey image the hash and the thumbnail are made from.
HASH_SIDE = 32
_ORIENTATION = 0x0112  # EXIF tag; values 5-8 swap width and height


@dataclass
class Fingerprint:
    """One image, as the health checks compare it (``error``: why it could not be read)."""

    path: str
    phash: int = 0
    thumb: np.ndarray | None = None  # (32, 32) float32, zero mean, unit variance
    spread: float = 0.0  # standard deviation of the grey thumbnail, 0-255
    width: int = 0
    height: int = 0
    error: str = ""
    grey: np.ndarray | None = None  # the (32, 32) uint8 grey image all the above come from


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float64)


_DCT = _dct_matrix(HASH_SIDE)


def phash(grey: np.ndarray) -> int:
    """The 64-bit perceptual hash of a ``(32, 32)`` grey image."""
    freq = _DCT @ grey.astype(np.float64) @ _DCT.T
    low = freq[:8, :8].flatten()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) left out of the median
    return int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])


def fingerprint(path: str) -> Fingerprint:
    """Decode ``path`` small and fingerprint it; a file that cannot be read gets ``error``."""
    from workbench.core.data.images import load_image

    try:
        with Image.open(path) as im:
            width, height = im.size
            try:
                if im.getexif().get(_ORIENTATION, 1) in (5, 6, 7, 8):
                    width, height = height, width
            except Exception:  # noqa: BLE001  (a broken EXIF block: keep the stored size)
                pass
        img = load_image(path, 1, min_side=2 * HASH_SIDE)
        grey = np.asarray(img.resize((HASH_SIDE, HASH_SIDE), Image.BILINEAR,
                                     reducing_gap=2.0), dtype=np.uint8)
    except Exception as e:  # noqa: BLE001  (any decoder error is the file's, reported)
        return Fingerprint(path, error=str(e) or type(e).__name__)
    return from_grey(path, grey, width, height)


def from_grey(path: str, grey: np.ndarray, width: int, height: int) -> Fingerprint:
    """The fingerprint of an image whose ``(32, 32)`` uint8 grey version is ``grey`` (what
    :func:`fingerprint` decodes, or what :mod:`.fpcache` kept of it)."""
    small = grey.astype(np.float32)
    spread = float(small.std())
    thumb = (small - small.mean()) / max(spread, 1e-3)
    return Fingerprint(path, phash(small), thumb.astype(np.float32), spread, int(width),
                       int(height), grey=grey)


def fingerprints(paths: Sequence[str], progress: Callable[[int, int], None] | None = None,
                 threads: int | None = None) -> list[Fingerprint]:
    """:func:`fingerprint` of every path, in order, decoded in parallel threads (Pillow
    releases the interpreter lock while it decodes); ``progress(done, total)`` as they
    come, about every 1%."""
    from workbench.core.data.cache import decode_threads

    out: list[Fingerprint] = []
    total = len(paths)
    step = max(1, total // 100)
    with ThreadPoolExecutor(max_workers=threads or decode_threads()) as pool:
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
