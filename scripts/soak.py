"""Soak test: many short training runs back to back in a Train panel, watching for leaks.

A :class:`~workbench.qt.panels.train.panel.TrainPanel` is shown (offscreen unless
``QT_QPA_PLATFORM`` says otherwise) on a small generated dataset (3 colour classes of 16x16
PNGs) and trains the ``mlp`` preset on the CPU, one short run after another, for
``--minutes``. A timer on the GUI thread samples, every ``--interval`` seconds:

* the resident set size (``/proc/self/statm``);
* the thread count, Python's (``threading.active_count()``) and the system's
  (``Threads:`` in ``/proc/self/status``: Qt's, torch's and the interpreter's together);
* the number of objects the garbage collector tracks;
* the points the live plots hold (``TrainingPlots.point_counts()``).

What may grow legitimately: the plots' points within a run (they are cleared when the next
run starts, so they are bounded by one run's batches and epochs); the run folders on disk
(each run writes its own; the script deletes all but the latest as it goes, so disk and
the page cache stay small); and memory during the warm-up (torch's kernels, the allocator's
pools: ``workbench/core/train/allocator.py`` keeps freed blocks in the heap on purpose).
So the first ``--warmup`` share of the samples is left out, and growth is measured between
the median RSS of the first and of the last tenth of the rest (medians, because RSS rises
and falls within each run).

It prints start, end and maximum RSS after the warm-up, the growth (target: under
``--target`` %, default 5), the thread counts' range (they must not grow: every run's
thread is joined), the Python object count and the plot points held. Exit code 1 when a
target is missed or a run failed. ``--trace`` also takes ``tracemalloc`` snapshots at the
end of the warm-up and at the end, and prints where Python allocations grew most (it slows
training down; C++ allocations made by torch are not seen by it).

Usage: ``python scripts/soak.py [--minutes 3] [--epochs-per-run 3] [--interval 1]
[--warmup 0.2] [--target 5] [--hidden] [--trace] [--json]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ui import make_image_folder  # noqa: E402  (one generator for the GUI scripts)

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 1 << 20


def rss_bytes() -> int:
    """Resident set size of this process (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def os_threads() -> int:
    """Threads of this process as the system counts them (native ones included)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class Sampler:
    """Takes one sample of the process and the panel every interval, on the GUI thread
    (the plots may only be read there)."""

    def __init__(self, panel, interval_s: float, t0: float):
        from PySide6.QtCore import QTimer

        self.panel = panel
        self.t0 = t0
        self.samples: list[dict] = []
        self.runs_done = 0
        self._timer = QTimer()
        self._timer.setInterval(int(interval_s * 1000))
        self._timer.timeout.connect(self.sample)

    def start(self) -> None:
        self.sample()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def sample(self) -> None:
        points = self.panel.plots.point_counts()
        self.samples.append({
            "t": round(time.perf_counter() - self.t0, 2), "rss": rss_bytes(),
            "py_threads": threading.active_count(), "os_threads": os_threads(),
            "objects": len(gc.get_objects()), "points": sum(points.values()),
            "batch_points": points["batches"], "epoch_points": points["epochs"],
            "runs": self.runs_done, "running": self.panel.is_running()})


def _experiment(folder: Path, epochs: int):
    from workbench.core.experiment import Experiment
    from workbench.core.model.presets import preset_layers

    exp = Experiment(name="soak")
    exp.data.folder = str(folder)
    exp.data.input_size = [16, 16]
    exp.data.batch_size = 8
    exp.data.val_fraction = 0.2
    exp.model.layers, exp.model.preset = preset_layers("mlp"), "mlp"
    exp.training.epochs = epochs
    exp.training.device = "cpu"
    return exp


def _spin_until(flag: list, seconds: float) -> None:
    """Run the event loop (as ``app.exec()`` would) until ``flag`` is set or time is up."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.perf_counter() + seconds
    while not flag and time.perf_counter() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two points): a steady leak
    shows as a slope that a long run would multiply."""
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def summarise(samples: list[dict], warmup: float, target_pct: float) -> dict:
    """The figures after the warm-up (see the module docstring)."""
    skip = min(len(samples) - 2, int(len(samples) * warmup)) if len(samples) > 2 else 0
    warm, rest = samples[:skip], samples[skip:]
    window = max(3, len(rest) // 10)
    start = _median([s["rss"] for s in rest[:window]])
    end = _median([s["rss"] for s in rest[-window:]])
    growth = 100.0 * (end - start) / start if start else 0.0
    # Threads must not grow: the most seen at the end is not above the most seen before.
    half = len(rest) // 2
    threads_early = max((s["os_threads"] for s in warm + rest[:half]), default=0)
    threads_late = max((s["os_threads"] for s in rest[half:]), default=0)
    py_early = max((s["py_threads"] for s in warm + rest[:half]), default=0)
    py_late = max((s["py_threads"] for s in rest[half:]), default=0)
    objects_start = _median([s["objects"] for s in rest[:window]])
    objects_end = _median([s["objects"] for s in rest[-window:]])
    return {
        "samples": len(samples), "warmup_samples": len(warm),
        "rss_slope_mb_per_min": round(_slope([s["t"] for s in rest],
                                             [s["rss"] / MB for s in rest]) * 60.0, 2),
        "rss_start_mb": round(start / MB, 1), "rss_end_mb": round(end / MB, 1),
        "rss_max_mb": round(max((s["rss"] for s in rest), default=0) / MB, 1),
        "rss_warmup_start_mb": round(samples[0]["rss"] / MB, 1) if samples else 0.0,
        "rss_growth_pct": round(growth, 2), "target_pct": target_pct,
        "os_threads_range": [min((s["os_threads"] for s in rest), default=0),
                             max((s["os_threads"] for s in rest), default=0)],
        "py_threads_range": [min((s["py_threads"] for s in rest), default=0),
                             max((s["py_threads"] for s in rest), default=0)],
        "threads_grew": threads_late > threads_early or py_late > py_early,
        "objects_start": int(objects_start), "objects_end": int(objects_end),
        "objects_growth_pct": round(100.0 * (objects_end - objects_start)
                                    / objects_start, 2) if objects_start else 0.0,
        "points_max": max((s["points"] for s in rest), default=0),
        "points_end": rest[-1]["points"] if rest else 0,
    }


def _trace_diff(before, after, limit: int = 15) -> list[str]:
    stats = after.compare_to(before, "lineno")
    return [str(s) for s in stats[:limit]]


def soak(args, root: Path) -> dict:
    """Train back to back for ``args.minutes``; returns the samples and figures."""
    os.environ["WORKBENCH_HOME"] = str(root / "home")
    import workbench.qt  # noqa: F401  (binds pyqtgraph to PySide6 first)
    from PySide6.QtWidgets import QApplication

    from workbench.qt.panels.train.panel import TrainPanel

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    from workbench.qt.workers import collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread()  # as the app does
    folder = make_image_folder(root / "data", args.per_class, 16)
    panel = TrainPanel(_experiment(folder, args.epochs_per_run))
    panel.resize(1200, 900)
    if not args.hidden:
        panel.show()

    t0 = time.perf_counter()
    sampler = Sampler(panel, args.interval, t0)
    errors: list[str] = []
    ended: list = []
    panel.training_finished.connect(lambda summary: ended.append(summary))
    panel.run.errored.connect(lambda message: (errors.append(message), ended.append(None)))
    panel.ask = lambda title, text: False  # an out-of-memory run is a failure, not retried
    sampler.start()
    duration = args.minutes * 60.0
    warm_end = t0 + duration * args.warmup
    snapshot = None
    if args.trace:
        import tracemalloc

        tracemalloc.start(args.trace_frames)
    previous_run = ""
    while time.perf_counter() - t0 < duration and len(errors) < 3:
        ended.clear()
        panel.start()
        _spin_until(ended, 300.0)
        if not ended:
            errors.append("a run did not end within 300 s")
            break
        sampler.runs_done += 1
        summary = ended[0]
        run_dir = (summary or {}).get("run_dir") or ""
        if previous_run and previous_run != run_dir:
            # Disk and page cache would grow with every run's checkpoints and bundle.
            shutil.rmtree(previous_run, ignore_errors=True)
        previous_run = run_dir
        if args.trace and snapshot is None and time.perf_counter() >= warm_end:
            gc.collect()
            snapshot = tracemalloc.take_snapshot()
    if panel.is_running():
        panel.stop()
        _spin_until(ended, 60.0)
    sampler.sample()
    sampler.stop()
    trace: list[str] = []
    if args.trace:
        gc.collect()
        if snapshot is not None:
            trace = _trace_diff(snapshot, tracemalloc.take_snapshot())
        tracemalloc.stop()
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    figures = summarise(sampler.samples, args.warmup, args.target)
    figures.update(runs=sampler.runs_done, epochs_per_run=args.epochs_per_run,
                   seconds=round(time.perf_counter() - t0, 1), errors=errors,
                   batches_per_run=panel.info.get("batches_per_epoch", 0) * args.epochs_per_run)
    figures["target_met"] = (figures["rss_growth_pct"] < args.target
                             and not figures["threads_grew"] and not errors
                             and sampler.runs_done > 1)
    return {"figures": figures, "samples": sampler.samples, "trace": trace}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=3.0, help="how long to train (default 3)")
    p.add_argument("--epochs-per-run", type=int, default=3, help="epochs of each short run")
    p.add_argument("--per-class", type=int, default=40, help="images per class (3 classes)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=0.2,
                   help="share of the samples left out at the start (default 0.2)")
    p.add_argument("--target", type=float, default=5.0,
                   help="most RSS growth after the warm-up, in percent (default 5)")
    p.add_argument("--hidden", action="store_true",
                   help="do not show the panel (nothing is painted): tells growth from "
                        "drawing apart from growth from training")
    p.add_argument("--trace", action="store_true",
                   help="print where Python allocations grew after the warm-up (tracemalloc)")
    p.add_argument("--trace-frames", type=int, default=1, help="frames per tracemalloc trace")
    p.add_argument("--json", action="store_true", help="print the figures (and samples) as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.minutes <= 0 or args.epochs_per_run < 1 or args.interval <= 0 \
            or not 0 <= args.warmup < 1 or args.per_class < 4:
        print("soak: --minutes and --interval must be positive, --epochs-per-run at least 1, "
              "--per-class at least 4 and --warmup in [0, 1)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="wb-soak-") as tmp:
        if not args.json:
            print(f"soaking for {args.minutes:g} min: runs of {args.epochs_per_run} epochs, "
                  f"a sample every {args.interval:g} s…", flush=True)
        result = soak(args, Path(tmp))
    f = result["figures"]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if f["target_met"] else 1
    print(f"\n{f['runs']} runs of {f['epochs_per_run']} epochs ({f['batches_per_run']} "
          f"batches each) in {f['seconds']:g} s; {f['samples']} samples, the first "
          f"{f['warmup_samples']} ({args.warmup:.0%}) taken as warm-up; {os.cpu_count()} CPUs")
    print(f"RSS: {f['rss_warmup_start_mb']:.1f} MB at the start; after the warm-up "
          f"{f['rss_start_mb']:.1f} -> {f['rss_end_mb']:.1f} MB (max {f['rss_max_mb']:.1f}), "
          f"growth {f['rss_growth_pct']:+.2f}% (target < {f['target_pct']:g}%), trend "
          f"{f['rss_slope_mb_per_min']:+.2f} MB/min")
    print(f"threads: system {f['os_threads_range'][0]}-{f['os_threads_range'][1]}, Python "
          f"{f['py_threads_range'][0]}-{f['py_threads_range'][1]}"
          f"{' (GREW)' if f['threads_grew'] else ' (no growth)'}")
    print(f"Python objects: {f['objects_start']:,} -> {f['objects_end']:,} "
          f"({f['objects_growth_pct']:+.2f}%)")
    print(f"plot points held: at most {f['points_max']:,}, {f['points_end']:,} at the end "
          f"(cleared at each run's start)")
    for e in f["errors"]:
        print(f"run failed: {e}")
    if result["trace"]:
        print("\nPython allocations grown most since the warm-up (tracemalloc):")
        for line in result["trace"]:
            print(f"  {line}")
    print("target met" if f["target_met"] else "target NOT met")
    return 0 if f["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
