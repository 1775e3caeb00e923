"""Benchmark: Workbench's headless trainer against the tutorial loop and the compute limit.

On each of two generated image sets, runs three trainings with the same seed, network
(the ``seed-cnn`` preset, built by Workbench's own builder), optimizer (Adam, lr 1e-3),
batch size and epochs, each in its own subprocess so that its peak RSS is its own:

* ``reference``: the loop every tutorial teaches: ``torchvision.datasets.ImageFolder`` with
  PIL decoding and v1 transforms (Resize, RandomHorizontalFlip, ToTensor, Normalize) on
  every sample every epoch, ``DataLoader(shuffle=True, num_workers=2)``, a seeded 20%
  validation ``Subset`` evaluated every epoch;
* ``workbench``: ``Trainer(exp).fit()`` on the same folder, the Experiment's defaults
  otherwise (augment: RandomHorizontalFlip p=0.5, validation share 0.2, mean/std 0.5);
* ``limit``: the same model and optimizer stepping over random tensors (and random labels)
  of the right shape already in memory: the same number of train and validation batches
  per epoch, in the same loop shape. Its accuracy means nothing (random labels).

The sets (``scripts/bench_sets.py``): ``png32`` (10k 32x32 PNG, 10 classes of noisy
coloured shapes on gradient backgrounds, trained at 32x32) and ``jpeg64`` (2k 480x480
"photo-like" JPEGs, quality 90, trained at 64x64). They are generated once into
``--data-dir`` (default ``$WORKBENCH_HOME/bench``, else ``~/.cache/workbench-bench``) and
reused while their marker file matches the generator's parameters.

``--repeats R`` runs R rounds, interleaved: round r uses seed ``seed + r`` for all three
runs and rotates their order, then the summary gives median throughputs, the median of
the rounds' ratios and the accuracy gap's mean and standard error over the paired rounds.
On a shared or virtual machine single runs move by 10-20%; read the medians.

Allocator: Workbench's trainer keeps large freed blocks in glibc's heap
(``workbench/core/train/allocator.py``); every run here gets the same setting, so the
reference and the limit gain what Workbench gains (``--default-malloc``: none does).

Epoch seconds always cover the train pass and the validation pass (as Workbench's history
does); setup (scanning, building, worker start when it happens once) is reported apart.
images/s = training images / epoch seconds. Ratios are throughput ratios (> 1: Workbench is
faster), over epochs 2+ (epoch 1 shown too). No timed assertions: it is a benchmark.

Accuracy is noisy, the more so the fewer the steps: the runs share their initial weights
but not their split, shuffle or flips. Measured with an in-memory copy of the loop (3 runs
from the same weights): png32 after 3 epochs 96.6-97.2%; jpeg64 (1.6k training images, 25
steps an epoch) 46-59% after 3 epochs and 85-89% after 12, where 400 validation images
alone give a standard error of about 1.7 points. Compare accuracies on jpeg64 with
``--epochs 12`` or more, over several ``--repeats``, against the standard error printed.

Usage: ``python scripts/bench_train.py [--sets png32,jpeg64] [--epochs 3] [--repeats 1]
[--batch-size 64] [--threads T] [--default-malloc] [--small] [--data-dir DIR] [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_sets import PHONE, SETS, SMALL, TRANSFER, ensure_dataset

RUNS = ("reference", "workbench", "limit")


# -- the three runs (each in a child process) ------------------------------------------
def _experiment(folder: Path, input_size: int, args, transfer: bool = False):
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component

    exp = Experiment()  # seed-cnn, Adam lr 1e-3, RandomHorizontalFlip, val 0.2, mean/std 0.5
    if transfer:
        # The seeds' feature-extraction recipe: resnet18 frozen, a new Linear head. Random
        # weights (nothing can be downloaded here): the compute is the pretrained one's.
        # No random augmentation, in the reference loop too: the backbone's features are
        # then the same every epoch (Workbench computes them once, training.feature_cache).
        exp.model.layers = [Component("Backbone", {"arch": "resnet18", "weights": "random",
                                                   "mode": "feature_extraction"}),
                            Component("Linear")]
        exp.model.preset = None
        exp.augment.transforms = []
    exp.data.folder = str(folder)
    exp.data.input_size = [input_size, input_size]
    exp.data.batch_size = args.batch_size
    exp.data.seed = exp.training.seed = args.seed
    exp.training.epochs = args.epochs
    exp.training.device = "cpu"
    return exp.validate()


def _model(exp, num_classes: int):
    """The network and optimizer of ``exp``, seeded as the Trainer seeds them."""
    import torch
    from workbench.core.model.builder import build_network
    from workbench.core.model.init import apply_init

    torch.manual_seed(exp.training.seed)
    h, w = exp.data.input_size
    model, _ = build_network(exp.model.layers, (exp.data.channels, h, w), num_classes)
    apply_init(model, exp.init)
    opt = torch.optim.Adam(model.parameters(), lr=exp.optimizer.params["lr"])
    return model, opt


def _epoch(model, opt, loss_fn, train_batches, val_batches) -> dict:
    """One train pass and one validation pass in the loop shape all the runs share."""
    import torch

    t0 = time.perf_counter()
    model.train()
    n_train = 0
    for x, y in train_batches:
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        opt.step()
        # What a training loop reads back every batch (as Workbench does): loss, accuracy.
        loss.item()
        int((logits.argmax(1) == y).sum())
        n_train += len(y)
    model.eval()
    correct = n_val = 0
    with torch.no_grad():
        for x, y in val_batches:
            logits = model(x)
            loss_fn(logits, y).item()
            correct += int((logits.argmax(1) == y).sum())
            n_val += len(y)
    return {"seconds": time.perf_counter() - t0, "n_train": n_train, "n_val": n_val,
            "val_acc": correct / max(n_val, 1)}


def run_reference(folder: Path, exp, args) -> dict:
    import torch
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    t = time.perf_counter()
    size = tuple(exp.data.input_size)
    norm = transforms.Normalize(exp.data.mean, exp.data.std)
    flip = [transforms.RandomHorizontalFlip()] if exp.augment.transforms else []
    train_tf = transforms.Compose([transforms.Resize(size), *flip, transforms.ToTensor(), norm])
    eval_tf = transforms.Compose([transforms.Resize(size), transforms.ToTensor(), norm])
    train_ds = datasets.ImageFolder(str(folder), transform=train_tf)
    val_ds = datasets.ImageFolder(str(folder), transform=eval_tf)
    perm = torch.randperm(len(train_ds), generator=torch.Generator().manual_seed(args.seed))
    n_val = round(len(perm) * exp.data.val_fraction)
    val_idx, train_idx = perm[:n_val].tolist(), perm[n_val:].tolist()
    model, opt = _model(exp, len(train_ds.classes))
    bs = exp.data.batch_size
    train_dl = DataLoader(Subset(train_ds, train_idx), batch_size=bs, shuffle=True,
                          num_workers=2, generator=torch.Generator().manual_seed(args.seed))
    val_dl = DataLoader(Subset(val_ds, val_idx), batch_size=bs, shuffle=False, num_workers=2)
    setup = time.perf_counter() - t
    # Workers are started afresh by every pass (the tutorial default): inside each epoch.
    epochs = [_epoch(model, opt, torch.nn.CrossEntropyLoss(), train_dl, val_dl)
              for _ in range(exp.training.epochs)]
    return {"setup": setup, "epochs": epochs}


def run_workbench(folder: Path, exp, args) -> dict:
    from workbench.core.train.trainer import Callback, Trainer

    class Info(Callback):
        def on_fit_start(self, trainer, info):
            self.info = info

    t = time.perf_counter()
    cb = Info()
    result = Trainer(exp, [cb]).fit()
    total = time.perf_counter() - t
    epochs = [{"seconds": h["seconds"], "n_train": cb.info["num_train"],
               "n_val": cb.info["num_val"], "val_acc": h["val_acc"]} for h in result.history]
    # Whatever fit() spent outside its epochs (scan, split, build, caches, worker start).
    return {"setup": total - sum(e["seconds"] for e in epochs), "epochs": epochs}


def run_limit(folder: Path, exp, args) -> dict:
    import torch

    t = time.perf_counter()
    counts = [sum(1 for f in d.iterdir() if f.is_file()) for d in sorted(folder.iterdir())
              if d.is_dir()]
    # The stratified split's sizes: round(n * fraction) of each class held out.
    n_val = sum(round(c * exp.data.val_fraction) for c in counts)
    n_train = sum(counts) - n_val
    model, opt = _model(exp, len(counts))
    h, w = exp.data.input_size
    g = torch.Generator().manual_seed(args.seed)

    def batches(n):
        x = torch.rand(n, exp.data.channels, h, w, generator=g) * 2 - 1
        y = torch.randint(0, len(counts), (n,), generator=g)
        bs = exp.data.batch_size
        return [(x[i:i + bs], y[i:i + bs]) for i in range(0, n, bs)]
    train_b, val_b = batches(n_train), batches(n_val)
    setup = time.perf_counter() - t
    epochs = [_epoch(model, opt, torch.nn.CrossEntropyLoss(), train_b, val_b)
              for _ in range(exp.training.epochs)]
    return {"setup": setup, "epochs": epochs}


def _maxrss(who) -> float:
    kb = 1024 if sys.platform != "darwin" else 1024 * 1024  # ru_maxrss: KiB (bytes on macOS)
    return resource.getrusage(who).ru_maxrss / kb


def child(args) -> None:
    import torch
    import torchvision.datasets  # noqa: F401  (every run imports the same, for the base RSS)
    import workbench.core.train.trainer  # noqa: F401

    from workbench.core.train.allocator import tune_host_allocator

    if args.threads:
        torch.set_num_threads(args.threads)
    # Workbench's trainer keeps large freed blocks in the heap (allocator.py); every run
    # gets the same allocator, so the reference and the limit gain what Workbench gains.
    # --default-malloc sets WORKBENCH_MALLOC_TUNING=0 for all three instead.
    tuned = tune_host_allocator()
    # Importing torch starts a helper process: the children's high-water mark before the
    # run is that, not DataLoader workers.
    base, children_base = _maxrss(resource.RUSAGE_SELF), _maxrss(resource.RUSAGE_CHILDREN)
    n = SMALL[args.set] if args.small else SETS[args.set][0]
    folder = ensure_dataset(Path(args.data_dir), args.set, n)
    exp = _experiment(folder, SETS[args.set][3], args, transfer=args.set in TRANSFER)
    out = {"reference": run_reference, "workbench": run_workbench, "limit": run_limit}[args.one](
        folder, exp, args)
    children = _maxrss(resource.RUSAGE_CHILDREN)
    out.update(rss_mb=_maxrss(resource.RUSAGE_SELF), rss_base_mb=base,
               workers_rss_mb=children if children > children_base else None,
               threads=torch.get_num_threads(), malloc_tuned=tuned)
    print("BENCH_JSON " + json.dumps(out), flush=True)


# -- the parent: run, tabulate ---------------------------------------------------------
def _throughput(epochs: list[dict]) -> float:
    return sum(e["n_train"] for e in epochs) / sum(e["seconds"] for e in epochs)


def _machine() -> str:
    # Asked of a child: the parent stays free of torch, whose memory a child would otherwise
    # count as its own (Linux carries the peak RSS across fork and exec).
    probe = ("import torch, torchvision; print(torch.__version__, torchvision.__version__, "
             "torch.get_num_threads())")
    tv = subprocess.run([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True)
    torch_v, vision_v, threads = (tv.stdout.split() + ["?"] * 3)[:3]
    cpu = platform.processor() or "?"
    if os.path.exists("/proc/cpuinfo"):
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name")), cpu)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpu}, {os.cpu_count()} cores ({usable} usable), {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, torch {torch_v} "
            f"(default threads {threads}), torchvision {vision_v}")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _child(run: str, name: str, data_dir: Path, seed: int, args) -> dict:
    """One run in a child process; its JSON."""
    cmd = [sys.executable, __file__, "--one", run, "--set", name, "--data-dir", str(data_dir),
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
           "--seed", str(seed), "--threads", str(args.threads)]
    cmd += ["--small"] if args.small else []
    load = _load()
    env = {**os.environ, **({"WORKBENCH_MALLOC_TUNING": "0"} if args.default_malloc else {})}
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    line = next((s for s in proc.stdout.splitlines() if s.startswith("BENCH_JSON ")), None)
    if proc.returncode or line is None:
        sys.exit(f"{run} on {name} failed (exit {proc.returncode}):\n{proc.stdout}")
    return {**json.loads(line[len("BENCH_JSON "):]), "load_before": load}


def _run_set(name: str, data_dir: Path, args) -> list[dict]:
    """``--repeats`` rounds of the three runs on one set, interleaved.

    Round ``r`` uses seed ``seed + r`` for all three runs (so the reference and Workbench
    start from the same weights within a round) and rotates their order, so that a machine
    getting slower or faster over time does not favour one run.
    """
    rounds = []
    for r in range(args.repeats):
        order = RUNS[r % len(RUNS):] + RUNS[:r % len(RUNS)]
        seed = args.seed + r
        runs = {run: _child(run, name, data_dir, seed, args) for run in order}
        rounds.append({"seed": seed, "order": list(order),
                       "runs": {run: runs[run] for run in RUNS}})
    return rounds


def _later(epochs: list[dict]) -> list[dict]:
    return epochs[1:] if len(epochs) > 1 else epochs


def _print_round(res: dict, epochs: int) -> dict:
    """Print one round's table and ratios; return the ratios and the accuracy gap."""
    ep_hdr = "".join(f"  ep{i + 1} s (img/s)  " for i in range(epochs))
    print(f"   {'run':<10}{'setup s':>8}{ep_hdr}{'val acc':>9}   {'RSS':<22}load before")
    for run in RUNS:
        r = res[run]
        cells = "".join(f"  {e['seconds']:6.2f} ({e['n_train'] / e['seconds']:6.0f}) "
                        for e in r["epochs"])
        acc = f"{100 * r['epochs'][-1]['val_acc']:8.2f}%" if run != "limit" else f"{'-':>9}"
        rss = f"{r['rss_mb']:.0f} ({r['rss_base_mb']:.0f}"
        rss += f"; {r['workers_rss_mb']:.0f})" if r["workers_rss_mb"] else ")"
        print(f"   {run:<10}{r['setup']:8.2f}{cells}{acc}   {rss:<22}{r['load_before']}")
    which = "epochs 2+" if epochs > 1 else "epoch 1"
    wb = res["workbench"]["epochs"]
    out: dict = {"ratios": {}}
    for base in ("reference", "limit"):
        other = res[base]["epochs"]
        first = _throughput(wb[:1]) / _throughput(other[:1])
        rest = _throughput(_later(wb)) / _throughput(_later(other))
        out["ratios"][base] = {"epoch1": first, "later": rest}
        print(f"   workbench/{base:<9} throughput: {which} {rest:.2f}x   (epoch 1 {first:.2f}x)")
    whole = {k: res[k]["setup"] + sum(e["seconds"] for e in res[k]["epochs"])
             for k in ("workbench", "reference")}
    out["whole_run_speedup"] = whole["reference"] / whole["workbench"]
    print(f"   whole run (setup + {epochs} epochs): workbench {whole['workbench']:.1f} s, "
          f"reference {whole['reference']:.1f} s: {out['whole_run_speedup']:.2f}x")
    last = [res[k]["epochs"][-1] for k in ("workbench", "reference")]
    out["val_acc_gap_points"] = gap = 100 * (last[0]["val_acc"] - last[1]["val_acc"])
    # The validation sets are samples: their binomial error alone bounds what a gap means
    # (different shuffles and augmentation draws add to it, see the module docstring).
    out["val_acc_gap_se_points"] = se = 100 * math.sqrt(
        sum(e["val_acc"] * (1 - e["val_acc"]) / max(e["n_val"], 1) for e in last))
    print(f"   val acc workbench - reference (last epoch): {gap:+.2f} points "
          f"(standard error of that difference from the validation sample: {se:.2f})")
    return out


def _mean_se(values: list[float]) -> tuple[float, float]:
    m = statistics.fmean(values)
    return m, (statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan)


def _print_summary(rounds: list[dict]) -> dict:
    """Across rounds: median throughputs, the median of each round's ratio (the runs of a
    round ran back to back, so their ratio is the least disturbed figure), accuracies'
    means and the paired accuracy gap's mean and standard error."""
    n = len(rounds)
    print(f"   over {n} rounds (seeds {rounds[0]['seed']}-{rounds[-1]['seed']}, order rotated):")
    out: dict = {"throughput_median": {}, "val_acc_mean": {}, "ratios_median": {}}
    for run in RUNS:
        tps = [_throughput(_later(r["runs"][run]["epochs"])) for r in rounds]
        out["throughput_median"][run] = med = statistics.median(tps)
        line = f"   {run:<10} img/s (epochs 2+) median {med:6.0f} (range {min(tps):.0f}-" \
               f"{max(tps):.0f})"
        if run != "limit":
            m, se = _mean_se([100 * r["runs"][run]["epochs"][-1]["val_acc"] for r in rounds])
            out["val_acc_mean"][run] = m
            line += f"   val acc mean {m:.2f}% (SE {se:.2f})"
        print(line)
    for base in ("reference", "limit"):
        ratios = [r["summary"]["ratios"][base]["later"] for r in rounds]
        out["ratios_median"][base] = med = statistics.median(ratios)
        print(f"   workbench/{base:<9} throughput: median of the rounds' ratios {med:.2f}x "
              f"(range {min(ratios):.2f}-{max(ratios):.2f})")
    gaps = [r["summary"]["val_acc_gap_points"] for r in rounds]
    m, se = _mean_se(gaps)
    out["val_acc_gap_mean_points"], out["val_acc_gap_mean_se_points"] = m, se
    print(f"   val acc workbench - reference: mean {m:+.2f} points, standard error {se:.2f} "
          f"over {n} paired rounds (per round: {', '.join(f'{g:+.1f}' for g in gaps)})")
    return out


def parent(args) -> None:
    print("command:", " ".join([Path(sys.executable).name] + sys.argv))
    machine = _machine()
    print("machine:", machine)
    print(f"load average at start: {_load()}")
    data_dir = Path(args.data_dir)
    report = {"command": sys.argv, "machine": machine, "args": vars(args), "sets": {}}
    for name in args.sets.split(","):
        n = SMALL[name] if args.small else SETS[name][0]
        folder = ensure_dataset(data_dir, name, n)
        side, fmt, inp = SETS[name][1:]
        rounds = _run_set(name, data_dir, args)
        e0 = rounds[0]["runs"]["workbench"]["epochs"][0]
        stored = "x".join(map(str, PHONE)) if side == PHONE[0] else f"{side}x{side}"
        model = "frozen resnet18 + Linear" if name in TRANSFER else "seed-cnn"
        print(f"\n== {name} ({model}): {n} {stored} {fmt} images in {folder}, trained at "
              f"{inp}x{inp}; {e0['n_train']} train / {e0['n_val']} val, batch "
              f"{args.batch_size}, {args.epochs} epochs, torch threads "
              f"{rounds[0]['runs']['limit']['threads']}, malloc tuned in every run: "
              f"{'yes' if rounds[0]['runs']['limit'].get('malloc_tuned') else 'no'}")
        print("   epoch s = train pass + validation pass; img/s = train images / epoch s;\n"
              "   RSS: peak MiB of the run's process (after imports; a DataLoader worker's "
              "peak, pages shared with the process included)")
        for r in rounds:
            if len(rounds) > 1:
                print(f"  round {rounds.index(r) + 1}, seed {r['seed']}, "
                      f"order {', '.join(r['order'])}:")
            r["summary"] = _print_round(r["runs"], args.epochs)
        entry = {"images": n, "folder": str(folder), "rounds": rounds}
        if len(rounds) > 1:
            entry["summary"] = _print_summary(rounds)
        report["sets"][name] = entry
    print(f"\nload average at end: {_load()}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.json}")


def main() -> None:
    home = os.environ.get("WORKBENCH_HOME")
    default_dir = Path(home) / "bench" if home else Path.home() / ".cache" / "workbench-bench"
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", default="png32,jpeg64",
                   help="comma-separated: " + ", ".join(SETS))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads in each run (0: torch's default)")
    p.add_argument("--seed", type=int, default=0, help="round r uses seed + r")
    p.add_argument("--repeats", type=int, default=1,
                   help="rounds of the three runs, interleaved; > 1 adds medians and the "
                        "accuracy gap's mean and standard error over rounds")
    p.add_argument("--default-malloc", action="store_true",
                   help="keep glibc's allocator defaults in all three runs (Workbench "
                        "otherwise keeps large freed blocks in the heap, and so does every "
                        "run here)")
    p.add_argument("--small", action="store_true", help="a quick smoke run: 1k / 300 images")
    p.add_argument("--data-dir", default=str(default_dir), help="where the sets are cached")
    p.add_argument("--json", metavar="OUT", help="also write every figure to this JSON file")
    p.add_argument("--one", choices=RUNS, help=argparse.SUPPRESS)  # internal: a child run
    p.add_argument("--set", choices=sorted(SETS), help=argparse.SUPPRESS)
    args = p.parse_args()
    bad = [s for s in args.sets.split(",") if s not in SETS]
    if bad:
        p.error(f"unknown set(s) {', '.join(bad)}; choose from {', '.join(SETS)}")
    if min(args.epochs, args.batch_size, args.repeats) < 1:
        p.error("--epochs, --batch-size and --repeats must be at least 1")
    child(args) if args.one else parent(args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
    main()
