"""Exact and near copies among a dataset's images, and what they imply.

Two images are **near copies** when their perceptual hashes differ in at most
:data:`NEAR_HASH_BITS` of 64 bits (or in all but that many: the main colour axis the hash
is taken along has no sign of its own) *and* their normalised 32x32 colour thumbnails
(:attr:`~.fingerprint.Fingerprint.thumb`) differ by at most :data:`NEAR_THUMB_DIFF` on
average: the hash finds candidates quickly, the thumbnails keep two different pictures
that merely look alike apart (two handwritten 1s, or two red circles on grounds of
different colours). They are **exact copies** when every decoded pixel is the same
(:func:`~.fingerprint.pixel_hash`, computed only for candidates with identical hashes and
sizes).

Copies are grouped transitively (a union-find over the pairs). A group whose images are
filed under more than one class is a **conflicting label**; one with images on both sides
of the experiment's train/validation split is a **leak** (the validation accuracy then
measures memory, not generalisation).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from workbench.core.data.health.fingerprint import Fingerprint, pixel_hash

#: Hash bits two near copies may differ in. Measured on re-encoded (JPEG q60-95), 1-2 px
#: resized, slightly blurred and brightened copies of photos and digits: 0-6 bits; two
#: different images: 20-40 bits (a pair of similar digits can come down to ~10).
NEAR_HASH_BITS = 10
#: Mean absolute difference of the normalised 32x32 colour thumbnails (in standard
#: deviations) a near copy may have. Measured on scikit-learn's real digits stored at
#: 32 px: a JPEG re-encoding, a 1-2 px resize, a slight blur or brightening stay within
#: 0.06, while the closest two different digits are 0.076 apart (5 pairs of 1,797 images
#: under 0.1, 57 under 0.13); on sharper rendered digits at 28 px a JPEG at quality 60
#: reaches 0.09. On coloured shapes (96 px JPEGs with noise): copies re-encoded at quality
#: 80-95, resized, blurred, brightened by 10% or less contrasted stay within 0.075 (quality
#: 60 up to 0.11), two different pictures of one shape in one place 0.2 or more apart.
#: Images of 8-16 px cannot be told apart this way (a 1 px resize of an 8x8 digit moves
#: it 0.15-0.33): they are reported as tiny.
NEAR_THUMB_DIFF = 0.1
#: Images with less colour spread than this (0-255, :func:`~.fingerprint.colour_spread`)
#: are blank: every blank image hashes alike, so they are reported as blank and not paired
#: as near copies.
BLANK_SPREAD = 2.0
_BLOCK = 2048  # rows of the pairwise hash-distance matrix computed at once
_PAIRS = 4096  # candidate pairs whose thumbnails are compared at once


@dataclass
class CopyGroups:
    """Groups of copies (lists of paths, each sorted; groups sorted by their first path)."""

    exact: list[list[str]] = field(default_factory=list)
    near: list[list[str]] = field(default_factory=list)  # every component with a near pair
    #: Every component (exact or near), for the label and split checks.
    components: list[list[str]] = field(default_factory=list)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    x = x.astype(np.uint64)
    out = np.zeros(x.shape, dtype=np.uint8)
    for shift in range(0, 64, 8):
        out += _BYTE_BITS[(x >> np.uint64(shift)) & np.uint64(0xFF)]
    return out


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def near_pairs(fps: Sequence[Fingerprint]) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of near copies (see the module docstring)."""
    usable = [i for i, f in enumerate(fps) if not f.error and f.rgb is not None
              and f.spread >= BLANK_SPREAD]
    if len(usable) < 2:
        return []
    hashes = np.array([fps[i].phash for i in usable], dtype=np.uint64)
    rgbs = np.stack([fps[i].rgb for i in usable])
    levels = np.array([fps[i].level for i in usable], dtype=np.float32)[:, None]
    spreads = np.array([fps[i].spread for i in usable], dtype=np.float32)[:, None]
    # The thumbnails averaged over 4x4 blocks: their mean difference is never more than
    # the full one's, so a pair it puts over the limit is out without the full comparison.
    n = len(usable)
    coarse = rgbs.reshape(n, 8, 4, 8, 4, 3).mean(axis=(2, 4), dtype=np.float32)
    coarse = (coarse.reshape(n, -1) - levels) / spreads
    rgbs = rgbs.reshape(n, -1)
    pairs = []
    for start in range(0, n, _BLOCK):
        block = hashes[start:start + _BLOCK]
        dist = _popcount(block[:, None] ^ hashes[None, :])
        rows, cols = np.nonzero((dist <= NEAR_HASH_BITS) | (dist >= 64 - NEAR_HASH_BITS))
        keep = cols > rows + start
        rows, cols = rows[keep] + start, cols[keep]
        for at in range(0, len(rows), _PAIRS):
            a, b = rows[at:at + _PAIRS], cols[at:at + _PAIRS]
            maybe = np.abs(coarse[a] - coarse[b]).mean(axis=1) <= NEAR_THUMB_DIFF
            a, b = a[maybe], b[maybe]
            diff = np.abs((rgbs[a] - levels[a]) / spreads[a]
                          - (rgbs[b] - levels[b]) / spreads[b]).mean(axis=1)
            near = diff <= NEAR_THUMB_DIFF
            pairs += [(usable[int(i)], usable[int(j)]) for i, j in zip(a[near], b[near])]
    return pairs


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
    near = near_pairs(fps)

    def paths(ids: list[int]) -> list[str]:
        return sorted(fps[i].path for i in ids)

    exact = sorted(paths(g) for g in _groups(len(fps), exact_pairs))
    exact_sets = {frozenset(g) for g in exact}
    components = sorted(paths(g) for g in _groups(len(fps), exact_pairs + near))
    return CopyGroups(exact, [c for c in components if frozenset(c) not in exact_sets],
                      components)


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
