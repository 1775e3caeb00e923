"""Decoding one image file into a PIL image with the experiment's channel count.

Every image that enters training, evaluation or prediction goes through :func:`load_image`
(files) or :func:`to_channels` (images already in memory), so a photo is converted the same
way at training time and at prediction time.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import threading
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError, features

from workbench.core.errors import ImageDecodeError

#: File extensions treated as images: torchvision's ``IMG_EXTENSIONS``, matched
#: case-insensitively (``.JPG`` counts), so a folder scans like ``ImageFolder``.
IMG_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif",
                                   ".tiff", ".webp")

#: Phone-camera formats that Pillow reads only with a plugin (HEIC, HEIF: pillow-heif) or a
#: recent build (AVIF): extension -> format name. Those this Pillow can read are accepted
#: (see :data:`EXTRA_EXTENSIONS`); the others are never ignored silently: a scan lists
#: them as unreadable, with :func:`unsupported_reason` saying what to do.
PHOTO_FORMATS: dict[str, str] = {".heic": "HEIC", ".heif": "HEIF", ".avif": "AVIF"}


def _register_plugins() -> None:
    """Read HEIC/HEIF photos when the optional ``pillow-heif`` package is installed (it is
    not a dependency: an iPhone user can add it)."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return
    try:
        register_heif_opener()
    except Exception:  # noqa: BLE001 - a broken plugin: its files are listed as unreadable
        pass


def _readable(ext: str) -> bool:
    try:
        if ext == ".avif" and not features.check("avif"):
            return False  # Pillow registers its AVIF plugin even when built without libavif
        return ext in Image.registered_extensions()
    except Exception:  # noqa: BLE001 - an odd Pillow build: treat the format as unreadable
        return False


def _raise_pillow_limit() -> None:
    # Pillow warns above MAX_IMAGE_PIXELS (89 MP by default) and refuses twice that (179 MP,
    # less than a 200 MP photo). Its refusal is made our limit, so every Image.open in the
    # process (thumbnails, header reads) refuses what load_image refuses. Never lowered: an
    # application may have raised it further (or turned it off with None).
    if Image.MAX_IMAGE_PIXELS is not None and 2 * Image.MAX_IMAGE_PIXELS < MAX_PIXELS:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2


def quiet_bomb_warnings() -> None:
    """Keep Pillow's ``DecompressionBombWarning`` off stderr (an ignore filter, first).

    Pillow warns about every image over half of :func:`pixel_limit`: photos that are
    decoded (a 200-megapixel one), and bombs, which :func:`load_image` refuses with a
    reason. The warning (a file:line trace) tells a user nothing more either way. Called
    before each open, as a filter set once can be undone: ``warnings.catch_warnings``
    blocks restore the filters they found when they end.
    """
    filters = warnings.filters
    if not filters or filters[0] != _QUIET:
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


_register_plugins()
_READABLE_PHOTOS: tuple[str, ...] = tuple(e for e in PHOTO_FORMATS if _readable(e))

#: Extensions accepted in addition to :data:`IMG_EXTENSIONS` (an animated GIF gives its
#: first frame; ``.jfif`` and ``.jpe`` are JPEGs, as browsers on Windows save downloads),
#: and those of :data:`PHOTO_FORMATS` this Pillow can read. Files with these are extra
#: samples: the classes, their order and the other samples stay exactly ``ImageFolder``'s.
EXTRA_EXTENSIONS: tuple[str, ...] = (".gif", ".jfif", ".jpe") + _READABLE_PHOTOS

#: Every extension a dataset scan or a folder drop picks up.
ACCEPTED_EXTENSIONS: tuple[str, ...] = IMG_EXTENSIONS + EXTRA_EXTENSIONS

#: The smallest and largest whole factors :func:`load_image` reduces a non-JPEG image by:
#: at most 8, as far as a JPEG's draft goes (a box average over larger blocks, resized
#: after, drifts from the full image's antialiased resize by several grey levels).
REDUCE_AT_LEAST, REDUCE_AT_MOST = 4, 8

#: The most pixels an image may have: 16384 x 16384 (268 megapixels). Today's largest
#: photos fit (a 200-megapixel phone sensor gives 16320 x 12240, medium format 150 MP, a
#: pixel-shift frame 240 MP); a file that claims more is refused as a decompression bomb
#: (a few KB that would decode into gigabytes). See :func:`pixel_limit`.
MAX_PIXELS = 16384 * 16384
#: An image that decodes to more pixels than this (after a JPEG's reduced-size draft) is
#: decoded while no other such image is, in this process: a 200-megapixel PNG takes 600 MB
#: as RGB and twice that while it is converted, too much to hold once per decoding thread.
BIG_DECODE_PIXELS = 32_000_000
_BIG_DECODE = threading.Lock()


def _new_gate() -> None:
    # A process forked while one of its threads held the gate (a DataLoader worker started
    # during a big decode) would wait on it for ever: the child gets a gate of its own.
    global _BIG_DECODE
    _BIG_DECODE = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_gate)
_QUIET = ("ignore", None, Image.DecompressionBombWarning, None, 0)
_raise_pillow_limit()
quiet_bomb_warnings()

#: Why a file cannot be read, in the words every reader gives (the exported PyTorch code
#: copies them): an empty file, one Pillow does not recognise as an image, a missing one,
#: and one whose data ends early or is damaged.
EMPTY_FILE = "empty file (0 bytes)"
NOT_AN_IMAGE = "not an image file (format not recognised)"
FILE_NOT_FOUND = "file not found (moved or deleted?)"
CORRUPT = "truncated or corrupt image"

# Transparent pixels are composited onto white: icons and cut-outs are usually drawn to be
# seen on a light page, and their hidden RGB values are often meaningless (black or noise).
_BACKGROUND = (255, 255, 255, 255)


def is_image_file(name: str | os.PathLike) -> bool:
    """Whether ``name`` ends with one of :data:`ACCEPTED_EXTENSIONS` (any letter case)."""
    return os.fspath(name).lower().endswith(ACCEPTED_EXTENSIONS)


def unsupported_reason(name: str | os.PathLike) -> str | None:
    """Why a photo named ``name`` cannot be read here and what to do (a HEIC photo without
    pillow-heif installed, an AVIF image on a Pillow without AVIF support), or None."""
    ext = os.path.splitext(os.fspath(name))[1].lower()
    return None if ext in _READABLE_PHOTOS else photo_format_hint(ext)


def photo_format_hint(ext: str) -> str | None:
    """What to do about a photo with extension ``ext`` (one of :data:`PHOTO_FORMATS`, in
    lower case) that a Pillow cannot read, or None for another extension. The exported
    PyTorch code copies these texts."""
    fmt = PHOTO_FORMATS.get(ext)
    if fmt is None:
        return None
    if ext == ".avif":
        return ("AVIF images cannot be read by this Pillow: convert them to JPEG or PNG, "
                "or upgrade Pillow (pip install -U pillow)")
    return (f"{fmt} photos cannot be read: export them as JPEG (on an iPhone: Settings > "
            f"Camera > Formats > Most Compatible), or install pillow-heif "
            f"(pip install pillow-heif)")


def images_in_folder(folder: str | os.PathLike) -> list[str]:
    """Every image file under ``folder`` (recursively, sorted, hidden entries skipped).

    Used wherever a user hands over a folder of images to classify rather than a dataset:
    ``workbench predict DIR`` and folders dropped on the Predict panel. Photos in a format
    this Pillow cannot read (:func:`unsupported_reason`) are included, so that they are
    reported with the reason rather than missing without a word.
    """
    out: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not is_hidden(d))
        out.extend(os.path.join(root, f) for f in sorted(files) if not is_hidden(f)
                   and (is_image_file(f) or unsupported_reason(f) is not None))
    return out


def is_hidden(name: str | os.PathLike) -> bool:
    """Whether a file or folder name is one a scan ignores: dotfiles (``.DS_Store``,
    ``._photo.jpg`` from macOS), the ``__MACOSX`` folder of a zip made on a Mac,
    ``Thumbs.db`` and ``desktop.ini`` from Windows."""
    base = os.path.basename(os.fspath(name).rstrip("/\\"))
    return base.startswith(".") or base.lower() in ("thumbs.db", "desktop.ini", "__macosx")


def load_image(path: str | os.PathLike, channels: int,
               min_side: int | None = None) -> Image.Image:
    """Decode an image file and convert it for a network with ``channels`` inputs.

    Parameters
    ----------
    path
        The image file.
    channels
        3 for an ``"RGB"`` result, 1 for an ``"L"`` (grayscale) result.
    min_side
        The smallest width and height the caller needs (None: the full size). A JPEG
        is then decoded at the smallest of 1/8, 1/4 or 1/2 of its size that keeps both
        sides at least ``min_side`` (Pillow's draft mode: libjpeg scales in the DCT
        domain, several times faster than decoding every pixel of a 12-megapixel photo);
        an RGB or grayscale image still at least 4 times ``min_side`` after that (another
        format, or a JPEG larger than 1/8 scale brings down) is reduced by the largest
        whole factor (4 to 8) that keeps both sides at least ``min_side``
        (``Image.reduce``: a box average, much cheaper than the antialiased resize of the
        full image that follows otherwise). Callers ask for twice the size they resize to
        (:func:`~workbench.core.data.augment.pipeline.decode_side`), so their own
        antialiased resize still does the real work.

    Returns
    -------
    PIL.Image.Image
        A fully loaded image, independent of the file (which is closed), upright
        according to its EXIF orientation tag, in mode ``"RGB"`` or ``"L"``; the first
        frame of an animated image (GIF). See :func:`to_channels` for how other modes
        are converted.

    Raises
    ------
    ImageDecodeError
        When the file cannot be decoded; ``reason`` says why in words, e.g.
        ``"empty file (0 bytes)"``, ``"not an image file (format not recognised)"`` or
        ``"truncated or corrupt image"`` (:func:`corrupt_reason`) or, for more pixels
        than :func:`pixel_limit` (:data:`MAX_PIXELS`),
        ``"decompression bomb: 400,000,000 pixels, over the limit of 268,435,456"``.

    Notes
    -----
    Pillow's ``DecompressionBombWarning`` is never printed (:func:`quiet_bomb_warnings`),
    and an image of more than :data:`BIG_DECODE_PIXELS` is decoded while no other one is.
    """
    _check_channels(channels)
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageDecodeError(path, FILE_NOT_FOUND) from None
    except OSError as e:
        raise ImageDecodeError(path, f"cannot read the file: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageDecodeError(path, "a folder, not an image file")
    if not stat.S_ISREG(st.st_mode):
        # A pipe or device named like an image would block the reader forever.
        raise ImageDecodeError(path, "not a regular file (a pipe, socket or device)")
    if st.st_size == 0:
        raise ImageDecodeError(path, EMPTY_FILE)
    quiet_bomb_warnings()
    try:
        im = Image.open(path)
    except UnidentifiedImageError:
        raise ImageDecodeError(path, unsupported_reason(path) or NOT_AN_IMAGE) from None
    except Image.DecompressionBombError as e:
        raise ImageDecodeError(path, bomb_reason(e)) from None
    except IsADirectoryError:
        raise ImageDecodeError(path, "a folder, not an image file") from None
    except PermissionError:
        raise ImageDecodeError(path, "cannot read the file: permission denied") from None
    except OSError as e:
        if e.errno is None:  # Pillow's parser on damaged bytes ("Truncated File Read")
            raise ImageDecodeError(path, corrupt_reason(e)) from None
        raise ImageDecodeError(path, f"cannot read the file: {e.strerror or e}") from None
    with im:
        reason = _bomb_check(im)
        if reason:
            raise ImageDecodeError(path, reason)
        if min_side:
            _draft(im, int(min_side))
        big = im.size[0] * im.size[1] > BIG_DECODE_PIXELS
        with _BIG_DECODE if big else contextlib.nullcontext():
            return _decode(im, path, channels, min_side)


def _decode(im: Image.Image, path: str, channels: int, min_side: int | None) -> Image.Image:
    try:
        # An animated image (GIF, APNG, WebP) loads its first frame.
        im.load()
    except MemoryError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageDecodeError(path, bomb_reason(e)) from None
    except Exception as e:  # noqa: BLE001
        # Pillow's decoders raise OSError, SyntaxError, ValueError, EOFError,
        # struct.error... on damaged data; every one means the same to a user.
        raise ImageDecodeError(path, corrupt_reason(e)) from None
    if min_side:
        im = _reduce(im, int(min_side))
    try:
        out = to_channels(upright(im), channels)
    except ImageDecodeError as e:
        raise ImageDecodeError(path, e.reason) from None
    # The result must outlive the closed file: conversions already made a new image,
    # copy only when none was needed.
    return out.copy() if out is im else out


def _draft(im: Image.Image, min_side: int) -> None:
    # The colour mode stays the file's: only the scale changes, so every later conversion
    # (to_channels) is the same arithmetic as for a full decode. A no-op for other formats.
    if im.format in ("JPEG", "MPO") and min(im.size) >= 2 * min_side:
        try:
            im.draft(im.mode, (min_side, min_side))
        except (OSError, ValueError):  # pragma: no cover  (then decode in full)
            pass


def _reduce(im: Image.Image, min_side: int) -> Image.Image:
    # Usually nothing is left to reduce after a JPEG's draft; one too large for its 1/8
    # scale (a panorama) is reduced further. Other modes (palette, alpha, 16-bit) are left
    # whole: averaging them before their conversion would change what it gives. By 2 or 3 the box average
    # costs about what it saves the resize after it (measured on 1600x1200 and 4032x3024).
    factor = min(min(im.size) // min_side, REDUCE_AT_MOST)
    if factor < REDUCE_AT_LEAST or im.mode not in ("RGB", "L"):
        return im
    reduced = im.reduce(factor)
    reduced.info = dict(im.info)  # EXIF orientation and the rest still apply
    reduced.getexif().update(im.getexif())
    return reduced


def pixel_limit() -> int | None:
    """The most pixels :func:`load_image` decodes: Pillow's error threshold, twice
    ``PIL.Image.MAX_IMAGE_PIXELS``, which importing this module raises to
    :data:`MAX_PIXELS` (None: no limit, where an application turned Pillow's off)."""
    limit = Image.MAX_IMAGE_PIXELS
    return 2 * int(limit) if limit else None


def bomb_reason(error: BaseException | None = None, pixels: int | None = None) -> str:
    """The reason given for an image over :func:`pixel_limit`.

    ``"decompression bomb: N pixels, over the limit of M"``; ``N`` comes from ``pixels``
    or from the message of a ``DecompressionBombError``.
    """
    if pixels is None and error is not None:
        m = re.search(r"\((\d+) pixels\)", str(error))
        pixels = int(m.group(1)) if m else None
    limit = pixel_limit()
    count = f"{pixels:,} pixels" if pixels is not None else "too many pixels"
    return f"decompression bomb: {count}, over the limit of {limit:,}" if limit else \
        f"decompression bomb: {count}"


def _bomb_check(im: Image.Image) -> str | None:
    # Image.open refuses the same already (its error threshold is pixel_limit); checked
    # again so that the refusal does not depend on each Pillow plugin calling its check.
    limit = pixel_limit()
    pixels = im.size[0] * im.size[1]
    if limit and pixels > limit:
        return bomb_reason(pixels=pixels)
    return None


def to_channels(img: Image.Image, channels: int) -> Image.Image:
    """Convert an in-memory image to mode ``"RGB"`` (``channels=3``) or ``"L"`` (1).

    Conversions: transparent images (RGBA, LA, palette or RGB/L with a transparent
    colour) are composited onto white; palette and bilevel images are expanded; 16-bit
    and 32-bit integer images are scaled to 8 bits (values above 255 are taken as a
    16-bit range); float images are taken as [0, 1] when they fit in it, else as 0-255;
    CMYK and YCbCr go to RGB; RGB to grayscale uses the ITU-R 601 luma weights.

    Raises
    ------
    ImageDecodeError
        With path ``"<image>"`` when the colour mode cannot be converted.
    """
    _check_channels(channels)
    target = "RGB" if channels == 3 else "L"
    if img.mode == target and "transparency" not in img.info:
        return img
    img = _to_8bit(img)
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        flat = Image.new("RGBA", img.size, _BACKGROUND)
        flat.alpha_composite(rgba)
        img = flat.convert("RGB")
    if img.mode != target:
        try:
            img = img.convert(target)
        except (ValueError, OSError) as e:
            raise ImageDecodeError("<image>", f"unsupported colour mode {img.mode}: "
                                              f"{_describe(e)}") from None
    return img


def _to_8bit(img: Image.Image) -> Image.Image:
    # Pillow's own convert("L") clips 16-bit values at 255, turning most of a 16-bit
    # scan white; scale the range down instead.
    mode = img.mode
    if not (mode.startswith("I") or mode == "F"):
        return img
    arr = np.asarray(img)
    if mode == "F":
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        if arr.size and arr.min() >= 0.0 and arr.max() <= 1.0:
            arr = arr * 255.0
        out = np.clip(np.rint(arr), 0, 255)
    else:
        arr = arr.astype(np.int64)
        if mode.startswith("I;16") or (arr.size and arr.max() > 255):
            out = np.rint(np.clip(arr, 0, 65535) / 257.0)
        else:
            out = np.clip(arr, 0, 255)
    return Image.fromarray(out.astype(np.uint8), "L")


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF Orientation tag says (``ImageOps.exif_transpose``, which
    drops the tag: an image made upright already is returned as it is, not copied); a
    damaged EXIF block must not make a decodable image unusable: it is left as stored."""
    try:
        if image.getexif().get(0x0112, 1) != 1:
            return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001  (Pillow raises many kinds for a damaged block)
        pass
    return image


def corrupt_reason(e: BaseException) -> str:
    """``"truncated or corrupt image"`` for a decoder's failure ``e``, with Pillow's words
    after it only when they add something ("broken PNG file"): "Truncated File Read" and
    "image file is truncated (3 bytes not processed)" say the same again, and a bare
    exception name ("EOFError") says nothing to a person."""
    text = _describe(e)
    if "truncat" in text.lower() or text == type(e).__name__:
        return CORRUPT
    return f"{CORRUPT}: {text}"


def _describe(e: BaseException) -> str:
    text = str(e).strip()
    return text if text else type(e).__name__


def _check_channels(channels: int) -> None:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")

