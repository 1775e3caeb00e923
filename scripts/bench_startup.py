"""Benchmark: time from launching ``workbench gui`` to its first painted main window.

Each run starts a fresh process (``python -m workbench gui``) with
``WORKBENCH_STARTUP_PROBE=ready`` (see :mod:`workbench.qt.startup`): the app prints
``first-paint <unix time> torch=<0|1>`` when its main window's first frame is painted, then
``torch-ready <unix time>`` once PyTorch has been imported in the background and the tabs
that need it are filled, and quits. The times are compared with the wall-clock time taken
just before ``Popen``, so they include the interpreter's start.

Baselines, launched the same way in the same rounds (interleaved, so load on the machine
hits every column alike):

* a bare PySide6 window (``QApplication`` + ``QMainWindow`` with a label) to its first
  paint: the floor for any Qt app in this Python;
* ``python -c "import torch, torchvision"`` to its exit: what importing them before the
  window would add.

The dataset is the demo, generated once beforehand into a temporary ``WORKBENCH_HOME``
(its generation is not timed), or ``--data DIR``. Without ``$DISPLAY`` the runs use
``QT_QPA_PLATFORM=offscreen`` (which delivers paint events); ``--platform`` overrides.

Usage: ``python scripts/bench_startup.py [--runs 5] [--data DIR] [--platform xcb]``

Prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_WINDOW = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QLabel("bare window"))
window.resize(1100, 780)
class Probe(QObject):
    def eventFilter(self, obj, event):
        if obj is window and event.type() == QEvent.Type.Paint:
            window.removeEventFilter(self)
            QTimer.singleShot(0, lambda: (print(f"first-paint {time.time():.6f} torch=0",
                                                flush=True), app.quit()))
        return False
probe = Probe()
window.installEventFilter(probe)
window.show()
sys.exit(app.exec())
"""

IMPORT_TORCH = "import torch, torchvision"


def _launch(cmd: list[str], env: dict[str, str], timeout: float) -> dict[str, float]:
    """Run ``cmd``; seconds from just before Popen to each probe line and to its exit."""
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise SystemExit(f"timed out after {timeout:.0f} s: {' '.join(cmd)}\n{err[-2000:]}")
    t_exit = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"exit code {proc.returncode}: {' '.join(cmd)}\n{err[-2000:]}")
    result = {"exit": t_exit - t0}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("first-paint", "torch-ready"):
            result[parts[0]] = float(parts[1]) - t0
            if parts[0] == "first-paint":
                result["torch_at_paint"] = float(parts[2] == "torch=1")
    return result


def _prepare_home(data: str | None) -> tuple[str, str | None]:
    """A temporary WORKBENCH_HOME; the demo dataset generated into it unless ``data``."""
    home = tempfile.mkdtemp(prefix="workbench-bench-startup-")
    if data is None:
        env = dict(os.environ, WORKBENCH_HOME=home)
        subprocess.run([sys.executable, "-c", "from workbench.core.data.demo import "
                        "ensure_demo_dataset; print(ensure_demo_dataset())"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return home, data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="launches of each kind (default 5)")
    parser.add_argument("--data", metavar="DIR|CSV",
                        help="dataset to open (default: the demo, generated beforehand)")
    parser.add_argument("--platform", help="QT_QPA_PLATFORM for the launches (default: "
                                           "offscreen when DISPLAY is unset)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds before a launch counts as hung (default 120)")
    args = parser.parse_args(argv)

    home, data = _prepare_home(args.data)
    env = dict(os.environ, WORKBENCH_HOME=home, WORKBENCH_STARTUP_PROBE="ready",
               PYTHONDONTWRITEBYTECODE="1")
    if args.platform:
        env["QT_QPA_PLATFORM"] = args.platform
    elif not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    app_cmd = [sys.executable, "-m", "workbench", "gui"] + (["--data", data] if data else [])
    kinds = {
        "workbench gui": app_cmd,
        "bare Qt window": [sys.executable, "-c", BARE_WINDOW],
        "import torch+tv": [sys.executable, "-c", IMPORT_TORCH],
    }

    print(f"Start-up: {args.runs} runs of each, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}, QT_QPA_PLATFORM={env.get('QT_QPA_PLATFORM', '(default)')}"
          f", dataset {data or 'demo'}")
    print("  seconds from just before Popen")
    for cmd in kinds.values():  # one untimed launch each: disk cache and .pyc files warm
        _launch(cmd, env, args.timeout)
    results: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    for i in range(args.runs):
        for name, cmd in kinds.items():
            r = _launch(cmd, env, args.timeout)
            results[name].append(r)
        app, bare, imp = (results[k][-1] for k in kinds)
        print(f"  run {i + 1}: workbench first paint {app['first-paint']:.2f} (torch imported "
              f"before it: {'yes' if app.get('torch_at_paint') else 'no'}), torch ready "
              f"{app.get('torch-ready', float('nan')):.2f}, exit {app['exit']:.2f} | bare "
              f"window first paint {bare['first-paint']:.2f} | import torch+torchvision "
              f"{imp['exit']:.2f}")

    def med(name: str, key: str) -> float:
        values = [r[key] for r in results[name] if key in r]
        return statistics.median(values) if values else float("nan")

    paint, ready = med("workbench gui", "first-paint"), med("workbench gui", "torch-ready")
    bare, imp = med("bare Qt window", "first-paint"), med("import torch+tv", "exit")
    print("Medians:")
    print(f"  workbench gui: launch -> first painted window  {paint:.2f} s")
    print(f"  workbench gui: launch -> torch imported, tabs filled  {ready:.2f} s")
    print(f"  baseline bare Qt window: launch -> first paint  {bare:.2f} s"
          f"  (ratio workbench / bare: {paint / bare:.2f}x)")
    print(f"  baseline python -c 'import torch, torchvision': launch -> exit  {imp:.2f} s"
          f"  (ratio workbench first paint / import torch: {paint / imp:.2f}x)")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
