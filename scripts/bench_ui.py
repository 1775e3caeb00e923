"""Benchmark: how long the GUI's event loop stalls while a training run goes on.

A Train panel is shown (offscreen unless ``QT_QPA_PLATFORM`` says otherwise) and a QTimer
ticks every 5 ms on the GUI thread; a tick that comes late means the event loop was busy
(drawing plots, handling the run's signals) or starved (the training thread holding the
interpreter lock). The stall of a tick is its gap minus the interval. Scenarios, each run
for ``--seconds``:

* ``idle``: the panel shown, nothing training: the baseline of this machine and load;
* ``tiny``: the ``mlp`` preset on 16x16 images, batch 4: as many batches a second as the
  trainer can make, so per-batch signals and plot updates are at their most frequent;
* ``heavy``: the ``seed-cnn`` preset on 32x32 images, batch 64: the training thread busy
  in long torch calls.

Per scenario it prints the longest, 99th-percentile and median stall, batches a second and
the ratios of longest and p99 to the idle baseline's. Target: the longest stall under 50 ms
(a 20 Hz redraw must never miss more than one frame). Datasets are generated into a
temporary folder, and ``WORKBENCH_HOME`` points at another (nothing touches the real one);
training runs on the CPU.

Usage: ``python scripts/bench_ui.py [--seconds S] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5
TARGET_MS = 50.0
SCENARIOS = ("idle", "tiny", "heavy")


def make_image_folder(root: Path, per_class: int, size: int, seed: int = 0) -> Path:
    """Classes that differ by colour, ``per_class`` PNGs each (as tests/helpers.py makes)."""
    from PIL import Image

    colours = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}
    rng = random.Random(seed)
    for name, base in colours.items():
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            jitter = tuple(max(0, min(255, v + rng.randint(-25, 25))) for v in base)
            Image.new("RGB", (size, size), jitter).save(d / f"{name}_{i:03d}.png")
    return root


class StallMeter:
    """Records how late each tick of a ``TICK_MS`` timer on the GUI thread comes."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer, Qt

        self.gaps_ms: list[float] = []
        self.times: list[float] = []
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self.gaps_ms, self.times = [], []
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_tick(self) -> None:
        now = time.perf_counter()
        self.gaps_ms.append((now - self._last) * 1000.0)
        self.times.append(now)
        self._last = now

    def stalls(self, since: float = 0.0) -> list[float]:
        """Stalls of the ticks at or after ``since`` (a ``time.perf_counter()`` value)."""
        return [max(0.0, g - TICK_MS) for g, t in zip(self.gaps_ms, self.times) if t >= since]


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else 0.0


def _spin(seconds: float, until_signals=()) -> None:
    """Run the event loop (as ``app.exec()`` would) for ``seconds``, or until one of
    ``until_signals`` fires."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    for signal in until_signals:
        signal.connect(loop.quit)
    loop.exec()
    for signal in until_signals:
        signal.disconnect(loop.quit)


def _experiment(folder: Path, preset: str, size: int, batch: int):
    from workbench.core.experiment import Experiment
    from workbench.core.model.presets import preset_layers

    exp = Experiment(name=f"bench-ui-{preset}")
    exp.data.folder = str(folder)
    exp.data.input_size = [size, size]
    exp.data.batch_size = batch
    exp.data.val_fraction = 0.2
    exp.model.layers, exp.model.preset = preset_layers(preset), preset
    exp.training.epochs = 10000  # stopped after --seconds
    exp.training.device = "cpu"
    return exp


def run_scenario(name: str, seconds: float, data_root: Path) -> dict:
    """Measure one scenario; returns its figures."""
    from workbench.core.experiment import Experiment
    from workbench.qt.panels.train.panel import TrainPanel

    if name == "idle":
        exp = Experiment(name="bench-ui-idle")
    elif name == "tiny":
        exp = _experiment(make_image_folder(data_root / "tiny", 200, 16), "mlp", 16, 4)
    else:
        exp = _experiment(make_image_folder(data_root / "heavy", 200, 32), "seed-cnn", 32, 64)
    panel = TrainPanel(exp)
    panel.resize(1200, 900)
    panel.show()
    _spin(0.5)  # first paint, layout settled

    batches = [0]
    first_batch: list[float] = []  # when the first batch ended: setup is over

    def on_batches(chunk: dict) -> None:
        batches[0] += len(chunk["steps"])
        if not first_batch:
            first_batch.append(time.perf_counter())

    panel.run.batches_finished.connect(on_batches)
    errors: list[str] = []
    panel.run.errored.connect(errors.append)
    meter = StallMeter()
    meter.start()
    started = time.perf_counter()
    if name != "idle":
        panel.start()
    _spin(seconds, (panel.run.errored, panel.run.finished))
    elapsed = time.perf_counter() - started
    meter.stop()
    if panel.is_running():
        panel.stop()
        _spin(60.0, (panel.run.errored, panel.run.finished))
    counts = panel.plots.point_counts()
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    _spin(0.2)

    stalls = meter.stalls()
    # Steady state: from the first batch on (setup, scanning and caching, comes before).
    training = meter.stalls(first_batch[0]) if first_batch else []
    train_s = started + elapsed - first_batch[0] if first_batch else 0.0
    return {"scenario": name, "seconds": round(elapsed, 2), "ticks": len(stalls),
            "longest_ms": round(max(stalls, default=0.0), 2),
            "p99_ms": round(_percentile(stalls, 0.99), 2),
            "median_ms": round(statistics.median(stalls) if stalls else 0.0, 2),
            "setup_s": round(first_batch[0] - started, 2) if first_batch else None,
            "training_longest_ms": round(max(training, default=0.0), 2),
            "training_p99_ms": round(_percentile(training, 0.99), 2),
            "batches_per_s": round(batches[0] / train_s, 1) if train_s > 0 else 0.0,
            "batches_plotted": counts["batches"], "error": errors[0] if errors else ""}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="length of each scenario")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   help=f"comma-separated subset of {', '.join(SCENARIOS)} (idle always runs)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    wanted = [s for s in args.scenarios.split(",") if s]
    unknown = [s for s in wanted if s not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}: choose from {', '.join(SCENARIOS)}",
              file=sys.stderr)
        return 2
    names = ["idle"] + [s for s in wanted if s != "idle"]

    with tempfile.TemporaryDirectory(prefix="wb-bench-ui-") as tmp:
        os.environ["WORKBENCH_HOME"] = str(Path(tmp) / "home")
        import workbench.qt  # noqa: F401  (binds pyqtgraph to PySide6 first)
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
        from workbench.qt.workers import collect_garbage_on_gui_thread

        collect_garbage_on_gui_thread()  # as the app does
        results = []
        for name in names:
            if not args.json:
                print(f"running {name} for {args.seconds:g} s…", flush=True)
            results.append(run_scenario(name, args.seconds, Path(tmp) / "data"))

    idle = results[0]
    for r in results:
        r["longest_vs_idle"] = round(r["longest_ms"] / max(idle["longest_ms"], 0.01), 2)
        r["p99_vs_idle"] = round(r["p99_ms"] / max(idle["p99_ms"], 0.01), 2)
        r["target_met"] = r["longest_ms"] < TARGET_MS and not r["error"]
    if args.json:
        print(json.dumps({"tick_ms": TICK_MS, "target_longest_ms": TARGET_MS,
                          "cpus": os.cpu_count(), "results": results}, indent=2))
        return 0
    print(f"\nGUI stalls (timer every {TICK_MS} ms; stall = gap - interval); "
          f"target: longest stall < {TARGET_MS:g} ms; {os.cpu_count()} CPUs")
    print(f"{'scenario':<8} {'longest':>9} {'p99':>8} {'median':>8} {'batches/s':>10} "
          f"{'longest/idle':>13} {'p99/idle':>9}  target   {'(from 1st batch:':>16} "
          f"longest, p99)")
    for r in results:
        verdict = "n/a" if r["scenario"] == "idle" else \
            ("met" if r["target_met"] else "NOT met")
        steady = "" if r["scenario"] == "idle" else \
            f"{r['training_longest_ms']:>15.1f}ms, {r['training_p99_ms']:.1f}ms"
        print(f"{r['scenario']:<8} {r['longest_ms']:>7.1f}ms {r['p99_ms']:>6.1f}ms "
              f"{r['median_ms']:>6.2f}ms {r['batches_per_s']:>10.1f} "
              f"{r['longest_vs_idle']:>12.2f}x {r['p99_vs_idle']:>8.2f}x  {verdict:<8} {steady}")
        if r["error"]:
            print(f"  the run failed: {r['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
