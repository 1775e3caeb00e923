"""Benchmark: one ``data.exclude`` edit on a big folder, made on the Health tab.

A folder of ``--images`` (10,000) small PNGs of noise in 10 classes, ``--conflicts`` (500)
of them filed again under another class, is opened in the main window (offscreen unless
``QT_QPA_PLATFORM`` says otherwise; ``WORKBENCH_HOME`` points at a temporary folder) and
checked on its Health tab. Then, timed as the click that makes the edit (every tab hears
it before the click returns: the Data tab's counts and total line, the Health tab's list
of excluded images and its summary, the line naming entries that match no image):

* ``one row``: ``--edits`` conflicting-label rows excluded one click each (*Exclude from
  training* on the row's chosen copy), the median and the longest click;
* ``N rows``: the next ``--rows`` rows selected and excluded with one click (*Exclude N
  chosen*: one edit).

Both are timed twice in the same run: ``now``, and ``before``: the way before, swapped
in, where every listener made the path of every image relative again with
``os.path.relpath`` on every edit (kept below as ``_before_*``). The ratio is now / before.
Target: an edit well under 50 ms on 10,000 images (the window must not freeze).

Usage: ``python scripts/bench_exclude.py [--images 10000] [--conflicts 500] [--edits 10]
[--rows 50] [--json]``

Prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLASSES = 10


def make_folder(root: Path, images: int, conflicts: int, seed: int = 0) -> Path:
    """``images`` 16x16 PNGs of noise over a class colour in :data:`CLASSES` classes (no
    two alike), and ``conflicts`` images of class 0 copied into class 1."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    per = images // CLASSES
    for c in range(CLASSES):
        d = root / f"class_{c}"
        d.mkdir(parents=True, exist_ok=True)
        colour = np.array([(c * 25) % 256, 255 - c * 25, (c * 70) % 256])
        for i in range(per):
            pixels = (colour + rng.integers(-60, 60, (16, 16, 3))).clip(0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(d / f"img_{i:05d}.png")
    for i in range(min(conflicts, per)):
        shutil.copy(root / "class_0" / f"img_{i:05d}.png", root / "class_1" / f"copy_{i:05d}.png")
    return root


# -- the way before: every path made relative on every call --------------------------------
def _before_relative_path(index: Any, path: str) -> str:
    root = os.path.dirname(index.root) if index.source == "csv" else index.root
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return path.replace(os.sep, "/")
    return path.replace(os.sep, "/") if rel.startswith("..") else rel.replace(os.sep, "/")


def _wanted(exclude: list[str]) -> set[str]:
    return {e.replace("\\", "/").strip("/") if not os.path.isabs(e) else e.replace("\\", "/")
            for e in exclude}


def _before_excluded_paths(index: Any, exclude: list[str], samples: Any = None) -> set[str]:
    if not exclude:
        return set()
    if samples is None:
        samples = list(index.samples) + list(index.val_samples or [])
    wanted = _wanted(exclude)
    return {p for p, _ in samples if _before_relative_path(index, p) in wanted}


def _before_excluded_images(index: Any, exclude: list[str]) -> set[str]:
    if not exclude:
        return set()
    return _before_excluded_paths(index, list(exclude), list(index.samples) +
                                  list(index.val_samples or []) +
                                  list(index.test_samples or []))


def _before_unmatched_excludes(index: Any, exclude: list[str]) -> list[str]:
    if not exclude:
        return []
    samples = list(index.samples) + list(index.val_samples or []) + \
        list(index.test_samples or []) + list(index.dropped or [])
    known = {_before_relative_path(index, p) for p, _ in samples}
    known.update(_before_relative_path(index, u.path) for u in index.unreadable)
    out = []
    for entry in exclude:
        name = entry.replace("\\", "/")
        if not os.path.isabs(entry):
            name = name.strip("/")
        if name not in known:
            out.append(entry)
    return out


def swap_in_before() -> Callable[[], None]:
    """Put the functions of the way before in place; returns what puts the new back."""
    from workbench.core.data import split, usage

    swaps = [(split, "relative_path", _before_relative_path),
             (split, "excluded_paths", _before_excluded_paths),
             (usage, "excluded_images", _before_excluded_images),
             (usage, "unmatched_excludes", _before_unmatched_excludes)]
    kept = [(module, name, getattr(module, name)) for module, name, _ in swaps]
    for module, name, fn in swaps:
        setattr(module, name, fn)
    return lambda: [setattr(module, name, fn) for module, name, fn in kept]


# -- driving the window ------------------------------------------------------------------
def pump(app: Any, until: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


def time_edits(app: Any, health: Any, first: int, edits: int, rows: int) -> dict[str, Any]:
    """Exclude rows ``first``… one click each, then the next ``rows`` rows in one click;
    ms per click."""
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    table = health.table
    clicks = []
    for row in range(first, first + edits):
        table.selectRow(row)
        app.processEvents()
        t = time.perf_counter()
        health.exclude_button.click()
        clicks.append((time.perf_counter() - t) * 1000)
        app.processEvents()
    start = first + edits
    chosen = QItemSelection(table.proxy.index(start, 0),
                            table.proxy.index(start + rows - 1, table.proxy.columnCount() - 1))
    table.selectionModel().select(chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    app.processEvents()
    label = health.exclude_button.text()
    t = time.perf_counter()
    health.exclude_button.click()
    many = (time.perf_counter() - t) * 1000
    app.processEvents()
    return {"one_median_ms": statistics.median(clicks), "one_max_ms": max(clicks),
            "rows_ms": many, "rows_button": label}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--conflicts", type=int, default=500)
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--rows", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.conflicts < 2 * (args.edits + args.rows):
        ap.error("--conflicts must be at least twice --edits + --rows (rows for both ways)")

    with tempfile.TemporaryDirectory(prefix="wb-bench-exclude-") as tmp:
        os.environ["WORKBENCH_HOME"] = str(Path(tmp) / "home")
        t = time.perf_counter()
        folder = make_folder(Path(tmp) / "data", args.images, args.conflicts)
        made = time.perf_counter() - t

        from PySide6.QtWidgets import QApplication

        from workbench.core.experiment import Experiment
        from workbench.qt.main_window import MainWindow

        app = QApplication.instance() or QApplication([])
        window = MainWindow(Experiment(name="bench-exclude"))
        window.resize(1366, 768)
        window.show()
        panel = window.data_panel
        t = time.perf_counter()
        window.load_folder(str(folder))
        pump(app, lambda: panel.index is not None and not panel.is_scanning(), 600, "the scan")
        scanned = time.perf_counter() - t
        health = panel.health
        panel.views.setCurrentWidget(health)
        t = time.perf_counter()
        health.check()
        pump(app, lambda: health.report is not None and not health.is_checking(), 900,
             "the Health check")
        checked = time.perf_counter() - t
        conflicts = sum(f.kind == "conflict" for f in health.model.findings)

        now = time_edits(app, health, 0, args.edits, args.rows)
        put_back = swap_in_before()
        try:
            before = time_edits(app, health, args.edits + args.rows, args.edits, args.rows)
        finally:
            put_back()
        excluded = len(window.experiment.data.exclude)
        window.close()
        app.processEvents()

    result = {"images": args.images, "conflicts_found": conflicts, "make_s": made,
              "scan_s": scanned, "check_s": checked, "excluded_at_end": excluded,
              "now": now, "before": before,
              "ratio_one": now["one_median_ms"] / before["one_median_ms"],
              "ratio_rows": now["rows_ms"] / before["rows_ms"]}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{args.images:,} images, {conflicts:,} conflicting labels found (folder made in "
          f"{made:.1f} s, scanned in {scanned:.1f} s, checked in {checked:.1f} s)")
    print(f"{'edit':<34} {'now':>17} {'before':>17} {'ratio':>7}")
    one = (f"{now['one_median_ms']:.1f} / {now['one_max_ms']:.1f} ms",
           f"{before['one_median_ms']:.1f} / {before['one_max_ms']:.1f} ms")
    print(f"{'one row a click (median / longest)':<34} {one[0]:>17} {one[1]:>17} "
          f"{result['ratio_one']:>7.3f}")
    label = f'{args.rows} rows, one click ("{now["rows_button"]}")'
    print(f"{label:<34} {now['rows_ms']:>14.1f} ms {before['rows_ms']:>14.1f} ms "
          f"{result['ratio_rows']:>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
