"""Benchmark: checking every image of a dataset (what the app and ``workbench scan`` do),
in the command line and in the Data tab.

* ``cli``: files a second that :func:`~workbench.core.data.index.verify_samples` decodes
  with its own pool (one thread a core) against a pool of ``min(32, cores + 4)`` threads
  (the size used before), alternating, ``--repeats`` times each;
* ``gui``: a Data tab (offscreen) opens the folder while a QTimer ticks every 5 ms on the
  GUI thread: the longest and 99th-percentile lateness of a tick (a stall of the event
  loop) from the click to every image checked, and the same for an idle second before
  (the baseline of this machine and its load).

The folder is ``--folder`` or a generated one of ``--images`` PNGs of 32 px in 50
classes (in a temporary folder; ``WORKBENCH_HOME`` points at another).

Usage: ``python scripts/bench_scan.py [--folder DIR] [--images N] [--repeats R] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_folder(root: Path, images: int, classes: int = 50) -> str:
    from PIL import Image

    rng = random.Random(0)
    for i in range(images):
        d = root / f"class_{i % classes:02d}"
        d.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 32), tuple(rng.randrange(256) for _ in range(3))).save(
            d / f"{i:06d}.png")
    return str(root)


def bench_cli(folder: str, repeats: int) -> dict:
    from workbench.core.data.index import decode_workers, verify_samples
    from workbench.core.data.scan import scan_folder

    index = scan_folder(folder, verify=False)
    n = len(index.samples) + len(index.val_samples or []) + len(index.test_samples or [])
    old = min(32, (os.cpu_count() or 1) + 4)
    times: dict[str, list[float]] = {"workbench": [], "baseline": []}
    for _ in range(repeats):
        for name, workers in (("workbench", None), ("baseline", old)):
            fresh = scan_folder(folder, verify=False)
            t = time.perf_counter()
            verify_samples(fresh, workers=workers)
            times[name].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}
    return {"files": n, "threads": decode_workers(), "baseline_threads": old,
            "files_per_s": round(n / best["workbench"]),
            "baseline_files_per_s": round(n / best["baseline"]),
            "time_ratio": round(best["workbench"] / best["baseline"], 2)}


def bench_gui(folder: str) -> dict:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from workbench.core.experiment import Experiment
    from workbench.qt.panels.data.panel import DataPanel
    from workbench.qt.workers.gui_gc import collect_garbage_on_gui_thread

    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_on_gui_thread()
    ticks: list[tuple[float, float]] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        ticks.append((now, (now - last[0]) * 1000 - 5))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    timer.start(5)

    def spin(until, limit: float = 600.0) -> None:
        loop, t0 = QEventLoop(), time.perf_counter()
        check = QTimer()
        check.timeout.connect(lambda: (until() or time.perf_counter() - t0 > limit)
                              and loop.quit())
        check.start(10)
        loop.exec()
        check.stop()

    def stalls(a: float, b: float) -> tuple[float, float]:
        g = sorted(x for t, x in ticks if a < t <= b)
        return (round(g[-1]), round(g[max(0, int(len(g) * 0.99) - 1)])) if g else (0, 0)

    panel = DataPanel(Experiment())
    panel.resize(1366, 700)
    panel.show()
    t0 = time.perf_counter()
    spin(lambda: time.perf_counter() - t0 > 1.0)
    idle = stalls(t0 + 0.2, time.perf_counter())
    a = time.perf_counter()
    panel.load_folder(folder)
    spin(lambda: panel.index is not None and not panel.is_scanning())
    b = time.perf_counter()
    panel.shutdown()
    app.processEvents()
    longest, p99 = stalls(a, b)
    return {"scan_s": round(b - a, 2), "longest_stall_ms": longest, "p99_stall_ms": p99,
            "idle_longest_ms": idle[0], "idle_p99_ms": idle[1],
            "longest_ratio_to_idle": round(longest / max(idle[0], 1), 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--folder", help="a dataset folder (default: a generated one)")
    p.add_argument("--images", type=int, default=5000, help="images to generate")
    p.add_argument("--repeats", type=int, default=3, help="CLI timings of each pool")
    p.add_argument("--no-gui", action="store_true", help="the command-line figures only")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WORKBENCH_HOME"] = str(Path(tmp) / "home")
        folder = args.folder or make_folder(Path(tmp) / "data", args.images)
        out = {"load": [round(x, 1) for x in os.getloadavg()],
               "cli": bench_cli(folder, args.repeats)}
        if not args.no_gui:
            out["gui"] = bench_gui(folder)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    c = out["cli"]
    print(f"load average {out['load']}")
    print(f"check {c['files']:,} files: {c['files_per_s']:,} files/s with {c['threads']} "
          f"threads; {c['baseline_files_per_s']:,} files/s with {c['baseline_threads']} "
          f"(baseline); time ratio {c['time_ratio']}")
    if "gui" in out:
        g = out["gui"]
        print(f"Data tab: scan {g['scan_s']} s, longest stall {g['longest_stall_ms']} ms, "
              f"p99 {g['p99_stall_ms']} ms (idle: {g['idle_longest_ms']} / "
              f"{g['idle_p99_ms']} ms; longest {g['longest_ratio_to_idle']}x idle)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
