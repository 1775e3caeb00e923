"""Benchmark: does writing TensorBoard events slow training?

Trains the same experiment (seed-cnn on a generated set of small PNGs, the decoded-image
cache on, so the steps are short and any per-batch cost shows) with and without the
TensorBoard writer (``WORKBENCH_TENSORBOARD=0``), in interleaved rounds, each in its own
subprocess, and prints the median seconds per epoch (epochs 2+) of each and their ratio.

Usage: ``python scripts/bench_tensorboard.py [--rounds 4] [--epochs 4] [--images 3000]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(folder: str, epochs: int) -> None:
    from workbench.core.experiment import Experiment
    from workbench.core.train.run import run_training

    exp = Experiment(name="bench-tb")
    exp.data.folder = folder
    exp.data.input_size = [32, 32]
    exp.training.epochs = epochs
    exp.training.device = "cpu"
    with tempfile.TemporaryDirectory() as runs:
        out = run_training(exp.validate(), Path(runs) / "run")
    secs = [m["seconds"] for m in out.result.history[1:]]
    print("BENCH_JSON " + json.dumps({"epoch_s": statistics.median(secs)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--images", type=int, default=3000)
    ap.add_argument("--child", metavar="FOLDER")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.epochs)
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import make_image_folder

    data = Path(tempfile.mkdtemp()) / "data"
    make_image_folder(data, classes=("blue", "green", "red", "yellow"),
                      per_class=args.images // 4, size=32)
    times: dict[str, list[float]] = {"with": [], "without": []}
    for r in range(args.rounds):
        order = ("with", "without") if r % 2 == 0 else ("without", "with")
        for which in order:
            env = {**os.environ, "WORKBENCH_TENSORBOARD": "1" if which == "with" else "0"}
            out = subprocess.run([sys.executable, __file__, "--child", str(data),
                                  "--epochs", str(args.epochs)], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout
            line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
            times[which].append(json.loads(line[len("BENCH_JSON "):])["epoch_s"])
            print(f"round {r + 1}: {which} TensorBoard {times[which][-1]:.3f} s/epoch",
                  flush=True)
    w, wo = statistics.median(times["with"]), statistics.median(times["without"])
    print(f"median s/epoch: with {w:.3f}, without {wo:.3f}; with / without {w / wo:.3f}")


if __name__ == "__main__":
    main()
