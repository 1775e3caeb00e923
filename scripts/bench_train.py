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

The sets: ``png32`` (10k 32x32 PNG, 10 classes of noisy coloured shapes on gradient
backgrounds, trained at 32x32) and ``jpeg64`` (2k 480x480 "photo-like" JPEGs, quality 90,
trained at 64x64). They are generated once into ``--data-dir`` (default
``$WORKBENCH_HOME/bench``, else ``~/.cache/workbench-bench``) and reused while their marker
file matches the generator's parameters.

Epoch seconds always cover the train pass and the validation pass (as Workbench's history
does); setup (scanning, building, worker start when it happens once) is reported apart.
images/s = training images / epoch seconds. Ratios are throughput ratios (> 1: Workbench is
faster), over epochs 2+ (epoch 1 shown too). No timed assertions: it is a benchmark.

Accuracy is noisy, the more so the fewer the steps: the runs share their initial weights
but not their split, shuffle or flips. Measured with an in-memory copy of the loop (3 runs
from the same weights): png32 after 3 epochs 96.6-97.2%; jpeg64 (1.6k training images, 25
steps an epoch) 46-59% after 3 epochs and 85-89% after 12, where 400 validation images
alone give a standard error of about 1.7 points. Compare accuracies on jpeg64 with
``--epochs 12`` or more, and against the standard error the table prints.

Usage: ``python scripts/bench_train.py [--sets png32,jpeg64] [--epochs 3] [--batch-size 64]
[--threads T] [--small] [--data-dir DIR] [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

GENERATOR_VERSION = 1
# name -> (images, side of the stored image, format, input size trained at)
SETS = {"png32": (10000, 32, "PNG", 32), "jpeg64": (2000, 480, "JPEG", 64)}
SMALL = {"png32": 1000, "jpeg64": 300}
CLASSES = ["circle", "square", "triangle", "plus", "ring", "star", "tee", "bar",
           "crescent", "diamond"]
RUNS = ("reference", "workbench", "limit")


# -- data generation -------------------------------------------------------------------
def _polygon(kind: str) -> list[tuple[float, float]]:
    """The outline of a shape in unit coordinates (centred at 0, radius about 1)."""
    def ring(k, r=1.0, phase=0.0):
        angles = [phase + 2 * math.pi * i / k for i in range(k)]
        return [(r * math.cos(a), r * math.sin(a)) for a in angles]
    if kind == "circle":
        return ring(48)
    if kind == "square":
        return [(-.8, -.8), (.8, -.8), (.8, .8), (-.8, .8)]
    if kind == "triangle":
        return ring(3, 1.0, -math.pi / 2)
    if kind == "plus":
        a, b = .3, 1.0
        return [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a),
                (-b, a), (-b, -a), (-a, -a)]
    if kind == "star":
        return [p for i in range(5) for p in (ring(5, 1.0, -math.pi / 2)[i],
                                              ring(5, .42, -math.pi / 2 + math.pi / 5)[i])]
    if kind == "tee":
        return [(-1, -.8), (1, -.8), (1, -.3), (.25, -.3), (.25, 1), (-.25, 1), (-.25, -.3),
                (-1, -.3)]
    if kind == "bar":
        return [(-1, -.3), (1, -.3), (1, .3), (-1, .3)]
    if kind == "diamond":
        return [(0, -1), (.75, 0), (0, 1), (-.75, 0)]
    raise ValueError(kind)


def _render(label: int, side: int, rng, photo: bool, size=(.3, .42), noise=(2, 5),
            contrast=200.0):
    """One image of class ``label`` as a ``side x side`` RGB PIL image.

    The class is the object's shape only: its colour, size, position, rotation, the
    background and the noise are drawn at random, so the task is learnable but not trivial.
    The object's colour keeps at least ``contrast`` (RGB distance) from the background
    behind it: with harder settings (smaller objects, more noise, less contrast, a hexagon
    class) seed-cnn was still climbing steeply after 3 epochs of png32 and the accuracies of
    two runs differed by several points; with these, runs from the same initial weights but
    another split and order end within about 0.6 points of each other (96.6-97.2%).
    """
    import numpy as np
    from PIL import Image, ImageDraw

    ss = 2 if side < 128 else 1  # small images: draw at 2x, downsample for smooth edges
    s = side * ss
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
    # Background: a gradient between two random colours along a random direction, plus
    # low-frequency blotches (a coarse random grid upsampled) and, for photos, a texture.
    c0, c1 = rng.uniform(0, 255, 3).astype(np.float32), rng.uniform(0, 255, 3).astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    t = np.clip((xx - .5) * math.cos(ang) + (yy - .5) * math.sin(ang) + .5, 0, 1)[..., None]
    bg = c0 * (1 - t) + c1 * t
    coarse = rng.normal(0, 25 if photo else 18, (4, 4, 3)).astype(np.float32)
    bg += np.stack([np.asarray(Image.fromarray(coarse[..., k], "F").resize((s, s), Image.BILINEAR))
                    for k in range(3)], -1)
    if photo:
        f, th = rng.uniform(8, 40), rng.uniform(0, math.pi)
        wave = np.sin(2 * math.pi * f * (xx * math.cos(th) + yy * math.sin(th)))
        bg += rng.uniform(5, 20) * wave[..., None]
    # The object: a mask drawn with PIL, then a fill colour with its own shading.
    mask = Image.new("L", (s, s), 0)
    draw = ImageDraw.Draw(mask)
    r = rng.uniform(*size) * s
    cx, cy = rng.uniform(r + 1, s - r - 1, 2)
    rot = rng.uniform(-.35, .35)
    kind = CLASSES[label]

    def place(points, scale=1.0, dx=0.0):
        cs, sn = math.cos(rot), math.sin(rot)
        return [(cx + r * scale * (x * cs - y * sn) + dx * r, cy + r * scale * (x * sn + y * cs))
                for x, y in points]
    if kind == "ring":
        draw.polygon(place(_polygon("circle")), fill=255)
        draw.polygon(place(_polygon("circle"), .55), fill=0)
    elif kind == "crescent":
        draw.polygon(place(_polygon("circle")), fill=255)
        draw.polygon(place(_polygon("circle"), .85, rng.choice([-.45, .45])), fill=0)
    else:
        draw.polygon(place(_polygon(kind)), fill=255)
    m = (np.asarray(mask, np.float32) / 255.0)[..., None]
    behind = bg[int(cy), int(cx)]
    for _ in range(20):  # a random colour far enough from the background behind the object
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        if np.linalg.norm(colour - behind) >= contrast:
            break
    else:
        colour = np.where(behind < 128, 255.0, 0.0).astype(np.float32)
    fg = colour + rng.uniform(-30, 30) * (yy[..., None] - .5)
    if photo and rng.random() < .5:  # a striped object now and then: texture is not the class
        fg = fg + 25 * np.sign(np.sin(2 * math.pi * rng.uniform(10, 30) * xx))[..., None]
    img = bg * (1 - m) + fg * m
    img += rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(*noise)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    return out.resize((side, side), Image.BOX) if ss > 1 else out


def _generate_chunk(job: tuple) -> None:
    import numpy as np

    root, name, side, fmt, seed, indices = job
    for i in indices:
        label = i % len(CLASSES)
        # One generator per image: the set does not depend on how the work was split.
        rng = np.random.default_rng([seed, GENERATOR_VERSION, side, i])
        img = _render(label, side, rng, photo=fmt == "JPEG")
        path = Path(root) / f"{label}_{CLASSES[label]}" / f"{i:06d}.{fmt.lower()[:4]}"
        img.save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))


def ensure_dataset(data_dir: Path, name: str, n: int, seed: int = 0) -> Path:
    """The folder of set ``name`` with ``n`` images, generated unless a matching one exists."""
    import shutil
    from multiprocessing import get_context

    _, side, fmt, _ = SETS[name]
    params = {"version": GENERATOR_VERSION, "set": name, "n": n, "side": side, "format": fmt,
              "seed": seed, "classes": CLASSES}
    root = data_dir / f"{name}-{n}"
    marker = root / ".bench-params.json"
    if marker.exists() and json.loads(marker.read_text()) == params:
        return root
    t = time.perf_counter()
    print(f"generating {n} {side}x{side} {fmt} images into {root} ...", flush=True)
    shutil.rmtree(root, ignore_errors=True)
    for label, cls in enumerate(CLASSES):
        (root / f"{label}_{cls}").mkdir(parents=True)
    jobs = [(str(root), name, side, fmt, seed, range(k, n, 8)) for k in range(8)]
    with get_context("spawn").Pool(2) as pool:  # 2 processes: the 2-core target machine
        pool.map(_generate_chunk, jobs)
    marker.write_text(json.dumps(params))  # last: an interrupted run regenerates
    print(f"  done in {time.perf_counter() - t:.1f} s", flush=True)
    return root


# -- the three runs (each in a child process) ------------------------------------------
def _experiment(folder: Path, input_size: int, args):
    from workbench.core.experiment import Experiment

    exp = Experiment()  # seed-cnn, Adam lr 1e-3, RandomHorizontalFlip, val 0.2, mean/std 0.5
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
    train_tf = transforms.Compose([transforms.Resize(size), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), norm])
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

    if args.threads:
        torch.set_num_threads(args.threads)
    # Importing torch starts a helper process: the children's high-water mark before the
    # run is that, not DataLoader workers.
    base, children_base = _maxrss(resource.RUSAGE_SELF), _maxrss(resource.RUSAGE_CHILDREN)
    n = SMALL[args.set] if args.small else SETS[args.set][0]
    folder = ensure_dataset(Path(args.data_dir), args.set, n)
    exp = _experiment(folder, SETS[args.set][3], args)
    out = {"reference": run_reference, "workbench": run_workbench, "limit": run_limit}[args.one](
        folder, exp, args)
    children = _maxrss(resource.RUSAGE_CHILDREN)
    out.update(rss_mb=_maxrss(resource.RUSAGE_SELF), rss_base_mb=base,
               workers_rss_mb=children if children > children_base else None,
               threads=torch.get_num_threads())
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


def _run_set(name: str, n: int, data_dir: Path, args) -> dict:
    """The three runs on one set, each in a child process; their JSON by run name."""
    res = {}
    for run in RUNS:
        cmd = [sys.executable, __file__, "--one", run, "--set", name, "--data-dir",
               str(data_dir), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
               "--seed", str(args.seed), "--threads", str(args.threads)]
        cmd += ["--small"] if args.small else []
        load = _load()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        line = next((s for s in proc.stdout.splitlines() if s.startswith("BENCH_JSON ")), None)
        if proc.returncode or line is None:
            sys.exit(f"{run} on {name} failed (exit {proc.returncode}):\n{proc.stdout}")
        res[run] = json.loads(line[len("BENCH_JSON "):])
        res[run]["load_before"] = load
    return res


def _print_set(res: dict, epochs: int) -> dict:
    """Print one set's table and ratios; return the ratios and the accuracy gap."""
    print("   epoch s = train pass + validation pass; img/s = train images / epoch s;\n"
          "   RSS: peak MiB of the run's process (after imports; a DataLoader worker's peak,"
          " pages shared with the process included)")
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
    later = slice(1, None) if epochs > 1 else slice(0, None)
    which = "epochs 2+" if epochs > 1 else "epoch 1"
    wb = res["workbench"]["epochs"]
    out: dict = {"ratios": {}}
    for base in ("reference", "limit"):
        other = res[base]["epochs"]
        first = _throughput(wb[:1]) / _throughput(other[:1])
        rest = _throughput(wb[later]) / _throughput(other[later])
        out["ratios"][base] = {"epoch1": first, "later": rest}
        print(f"   workbench/{base:<9} throughput: {which} {rest:.2f}x   (epoch 1 {first:.2f}x)")
    last = [res[k]["epochs"][-1] for k in ("workbench", "reference")]
    out["val_acc_gap_points"] = gap = 100 * (last[0]["val_acc"] - last[1]["val_acc"])
    # The validation sets are samples: their binomial error alone bounds what a gap means
    # (different shuffles and augmentation draws add to it, see the module docstring).
    out["val_acc_gap_se_points"] = se = 100 * math.sqrt(
        sum(e["val_acc"] * (1 - e["val_acc"]) / max(e["n_val"], 1) for e in last))
    print(f"   val acc workbench - reference (last epoch): {gap:+.2f} points "
          f"(standard error of that difference from the validation sample: {se:.2f})")
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
        res = _run_set(name, n, data_dir, args)
        e0 = res["workbench"]["epochs"][0]
        print(f"\n== {name}: {n} {side}x{side} {fmt} images in {folder}, trained at "
              f"{inp}x{inp}; {e0['n_train']} train / {e0['n_val']} val, batch "
              f"{args.batch_size}, {args.epochs} epochs, torch threads {res['limit']['threads']}")
        summary = _print_set(res, args.epochs)
        report["sets"][name] = {"images": n, "folder": str(folder), "runs": res, **summary}
    print(f"\nload average at end: {_load()}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.json}")


def main() -> None:
    home = os.environ.get("WORKBENCH_HOME")
    default_dir = Path(home) / "bench" if home else Path.home() / ".cache" / "workbench-bench"
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", default="png32,jpeg64", help="comma-separated: png32, jpeg64")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads in each run (0: torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--small", action="store_true", help="a quick smoke run: 1k / 300 images")
    p.add_argument("--data-dir", default=str(default_dir), help="where the sets are cached")
    p.add_argument("--json", metavar="OUT", help="also write every figure to this JSON file")
    p.add_argument("--one", choices=RUNS, help=argparse.SUPPRESS)  # internal: a child run
    p.add_argument("--set", choices=sorted(SETS), help=argparse.SUPPRESS)
    args = p.parse_args()
    bad = [s for s in args.sets.split(",") if s not in SETS]
    if bad:
        p.error(f"unknown set(s) {', '.join(bad)}; choose from {', '.join(SETS)}")
    if args.epochs < 1 or args.batch_size < 1:
        p.error("--epochs and --batch-size must be at least 1")
    child(args) if args.one else parent(args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
    main()
