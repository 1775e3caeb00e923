"""``workbench explain``: Grad-CAM pictures of image files, the app's Explain dialog headless.

One PNG per image (the heatmap over the image) and one line per image on stdout: the
file, the predicted class, the class explained, and the PNG written. Exit code 0 when at
least one image was explained (an image that could not be has an error line and a warning
counts them), 2 when none was: the rule of ``workbench predict``. The computation is
:mod:`workbench.core.explain.picture`'s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from workbench.cli.common import UserError, check_output, image_paths, no_image_error

#: Said once, on stderr, before the pictures: what the colours mean.
COLOUR_NOTE = ("note: each PNG draws the image in grey under the heatmap: red where the "
               "evidence for the explained class is strongest, dark blue where there is "
               "none; relative to that map's own strongest point, so a class given 2% has "
               "red places too: read its probability beside it")


def cmd_explain(args: argparse.Namespace) -> int:
    from workbench.core.errors import WorkbenchError
    from workbench.core.explain.bundle import Explainer
    from workbench.core.explain.picture import (SIZE_RANGE, cam_picture, class_index,
                                                network_layer)

    low, high = SIZE_RANGE
    if args.size is not None and not low <= args.size <= high:
        raise UserError(f"--size {args.size}: give the PNG's longer side in pixels, "
                        f"{low} to {high}")
    if not 0 <= args.opacity <= 100:
        raise UserError(f"--opacity {args.opacity}: give a percentage, 0 (the image only) "
                        f"to 100 (the heatmap only)")
    model = args.bundle  # a run folder: its bundle.pt (the loader reads it)
    out_dir = Path(args.out) if args.out else (
        Path(model) if Path(model).is_dir() else Path(model).parent) / "explain"
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir} is a file, not a folder: give a folder (created "
                        f"if needed) for the PNGs")
    check_output(str(out_dir), "--out", folder=True)  # before the network is read
    explainer = Explainer(model)
    for note in explainer.predictor.bundle.notes:  # a checkpoint read as the model
        print(f"note: {note}", file=sys.stderr)
    layer = network_layer(explainer, args.layer)  # an MLP is refused here, with why
    target = class_index(explainer, args.class_name)
    items, missing = image_paths(args.paths)
    items = list(dict.fromkeys(items))  # an image named twice is explained once
    _warn_if_beside_images(out_dir, [i for i in items if i not in missing])
    names = _png_names([i for i in items if i not in missing], args.class_name)
    # Failures before the first image explained wait: if every image fails, that is one
    # mistake to fix, said in one line (as predict says it), not a listing.
    failures: list[tuple[str, str]] = []
    explained = 0
    for item in items:
        reason = missing.get(item)
        if reason is None:
            try:
                pic = cam_picture(explainer, item, target, layer, args.size,
                                  args.opacity / 100)
            except WorkbenchError as e:
                reason = getattr(e, "reason", None) or str(e)
        if reason is not None:
            failures.append((item, reason))
            if explained:
                print(f"{item}: error: {reason}")
            continue
        if not explained:
            print(COLOUR_NOTE, file=sys.stderr)
            for bad, why in failures:
                print(f"{bad}: error: {why}")
        explained += 1
        (p_name, p), (e_name, q) = pic.predicted, pic.explained
        line = (f"{item}: predicted {p_name} {100 * p:.1f}%; explained {e_name} "
                f"{100 * q:.1f}% at layer {pic.layer}")
        if pic.picture is None:
            print(f"{line}; no PNG: {pic.note}")
            continue
        _make_folder(out_dir)  # here: a command that writes nothing leaves no folder
        png = _write(pic.picture, out_dir / names[item])
        extra = (" (what the network saw: its preprocessing crops the image)"
                 if pic.cropped else
                 " (made smaller: give --size to choose its size)" if pic.shrunk else "")
        print(f"{line}; wrote {png}{extra}")
    if not explained:
        raise no_image_error("explained", failures)
    if failures:  # as predict: exit 0 once one image was explained, its PNG written
        n = len(items)
        print(f"warning: {len(failures)} of {n} images could not be explained (named "
              f"above, with why): give image files that can be read", file=sys.stderr)
    return 0


def _png_names(items: list[str], class_name: str | None) -> dict[str, str]:
    """A PNG name per image, ``STEM-grad-cam.png`` (the dialog's), ``-CLASS`` before
    ``.png`` for a chosen class; images of the same name in different folders get their
    folder's name before it, then a number, so none replaces another."""
    suffix = "-grad-cam" + (f"-{_safe(class_name)}" if class_name else "")
    names: dict[str, str] = {}
    used: set[str] = set()
    for item in items:
        p = Path(item)
        stem = _safe(p.stem) or "image"
        candidates = [stem, f"{_safe(p.parent.name)}-{stem}" if p.parent.name else stem]
        name = next((c + suffix + ".png" for c in candidates
                     if (c + suffix + ".png").casefold() not in used), None)
        n = 2
        while name is None or name.casefold() in used:
            name = f"{stem}{suffix}-{n}.png"
            n += 1
        used.add(name.casefold())
        names[item] = name
    return names


def _safe(text: str) -> str:
    """``text`` fit for a file name on every system (path separators and reserved
    characters become ``_``)."""
    return "".join("_" if c in '<>:"/\\|?*' or ord(c) < 32 else c for c in text).strip(". ")


def _make_folder(out_dir: Path) -> None:
    from workbench.core.io import write_error

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(write_error(out_dir, e, "give --out a folder you can write to")) from None


def _write(picture, path: Path) -> Path:
    from workbench.core.explain.picture import save_png
    from workbench.core.io import write_error

    try:
        return save_png(picture, path)
    except OSError as e:
        raise UserError(write_error(path, e, "give --out a folder you can write to")) from None


def _warn_if_beside_images(out_dir: Path, items: list[str]) -> None:
    """A folder of images may be a class of a dataset: PNGs written there would be
    trained on (the Explain dialog warns the same)."""
    target = os.path.realpath(out_dir)
    if any(os.path.realpath(os.path.dirname(os.path.abspath(i))) == target for i in items):
        print(f"note: the PNGs go beside the images they explain, in {out_dir}: if that "
              f"folder is a class of a dataset, they become training images; give --out "
              f"another folder", file=sys.stderr)
