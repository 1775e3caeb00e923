"""The preprocessing part of exported code: the header's list of steps and ``preprocess()``.

Both come from :func:`workbench.core.data.eval_steps.evaluation_steps`, the list the ONNX
export writes into its JSON as ``"steps"``: the header prints each step with its note (for
``convert``, every rule with its condition), and ``preprocess()`` is one line per step
calling a helper that does exactly that step, so running the exported file gives the
probabilities Workbench gives (the tests hold it to :class:`~workbench.core.predict.Predictor`).
A file it cannot read raises ``UnreadableImageError`` with Workbench's reason (an empty file,
not an image, a HEIC photo: the texts are copied from :mod:`workbench.core.data.images`).

The helpers need Pillow and numpy, which ``build_model()`` does not: they import them
inside, so the file still imports with torch alone.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from workbench.core import errors
from workbench.core.model.codegen_source import comment_text, literal

_WIDTH = 90


@dataclass
class Preprocessing:
    """What :func:`preprocessing_code` gives: ``header`` lines (without ``#``) and the
    ``source`` of the constants and functions (empty when the steps cannot be built);
    ``summary``: the steps' :func:`~workbench.core.export.summary.input_summary` (the
    ``MEAN``/``STD`` and colour the file gives), None when they cannot be built."""

    header: list[str]
    source: str
    summary: dict[str, Any] | None = None


def preprocessing_code(exp: Any, has_classes: bool) -> Preprocessing:
    """The header lines and the source of ``preprocess()``/``predict()`` for ``exp``.

    Parameters
    ----------
    exp
        The :class:`~workbench.core.experiment.Experiment` (its data and augment sections).
    has_classes
        Whether the file defines ``CLASSES`` (``predict()`` names its keys from it, else
        from the class indices).
    """
    from workbench.core.data.eval_steps import evaluation_steps
    from workbench.core.export.summary import input_summary

    try:
        steps = evaluation_steps(exp)
    except errors.WorkbenchError as e:
        return Preprocessing([f"Preprocessing: cannot be listed: {e}"], "")
    header = ["Preprocessing: the network was trained on images prepared by these steps (the "
              "\"steps\" of", "the ONNX export's JSON); preprocess(image) below does them "
              "all, and predict(model, images)", "gives Workbench's probabilities:"]
    for i, (text, step) in enumerate(steps, 1):
        header.append(f"  {i}. {text} [{step['op']}]")
        header += _wrap(step.get("note"), "       ")
        for rule in step.get("rules", ()):
            when = "" if rule["when"] == "always" else f" (when {rule['when']})"
            header += _wrap(f"- {rule['id']}{when}: {rule['do']}", "       ", "         ")
    summary = input_summary([step for _, step in steps], int(exp.data.channels))
    folded = sum(step["op"] == "normalize" for _, step in steps) > 1
    header += _wrap("(INPUT_SHAPE, MEAN and STD below hold the sizes and constants.)"
                    if summary["complete"] and not folded else
                    "(INPUT_SHAPE below holds the sizes; MEAN and STD " + (
                        "the normalize steps folded into one.)" if summary["complete"] else
                        "only part of the steps: they do more, as preprocess() does.)"),
                    "  ", "   ")
    return Preprocessing(header, _source(steps, has_classes), summary)


def _wrap(text: str | None, indent: str, then: str | None = None) -> list[str]:
    if not text:
        return []
    return textwrap.wrap(text, _WIDTH, initial_indent=indent,
                         subsequent_indent=then or indent, break_on_hyphens=False)


def _source(steps: list[tuple[str, dict[str, Any]]], has_classes: bool) -> str:
    convert = steps[0][1]
    rules = {r["id"]: r for r in convert.get("rules", ())}
    side = int(rules["jpeg_draft"]["min_side"]) if "jpeg_draft" in rules else 0
    lines = ["def preprocess(image) -> torch.Tensor:",
             '    """An image file (or PIL image) prepared as the header\'s steps say: a '
             'float32',
             '    tensor INPUT_SHAPE, ready for the network (torch.stack several for a '
             'batch)."""']
    used = ["_convert"]
    for i, (text, step) in enumerate(steps, 1):
        call, helper = _call(step)
        if helper:
            used.append(helper)
        lines.append(f"    # {i}. {comment_text(text)}")
        lines.append(f"    {call}")
    lines.append("    return x")
    constants = [
        "# Preprocessing constants (step 1's rules): files are decoded at no less than "
        "DECODE_SIDE",
        "# pixels a side, and converted to COLOR_MODE.",
        f"DECODE_SIDE = {side}",
        f"COLOR_MODE = {literal(convert.get('mode', 'RGB'))}", "", _reasons()]
    parts = ["\n".join(constants), *(_HELPERS[h] for h in dict.fromkeys(used)),
             "\n".join(lines), _PREDICT.replace("CLASS_NAMES", "CLASSES" if has_classes else
                                                "[str(i) for i in range(NUM_CLASSES)]")]
    return "\n\n\n".join(p.strip("\n") for p in parts)


def _reasons() -> str:
    """The constants of why a file cannot be read, copied from
    :mod:`workbench.core.data.images` so that the exported code says what Workbench says."""
    from workbench.core.data import images

    lines = ["# Why a file cannot be read, in Workbench's words (UnreadableImageError's "
             "messages).", "# HEIC photos: pip install pillow-heif, then call "
             "pillow_heif.register_heif_opener() first.",
             f"EMPTY_FILE = {literal(images.EMPTY_FILE)}",
             f"NOT_AN_IMAGE = {literal(images.NOT_AN_IMAGE)}",
             f"FILE_NOT_FOUND = {literal(images.FILE_NOT_FOUND)}",
             f"CORRUPT = {literal(images.CORRUPT)}",
             "PHOTO_FORMAT_HINTS = {  # a photo format this Pillow cannot read: what to do"]
    for ext in images.PHOTO_FORMATS:
        parts = textwrap.wrap(images.photo_format_hint(ext), 72, drop_whitespace=False,
                              break_on_hyphens=False)
        lines.append(f"    {literal(ext)}: (" + "\n              ".join(
            literal(p) for p in parts) + "),")
    return "\n".join(lines + ["}"])


def _call(step: dict[str, Any]) -> tuple[str, str | None]:
    """The line of ``preprocess()`` doing ``step`` (on ``x``), and the helper it needs."""
    op = step["op"]
    if op == "convert":
        return "x = _convert(image)", None
    if op == "resize":
        return (f"x = _resize(x, {literal(step['size'])}, {literal(step['interpolation'])}, "
                f"antialias={literal(step['antialias'])})", "_resize")
    if op == "center_crop":
        return f"x = _center_crop(x, {literal(step['size'])})", "_center_crop"
    if op == "grayscale":
        return f"x = _grayscale(x, {literal(step['channels'])})", "_grayscale"
    if op == "scale":
        return "x = x.to(torch.float32).mul_(1.0 / 255)", None
    if op == "normalize":
        return (f"x = _normalize(x, {literal(step['mean'])}, {literal(step['std'])})",
                "_normalize")
    return (f"raise NotImplementedError({literal(op + ': ' + step.get('description', ''))})",
            None)


# Each helper repeats exactly what Workbench does for its step: load_image and to_channels
# (workbench.core.data.images) for convert, torchvision.transforms.v2's kernels for the rest.
_HELPERS = {"_convert": '''
class UnreadableImageError(ValueError):
    """A file that preprocess() cannot read; the message says why, as Workbench says it."""


def _open(path):
    """Image.open(path); a file that is empty, not an image or in a photo format this
    Pillow cannot read raises UnreadableImageError, saying so."""
    from PIL import Image, UnidentifiedImageError, features

    try:
        return Image.open(path)
    except UnidentifiedImageError:
        if isinstance(path, str) or hasattr(path, "__fspath__"):
            with open(path, "rb") as f:
                if not f.read(1):
                    raise UnreadableImageError(EMPTY_FILE) from None
        ext = "." + str(path).rpartition(".")[2].lower()
        if ext in (".heic", ".heif"):  # readable once pillow-heif is installed
            try:
                import pillow_heif
            except ImportError:
                pass
            else:
                pillow_heif.register_heif_opener()
                return Image.open(path)
        readable = ext in Image.registered_extensions() and (
            ext != ".avif" or features.check("avif"))
        hint = None if readable else PHOTO_FORMAT_HINTS.get(ext)
        raise UnreadableImageError(hint or NOT_AN_IMAGE) from None


def _convert(image):
    """Step 1: a file decoded and converted by its rules, or a PIL image converted (as
    Workbench's Predict converts an image it is handed: made upright by its EXIF
    orientation as a file is, at the size it was decoded at); a uint8 tensor (C, H, W)."""
    import numpy as np
    from PIL import Image, ImageOps

    if isinstance(image, Image.Image):
        try:  # exif_orientation: Image.open() leaves a photo as stored (often sideways)
            if image.getexif().get(0x0112, 1) != 1:
                image = ImageOps.exif_transpose(image)
        except Exception:  # a damaged EXIF block: keep the image as stored
            pass
        img = _to_color_mode(image)
    else:
        with _open(image) as im:  # decode
            if im.format in ("JPEG", "MPO") and min(im.size) >= 2 * DECODE_SIDE:  # jpeg_draft
                try:
                    im.draft(im.mode, (DECODE_SIDE, DECODE_SIDE))
                except (OSError, ValueError):
                    pass
            im.load()
            factor = min(min(im.size) // DECODE_SIDE, 8)
            if factor >= 4 and im.mode in ("RGB", "L"):  # reduce
                reduced = im.reduce(factor)
                reduced.info = dict(im.info)
                reduced.getexif().update(im.getexif())
                im = reduced
            try:  # exif_orientation
                im = ImageOps.exif_transpose(im)
            except Exception:  # a damaged EXIF block: keep the image as stored
                pass
            img = _to_color_mode(im)
            img = img.copy() if img is im else img
    w, h = img.size
    # to_array
    return torch.from_numpy(np.array(img, copy=True)).view(h, w, -1).permute(2, 0, 1)


def _to_color_mode(im):
    """Step 1's rules from already_done to to_mode."""
    import numpy as np
    from PIL import Image

    if im.mode == COLOR_MODE and "transparency" not in im.info:  # already_done
        return im
    if im.mode.startswith("I") or im.mode == "F":
        v = np.asarray(im)
        if im.mode == "F":  # float
            v = np.nan_to_num(v.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
            if v.size and v.min() >= 0.0 and v.max() <= 1.0:
                v = v * 255.0
            v = np.clip(np.rint(v), 0, 255)
        else:
            v = v.astype(np.int64)
            if im.mode.startswith("I;16") or (v.size and v.max() > 255):  # sixteen_bit
                v = np.rint(np.clip(v, 0, 65535) / 257.0)
            else:  # thirty_two_bit
                v = np.clip(v, 0, 255)
        im = Image.fromarray(v.astype(np.uint8), "L")
    if im.mode in ("P", "PA"):  # palette
        im = im.convert("RGBA" if im.mode == "PA" or "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "RGBa", "La") or "transparency" in im.info:  # transparency
        flat = Image.new("RGBA", im.size, (255, 255, 255, 255))
        flat.alpha_composite(im.convert("RGBA"))
        im = flat.convert("RGB")
    if im.mode != COLOR_MODE:  # to_mode
        im = im.convert(COLOR_MODE)
    return im
''', "_resize": '''
def _resize(x, size, interpolation="bilinear", antialias=True):
    """torchvision.transforms.v2.functional.resize(x, size, interpolation, antialias)."""
    import platform

    h, w = x.shape[-2:]
    if len(size) == 1:  # the shorter side becomes size[0]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = size[0], int(size[0] * long / short)
        size = [new_long, new_short] if w <= h else [new_short, new_long]
    if (size[0], size[1]) == (h, w):
        return x
    smooth = interpolation in ("bilinear", "bicubic")
    # torchvision resizes uint8 natively where torch has a fast kernel, else in float
    # then rounds: the two differ by one grey level here and there.
    native = x.dtype == torch.uint8 and (interpolation == "bicubic" or (
        interpolation == "bilinear" and (
            torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")
            or platform.machine() in ("aarch64", "arm64"))))
    cast = x.dtype == torch.uint8 and not native and interpolation != "nearest"
    y = torch.nn.functional.interpolate(
        (x.float() if cast else x).contiguous()[None], size=list(size), mode=interpolation,
        align_corners=False if smooth else None, antialias=antialias and smooth)[0]
    if cast:
        y = y.clamp_(0, 255).round_().to(torch.uint8)
    return y
''', "_center_crop": '''
def _center_crop(x, size):
    """torchvision.transforms.v2.functional.center_crop(x, size): pads with zeros first
    when the image is smaller than the crop."""
    ch, cw = (size[0], size[0]) if len(size) == 1 else size
    h, w = x.shape[-2:]
    if ch > h or cw > w:
        pad = [(cw - w) // 2 if cw > w else 0, (cw - w + 1) // 2 if cw > w else 0,
               (ch - h) // 2 if ch > h else 0, (ch - h + 1) // 2 if ch > h else 0]
        x = torch.nn.functional.pad(x, pad, value=0)
        h, w = x.shape[-2:]
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return x[..., top:top + ch, left:left + cw]
''', "_grayscale": '''
def _grayscale(x, channels):
    """torchvision.transforms.v2.functional.rgb_to_grayscale(x, channels)."""
    if x.shape[-3] == 1:
        return x.clone() if channels == 1 else x.repeat(3, 1, 1)
    r, g, b = x.unbind(dim=-3)
    gray = r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(-3).to(x.dtype)
    return gray.expand(x.shape) if channels == 3 else gray
''', "_normalize": '''
def _normalize(x, mean, std):
    """(x - mean) / std per channel."""
    mean = torch.as_tensor(mean, dtype=x.dtype).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=x.dtype).view(-1, 1, 1)
    return x.sub(mean).div_(std)
'''}

_PREDICT = '''
@torch.no_grad()
def predict(model, images) -> list:
    """Class probabilities for image files (or PIL images), as Workbench predicts them:
    one {class name: probability} dict per image, in the order of the classes. A PIL image
    is made upright by its EXIF orientation, as a file is, but is taken at the size it was
    decoded at: a large JPEG's path gives Workbench's numbers exactly. ``model``
    (with the bundle's weights loaded) is put in eval mode. A file that cannot be read
    (empty, not an image, missing, truncated) is skipped with a line on stderr saying why:
    its entry is None, and the others are still classified."""
    import sys

    from PIL import Image

    if isinstance(images, (str, bytes)) or hasattr(images, "__fspath__") \\
            or hasattr(images, "getpixel"):
        images = [images]
    model.eval()
    device = next(model.parameters(), torch.zeros(())).device
    tensors = {}
    for i, image in enumerate(images):
        try:
            tensors[i] = preprocess(image)
        except UnreadableImageError as e:  # empty, not an image...: Workbench's words
            print(f"skipped {image}: {e}", file=sys.stderr)
        except FileNotFoundError:
            print(f"skipped {image}: {FILE_NOT_FOUND}", file=sys.stderr)
        except (OSError, ValueError, SyntaxError,  # PIL's errors for unreadable files,
                Image.DecompressionBombError) as e:  # and a picture over its pixel limit
            reason = str(e).strip() or type(e).__name__
            said = CORRUPT if "truncat" in reason.lower() else \\
                f"cannot be read as an image ({reason})"
            print(f"skipped {image}: {said}", file=sys.stderr)
    out = [None] * len(images)
    if tensors:
        x = torch.stack(list(tensors.values())).to(device)
        probs = torch.softmax(model(x).float(), dim=1).cpu()
        for i, p in zip(tensors, probs):
            out[i] = dict(zip(CLASS_NAMES, p.tolist()))
    return out
'''

__all__ = ["Preprocessing", "preprocessing_code"]
