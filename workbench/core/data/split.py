"""The train/validation split: stratified per class, seeded, deterministic."""

from __future__ import annotations

import math
import os
import random
from itertools import compress
from typing import Iterable

from workbench.core.errors import SpecError
from workbench.core.data.index import DatasetIndex
from workbench.core.filenames import name_bytes


Samples = list[tuple[str, int]]


def split_for(index: DatasetIndex, data) -> tuple[Samples, Samples]:
    """:func:`split_samples` with the settings of an Experiment's ``data`` section, less
    the images ``data.exclude`` names (:func:`excluded_paths`).

    The split is made over every image first and the excluded ones are then dropped from
    their side, so excluding an image never moves another across the split."""
    train, val = split_samples(index, data.val_fraction, data.seed,
                               stratified=data.stratified,
                               use_folder_split=data.use_folder_split)
    drop = excluded_paths(index, getattr(data, "exclude", None) or [])
    if not drop:
        return train, val
    return [s for s in train if s[0] not in drop], [s for s in val if s[0] not in drop]


def relative_path(index: DatasetIndex, path: str) -> str:
    """``path`` as ``data.exclude`` names it: relative to the dataset's folder (the CSV
    file's folder for a CSV dataset), with forward slashes; absolute when outside it.
    Kept in ``index.relatives``: each path is made relative once per scan."""
    return relative_paths_of(index, [path])[0]


def relative_paths_of(index: DatasetIndex, paths: Iterable[str]) -> list[str]:
    """Each of ``paths`` as :func:`relative_path` gives it: those made before for ``index``
    looked up, the others made (a path inside the folder without ``os.path.relpath``,
    which takes a second for 100,000) and kept."""
    known = getattr(index, "relatives", None)
    known = {} if known is None else known
    paths = list(paths)
    out = list(map(known.get, paths))  # 10,000 looked up in a millisecond
    if None in out:
        root = os.path.dirname(index.root) if index.source == "csv" else index.root
        prefix = root.rstrip("/\\") + os.sep if root else ""
        for i, p in enumerate(paths):
            if out[i] is None:
                out[i] = known[p] = _relative(root, prefix, p)
    return out


def _relative(root: str, prefix: str, path: str) -> str:
    if prefix and path.startswith(prefix):
        rel = path[len(prefix):].replace(os.sep, "/")
        wrapped = f"/{rel}/"  # "a//b", "./a", "a/../b": relpath normalises them, below
        if "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped:
            return rel
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive (Windows)
        return path.replace(os.sep, "/")
    return path.replace(os.sep, "/") if rel.startswith("..") else rel.replace(os.sep, "/")


def exclude_entry(entry: str) -> str:
    """A ``data.exclude`` entry written as :func:`relative_path` writes paths: forward
    slashes, and a relative one without a slash at either end."""
    name = entry.replace("\\", "/")
    return name if os.path.isabs(entry) else name.strip("/")


def excluded_paths(index: DatasetIndex, exclude: list[str],
                   samples: Samples | None = None) -> set[str]:
    """The sample paths of ``index`` (its training and validation parts; ``samples``:
    those instead) that the ``data.exclude`` entries name."""
    if not exclude:
        return set()
    wanted = {exclude_entry(e) for e in exclude}
    if samples is None:
        samples = list(index.samples) + list(index.val_samples or [])
    paths = [p for p, _ in samples]
    return set(compress(paths, map(wanted.__contains__, relative_paths_of(index, paths))))


def split_samples(index: DatasetIndex, val_fraction: float, seed: int, stratified: bool = True,
                  use_folder_split: bool = True) -> tuple[Samples, Samples]:
    """Split a scanned dataset into training and validation samples.

    When the folder has its own validation part (``index.val_samples`` is set, the
    ``train_val`` layout) and ``use_folder_split`` is true, that part is used as is and
    ``val_fraction`` is ignored; with ``use_folder_split`` false both parts are pooled and
    split like any folder. With ``stratified`` false the validation share is one seeded
    random draw over all images, so class proportions may differ between the parts.
    Otherwise each class is split on its own, so both parts keep the class proportions:
    ``round(n * val_fraction)`` of a class's ``n`` images go to validation, but at least
    one when ``val_fraction > 0`` and ``n >= 2``, and never all of them (a class with
    ``n >= 2`` images keeps at least one training image; a single image always trains).

    The choice depends only on ``seed``, the class name and that class's files: the same
    folder gives the same split on every machine and run, and adding images to one
    class leaves the split of the other classes unchanged.

    Parameters
    ----------
    index
        The result of :func:`~.scan.scan_folder`.
    val_fraction
        Share of each class held out, in ``[0, 1)``; 0 gives an empty validation set.
    seed
        Seed of the split (``data.seed`` of the experiment).
    stratified
        Split each class separately (the default) or all images at once.
    use_folder_split
        Use a folder's own ``train/`` + ``val/`` parts when it has them.

    Returns
    -------
    (train, val)
        Lists of ``(path, label)``, each in the index's order (sorted by class, then path).

    Raises
    ------
    SpecError
        When ``val_fraction`` is outside ``[0, 1)``.
    """
    samples = list(index.samples)
    if index.val_samples is not None:
        if use_folder_split:
            return samples, list(index.val_samples)
        samples += list(index.val_samples)
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or \
            not 0.0 <= val_fraction < 1.0:
        raise SpecError("data.val_fraction", f"must be at least 0 and below 1, got "
                                             f"{val_fraction!r}; 0.2 holds out a fifth")
    if val_fraction == 0:
        return samples, []
    # Made as if no file had been found unreadable, then without those: the same split
    # whether the decode check ran or a run meets a damaged file as it goes.
    pool = samples + list(getattr(index, "dropped", None) or [])
    if not stratified:
        n_val = math.floor(len(pool) * val_fraction + 0.5)
        order = sorted(pool)
        random.Random(f"workbench-split:{seed}:all").shuffle(order)
        held = set(order[:n_val])
        return [s for s in samples if s not in held], [s for s in samples if s in held]
    by_class: dict[int, list[str]] = {}
    for path, label in pool:
        by_class.setdefault(label, []).append(path)
    held_out: set[tuple[str, int]] = set()
    for label, paths in by_class.items():
        n = len(paths)
        if n < 2:
            continue
        n_val = min(n - 1, max(1, math.floor(n * val_fraction + 0.5)))
        # A string seed is hashed with SHA-512 by random.Random: stable across Python
        # runs and platforms (unlike hash()), and independent per class.
        name = index.classes[label] if 0 <= label < len(index.classes) else str(label)
        rng = random.Random(name_bytes(f"workbench-split:{seed}:{name}"))  # == the str's seed
        order = sorted(paths)
        rng.shuffle(order)
        held_out.update((p, label) for p in order[:n_val])
    return ([s for s in samples if s not in held_out], [s for s in samples if s in held_out])
