"""Benchmark: Augment-panel preview latency and dataset-scan throughput.

Prints, each with a baseline measured in the same run and the ratio to it:

* median and p95 latency of a 16-tile preview refresh (``augment_tiles``, the work the
  Augment panel does off the GUI thread) on 224x224 and 1024x768 images; baseline: the
  same torchvision v2 pipeline applied 16 times by hand, without un-normalising;
* scan throughput (files/s) of ``scan_folder`` on a generated tree of tiny PNG files;
  baseline: listing the same tree with ``os.walk``.

The tree is generated once into ``$WORKBENCH_HOME/bench/scan-<N>`` (default
``/tmp/workbench-bench``) and reused.

Usage: ``python scripts/bench_preview.py [--files N] [--repeats R] [--threads T]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _time(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def bench_preview(repeats: int) -> None:
    import numpy as np
    import torch
    from PIL import Image
    from torchvision.transforms import v2

    from workbench.core.data.augment.preview import augment_tiles
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component

    exp = Experiment()
    exp.data.input_size = [224, 224]
    exp.augment.transforms = [
        Component("RandomResizedCrop", {"size": None, "scale": [0.5, 1.0]}),
        Component("RandomHorizontalFlip", {"p": 0.5}),
        Component("RandomRotation", {"degrees": 15.0}),
        Component("ColorJitter", {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2,
                                  "hue": 0.0}),
    ]
    plain = v2.Compose([
        v2.PILToTensor(), v2.RandomResizedCrop([224, 224], scale=(0.5, 1.0), antialias=True),
        v2.RandomHorizontalFlip(0.5), v2.RandomRotation((-15, 15)),
        v2.ColorJitter(0.2, 0.2, 0.2, 0.0), v2.ToDtype(torch.float32, scale=True),
        v2.Normalize([0.5] * 3, [0.5] * 3)])
    rng = np.random.default_rng(0)
    print(f"Preview refresh: 16 tiles, pipeline {[c.type for c in exp.augment.transforms]}, "
          f"{repeats} repeats, torch threads {torch.get_num_threads()}")
    for w, h in ((224, 224), (1024, 768)):
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        ours = _time(lambda: augment_tiles(exp, img, 16, seed=1), repeats)
        base = _time(lambda: [plain(img) for _ in range(16)], repeats)
        m, mb = statistics.median(ours), statistics.median(base)
        print(f"  {w}x{h}: augment_tiles median {m:.1f} ms, p95 {_percentile(ours, .95):.1f} ms"
              f" | plain torchvision median {mb:.1f} ms, p95 {_percentile(base, .95):.1f} ms"
              f" | ratio {m / mb:.2f}x")


def _tree(n: int) -> Path:
    base = Path(os.environ.get("WORKBENCH_HOME", "/tmp/workbench-bench")) / "bench"
    root = base / f"scan-{n}"
    done = root / ".complete"
    if done.exists():
        return root
    from PIL import Image

    classes = 10
    t = time.perf_counter()
    buf = Path(root / "_tmp.png")
    root.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (120, 60, 30)).save(buf)
    data = buf.read_bytes()
    buf.unlink()
    for i in range(n):
        d = root / f"class_{i % classes:02d}"
        if i < classes:
            d.mkdir(exist_ok=True)
        (d / f"img_{i:06d}.png").write_bytes(data)
    done.write_text(str(n))
    print(f"  (generated {n} files in {root} in {time.perf_counter() - t:.1f} s)")
    return root


def bench_scan(n: int) -> None:
    from workbench.core.data.scan import scan_folder

    print(f"Scan: {n} tiny files")
    root = _tree(n)

    def walk() -> int:
        count = 0
        for _, dirs, files in os.walk(root):
            dirs.sort()
            count += sum(1 for f in files if not f.startswith("."))
        return count

    walk()  # warm the file-system cache for both
    t = time.perf_counter()
    index = scan_folder(root)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    listed = walk()
    base = time.perf_counter() - t
    found = len(index.samples)
    print(f"  scan_folder: {found} images in {ours:.2f} s = {found / ours:,.0f} files/s | "
          f"os.walk: {listed} files in {base:.2f} s = {listed / base:,.0f} files/s | "
          f"ratio {ours / base:.1f}x the time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000,
                        help="files in the generated scan tree (default 100000)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1, as in DataLoader workers; "
                             "more threads only add overhead on 16 small images)")
    parser.add_argument("--repeats", type=int, default=30,
                        help="preview refreshes timed per image size (default 30)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    bench_preview(args.repeats)
    bench_scan(args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
