"""Retake the README's screenshots: every tab of the app at a laptop's 1366x768, with real
content (the demo dataset, a short training run, its evaluation and some predictions).

It uses a private ``WORKBENCH_HOME`` (nothing of yours is read or written), trains on the
CPU, and renders offscreen unless ``QT_QPA_PLATFORM`` says otherwise (under Xvfb, set
``QT_QPA_PLATFORM=xcb`` and ``DISPLAY``). About a minute.

Usage: ``.venv/bin/python scripts/screenshots.py [--out resources] [--size 1366x768]
[--epochs 6]``; writes ``data.png``, ``augment.png``, ``model.png``, ``train.png``,
``tune.png``, ``runs.png``, ``evaluate.png`` and ``predict.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
TABS = ("Data", "Augment", "Model", "Train", "Tune", "Runs", "Evaluate", "Predict")


def pump(app, until: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the event loop until ``until()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 1.0) -> None:
    """Let timers (plot redraws, thumbnail loads, previews) run for a moment."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "resources"))
    parser.add_argument("--size", default="1366x768", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="workbench-shots-")

    from PySide6.QtWidgets import QApplication

    from workbench.core.data.demo import ensure_demo_dataset
    from workbench.qt.app import create_window
    from workbench.qt.startup import torch_loader
    from workbench.qt.workers import collect_garbage_on_gui_thread

    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_on_gui_thread()
    torch_loader().ensure_loaded()
    folder = ensure_demo_dataset()
    window = create_window(str(folder))
    window.resize(width, height)
    window.show()
    pump(app, lambda: window.data_panel.index is not None, 60, "the dataset scan")

    def shot(tab: str, wait: float = 1.0) -> None:
        window.tabs.setCurrentIndex(TABS.index(tab))
        settle(app, wait)
        path = out / f"{tab.lower()}.png"
        window.grab().save(str(path))
        print(f"wrote {path}")

    shot("Data", 2.0)
    shot("Augment", 3.0)
    shot("Model")

    train = window.train_panel
    window.experiment.training.epochs = args.epochs
    window.experiment.training.device = "cpu"
    train.refresh()
    done: list[dict] = []
    train.training_finished.connect(done.append)
    window.tabs.setCurrentIndex(TABS.index("Train"))
    train.start()
    pump(app, lambda: bool(done) or bool(train.last_error), 600, "the training run")
    if train.last_error:
        raise SystemExit(f"screenshots: training failed: {train.last_error}")
    shot("Train", 1.5)

    tune = window.tune_panel
    window.tabs.setCurrentIndex(TABS.index("Tune"))
    settle(app, 0.5)
    shot("Tune")

    runs = window.runs_panel
    window.tabs.setCurrentIndex(TABS.index("Runs"))
    pump(app, lambda: runs.proxy.rowCount() > 0, 30, "the runs list")
    runs.select_paths([done[0]["run_dir"]])
    shot("Runs")

    evaluate = window.evaluate_panel
    results: list = []
    evaluate.evaluated.connect(results.append)
    evaluate.set_bundle(done[0]["bundle"])
    window.tabs.setCurrentIndex(TABS.index("Evaluate"))
    settle(app, 0.5)
    evaluate.use_validation_split()
    evaluate.evaluate()
    pump(app, lambda: bool(results), 120, "the evaluation")
    shot("Evaluate", 1.0)

    predict = window.predict_panel
    predict.set_bundle(done[0]["bundle"])
    images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".png", ".jpg"))
    finished: list = []
    predict.predictions_finished.connect(finished.append)
    predict.add_images([str(p) for p in images[::max(1, len(images) // 24)][:24]])
    pump(app, lambda: bool(finished), 120, "the predictions")
    shot("Predict", 1.0)
    del tune
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
