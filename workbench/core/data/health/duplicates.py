"""Exact and near copies among a dataset's images, and what they imply.

Two images are **near copies** when a cheap first stage finds them and a second confirms
them. First, their perceptual hashes (:attr:`~.fingerprint.Fingerprint.lhash` of the
luma, :attr:`~.fingerprint.Fingerprint.phash` along the main colour axis) differ in at
most :data:`NEAR_HASH_BITS` of 64 bits, in either. Then :mod:`.compare` checks, on their
32x32 colour versions, that their coarse layout, colours, contrast and fine detail agree
within limits set for what re-encoding, resizing and blur change (and more leniently for
images of 40 px or less, whose own pixels JPEG and blur reach): so two different
pictures that merely look alike (two handwritten 1s, a 0 and a 9, a navy dot and a teal
one, two red circles on grounds of different colours) are not paired. Copies cut down by
2-3 px on every side are found by :mod:`.crops`. They are **exact copies** when every
decoded pixel is the same (:func:`~.fingerprint.pixel_hash`, computed only for candidates
with identical hashes and sizes).

Copies are grouped transitively (a union-find over the pairs). A group whose images are
filed under more than one class is a **conflicting label**; one with images on both sides
of the experiment's train/validation split is a **leak** (the validation accuracy then
measures memory, not generalisation). A near group whose links all come close to a limit
(:data:`LOOK_ALIKE`) is also listed as only looking alike (:attr:`CopyGroups.look_alike`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from workbench.core.data.health import compare, crops
from workbench.core.data.health.fingerprint import (CROP_PIXELS, HASH_SIDE, Fingerprint,
                                                    pixel_hash)

#: Hash bits two near copies may differ in (or in all but that many: the main colour axis
#: a hash is taken along has no sign of its own), in either of their two hashes
#: (:attr:`~.fingerprint.Fingerprint.phash`, :attr:`~.fingerprint.Fingerprint.lhash`):
#: the first, cheap stage, which :mod:`.compare` then confirms or rejects.
#:
#: Measured by ``scripts/bench_health_near.py`` on 70 pictures of each size (noisy
#: circles, squares, stripes and checkerboards, colour blobs, smooth colour fields, demo
#: shapes), found of 70 at 32 / 48 / 64 / 128 px: JPEG at quality 95: 70 / 68 / 70 / 70;
#: 75: 69 / 67 / 70 / 70; 60: 63 / 66 / 69 / 68; Gaussian blur of radius 1: 60 / 70 / 70 /
#: 70; 2 px cut from each side: 70 everywhere (57 / 65 / 70 / 70 when also re-saved as a
#: JPEG at quality 90); resized by a quarter or a pixel, 10% brighter: 70. What is
#: missed is nearly all fine stripes and checkerboards of two colours of one brightness,
#: whose pattern a small JPEG or a blur erases. Among distinct pictures that look alike
#: (640 rendered digits at 28 and 64 px in several fonts and places, 360 dots of ten
#: colours, 1,000 demo shapes, 600 CIFAR-like textures, 400 shapes, 100 gradients) it
#: pairs one checkerboard with another of the same squares in nearly the same colours,
#: and among scikit-learn's 1,797 handwritten digits at 32 px, 3 pairs (5 before).
NEAR_HASH_BITS = 10
#: A near pair that uses more than this share of one of :mod:`.compare`'s limits (its
#: :func:`~.compare.scores`) only looks alike (:attr:`CopyGroups.look_alike`). Measured:
#: copies of 48 px and larger images stay under it (JPEG at quality 60-95, blur, crops,
#: resizes: 94-100%; a 10% brighter copy: 94%), those of 32 px ones mostly (JPEG at
#: quality 75: 88%, 60: 71%; blur: 73%); the few different pictures the search still pairs
#: mostly are over it (the closest handwritten digits: 0.78-0.99; one checkerboard in two
#: nearly equal tints: 0.63 at 32 px, 0.86 at 64 px).
LOOK_ALIKE = 0.7
#: Images with less colour spread than this (0-255, :func:`~.fingerprint.colour_spread`)
#: are blank: every blank image hashes alike, so they are reported as blank and not paired
#: as near copies.
BLANK_SPREAD = 2.0
_BLOCK = 128  # rows of the pairwise hash-distance matrices computed at once (in cache)
_PAIRS = 4096  # candidate pairs whose thumbnails are compared at once


@dataclass
class CopyGroups:
    """Groups of copies (lists of paths, each sorted; groups sorted by their first path)."""

    exact: list[list[str]] = field(default_factory=list)
    near: list[list[str]] = field(default_factory=list)  # every component with a near pair
    #: Every component (exact or near), for the label and split checks.
    components: list[list[str]] = field(default_factory=list)
    #: The components none of whose links is firm (no exact pair, every near pair over
    #: :data:`LOOK_ALIKE`): likely copies, but two different pictures can look this much
    #: alike (two near-identical handwritten digits, one checkerboard in two tints). Show
    #: them as looking alike, to review, rather than as the same picture.
    look_alike: list[list[str]] = field(default_factory=list)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    x = x.astype(np.uint64)
    out = np.zeros(x.shape, dtype=np.uint8)
    for shift in range(0, 64, 8):
        out += _BYTE_BITS[(x >> np.uint64(shift)) & np.uint64(0xFF)]
    return out


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _folded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The hash distances of ``a`` (rows) and ``b`` (columns), plus
    :data:`NEAR_HASH_BITS`, modulo 64: at most twice that for hashes near or near
    opposite (two in-place operations instead of two comparisons)."""
    dist = _popcount(a[:, None] ^ b[None, :])
    dist += NEAR_HASH_BITS
    dist &= 63
    return dist


def _near(a: np.ndarray, b: np.ndarray,
          bits: int = NEAR_HASH_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(rows, columns)`` of the hashes of ``a`` and ``b`` at most ``bits``
    apart (or at least ``64 - bits``)."""
    dist = _popcount(a[:, None] ^ b[None, :])
    dist += bits
    dist &= 63
    return np.divmod(np.flatnonzero(dist <= 2 * bits), len(b))


def near_pairs(fps: Sequence[Fingerprint]) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of near copies (see the module docstring)."""
    return sorted(near_scores(fps))


def near_scores(fps: Sequence[Fingerprint]) -> dict[tuple[int, int], float]:
    """:func:`near_pairs` with how far apart each pair is (:func:`~.compare.scores`: the
    largest share of one of :mod:`.compare`'s limits the pair uses, at most 1)."""
    usable = [i for i, f in enumerate(fps) if not f.error and f.rgb is not None
              and f.spread >= BLANK_SPREAD]
    if len(usable) < 2:
        return {}
    n = len(usable)
    axis = np.array([fps[i].phash for i in usable], dtype=np.uint64)
    luma = np.array([fps[i].lhash for i in usable], dtype=np.uint64)
    rgbs = np.stack([fps[i].rgb for i in usable])
    sides = [min(fps[i].width, fps[i].height) or HASH_SIDE for i in usable]
    lay = compare.layouts(rgbs, np.array(sides))
    found: dict[tuple[int, int], float] = {}
    for start in range(0, n, _BLOCK):
        rows = slice(start, start + _BLOCK)  # against itself and what follows only
        dist = np.minimum(_folded(axis[rows], axis[start:]), _folded(luma[rows], luma[start:]))
        a, b = np.divmod(np.flatnonzero(dist <= 2 * NEAR_HASH_BITS), n - start)
        keep = b > a
        a, b = a[keep] + start, b[keep] + start
        for at in range(0, len(a), _PAIRS):
            x, y = a[at:at + _PAIRS], b[at:at + _PAIRS]
            score = compare.scores(rgbs, lay, x, y)
            ok = score <= 1
            found.update(zip(zip(x[ok].tolist(), y[ok].tolist()), score[ok].tolist()))
    enlarged = np.array([fps[i].crop_hashes or (0,) * len(CROP_PIXELS) for i in usable],
                        dtype=np.uint64)
    for pair, score in crops.crop_pairs(rgbs, lay, luma, enlarged, _near).items():
        found[pair] = min(score, found.get(pair, score))
    return {(usable[i], usable[j]): score for (i, j), score in sorted(found.items())}


def _exact_candidates(fps: Sequence[Fingerprint]) -> list[list[int]]:
    """Images sharing hash and size (blank ones included): only these can be exact."""
    by_key: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i, f in enumerate(fps):
        if not f.error:
            by_key[(f.phash, f.width, f.height)].append(i)
    return [ids for ids in by_key.values() if len(ids) > 1]


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _groups(n: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    uf = _UnionFind(n)
    touched = set()
    for a, b in pairs:
        uf.union(a, b)
        touched.update((a, b))
    comps: dict[int, list[int]] = defaultdict(list)
    for i in sorted(touched):
        comps[uf.find(i)].append(i)
    return [c for c in comps.values() if len(c) > 1]


def find_copies(fps: Sequence[Fingerprint]) -> CopyGroups:
    """Exact and near copies among ``fps`` (see the module docstring)."""
    exact_pairs = []
    for ids in _exact_candidates(fps):
        by_pixels: dict[str, list[int]] = defaultdict(list)
        for i in ids:
            h = pixel_hash(fps[i].path)
            if h:
                by_pixels[h].append(i)
        for same in by_pixels.values():
            exact_pairs += [(same[0], j) for j in same[1:]]
    scores = near_scores(fps)
    near = list(scores)

    def paths(ids: list[int]) -> list[str]:
        return sorted(fps[i].path for i in ids)

    exact = sorted(paths(g) for g in _groups(len(fps), exact_pairs))
    exact_sets = {frozenset(g) for g in exact}
    components = sorted(paths(g) for g in _groups(len(fps), exact_pairs + near))
    firm = {fps[i].path for pair, score in scores.items() if score <= LOOK_ALIKE
            for i in pair} | {fps[i].path for pair in exact_pairs for i in pair}
    return CopyGroups(exact, [c for c in components if frozenset(c) not in exact_sets],
                      components, [c for c in components if not firm.intersection(c)])


def conflicting(groups: Iterable[list[str]], label_of: dict[str, str]) -> list[list[str]]:
    """The groups whose images are filed under more than one class."""
    return [g for g in groups if len({label_of.get(p) for p in g}) > 1]


def leaks(groups: Iterable[list[str]], val_paths: set[str]) -> list[list[str]]:
    """The groups with images on both sides of the split (``val_paths``: validation)."""
    out = []
    for g in groups:
        sides = {p in val_paths for p in g}
        if len(sides) > 1:
            out.append(g)
    return out
