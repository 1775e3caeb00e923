"""The built-in demo dataset: small pictures of coloured shapes, generated on first use.

Four classes (circle, cross, square, triangle) of 250 PNG images, 32x32 pixels. Each image
shows one bright shape of a random hue on a dark background of a random tint, at a random
size, position and tilt, with light noise. Colour, size and place say nothing about the
class, and every shape covers the same area for a given size: a network has to learn the
shape. The default experiment (the ``seed-cnn`` preset, Adam 1e-3, batch 32, horizontal
flips) passes 90% validation accuracy after five to eight epochs and reaches 97-98% at
ten (about 30 seconds on a 2-core CPU), while a small MLP stays near 60%: a real, if
small, vision task.
"""

from __future__ import annotations

import colorsys
import errno
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from workbench.core.errors import DataError
from workbench.core.io import data_home

#: Class names, in label order (sorted, as a folder scan orders them).
CLASSES = ("circle", "cross", "square", "triangle")
IMAGES_PER_CLASS = 250
IMAGE_SIZE = 32
SEED = 20240601
#: Bump when the generator changes: an older dataset is then regenerated.
VERSION = 1
MARKER = ".workbench-demo.json"

_SUPERSAMPLE = 4  # drawn at 4x and reduced: smooth (anti-aliased) edges
_NOISE_STD = 8.0  # on the 0-255 scale
# The default network ends in Flatten + Linear, which is not translation-invariant: shapes
# stay near the centre (up to 15% of the width off) so a thousand images are enough.
_JITTER = 0.15
# Size as the radius of a circle of the same area, as a share of the image width. Every
# shape gets the same area for the same size, so that brightness (how much of the picture
# the shape covers) does not give the class away.
_SIZE = (0.18, 0.32)
_CROSS_HALF_WIDTH = 0.22  # half the width of a bar of the cross, relative to its radius
# Circumradius / equal-area radius: sqrt(pi / (area of the shape with circumradius 1)).
_CIRCUMRADIUS = {
    "circle": 1.0,
    "square": math.sqrt(math.pi / 2.0),
    "triangle": math.sqrt(math.pi / (3.0 * math.sqrt(3.0) / 4.0)),
    "cross": math.sqrt(math.pi / (8 * _CROSS_HALF_WIDTH - 4 * _CROSS_HALF_WIDTH ** 2)),
}
_TILT = 20.0  # degrees either way


def default_demo_root() -> Path:
    """Where the demo dataset lives unless told otherwise: ``data_home()/demo/shapes``."""
    return data_home() / "demo" / "shapes"


def dataset_folder(folder: str) -> str:
    """The dataset an experiment's ``data.folder`` names: ``folder`` itself, or the built-in
    demo dataset (generated on first use) when it is empty."""
    return folder or str(ensure_demo_dataset())


def ensure_demo_dataset(root: Path | str | None = None) -> Path:
    """Return the demo dataset folder, generating it first if needed.

    Generation takes about a second and happens once: the images go to a temporary
    folder next to ``root`` that is renamed into place when complete, so an interrupted
    run never leaves half a dataset (the next call starts over). The images are the same
    on every machine (fixed seed).

    Parameters
    ----------
    root
        The folder to use; default :func:`default_demo_root`.

    Returns
    -------
    Path
        ``root``, holding one sub-folder of PNG images per class in :data:`CLASSES`.

    Raises
    ------
    DataError
        When ``root`` exists with other content (it is not replaced), or cannot be
        written (a disk full too); the message ends in what to do, an imperative clause
        ("…: move it away or set WORKBENCH_HOME to another folder").
    """
    default = root is None
    root = Path(root).expanduser() if root is not None else default_demo_root()
    if _is_current(root):
        return root
    if root.exists():
        if not _is_demo(root) and not (root.is_dir() and not any(root.iterdir())):
            # The default root moves with WORKBENCH_HOME; one given moves with its caller.
            elsewhere = ("set WORKBENCH_HOME to another folder" if default else
                         "choose another folder for the demo")
            raise DataError(f"{root} already exists and is not a Workbench demo dataset: "
                            f"move it away or {elsewhere}")
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    except OSError as e:
        raise _not_written(root, e) from None
    try:
        _generate(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it 0700; the dataset is ordinary user data
        _move_into_place(tmp, root)
    except OSError as e:  # a disk full while the images are written
        raise _not_written(root, e) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _not_written(root: Path, error: OSError) -> DataError:
    """Why the demo dataset ``root`` could not be written (``error``), and what to do."""
    full = error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    todo = ("free some space there or set WORKBENCH_HOME to another folder" if full else
            "set WORKBENCH_HOME to a writable folder")
    return DataError(f"cannot create the demo dataset in {root.parent}: "
                     f"{error.strerror or error}; {todo}")


def _move_into_place(tmp: Path, root: Path) -> None:
    old = None
    if root.exists():
        if _is_current(root):  # another process finished first
            return
        # An outdated demo (or an empty folder): move it aside, then swap the new one in.
        old = root.with_name(f".{root.name}.old-{os.getpid()}")
        os.replace(root, old)
    try:
        os.replace(tmp, root)
    except OSError:
        if _is_current(root):  # lost a race with another process: theirs is as good
            return
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _read_marker(root: Path) -> dict | None:
    try:
        return json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_demo(root: Path) -> bool:
    return _read_marker(root) is not None


def _is_current(root: Path) -> bool:
    marker = _read_marker(root)
    return isinstance(marker, dict) and marker.get("version") == VERSION


def _generate(folder: Path) -> None:
    rng = np.random.default_rng(SEED)
    for name in CLASSES:
        (folder / name).mkdir()
    # Interleave classes so that each class's images use the random stream alike.
    for i in range(IMAGES_PER_CLASS):
        for name in CLASSES:
            render_shape(name, rng).save(folder / name / f"{name}_{i:03d}.png", optimize=False)
    info = {"name": "shapes", "version": VERSION, "classes": list(CLASSES),
            "images_per_class": IMAGES_PER_CLASS, "image_size": IMAGE_SIZE, "seed": SEED}
    # Written last: its presence marks a complete dataset.
    (folder / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def _colours(rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A bright shape colour of any hue on a dark background of any tint.

    Keeping the shape brighter than the background (rather than drawing both colours at
    random) is what lets the small default network learn the task in a few epochs from
    a thousand images; hue, saturation and tint still vary freely.
    """
    bg = tuple(int(v) for v in rng.integers(0, 70, 3))
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.2, 1.0), rng.uniform(0.65, 1.0))
    return (round(255 * r), round(255 * g), round(255 * b)), bg


def _polygon(cx: float, cy: float, radius: float, angle: float,
             points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``points`` (unit polar: (radius factor, angle)) rotated, scaled and moved."""
    return [(cx + radius * f * math.cos(a + angle), cy + radius * f * math.sin(a + angle))
            for f, a in points]


def render_shape(name: str, rng: np.random.Generator, size: int = IMAGE_SIZE) -> Image.Image:
    """Draw one demo image of class ``name`` ("circle", "cross", "square", "triangle")."""
    s = _SUPERSAMPLE
    big = size * s
    fg, bg = _colours(rng)
    img = Image.new("RGB", (big, big), bg)
    draw = ImageDraw.Draw(img)
    if name not in _CIRCUMRADIUS:
        raise ValueError(f"unknown demo shape {name!r}; choose one of {', '.join(CLASSES)}")
    radius = rng.uniform(*_SIZE) * big * _CIRCUMRADIUS[name]
    cx, cy = big / 2 + rng.uniform(-_JITTER, _JITTER, 2) * big
    angle = math.radians(rng.uniform(-_TILT, _TILT))
    if name == "circle":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=fg)
    elif name == "square":
        corners = [(1.0, math.pi / 4 + k * math.pi / 2) for k in range(4)]
        draw.polygon(_polygon(cx, cy, radius, angle, corners), fill=fg)
    elif name == "triangle":
        corners = [(1.0, -math.pi / 2 + k * 2 * math.pi / 3) for k in range(3)]
        draw.polygon(_polygon(cx, cy, radius, angle, corners), fill=fg)
    else:  # cross
        w = _CROSS_HALF_WIDTH
        for bar in (0.0, math.pi / 2):
            corners = [(math.hypot(1, w), bar + math.atan2(w, 1)),
                       (math.hypot(1, w), bar + math.pi - math.atan2(w, 1)),
                       (math.hypot(1, w), bar + math.pi + math.atan2(w, 1)),
                       (math.hypot(1, w), bar - math.atan2(w, 1))]
            draw.polygon(_polygon(cx, cy, radius, angle, corners), fill=fg)
    img = img.reduce(s)
    noisy = np.asarray(img, dtype=np.float32) + rng.normal(0.0, _NOISE_STD, (size, size, 3))
    return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8), "RGB")
