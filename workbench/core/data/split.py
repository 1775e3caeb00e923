"""The train/validation split: stratified per class, seeded, deterministic."""

from __future__ import annotations

import math
import random

from ..errors import SpecError
from .scan import DatasetIndex


def split_samples(index: DatasetIndex, val_fraction: float,
                  seed: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Split a scanned dataset into training and validation samples.

    When the folder has its own validation part (``index.val_samples`` is set, the
    ``train_val`` layout) that part is used as is and ``val_fraction`` is ignored.
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

    Returns
    -------
    (train, val)
        Lists of ``(path, label)``, each in the index's order (sorted by class, then path).

    Raises
    ------
    SpecError
        When ``val_fraction`` is outside ``[0, 1)``.
    """
    if index.val_samples is not None:
        return list(index.samples), list(index.val_samples)
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or \
            not 0.0 <= val_fraction < 1.0:
        raise SpecError("data.val_fraction", f"must be at least 0 and below 1, got "
                                             f"{val_fraction!r}; 0.2 holds out a fifth")
    if val_fraction == 0:
        return list(index.samples), []
    by_class: dict[int, list[str]] = {}
    for path, label in index.samples:
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
        rng = random.Random(f"workbench-split:{seed}:{name}")
        order = sorted(paths)
        rng.shuffle(order)
        held_out.update((p, label) for p in order[:n_val])
    samples = [(path, label) for path, label in index.samples]
    return ([s for s in samples if s not in held_out], [s for s in samples if s in held_out])
