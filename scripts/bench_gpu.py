"""GPU benchmark: Workbench's Trainer against the compute limit of the same model, same GPU.

Per model (``resnet18``: Backbone, random weights, fine_tune, at 224x224; ``seed-cnn`` at
64x64), two runs with the same seed, network, optimizer and loss (Workbench's builders),
batch size, AMP dtype and layout: ``workbench``, ``Trainer(exp).fit()`` on generated JPEGs
(RAM cache, pinned uint8 batches, the default flip and normalisation on the GPU, AMP,
channels-last, validation, metrics, the doctor's norm samples); ``limit``, the model stepping
over random normalised tensors already on the GPU, as many train and validation batches, in
``scripts/bench_train.py``'s loop (loss and accuracy read back every batch, as Workbench
does), cuDNN benchmark on as the Trainer sets it.

Printed: images/s (training images / epoch seconds, train + validation pass, and over the
train pass alone) over epochs 2+ (epoch 1 fills the cache and tunes cuDNN), workbench/limit
(target for resnet18 at 224 px with AMP: >= 0.90), GPU utilisation and memory from
``nvidia-smi --query-gpu=utilization.gpu,memory.used -lms 500`` in the background (mean/max
over epochs 2+), peak memory allocated; last ``BENCH_GPU_JSON {...}`` (also to --json).
``--device cpu --small`` dry-runs all of it on the CPU (tiny sizes; no AMP, channels-last or
nvidia-smi there). ``--generate DIR`` only writes an image folder.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

NUM_CLASSES, GENERATOR_VERSION = 10, 1
MODELS = {"resnet18": (224, 32), "seed-cnn": (64, 32)}  # input size; with --small
TARGET = 0.90  # resnet18 at 224 px with AMP: Workbench's share of the compute limit
#: Generated images, their side, epochs and batch size: (default, with --small).
SIZES = {"images": (20000, 240), "side": (256, 48), "epochs": (3, 2), "batch_size": (256, 16)}


# -- the generated images (before torch is imported: the pool forks) ---------------------
def _render_chunk(job: tuple) -> None:
    """Images ``indices``: class k is a sine grating of 2 + 1.5k cycles per side (any
    orientation, colour and phase, plus noise): learnable, and the same class flipped."""
    import numpy as np
    from PIL import Image
    root, side, seed, indices = job
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    for i in indices:
        label = i % NUM_CLASSES
        rng = np.random.default_rng([seed, GENERATOR_VERSION, side, i])
        th = rng.uniform(0, math.pi)
        wave = np.sin(2 * math.pi * (2 + 1.5 * label) * (xx * math.cos(th) + yy * math.sin(th))
                      + rng.uniform(0, 2 * math.pi))
        img = rng.uniform(40, 215, 3).astype(np.float32) + rng.uniform(30, 60) * wave[..., None]
        img += rng.standard_normal((side, side, 3), dtype=np.float32) * 8
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            Path(root) / f"class_{label}" / f"{i:06d}.jpg", "JPEG", quality=90)


def ensure_images(root: Path, n: int, side: int, seed: int = 0) -> Path:
    """``n`` ``side`` x ``side`` JPEGs in 10 class folders under ``root`` (made on every
    core, unless a matching set is there)."""
    from multiprocessing import get_context
    params = {"version": GENERATOR_VERSION, "n": n, "side": side, "seed": seed}
    marker = root / ".bench-gpu.json"
    if marker.exists() and json.loads(marker.read_text()) == params:
        return root
    t = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    for k in range(NUM_CLASSES):
        (root / f"class_{k}").mkdir(parents=True)
    procs = max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else os.cpu_count() or 1, 32))
    jobs = [(str(root), side, seed, range(k, n, procs * 4)) for k in range(procs * 4)]
    method = "fork" if "torch" not in sys.modules and sys.platform == "linux" else "spawn"
    with get_context(method).Pool(procs) as pool:
        pool.map(_render_chunk, jobs)
    marker.write_text(json.dumps(params))  # last: an interrupted run regenerates
    print(f"generated {n} {side}x{side} JPEGs into {root} in {time.perf_counter() - t:.1f} s "
          f"({procs} processes)", flush=True)
    return root


# -- GPU utilisation, sampled by nvidia-smi in the background ---------------------------------
class GpuSampler:
    """``nvidia-smi -lms MS`` printing ``utilization %, memory MiB`` lines while a run goes,
    read by a thread that stamps each on arrival (to a pseudo-terminal, so line-buffered
    whatever nvidia-smi does with a pipe); :meth:`stop` parses them. Nothing off CUDA or
    without nvidia-smi (``WORKBENCH_SMI`` names another executable)."""

    def __init__(self, device, interval_ms: int):
        self.proc, self.note, self.lines = None, "", []
        smi = shutil.which(os.environ.get("WORKBENCH_SMI", "nvidia-smi"))
        if device.type != "cuda" or smi is None:
            self.note = "no nvidia-smi" if device.type == "cuda" else "not a CUDA device"
            return
        import pty
        import threading
        try:
            cmd = [smi, "--query-gpu=utilization.gpu,memory.used",
                   "--format=csv,noheader,nounits", "-lms", str(interval_ms), *_smi_select(device)]
            # No pseudo-terminals here: a pipe (which nvidia-smi may block-buffer).
            self.master, slave = pty.openpty() if os.path.exists("/dev/ptmx") else os.pipe()
            self.proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            os.close(slave)
        except Exception as e:  # noqa: BLE001  (a benchmark without utilisation figures)
            self.proc, self.note = None, f"nvidia-smi did not start: {e}"
            return
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the child has gone and the terminal is closed
                break
            if not chunk:
                break
            *done, buf = (buf + chunk).split(b"\n")
            now = time.time()
            self.lines += [(now, d.decode(errors="replace").strip()) for d in done]

    def stop(self) -> list[tuple[float, float, float]]:
        """``(unix time, utilisation %, memory MiB)`` of each sample."""
        if self.proc is None:
            return []
        self.proc.kill()  # a sampler has nothing to flush: what it printed has been read
        self.proc.wait()
        self.thread.join(2)
        os.close(self.master)
        samples = []
        for arrived, line in self.lines:
            try:
                util, mem = (float(v) for v in line.split(",")[-2:])
            except ValueError:  # "[N/A]", a message, a half-written line
                if line and not samples:
                    self.note = self.note or line[:200]  # e.g. nvidia-smi's own error
                continue
            samples.append((arrived, util, mem))
        return samples


def _smi_select(device) -> list[str]:
    """nvidia-smi's ``-i`` for torch's ``device``: none (every GPU) on a machine with one
    that nothing renumbers; else its UUID (CUDA_VISIBLE_DEVICES may renumber) or index."""
    import torch
    if torch.cuda.device_count() == 1 and not os.environ.get("CUDA_VISIBLE_DEVICES"):
        return []
    uuid = str(getattr(torch.cuda.get_device_properties(device.index), "uuid", "") or "")
    return ["-i", (uuid if uuid.startswith(("GPU-", "MIG-")) else f"GPU-{uuid}") if uuid
            else str(device.index)]


def _util_summary(samples, start: float | None, end: float | None) -> dict:
    """Mean and max utilisation and memory of the samples in [start, end] (None: all)."""
    inside = [s for s in samples if start is None or end is None or start <= s[0] <= end]
    if not inside:
        return {"samples": 0}
    util, mem = [s[1] for s in inside], [s[2] for s in inside]
    return {"samples": len(inside), "util_mean": statistics.fmean(util), "util_max": max(util),
            "mem_mean_mib": statistics.fmean(mem), "mem_max_mib": max(mem)}


# -- the two runs ----------------------------------------------------------------------------
def _experiment(model: str, folder: Path, size: int, args):
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component
    exp = Experiment()  # seed-cnn, Adam lr 1e-3, RandomHorizontalFlip, val 0.2, mean/std 0.5
    if model == "resnet18":
        exp.model.layers = [Component("Backbone", {"arch": "resnet18", "weights": "random",
                                                   "mode": "fine_tune"}), Component("Linear")]
        exp.model.preset = None
    exp.data.folder, exp.data.input_size = str(folder), [size, size]
    exp.data.batch_size = args.batch_size
    exp.data.cache_budget_mb = 16384  # the decoded images in RAM (up to ~100k at 224 px)
    exp.training.epochs, exp.training.device = args.epochs, args.device
    exp.training.amp, exp.training.channels_last = args.amp, True
    return exp.validate()


class Clock:
    """Wall-clock marks of a run: each epoch's start, the end of its train pass, its end."""

    def __init__(self, label: str):
        self.label, self.start, self.train_end, self.end = label, {}, {}, {}

    def epoch_done(self, epoch: int, n_train: int, extra: str = "") -> None:
        self.end[epoch] = time.time()
        s = self.end[epoch] - self.start[epoch]
        print(f"   {self.label:<9} epoch {epoch}: {s:6.2f} s ({n_train / s:8.0f} img/s){extra}",
              flush=True)

    def figures(self, n_train: int) -> dict:
        """Seconds of each epoch and of its train pass; images/s over epochs 2+ (epoch 1
        when it is the only one) and their time window."""
        epochs = sorted(self.end)
        later = epochs[1:] or epochs
        k = len(epochs) - len(later)  # epochs left out
        ep = [self.end[e] - self.start[e] for e in epochs]
        tr = [self.train_end.get(e, self.end[e]) - self.start[e] for e in epochs]
        return {"epoch_seconds": ep, "train_pass_seconds": tr,
                "img_s": n_train * len(later) / sum(ep[k:]) if later else None,
                "train_img_s": n_train * len(later) / sum(tr[k:]) if later else None,
                "window": [self.start[later[0]], self.end[later[-1]]] if later else None}


def run_workbench(exp, device) -> dict:
    from workbench.core.train.trainer import Callback, Trainer
    clock, info = Clock("workbench"), {}

    class Marks(Callback):
        def on_fit_start(self, trainer, fit_info):
            info.update(fit_info)

        def on_epoch_start(self, trainer, epoch):
            clock.start[epoch] = time.time()

        def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
            if batch == num_batches:
                clock.train_end[epoch] = time.time()

        def on_epoch_end(self, trainer, epoch, metrics):
            clock.epoch_done(epoch, info["num_train"],
                             f"  val acc {100 * (metrics['val_acc'] or 0):.1f}%")

    t = time.time()
    result = Trainer(exp, [Marks()]).fit()
    out = clock.figures(info["num_train"])
    out.update(setup_seconds=time.time() - t - sum(out["epoch_seconds"]),
               val_acc=result.history[-1]["val_acc"],
               **{k: info[k] for k in ("num_train", "num_val", "amp", "channels_last", "cache",
                                       "device", "notes")})
    return out


def run_limit(exp, device, n_train: int, n_val: int) -> dict:
    import torch
    from workbench.core.model.builder import build_network
    from workbench.core.model.init import apply_init
    from workbench.core.train.device import resolve_amp
    from workbench.core.train.optim import (build_loss, build_optimizer, optimizer_lr,
                                            parameter_groups)
    from workbench.core.train.setup import seed_everything
    t = time.time()
    seed_everything(exp.training.seed)
    (h, w), c, bs = exp.data.input_size, exp.data.channels, exp.data.batch_size
    model, _ = build_network(exp.model.layers, (c, h, w), NUM_CLASSES)
    apply_init(model, exp.init, layers=exp.model.layers)
    model = model.to(device)
    opt = build_optimizer(exp.optimizer, parameter_groups(model, exp.model.layers,
                                                          optimizer_lr(exp.optimizer)))
    loss_fn = build_loss(exp.loss, None, num_classes=NUM_CLASSES).to(device)
    amp = resolve_amp(exp.training.amp, device)
    scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
    channels_last = device.type == "cuda" and exp.training.channels_last and any(
        isinstance(m, torch.nn.Conv2d) for m in model.modules())
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    g = torch.Generator().manual_seed(exp.training.seed)
    pool = [((torch.rand(bs, c, h, w, generator=g) * 2 - 1).to(device).contiguous(
        memory_format=fmt), torch.randint(0, NUM_CLASSES, (bs,), generator=g).to(device))
        for _ in range(4)]  # a few distinct batches, cycled: the compute is the same

    def batches(n):
        sizes = [bs] * (n // bs) + ([n % bs] if n % bs else [])
        return [(pool[i % 4][0][:m], pool[i % 4][1][:m]) for i, m in enumerate(sizes)]

    autocast = (contextlib.nullcontext if amp is None
                else lambda: torch.autocast(device.type, dtype=amp))
    clock, bench_mode = Clock("limit"), torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = device.type == "cuda"
    # (a last training batch of one is dropped by the Trainer when there is BatchNorm)
    train_b, val_b = [b for b in batches(n_train) if len(b[1]) > 1], batches(n_val)
    setup = time.time() - t
    try:
        for epoch in range(1, exp.training.epochs + 1):
            clock.start[epoch] = time.time()
            model.train()
            for x, y in train_b:
                opt.zero_grad(set_to_none=True)
                with autocast():
                    logits = model(x)
                    loss = loss_fn(logits, y)
                if scaler is not None:  # fp16: the GradScaler, as the Trainer steps
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    loss.backward()
                    opt.step()
                loss.item()  # read back every batch, as Workbench does
                int((logits.argmax(1) == y).sum())
            clock.train_end[epoch] = time.time()
            model.eval()
            with torch.no_grad():
                for x, y in val_b:
                    with autocast():
                        logits = model(x)
                        loss_fn(logits, y).item()
                    int((logits.argmax(1) == y).sum())
            clock.epoch_done(epoch, n_train)
    finally:
        torch.backends.cudnn.benchmark = bench_mode
    out = clock.figures(n_train)
    out.update(setup_seconds=setup, num_train=n_train, num_val=n_val,
               amp={torch.bfloat16: "bf16", torch.float16: "fp16"}.get(amp, "off"),
               channels_last=channels_last)
    return out


def _one(run: str, fn, device, smi_ms: int, *a) -> dict:
    """One run with the GPU sampled; a failure is reported, not fatal."""
    import torch
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    sampler = GpuSampler(device, smi_ms)
    try:
        out = fn(*a)
    except Exception as e:  # noqa: BLE001  (the other runs still go)
        traceback.print_exc()
        out = {"error": f"{type(e).__name__}: {e}"}
    samples = sampler.stop()
    out["gpu"] = {"epochs_2_plus": _util_summary(samples, *(out.get("window") or [None] * 2)),
                  "whole_run": _util_summary(samples, None, None), "note": sampler.note}
    if device.type == "cuda":
        out["peak_allocated_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    gc.collect()
    return out


def _fmt(v, width: int) -> str:
    return f"{v:{width}.0f}" if isinstance(v, (int, float)) else f"{'-':>{width}}"


def _print_model(name: str, res: dict, epochs: int) -> dict:
    print("   epoch s = train + validation pass; img/s = train images / epoch s (epochs 2+)")
    print(f"   {'run':<10}{'setup s':>8}" + "".join(f"{f'ep{i + 1} s':>9}" for i in range(epochs))
          + f"{'img/s':>9}{'train img/s':>12}{'GPU util % mean/max (n)':>25}{'GPU MiB max':>12}"
          f"{'peak alloc MiB':>15}")
    for run in ("workbench", "limit"):
        r = res[run]
        if "error" in r:
            print(f"   {run:<10}FAILED: {r['error']}")
            continue
        g = r["gpu"]["epochs_2_plus"]
        util = (f"{g['util_mean']:.0f}/{g['util_max']:.0f} ({g['samples']})" if g["samples"]
                else "n/a" if r["gpu"]["note"] else "no samples")
        print(f"   {run:<10}{r['setup_seconds']:8.1f}" + "".join(f"{s:9.2f}" for s in
                                                               r["epoch_seconds"])
              + f"{_fmt(r['img_s'], 9)}{_fmt(r['train_img_s'], 12)}{util:>25}"
              f"{_fmt(g.get('mem_max_mib'), 12)}{_fmt(r.get('peak_allocated_mib'), 15)}")
        if r["gpu"]["note"] and r["gpu"]["note"] != "not a CUDA device":
            print(f"   {'':<10}GPU sampling: {r['gpu']['note']}")
    wb, lim = res["workbench"], res["limit"]
    used = [f"{run} amp {r['amp']}, channels_last {r['channels_last']}"
            for run, r in (("workbench", wb), ("limit", lim)) if "error" not in r]
    print(f"   used: {'; '.join(used)}" + (f"; cache: {wb['cache']}" if "cache" in wb else ""))
    for note in wb.get("notes", []):
        print(f"   note: {note}")
    if not (wb.get("img_s") and lim.get("img_s")):  # a run failed
        return {}
    ratios = {"epoch": wb["img_s"] / lim["img_s"],
              "train_pass": wb["train_img_s"] / lim["train_img_s"]}
    line = (f"   workbench/limit over {'epochs 2+' if epochs > 1 else 'epoch 1 (the only one)'}"
            f": {ratios['epoch']:.3f}x per epoch (train + validation), "
            f"{ratios['train_pass']:.3f}x over the train pass")
    if name == "resnet18":
        line += f"; target >= {TARGET:.2f}: {'met' if ratios['epoch'] >= TARGET else 'NOT met'}"
    print(line, flush=True)
    return ratios


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (a dry run)")
    p.add_argument("--small", action="store_true", help="tiny sizes (240 images at 48 px, "
                   "models at 32 px, batch 16, 2 epochs): a check of the logic")
    p.add_argument("--models", default=",".join(MODELS), help=", ".join(MODELS))
    for name, (full, tiny) in SIZES.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"{full}; small: {tiny}")
    p.add_argument("--amp", default="bf16", choices=("auto", "bf16", "fp16", "off"))
    p.add_argument("--smi-ms", type=int, default=500, help="nvidia-smi sampling interval")
    p.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "wb-gpu-bench"))
    p.add_argument("--json", metavar="OUT", help="also write every figure to this file")
    p.add_argument("--generate", metavar="DIR", help="only generate --images images into DIR")
    args = p.parse_args()
    small = args.small
    for name, sizes in SIZES.items():
        setattr(args, name, getattr(args, name) or sizes[small])
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if set(models) - set(MODELS) or min(args.images, args.side, args.epochs, args.batch_size) < 1:
        p.error(f"models are {', '.join(MODELS)}; sizes must be at least 1")
    if args.generate:
        ensure_images(Path(args.generate), args.images, args.side)
        return
    folder = ensure_images(Path(args.data_dir) / f"grating-{args.images}-{args.side}",
                           args.images, args.side)
    import torch
    from workbench.core.train.device import resolve_device
    device = resolve_device(args.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    gpu = torch.cuda.get_device_properties(device) if device.type == "cuda" else None
    machine = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": str(device),
               "cudnn": torch.backends.cudnn.version(), "cpus": os.cpu_count(),
               "gpu": gpu and f"{gpu.name}, {gpu.total_memory / 2**30:.1f} GiB, capability "
                              f"{gpu.major}.{gpu.minor}, bf16 {torch.cuda.is_bf16_supported()}"}
    print("machine:", json.dumps(machine), flush=True)
    report = {"machine": machine, "args": vars(args), "folder": str(folder), "models": {}}
    for name in models:
        size = MODELS[name][1 if small else 0]
        exp = _experiment(name, folder, size, args)
        # The stratified split's sizes (round(n * fraction) of each class held out).
        n_val = sum(round(len(range(k, args.images, NUM_CLASSES)) * exp.data.val_fraction)
                    for k in range(NUM_CLASSES))
        n_train = args.images - n_val
        print(f"\n== {name} at {size}x{size}: {n_train} train / {n_val} val {args.side} px JPEGs,"
              f" batch {args.batch_size}, {args.epochs} epochs, amp {args.amp} and channels_last "
              f"asked for, {device}", flush=True)
        wb = _one("workbench", run_workbench, device, args.smi_ms, exp, device)
        if "error" not in wb and (wb["num_train"], wb["num_val"]) != (n_train, n_val):
            print(f"   (the limit takes Workbench's split: {wb['num_train']} / {wb['num_val']})")
            n_train, n_val = wb["num_train"], wb["num_val"]
        res = report["models"][name] = {"input_size": size, "workbench": wb, "limit": _one(
            "limit", run_limit, device, args.smi_ms, exp, device, n_train, n_val)}
        res["ratio"] = _print_model(name, res, args.epochs)
    report["summary"] = {m: r["ratio"] for m, r in report["models"].items()}
    print("\nsummary (workbench/limit):", json.dumps(report["summary"]), flush=True)
    print("BENCH_GPU_JSON " + json.dumps(report), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.json}")
    failed = [f"{m} {run}" for m, r in report["models"].items() for run in ("workbench", "limit")
              if "error" in r[run]]
    sys.exit(f"failed runs: {', '.join(failed)}" if failed else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
    main()
