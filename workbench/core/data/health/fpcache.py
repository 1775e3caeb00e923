"""Fingerprints kept between checks: a second check of a folder decodes only what changed.

One file per dataset folder, ``<cache>/health/<key>.npz`` (numpy arrays, no pickle): each
image's path, size, modification time, original width and height, its 32x32 grey version
(1 KB, from which the hash and thumbnail are recomputed exactly) and, for a file that
could not be read, why. An entry is used only while the file's size and modification
time are those recorded, as the decoded-image cache does; a cache that cannot be read is
ignored, and one that cannot be written is skipped (the check's result does not depend on
it).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from workbench.core.data.health.fingerprint import (HASH_SIDE, Fingerprint, fingerprints,
                                                    from_grey)

#: Bump when what a fingerprint is made of changes: older files are then ignored.
FORMAT = 1


def _file(root: str) -> Path:
    from workbench.core.io import cache_home

    key = hashlib.sha1(f"{FORMAT}|{os.path.abspath(root)}".encode()).hexdigest()[:16]
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
            greys, errors = z["greys"], z["errors"]
    except (OSError, ValueError, KeyError):
        return {}
    out = {}
    for i, p in enumerate(paths.tolist()):
        stat = (int(stats[i, 0]), int(stats[i, 1]))
        if errors[i]:
            out[p] = (stat, Fingerprint(p, error=str(errors[i])))
        else:
            out[p] = (stat, from_grey(p, greys[i], int(sizes[i, 0]), int(sizes[i, 1])))
    return out


def _save(file: Path, entries: dict[str, tuple[tuple[int, int], Fingerprint]]) -> None:
    paths = list(entries)
    n = len(paths)
    greys = np.zeros((n, HASH_SIDE, HASH_SIDE), dtype=np.uint8)
    stats = np.zeros((n, 2), dtype=np.int64)
    sizes = np.zeros((n, 2), dtype=np.int64)
    errors = []
    for i, p in enumerate(paths):
        stat, fp = entries[p]
        stats[i] = stat
        sizes[i] = (fp.width, fp.height)
        if fp.grey is not None:
            greys[i] = fp.grey
        errors.append(fp.error)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, paths=np.array(paths, dtype=str), stats=stats, sizes=sizes, greys=greys,
                 errors=np.array(errors, dtype=str))
        os.replace(tmp, file)
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
        _save(file, entries)
    return [entries[p][1] for p in paths]
