"""Benchmark: what the training doctor costs a run, against the same run without it.

Two trainings with the same seed, set, network and settings, each in its own process
(``Trainer(exp).fit()`` as ``scripts/bench_train.py`` runs Workbench, whose sets and
experiment this reuses):

* ``doctor``: the trainer as it ships: the :class:`TrainingDoctor` callback (its dead-unit
  probe on one batch an epoch, the weights' relative change an epoch, the checks) and the
  gradient and weight norm sampling it asks for (four samples an epoch when nobody asked
  for more);
* ``off`` (the baseline): the same trainer with the doctor replaced by a callback that does
  nothing and no norm sampling, as the trainer ran before the doctor. The validation
  confusion matrix is still counted (the trainer keeps it for TensorBoard too): its cost is
  in both.

Rounds are interleaved (the order alternates) and the summary gives each run's median
throughput over epochs 2+ and the median of the rounds' ratios. Short epochs show the
doctor's per-epoch work the most: ``--small`` (1k images) is the worst case of the png32
set. No timed assertions: it is a benchmark.

Usage: ``python scripts/bench_doctor.py [--set png32] [--epochs 3] [--repeats 5] [--small]
[--threads T] [--data-dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench_sets import SETS, SMALL, ensure_dataset
from bench_train import _experiment, _later, _load, _machine, _throughput

RUNS = ("doctor", "off")


def _switch_off_the_doctor() -> None:
    """The trainer as before the doctor: no doctor callback, no norm sampling unless a
    caller asks for it (nobody does here)."""
    from workbench.core.train import setup
    from workbench.core.train.callbacks.norms import NormSampling
    from workbench.core.train.trainer import Callback

    class NoDoctor(Callback):
        findings: list = []

    setup.TrainingDoctor = NoDoctor
    NormSampling.due = lambda self, step: False


def child(args) -> None:
    import torch

    from workbench.core.train.trainer import Callback, Trainer

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one == "off":
        _switch_off_the_doctor()
    n = SMALL[args.set] if args.small else SETS[args.set][0]
    folder = ensure_dataset(Path(args.data_dir), args.set, n)
    exp = _experiment(folder, SETS[args.set][3], args)

    class Info(Callback):
        def on_fit_start(self, trainer, info):
            self.info = info

    cb = Info()
    result = Trainer(exp, [cb]).fit()
    epochs = [{"seconds": h["seconds"], "n_train": cb.info["num_train"],
               "val_acc": h["val_acc"]} for h in result.history]
    print("BENCH_JSON " + json.dumps({"epochs": epochs,
                                      "findings": [f["kind"] for f in result.findings]}),
          flush=True)


def _child(run: str, seed: int, args) -> dict:
    cmd = [sys.executable, __file__, "--one", run, "--set", args.set, "--data-dir",
           args.data_dir, "--epochs", str(args.epochs), "--seed", str(seed),
           "--threads", str(args.threads), "--batch-size", str(args.batch_size)]
    cmd += ["--small"] if args.small else []
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    line = next((s for s in proc.stdout.splitlines() if s.startswith("BENCH_JSON ")), None)
    if proc.returncode or line is None:
        sys.exit(f"{run} failed (exit {proc.returncode}):\n{proc.stdout}")
    return json.loads(line[len("BENCH_JSON "):])


def parent(args) -> None:
    print("command:", " ".join([Path(sys.executable).name] + sys.argv))
    print("machine:", _machine())
    print(f"load average at start: {_load()}")
    n = SMALL[args.set] if args.small else SETS[args.set][0]
    folder = ensure_dataset(Path(args.data_dir), args.set, n)
    inp = SETS[args.set][3]
    print(f"== {args.set}: {n} images in {folder}, seed-cnn at {inp}x{inp}, batch "
          f"{args.batch_size}, {args.epochs} epochs, {args.repeats} rounds")
    ratios, tps = [], {run: [] for run in RUNS}
    for r in range(args.repeats):
        order = RUNS if r % 2 == 0 else RUNS[::-1]
        res = {run: _child(run, args.seed + r, args) for run in order}
        for run in RUNS:
            tps[run].append(_throughput(_later(res[run]["epochs"])))
        ratios.append(tps["doctor"][-1] / tps["off"][-1])
        cells = "   ".join(
            f"{run}: " + " ".join(f"{e['seconds']:.2f}" for e in res[run]["epochs"])
            + f" s, {100 * res[run]['epochs'][-1]['val_acc']:.1f}%" for run in RUNS)
        print(f"  round {r + 1} (seed {args.seed + r}, {order[0]} first): {cells}; "
              f"doctor/off {ratios[-1]:.3f}; findings {res['doctor']['findings'] or 'none'}")
    print("over the rounds (epochs 2+):")
    for run in RUNS:
        print(f"   {run:<7} img/s median {statistics.median(tps[run]):7.0f} "
              f"(range {min(tps[run]):.0f}-{max(tps[run]):.0f})")
    med = statistics.median(ratios)
    print(f"   doctor/off throughput: median of the rounds' ratios {med:.3f}x (range "
          f"{min(ratios):.3f}-{max(ratios):.3f}): the doctor costs {100 * (1 - med):+.1f}% "
          f"of the throughput")
    print(f"load average at end: {_load()}")


def main() -> None:
    home = os.environ.get("WORKBENCH_HOME")
    default_dir = Path(home) / "bench" if home else Path.home() / ".cache" / "workbench-bench"
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", default="png32", choices=sorted(SETS))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads in each run (0: torch's default)")
    p.add_argument("--seed", type=int, default=0, help="round r uses seed + r")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--small", action="store_true", help="1k images: short epochs, the worst case")
    p.add_argument("--data-dir", default=str(default_dir), help="where the sets are cached")
    p.add_argument("--one", choices=RUNS, help=argparse.SUPPRESS)  # internal: a child run
    args = p.parse_args()
    if min(args.epochs, args.batch_size, args.repeats) < 1 or args.epochs < 2:
        p.error("--epochs must be at least 2 (epoch 1 fills caches), --repeats at least 1")
    child(args) if args.one else parent(args)


if __name__ == "__main__":
    main()
