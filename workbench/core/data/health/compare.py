"""Whether two images that hash alike are the same picture: the second stage of the
near-copy search (:func:`~.duplicates.near_pairs`).

A re-encoded, blurred or resized copy differs from its original mostly in fine detail and
in fine colour (JPEG keeps colour at half the resolution of brightness), and those
differences cancel out locally: they move pixels up and down around the same local
average. Two different pictures that look alike (a 5 and an 8, a navy dot and a teal one)
differ in where the ink is and in what colour, which does not cancel out. So each image,
from its 32x32 colour version (:attr:`~.fingerprint.Fingerprint.rgb`), is taken apart
into brightness (luma, 32x32) and colour (two chroma channels) and compared in six ways,
all of which must agree (:func:`scores`: the largest share of a limit any of them uses,
at most 1 for copies). Differences are measured in units of each image's own spread, so
a brighter or more contrasted copy compares equal:

- **coarse layout** (:func:`coarse_score`): both images smoothed and averaged over the
  cells of an 8x8 grid (4x4 pixels), in brightness and colour: at most
  :data:`COARSE_MEAN` apart on average and :data:`COARSE_MAX` in the worst cell;
- **mean colour**, 0-255: at most :data:`COLOUR_ABS` apart plus :data:`COLOUR_REL` of how
  colourful they are (a 10% brighter copy of a red picture is 10% redder), and in every
  cell at most :data:`CELL_COLOUR_ABS` plus :data:`CELL_COLOUR_REL` of it;
- **contrast**: the spreads of their 8x8 versions within a ratio of
  :data:`CONTRAST_RATIO` (a grey dot and a black one on white have the same normalised
  shape); fine detail lost to blur or JPEG does not count (it is not coarse);
- **fine brightness** (:func:`fine_score`): the absolute differences of the slightly
  smoothed luma (more for images of :data:`SMALL_SIDE` px or less, whose own pixels JPEG
  blocks and blur reach), averaged per cell: at most :data:`FINE_CELL` in the worst cell
  (a stroke in one digit and not in the other);
- **fine colour**: the absolute differences of the chroma at 16x16, at most
  :data:`FINE_COLOUR` on average (one pattern in other colours).

The numbers below are from ``scripts/bench_health_near.py`` (copies of 70 pictures of
seven kinds at 32 and 64 px; "p90": 9 in 10 copies use at most that) and the distinct
sets it builds (see :data:`~.duplicates.NEAR_HASH_BITS` for what the search finds).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: Mean over the 8x8 cells of the cell-averaged difference (luma and both chroma
#: channels, summed), in spreads. Copies, p90: 0.10-0.12 at 32 px (JPEG at quality 75,
#: blur), 0.02-0.04 at 64 px; two of the 1,000 demo shapes: 0.13 or more.
COARSE_MEAN = 0.15
#: The same in the worst cell. Copies, p90: 0.3 (32 px, JPEG at quality 75) to 0.4 (32
#: px, blur), under 0.2 at 64 px; a navy dot against a teal one: over 1.
COARSE_MAX = 0.4
#: Worst 4x4-pixel cell of the smoothed luma's absolute difference. Copies, p90: 0.13 (32
#: px JPEG), 0.28 (32 px blur), 0.1 at 64 px; rendered digits that differ (a 0 and a 9, a 5
#: and an 8, in one font and place): 0.86 or more.
FINE_CELL = 0.4
#: Mean absolute difference of the 16x16 chroma channels (summed). Copies, p90: 0.12 or
#: less; a green-and-purple checkerboard and a yellow-and-blue one of the same squares
#: (one mean colour, one normalised pattern) differ here.
FINE_COLOUR = 0.4
#: Mean colour (the two chroma channels' means, 0-255, summed) apart: absolute + relative
#: (a 10% brighter copy uses up to 0.6 of it).
COLOUR_ABS = 6.0
COLOUR_REL = 0.2
#: The same for each of the 8x8 cells (looser: a small JPEG moves colour around edges; up
#: to 0.56 of it at 32 px, p90). A steel-blue-and-mustard checkerboard and an
#: indigo-and-lemon one of the same squares differ by 30 in their blue cells.
CELL_COLOUR_ABS = 16.0
CELL_COLOUR_REL = 0.3
#: Largest ratio of the two images' coarse spreads (each plus a tenth of the larger total
#: spread). Copies, p90: 1.1 for a 10% brighter one, 1.16 for a 32 px blur; a grey dot
#: against a black one on white: 1.53-1.58.
CONTRAST_RATIO = 1.45
#: Images whose smaller side is at most this (in pixels) are smoothed more before the fine
#: comparison (:data:`SMOOTH_SMALL` instead of :data:`SMOOTH`, in 32x32 pixels).
SMALL_SIDE = 40
SMOOTH_SMALL = 0.7
SMOOTH = 0.5
#: Chroma of images that small is smoothed too (in 16x16 pixels): at 32 px a JPEG keeps
#: colour at 16x16 and blurs its edges further.
CHROMA_SMOOTH_SMALL = 1.0
#: Both images are smoothed by this (in 32x32 pixels) before the 8x8 cells are averaged:
#: an edge a blur or JPEG moved by a pixel then shifts little mass from cell to cell.
COARSE_SMOOTH = 1.5

_LUMA = np.array([0.299, 0.587, 0.114])
#: RGB to luma and the two chroma channels (Cb = 0.564 (B - Y), Cr = 0.713 (R - Y)).
_YCC = np.stack([_LUMA, 0.564 * (np.eye(3)[2] - _LUMA),
                 0.713 * (np.eye(3)[0] - _LUMA)], axis=1).astype(np.float32)


@lru_cache(maxsize=None)
def _smoother(size: int, sigma: float, out: int) -> np.ndarray:
    """The ``(out, size)`` matrix that smooths a line of ``size`` pixels by a Gaussian of
    ``sigma`` (edges mirrored) and then averages it over ``out`` blocks."""
    r = max(1, int(np.ceil(2.5 * sigma))) if sigma else 0
    k = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma * sigma)) if sigma else np.ones(1)
    m = np.zeros((size, size))
    for i in range(size):
        for j, w in zip(range(i - r, i + r + 1), k / k.sum()):
            m[i, abs(j) if j < size else 2 * size - 2 - j] += w
    return m.reshape(out, size // out, size).mean(axis=1).astype(np.float32)


def _smooth(a: np.ndarray, sigma: float, out: int | None = None) -> np.ndarray:
    """``(n, s, s)`` images smoothed by a Gaussian of ``sigma`` pixels, then averaged
    over blocks into ``(n, out, out)`` (two matrix products: cheap for many images)."""
    n, s = a.shape[0], a.shape[1]
    o = out or s
    m = _smoother(s, float(sigma), o)
    a = (a.reshape(n * s, s) @ m.T).reshape(n, s, o).transpose(0, 2, 1)
    return (a.reshape(n * o, s) @ m.T).reshape(n, o, o).transpose(0, 2, 1)


def _planes(c: np.ndarray) -> np.ndarray:
    """``(n, s, s, 2)`` chroma as ``(2n, s, s)`` planes (for :func:`_smooth`)."""
    return c.transpose(0, 3, 1, 2).reshape(-1, c.shape[1], c.shape[2])


def _unplanes(p: np.ndarray) -> np.ndarray:
    return p.reshape(-1, 2, p.shape[1], p.shape[2]).transpose(0, 2, 3, 1)


def _split(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Luma ``(n, 32, 32)``, chroma ``(n, 32, 32, 2)`` (Cb, Cr, 0-255 scale)."""
    n, h, w, _ = rgb.shape
    ycc = rgb.reshape(-1, 3).astype(np.float32) @ _YCC
    return ycc[:, 0].reshape(n, h, w), ycc[:, 1:].reshape(n, h, w, 2)


@dataclass
class Layouts:
    """What the coarse checks compare, for ``n`` images (computed once, small):
    ``coarse`` ``(n, 192)`` (the 8x8 luma and chroma cells, less their means, over the
    spread), ``spread`` and ``coarse_spread`` ``(n,)``, ``colour`` ``(n, 2)`` (mean
    chroma), ``cell_colour`` ``(n, 64, 2)`` (the chroma of each cell, 0-255), ``side``
    ``(n,)`` (the original's smaller side, pixels)."""

    coarse: np.ndarray
    spread: np.ndarray
    coarse_spread: np.ndarray
    colour: np.ndarray
    cell_colour: np.ndarray
    side: np.ndarray


def layouts(rgb: np.ndarray, sides: np.ndarray) -> Layouts:
    """The :class:`Layouts` of ``(n, 32, 32, 3)`` uint8 images of smaller sides ``sides``."""
    n = len(rgb)
    coarse = np.zeros((n, 192), np.float32)
    spread = np.zeros(n, np.float32)
    coarse_spread = np.zeros(n, np.float32)
    colour = np.zeros((n, 2), np.float32)
    cell_colour = np.zeros((n, 64, 2), np.float32)
    for at in range(0, n, 4096):  # a few MB of floats at a time
        y, c = _split(rgb[at:at + 4096])
        m = len(y)
        c16 = _unplanes(_smooth(_planes(c), 0, 16))
        colour[at:at + m] = c16.reshape(m, -1, 2).mean(axis=1)
        spread[at:at + m] = np.sqrt(y.reshape(m, -1).var(axis=1)
                                    + c16.reshape(m, -1, 2).var(axis=1).sum(axis=1)) + 1e-3
        cells = np.concatenate([_smooth(y, COARSE_SMOOTH, 8)[..., None],
                                _unplanes(_smooth(_planes(c), COARSE_SMOOTH, 8))],
                               axis=-1).reshape(m, 64, 3)
        cell_colour[at:at + m] = cells[..., 1:]
        cells = cells - cells.mean(axis=1, keepdims=True)
        coarse_spread[at:at + m] = np.sqrt((cells ** 2).mean(axis=1).sum(axis=1))
        coarse[at:at + m] = (cells / spread[at:at + m, None, None]).reshape(m, -1)
    return Layouts(coarse, spread, coarse_spread, colour, cell_colour,
                   np.asarray(sides, np.float32))


def coarse_score(lay: Layouts, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How far apart the index pairs ``(a[k], b[k])`` are in colour (on the whole and in
    the worst cell), contrast and coarse layout: the largest share of a limit any of them
    uses (1: at a limit; over 1: not copies)."""
    col_a, col_b = lay.colour[a], lay.colour[b]
    colourful = (np.abs(col_a).sum(axis=1) + np.abs(col_b).sum(axis=1)) / 2
    score = np.abs(col_a - col_b).sum(axis=1) / (COLOUR_ABS + COLOUR_REL * colourful)
    col_a, col_b = lay.cell_colour[a], lay.cell_colour[b]
    colourful = (np.abs(col_a).sum(axis=2) + np.abs(col_b).sum(axis=2)) / 2
    cells = np.abs(col_a - col_b).sum(axis=2) / (CELL_COLOUR_ABS + CELL_COLOUR_REL * colourful)
    score = np.maximum(score, cells.max(axis=1))
    floor = 0.1 * np.maximum(lay.spread[a], lay.spread[b])
    ca, cb = lay.coarse_spread[a], lay.coarse_spread[b]
    ratio = (np.maximum(ca, cb) + floor) / (np.minimum(ca, cb) + floor)
    score = np.maximum(score, (ratio - 1) / (CONTRAST_RATIO - 1))
    cells = np.abs(lay.coarse[a] - lay.coarse[b]).reshape(len(a), 64, 3).sum(axis=2)
    score = np.maximum(score, cells.mean(axis=1) / COARSE_MEAN)
    return np.maximum(score, cells.max(axis=1) / COARSE_MAX)


def _fine(rgb: np.ndarray, spread: np.ndarray, sigma: float,
          chroma_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed luma less its mean ``(n, 32, 32)`` and chroma less its mean ``(n, 16, 16,
    2)``, over the spread."""
    y, c = _split(rgb)
    y = _smooth(y, sigma)
    y -= y.mean(axis=(1, 2), keepdims=True)
    c16 = _unplanes(_smooth(_planes(c), 0, 16))
    if chroma_sigma:
        c16 = _unplanes(_smooth(_planes(c16), chroma_sigma))
    c16 -= c16.mean(axis=(1, 2), keepdims=True)
    return y / spread[:, None, None], c16 / spread[:, None, None, None]


def fine_score(rgb: np.ndarray, lay: Layouts, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How far apart the index pairs ``(a[k], b[k])`` are in fine brightness and colour,
    as :func:`coarse_score` measures it (``rgb``: the ``(n, 32, 32, 3)`` images ``lay``
    was made from)."""
    score = np.zeros(len(a))
    small = np.minimum(lay.side[a], lay.side[b]) <= SMALL_SIDE
    for sigma, chroma_sigma, which in ((SMOOTH_SMALL, CHROMA_SMOOTH_SMALL, small),
                                       (SMOOTH, 0.0, ~small)):
        k = np.nonzero(which)[0]
        if not len(k):
            continue
        ids, inverse = np.unique(np.concatenate([a[k], b[k]]), return_inverse=True)
        y, c = _fine(rgb[ids], lay.spread[ids], sigma, chroma_sigma)
        ia, ib = inverse[:len(k)], inverse[len(k):]
        luma = _smooth(np.abs(y[ia] - y[ib]), 0, 8).reshape(len(k), -1).max(axis=1)
        chroma = np.abs(c[ia] - c[ib]).sum(axis=-1).reshape(len(k), -1).mean(axis=1)
        score[k] = np.maximum(luma / FINE_CELL, chroma / FINE_COLOUR)
    return score


def scores(rgb: np.ndarray, lay: Layouts, a: np.ndarray, b: np.ndarray,
           limit: float = 1.0) -> np.ndarray:
    """:func:`coarse_score` and :func:`fine_score` together (the larger), for the pairs
    whose coarse score is within ``limit`` (the fine one costs more); ``inf`` for the
    others."""
    score = coarse_score(lay, a, b)
    k = np.nonzero(score <= limit)[0]
    score[score > limit] = np.inf
    score[k] = np.maximum(score[k], fine_score(rgb, lay, a[k], b[k]))
    return score
