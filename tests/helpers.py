"""Helpers shared by the core and Qt tests (on sys.path via pytest's pythonpath)."""

from __future__ import annotations


def make_image_folder(root, classes=("blue", "green", "red"), per_class=10, size=12, seed=0,
                      mode="RGB"):
    """A tiny class-per-folder dataset whose classes differ by colour (learnable in a few
    steps). ``size`` is one side or a ``(width, height)`` pair; ``mode`` "L" writes
    grayscale images (the classes differ by brightness). Returns the root as a string."""
    import random

    from PIL import Image

    colours = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220),
               "yellow": (230, 220, 20)}
    rng = random.Random(seed)
    for c in classes:
        d = root / c
        d.mkdir(parents=True, exist_ok=True)
        base = colours.get(c, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        for i in range(per_class):
            jitter = tuple(max(0, min(255, v + rng.randint(-25, 25))) for v in base)
            if mode == "L":
                jitter = sum(jitter) // 3
            dims = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
            Image.new(mode, dims, jitter).save(d / f"{c}_{i:03d}.png")
    return str(root)
