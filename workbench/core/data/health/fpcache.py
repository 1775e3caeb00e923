"""Fingerprints kept between checks: a second check of a folder decodes only what changed.

One file per dataset folder, ``<cache>/health/<key>.npz`` (numpy arrays, no pickle): each
image's path, size, modification time, original width and height, its 32x32 colour
version (3 KB) with the hashes, level and spread computed from it and, for a file that
could not be read, why. An entry is used only while the file's size and
modification time are those recorded, as the decoded-image cache does; a cache that cannot
be read is ignored, and one that cannot be written is skipped (the check's result does not
depend on it).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from workbench.core.data.health.fingerprint import (CROP_PIXELS, HASH_SIDE, Fingerprint,
                                                    fingerprints)

#: Bump when what a fingerprint is made of changes: older files are then ignored (and
#: removed when the new one is written). 2: a colour version instead of a grey one; 3: a
#: hash of the luma and those of its enlargements (:attr:`~.fingerprint.Fingerprint.lhash`,
#: :attr:`~.fingerprint.Fingerprint.crop_hashes`).
FORMAT = 3


def _file(root: str, fmt: int = FORMAT) -> Path:
    from workbench.core.filenames import name_bytes
    from workbench.core.io import cache_home

    key = hashlib.sha1(name_bytes(f"{fmt}|{os.path.abspath(root)}")).hexdigest()[:16]
    return cache_home() / "health" / f"{key}.npz"


def _stat(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return -1, -1
    return int(st.st_size), int(st.st_mtime_ns)


def _load(file: Path) -> dict[str, tuple[tuple[int, int], Fingerprint]]:
    try:
        with np.load(file, allow_pickle=False) as z:
            paths, stats, sizes = z["paths"], z["stats"], z["sizes"]
            rgbs, errors, hashes = z["rgbs"], z["errors"], z["hashes"]
            levels, spreads, lhashes = z["levels"], z["spreads"], z["lhashes"]
            crops = z["crops"]
    except (OSError, ValueError, KeyError):
        return {}
    out = {}
    for i, p in enumerate(paths.tolist()):
        stat = (int(stats[i, 0]), int(stats[i, 1]))
        if errors[i]:
            out[p] = (stat, Fingerprint(p, error=str(errors[i])))
        else:
            out[p] = (stat, Fingerprint(p, int(hashes[i]), float(spreads[i]),
                                        float(levels[i]), int(sizes[i, 0]), int(sizes[i, 1]),
                                        rgb=rgbs[i], lhash=int(lhashes[i]),
                                        crop_hashes=tuple(int(h) for h in crops[i])))
    return out


def _save(root: str, file: Path,
          entries: dict[str, tuple[tuple[int, int], Fingerprint]]) -> None:
    paths = list(entries)
    n = len(paths)
    rgbs = np.zeros((n, HASH_SIDE, HASH_SIDE, 3), dtype=np.uint8)
    stats = np.zeros((n, 2), dtype=np.int64)
    sizes = np.zeros((n, 2), dtype=np.int64)
    hashes = np.zeros(n, dtype=np.uint64)
    lhashes = np.zeros(n, dtype=np.uint64)
    crops = np.zeros((n, len(CROP_PIXELS)), dtype=np.uint64)
    levels, spreads = np.zeros(n), np.zeros(n)
    errors = []
    for i, p in enumerate(paths):
        stat, fp = entries[p]
        stats[i] = stat
        sizes[i] = (fp.width, fp.height)
        hashes[i], lhashes[i] = fp.phash, fp.lhash
        if fp.crop_hashes:
            crops[i] = fp.crop_hashes
        levels[i], spreads[i] = fp.level, fp.spread
        if fp.rgb is not None:
            rgbs[i] = fp.rgb
        errors.append(fp.error)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, paths=np.array(paths, dtype=str), stats=stats, sizes=sizes, rgbs=rgbs,
                 hashes=hashes, lhashes=lhashes, crops=crops, levels=levels,
                 spreads=spreads,
                 errors=np.array(errors, dtype=str))
        os.replace(tmp, file)
        for fmt in range(1, FORMAT):  # what older versions kept of this folder
            _file(root, fmt).unlink(missing_ok=True)
    except OSError:
        pass  # a read-only or full cache folder: the next check decodes again


def cached_fingerprints(root: str, paths: Sequence[str],
                        progress: Callable[[int, int], None] | None = None
                        ) -> list[Fingerprint]:
    """The fingerprints of ``paths`` (images of the dataset at ``root``), in order: those
    of unchanged files from the cache, the others decoded (``progress`` counts those)."""
    file = _file(root)
    known = _load(file)
    stats = {p: _stat(p) for p in paths}
    todo = [p for p in paths if p not in known or known[p][0] != stats[p]]
    fresh = dict(zip(todo, fingerprints(todo, progress)))
    if progress is not None and not todo:
        progress(len(paths), len(paths))
    entries = {p: (stats[p], fresh[p] if p in fresh else known[p][1]) for p in paths}
    if todo or len(known) != len(entries):
        _save(root, file, entries)
    return [entries[p][1] for p in paths]
