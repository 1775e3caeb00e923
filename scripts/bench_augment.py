"""Benchmark: each random augmentation op on a batch, vectorised against v2 per image.

For every op the batch pipelines can vectorise (:func:`workbench.core.data.augment.batch_ops.
vectorize`) and each size (32, 64, 128, 224 by default), times on a uint8 batch of
``--batch`` images (C=3, square):

* ``batched``: the vectorised op's own arithmetic over the whole batch
  (``op.apply(x, op.draw(shape))``);
* ``per image``: torchvision v2 on each image, the baseline (``PerSample(transform)``);
* ``chosen``: what a training run does, ``op(x)``: it draws once per image and applies the
  parameters with whichever of the two paths :mod:`~workbench.core.data.augment.dispatch`
  picks for the op, size and device.

Figures are the median of ``--repeats`` timings in ms per batch, after a warm-up, with
``--threads`` torch threads (1 by default, as a DataLoader worker or a busy machine has);
the ratio column is chosen / per image (<= 1: never slower than v2 per image, the target).
On CUDA (``--device cuda``) the batch is on the GPU and every timing is synchronised.

Usage: ``python scripts/bench_augment.py [--sizes 32,64,128,224] [--batch 64]
[--repeats 7] [--threads 1] [--device cpu] [--json]``

Prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torchvision.transforms import v2  # noqa: E402

from workbench.core.data.augment.batch_ops import PerSample, vectorize  # noqa: E402


def ops(size: int) -> dict[str, Any]:
    """The registry's random ops with their default-ish settings, for images of ``size``."""
    return {
        "RandomResizedCrop": v2.RandomResizedCrop(size, scale=(0.5, 1.0), antialias=True),
        "RandomHorizontalFlip": v2.RandomHorizontalFlip(0.5),
        "RandomRotation": v2.RandomRotation(15),
        "RandomAffine": v2.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
        "RandomPerspective": v2.RandomPerspective(0.2, p=0.5),
        "ColorJitter (no hue)": v2.ColorJitter(0.2, 0.2, 0.2),
        "ColorJitter (hue)": v2.ColorJitter(0.2, 0.2, 0.2, 0.05),
        "GaussianBlur": v2.GaussianBlur(5, (0.1, 2.0)),
        "RandomErasing": v2.RandomErasing(0.5),
    }


def timed(fn: Callable[[], Any], repeats: int, sync: Callable[[], None]) -> float:
    fn()  # warm-up: kernels chosen, caches filled
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="32,64,128,224")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        torch.manual_seed(0)
        x = torch.randint(0, 256, (args.batch, 3, size, size), dtype=torch.uint8,
                          device=device)
        for name, transform in ops(size).items():
            op = vectorize(transform)
            if op is None:
                continue
            per_image = PerSample(transform)
            row = {"op": name, "size": size,
                   "per_image": timed(lambda: per_image(x), args.repeats, sync),
                   "chosen": timed(lambda: op(x), args.repeats, sync)}
            if hasattr(op, "apply") and hasattr(op, "draw"):
                row["batched"] = timed(lambda: op.apply(x, op.draw(x.shape)), args.repeats,
                                       sync)
                row["path"] = getattr(op, "path_for", lambda _x: "batched")(x)
            else:
                row["batched"], row["path"] = row["chosen"], "batched"
            row["ratio"] = row["chosen"] / row["per_image"]
            rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"ms per batch of {args.batch} uint8 images, {args.threads} thread(s), "
          f"{device}, median of {args.repeats}; ratio = chosen / per image")
    print(f"{'op':24} {'size':>5} {'batched':>9} {'per image':>10} {'chosen':>8} "
          f"{'path':>10} {'ratio':>6}")
    for r in rows:
        print(f"{r['op']:24} {r['size']:5d} {r['batched']:9.1f} {r['per_image']:10.1f} "
              f"{r['chosen']:8.1f} {r['path']:>10} {r['ratio']:6.2f}")
    worst = max(rows, key=lambda r: r["ratio"])
    print(f"worst ratio: {worst['ratio']:.2f} ({worst['op']} at {worst['size']} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
