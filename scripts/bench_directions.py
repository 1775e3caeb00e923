"""Benchmark: the label hints of a flip and a rotation on folders of many class names.

``label_hints`` (a RandomHorizontalFlip and a 15-degree RandomRotation) is asked on the GUI
thread several times per edit on the Augment and Train tabs. Its direction-word judgement
(``core/data/augment/directions.py``: class names a flip or a turn swaps) is timed on
``--classes`` (200, 500, 1000) names like CUB-200's ("017.Xxxx_Yyyy", a few with direction
words), best of ``--repeat`` (3), twice in the same run: ``now``, and ``before``: the way
before, swapped in (kept below as ``_before_swapped``), which compared every pair of names
once per flip and turn, for every question. Both must find the same pairs.

Usage: ``python scripts/bench_directions.py [--classes 200 500 1000] [--repeat 3]``

Prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import itertools
import random
import string
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench.core.data.augment import directions  # noqa: E402
from workbench.core.data.augment.hints import label_hints  # noqa: E402
from workbench.core.registry import Component  # noqa: E402


def _before_swapped(classes: Sequence[str], key: str) -> list[tuple[str, str]]:
    """The pairing as it was: every pair of names, each name's form read again."""
    mappings = directions._MAPPINGS[key]
    forms = [(str(c), directions._form(c)) for c in classes]
    found = []
    for (a, fa), (b, fb) in itertools.combinations(forms, 2):
        if any(directions._turned(fa, m) == fb != fa or directions._turned(fb, m) == fa != fb
               for m in mappings):
            found.append((a, b))
    return found


def _names(n: int, rng: random.Random) -> list[str]:
    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase)
                       for _ in range(rng.randint(4, 9))).capitalize()
    names = [f"{i:03d}." + "_".join(word() for _ in range(2)) for i in range(n)]
    for i in range(0, n - 1, 50):  # a few direction pairs among them
        names[i], names[i + 1] = f"{i:03d}.Turn_Left", f"{i:03d}.Turn_Right"
    return names + ["left_arrow", "right_arrow", "up_arrow"]


def _best(f: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        directions._swaps.cache_clear()  # each call as the first on a new list of names
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[200, 500, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    steps = [Component("RandomHorizontalFlip"), Component("RandomRotation", {"degrees": 15})]
    now_swapped = directions._swapped
    rng = random.Random(0)
    for n in args.classes:
        classes = _names(n, rng)
        now = _best(lambda: label_hints(classes, steps), args.repeat)
        same = all(now_swapped(classes, k) == _before_swapped(classes, k)
                   for k in directions._MAPPINGS)
        directions._swapped = _before_swapped
        try:
            before = _best(lambda: label_hints(classes, steps), args.repeat)
        finally:
            directions._swapped = now_swapped
        print(f"{len(classes)} classes: label_hints before {before * 1000:.1f} ms, "
              f"now {now * 1000:.1f} ms (now/before {now / before:.3f}); "
              f"same pairs: {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
