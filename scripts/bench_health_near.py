"""Recall and precision of the data-health near-copy check, and what it costs.

    python scripts/bench_health_near.py [--dir DIR] [--only recall|precision|timing]

Generates (once, in ``DIR``, default a temporary folder) small images of seven kinds,
re-saves them as a dataset would hold copies (JPEG at quality 95/75/60, quality 95 without
chroma subsampling, Gaussian blur of radius 1, 2 px cut from every side (kept as PNG or
re-saved as a JPEG at quality 90), 3 px cut and resized back, resized, 10% brighter) and
counts, per stored size (32, 48, 64, 128 px), how many of those copies
:func:`~workbench.core.data.health.duplicates.near_pairs` finds (and how many pairs of
two different sources it reports among them: false pairs).

Precision: sets of distinct but similar images, where every pair reported is false:
rendered digits (0-9 in four fonts, two sizes and four places, at 28 and 64 px; one digit
in two fonts or places is counted apart), dots on white (ten colours, nine places, two
sizes; 96 px JPEGs and 32 px PNGs), the demo dataset (1,000 shapes, 32 px), CIFAR-like
textures (32, 64, 128 px), demo-like shapes (64, 128 px), colour gradients, the tester's
random digits (``tester-digits``: one digit moved a pixel or two is a copy there) and
scikit-learn's real handwritten digits at 32 px (a few near-identical ones are expected).

Timing: fingerprints plus :func:`~workbench.core.data.health.duplicates.find_copies` on
``--timing-folder`` (a dataset folder), and ``near_pairs`` on 20,000 fingerprints.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.data.health.duplicates import find_copies, near_pairs  # noqa: E402
from workbench.core.data.health.fingerprint import fingerprints  # noqa: E402

SIZES = (32, 48, 64, 128)
KINDS = ("circles", "squares", "stripes", "checker", "blobs", "photo", "shape")
VARIANTS = {
    "jpeg q95": lambda im, p: im.save(p + ".jpg", quality=95) or p + ".jpg",
    "jpeg q75": lambda im, p: im.save(p + ".jpg", quality=75) or p + ".jpg",
    "jpeg q60": lambda im, p: im.save(p + ".jpg", quality=60) or p + ".jpg",
    "q95 4:4:4": lambda im, p: im.save(p + ".jpg", quality=95, subsampling=0) or p + ".jpg",
    "blur r=1": lambda im, p: im.filter(ImageFilter.GaussianBlur(1)).save(p + ".png")
    or p + ".png",
    "crop 2px": lambda im, p: im.crop((2, 2, im.width - 2, im.height - 2)).save(p + ".png")
    or p + ".png",
    "crop 3px, back": lambda im, p: im.crop((3, 3, im.width - 3, im.height - 3))
    .resize(im.size, Image.BICUBIC).save(p + ".png") or p + ".png",
    "crop 2px, q90": lambda im, p: im.crop((2, 2, im.width - 2, im.height - 2))
    .save(p + ".jpg", quality=90) or p + ".jpg",
    "resize 3/4": lambda im, p: im.resize((im.width * 3 // 4,) * 2, Image.LANCZOS)
    .save(p + ".png") or p + ".png",
    "resize +1": lambda im, p: im.resize((im.width + 1,) * 2, Image.BICUBIC).save(p + ".png")
    or p + ".png",
    "bright+10%": lambda im, p: ImageEnhance.Brightness(im).enhance(1.1).save(p + ".png")
    or p + ".png",
}


def draw_texture(kind: str, side: int, seed: int) -> Image.Image:
    """The tester's synthetic classes (circles, squares, stripes, checker, blobs) with
    per-pixel noise, a smooth "photo" colour field, or a demo-dataset "shape"."""
    rng = np.random.default_rng(seed)
    if kind == "photo":
        small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        return Image.fromarray(small).resize((side, side), Image.BICUBIC)
    if kind == "shape":
        from workbench.core.data.demo import CLASSES, render_shape
        return render_shape(CLASSES[seed % 4], rng, side)
    w = h = s = side
    bg = tuple(int(x) for x in rng.integers(0, 256, 3))
    fg = tuple(int(255 - x) if abs(255 - 2 * x) > 60 else int((x + 128) % 256) for x in bg)
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    if kind in ("circles", "squares"):
        for _ in range(rng.integers(1, 4)):
            col = tuple(int(v) for v in rng.integers(0, 256, 3)) if rng.random() < .5 else fg
            if kind == "circles":
                r = rng.uniform(0.12, 0.3) * s
                cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
            else:
                a = rng.uniform(0.2, 0.5) * s
                x, y = rng.uniform(0, w - a), rng.uniform(0, h - a)
                d.rectangle([x, y, x + a, y + a], fill=col)
    elif kind == "stripes":
        yy, xx = np.mgrid[0:h, 0:w] / s
        a, f = rng.uniform(0, np.pi), rng.uniform(3, 8)
        v = (np.sin(2 * np.pi * f * (xx * np.cos(a) + yy * np.sin(a))) > 0)[..., None]
        im = Image.fromarray(np.where(v, np.array(fg), np.array(bg)).astype(np.uint8))
    elif kind == "checker":
        yy, xx = np.mgrid[0:h, 0:w]
        c = int(rng.integers(4, 12) * s / 64) or 1
        v = (((xx // c) + (yy // c)) % 2 == 0)[..., None]
        im = Image.fromarray(np.where(v, np.array(fg), np.array(bg)).astype(np.uint8))
    else:  # blobs
        small = rng.integers(0, 256, (6, 6, 3)).astype(np.uint8)
        im = Image.fromarray(small).resize((w, h), Image.BICUBIC)
    arr = np.asarray(im).astype(np.int16) + rng.integers(-12, 13, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def make_recall_sets(root: Path, per_kind: int) -> dict:
    """``{(side, variant): [(original, copy), ...]}``, generated under ``root``."""
    out = defaultdict(list)
    for side in SIZES:
        for kind in KINDS:
            for i in range(per_kind):
                base = root / "recall" / str(side) / f"{kind}_{i:02d}"
                base.mkdir(parents=True, exist_ok=True)
                orig = str(base / "orig.png")
                im = draw_texture(kind, side, seed=7000 + 31 * i + KINDS.index(kind))
                if not os.path.exists(orig):
                    im.save(orig)
                for name, make in VARIANTS.items():
                    stem = str(base / name.replace(" ", "_").replace("/", "-").replace(",", ""))
                    done = glob.glob(glob.escape(stem) + ".*")
                    out[(side, name)].append((orig, done[0] if done else make(im, stem)))
    return out


def _fonts(size: int) -> list:
    found = [ImageFont.load_default(size)]
    # Not DejaVu Serif nor Sans Mono: at 16-20 px their digits are DejaVu Sans's, nearly
    # pixel for pixel (a mean difference of 0.2-5 of 255).
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "NotoSansMono-Regular.ttf"):
        for where in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/noto"):
            if os.path.exists(os.path.join(where, name)):
                found.append(ImageFont.truetype(os.path.join(where, name), size))
    return found


def make_precision_sets(root: Path) -> dict:
    """``{name: [paths]}`` of distinct images (any pair found among them is false)."""
    sets: dict[str, list[str]] = {}
    rng = np.random.default_rng(1)

    def save(name, i, im, ext="png", **kw):
        d = root / "precision" / name
        d.mkdir(parents=True, exist_ok=True)
        p = str(d / f"{i:04d}.{ext}")
        if not os.path.exists(p):
            im.save(p, **kw)
        sets.setdefault(name, []).append(p)

    i = 0  # digits: every (digit, font, size, place) once, places 4 px apart
    for size in (16, 20):
        for f, font in enumerate(_fonts(size)):
            for x, y in ((4, 2), (8, 2), (4, 6), (8, 6)):
                for digit in range(10):
                    im = Image.new("L", (28, 28), 0)
                    ImageDraw.Draw(im).text((x, y), str(digit), fill=255, font=font)
                    save("digits28", i, im)
                    i += 1
    colours = [(0, 0, 139), (0, 128, 128), (20, 40, 100), (200, 30, 30), (120, 0, 0),
               (0, 120, 0), (90, 90, 0), (110, 0, 110), (0, 0, 0), (100, 100, 100)]
    i = 0  # dots: every (colour, place, size) once, on white, 96 px JPEG and 32 px PNG
    for c in colours:
        for cx in (30, 48, 66):
            for cy in (30, 48, 66):
                for r in (8, 16):
                    im = Image.new("RGB", (96, 96), (245, 245, 245))
                    ImageDraw.Draw(im).ellipse([cx - r, cy - r, cx + r, cy + r], fill=c)
                    save("dots96", i, im, "jpg", quality=90)
                    save("dots32", i, im.resize((32, 32), Image.LANCZOS))
                    i += 1
    i = 0  # the same digits at 64 px: fonts twice as large, places 8 px apart
    for size in (32, 40):
        for font in _fonts(size):
            for x, y in ((8, 4), (16, 4), (8, 12), (16, 12)):
                for digit in range(10):
                    im = Image.new("L", (64, 64), 0)
                    ImageDraw.Draw(im).text((x, y), str(digit), fill=255, font=font)
                    save("digits64", i, im)
                    i += 1
    for side in (32, 64, 128):  # CIFAR-like textures and demo-like shapes
        for i in range(200):
            save(f"textures{side}", i, draw_texture(KINDS[i % 5], side, seed=90000 + i))
            if side > 32:
                save(f"shapes{side}", i, draw_texture("shape", side, seed=80000 + i))
    for i in range(100):  # sky-like gradients of random angles and colours
        yy, xx = np.mgrid[0:64, 0:64] / 64
        a = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(a) + yy * np.sin(a)
        t = (t - t.min()) / (t.max() - t.min())
        c1, c2 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        arr = c1[None, None] * (1 - t[..., None]) + c2[None, None] * t[..., None]
        save("gradients64", i, Image.fromarray(arr.astype(np.uint8)))
    tester = np.random.default_rng(1)  # prec.py's digits: same draws as the tester's
    for _ in range(60):
        tester.uniform(8, 20), tester.uniform(25, 71, 2), tester.integers(0, 120, 3)
    for _ in range(60):
        tester.uniform(0, 2 * np.pi), tester.integers(0, 256, 3), tester.integers(0, 256, 3)
    for i in range(60):
        im = Image.new("L", (28, 28), 0)
        ImageDraw.Draw(im).text((tester.integers(4, 14), tester.integers(2, 12)),
                                str(i % 10), fill=255)
        save("tester-digits", i, im)
    from workbench.core.data.demo import ensure_demo_dataset
    demo = ensure_demo_dataset(root / "demo")
    sets["demo32"] = sorted(str(p) for p in Path(demo).rglob("*.png"))
    try:
        from sklearn.datasets import load_digits
        digits = load_digits()
        for i, img in enumerate(digits.images):
            im = Image.fromarray((img * 255 / 16).astype(np.uint8)).resize((32, 32),
                                                                            Image.BICUBIC)
            save("sklearn-digits32", i, im)
    except ImportError:
        pass
    return sets


def recall(root: Path, per_kind: int) -> None:
    pairs = make_recall_sets(root, per_kind)
    cache: dict[str, object] = {}
    every = sorted({p for v in pairs.values() for pair in v for p in pair})
    for p, fp in zip(every, fingerprints(every)):
        cache[p] = fp
    print(f"recall: copies found of {per_kind * len(KINDS)} per cell ({', '.join(KINDS)})")
    print(f"{'variant':15s}" + "".join(f"{s:>9d}px" for s in SIZES) + "   false")
    misses = defaultdict(lambda: defaultdict(int))
    for name in VARIANTS:
        row, false = [], 0
        for side in SIZES:
            group = pairs[(side, name)]
            fps = [cache[p] for pair in group for p in pair]
            found = set(near_pairs(fps))
            hit = sum((2 * k, 2 * k + 1) in found for k in range(len(group)))
            false += sum(1 for a, b in found if a // 2 != b // 2)
            for k, (orig, _) in enumerate(group):
                if (2 * k, 2 * k + 1) not in found:
                    misses[name][Path(orig).parent.name.split("_")[0]] += 1
            row.append(f"{hit:>4d}/{len(group):<4d}")
        print(f"{name:15s}" + "".join(f"{c:>11s}" for c in row) + f"   {false}")
    print("misses by kind (all sizes):")
    for name, by in misses.items():
        print(f"  {name:15s} " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))


def precision(root: Path, show: int) -> None:
    sets = make_precision_sets(root)
    print("precision: pairs reported among distinct images (all false, but see below)")
    for name, paths in sets.items():
        fps = fingerprints(paths)
        found = near_pairs(fps)
        note = ""
        if "digits" in name and "sklearn" not in name:  # i % 10 is the digit
            same = [(a, b) for a, b in found if a % 10 == b % 10]
            note = (f" + {len(same)} of one digit" + (" moved a pixel or two (copies)"
                    if name == "tester-digits" else " in another font or place"))
            found = [(a, b) for a, b in found if a % 10 != b % 10]
        print(f"  {name:18s} {len(paths):5d} images  {len(found):4d} false pairs{note}")
        for a, b in found[:show]:
            print(f"      {os.path.relpath(paths[a], root)}  {os.path.relpath(paths[b], root)}")


def timing(folder: str | None, repeats: int) -> None:
    if folder:
        exts = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
        paths = sorted(str(p) for p in Path(folder).rglob("*") if p.suffix.lower() in exts)
        best_fp = best_cp = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            fps = fingerprints(paths)
            t1 = time.perf_counter()
            find_copies(fps)
            best_fp, best_cp = min(best_fp, t1 - t), min(best_cp, time.perf_counter() - t1)
        print(f"timing: {len(paths)} files in {folder}: fingerprints {best_fp:.3f} s, "
              f"find_copies {best_cp:.3f} s (best of {repeats})")
    from workbench.core.data.health.fingerprint import from_rgb
    rng = np.random.default_rng(0)
    fps = []
    for i in range(20000):
        small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        rgb = np.asarray(Image.fromarray(small).resize((32, 32), Image.BICUBIC))
        fps.append(from_rgb(f"x{i}", rgb, 32, 32))
    t = time.perf_counter()
    n = len(near_pairs(fps))
    print(f"timing: near_pairs on 20,000 smooth 32 px fields: {time.perf_counter() - t:.2f} s "
          f"({n} pairs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", help="where the generated images go (kept between runs)")
    ap.add_argument("--only", choices=("recall", "precision", "timing"))
    ap.add_argument("--per-kind", type=int, default=10, help="sources per kind and size")
    ap.add_argument("--show", type=int, default=4, help="false pairs listed per set")
    ap.add_argument("--timing-folder", help="a dataset folder to time the fast checks on")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    root = Path(args.dir or tempfile.mkdtemp(prefix="health_near_"))
    if args.only in (None, "recall"):
        recall(root, args.per_kind)
    if args.only in (None, "precision"):
        precision(root, args.show)
    if args.only in (None, "timing"):
        timing(args.timing_folder, args.repeats)


if __name__ == "__main__":
    main()
