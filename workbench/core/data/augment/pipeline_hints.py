"""Hints about the pipeline itself: sizes that miss the images, a second normalisation,
colour jitter that grayscale images ignore.

A CenterCrop of 4096x4096 on 160x120 photos is mostly black padding, and a crop of 1x1
keeps one pixel; both are in the evaluation and prediction pipeline too. A RandomCrop of
the input size (64x64) on 640x480 photos keeps a small patch of each, with no Resize
before it. A Resize to 4096x4096 before the pipeline's own resize to ``data.input_size``
costs time and adds no detail. A Normalize step runs on top of the ``data.mean`` /
``data.std`` normalisation every pipeline ends with, so images are normalised twice (and a
tiny std blows values up).
:func:`pipeline_hints` says so, naming the step and the dataset's typical image size
(:func:`typical_image_size`), with a :class:`~.fixes.Fix` where one edit answers it;
:func:`all_hints` adds the label hints of :mod:`.hints`. Torch-free and headless.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from workbench.core.data.augment.fixes import Fix, Hint, insert_before, remove, set_params
from workbench.core.data.augment.hints import _spec, label_hints
from workbench.core.data.augment.naming import step_label

#: A crop whose area is less than this share image (the rest is padding) gets a hint.
MIN_IMAGE_SHARE = 0.5
#: A crop that keeps less than this share of the image's area gets a hint.
MIN_KEPT_SHARE = 0.1
#: A RandomCrop of images more than this many times its height and width (with no resize
#: before it) gets a hint: it keeps a small patch of each image.
MAX_CROP_FACTOR = 2
#: A resize to more than this many times the pixels of both the image and the input size
#: (4 times as wide and as high) gets a hint.
MAX_UPSCALE = 16.0
#: A Normalize std under this multiplies values by more than 100.
SMALL_STD = 0.01
#: Image headers read to find the typical size.
SIZE_SAMPLE = 200


def typical_image_size(index: Any, is_cancelled: Callable[[], bool] | None = None,
                       limit: int = SIZE_SAMPLE) -> tuple[int, int] | None:
    """The (height, width) most of a dataset's images have, from their headers only.

    The most common size when at least half the images read have it, else the (lower)
    median height and width; None when no header could be read (or when cancelled).
    Reads at most ``limit`` headers spread over the dataset
    (:func:`~workbench.core.data.defaults.sample_paths`).
    """
    from workbench.core.data.defaults import sample_paths
    from workbench.core.data.index import ScanCancelled
    from workbench.core.data.summary import summarize_images

    try:
        summary = summarize_images(sample_paths(index, limit), is_cancelled=is_cancelled)
    except ScanCancelled:
        return None
    if not summary.count:
        return None
    (w, h), n = summary.sizes.most_common(1)[0]
    if 2 * n < summary.count:
        w, h = summary.median_width, summary.median_height
    return int(h), int(w)


def _hw(size: Sequence[int]) -> str:
    return f"{int(size[0])}x{int(size[1])}"


def _pct(share: float) -> str:
    """A share in words, never rounded to "0%" or "100%" when it is not."""
    if share > 0.99:
        return "over 99%"
    if share < 0.0001:
        return "under 0.01%"
    return f"{share:.2%}" if share < 0.01 else f"{share:.0%}"


def _out_size(name: str, p: dict, size: tuple[int, int] | None,
              input_size: tuple[int, int]) -> tuple[int, int] | None:
    """The (h, w) a sizing step makes of images of ``size`` (None: unknown)."""
    want = list(p.get("size") or input_size)
    if len(want) == 2:
        return int(want[0]), int(want[1])
    if name != "Resize":
        return int(want[0]), int(want[0])
    if size is None:  # the shorter side becomes want[0]: the rest needs the image
        return None
    h, w = size
    s = int(want[0]) / max(1, min(h, w))
    return max(1, round(h * s)), max(1, round(w * s))


def _crop_hint(i: int, p: dict, crop: tuple[int, int], size: tuple[int, int],
               input_size: tuple[int, int], what: str) -> Hint | None:
    ch, cw = crop
    h, w = size
    common = min(h, ch) * min(w, cw)
    image_share, kept_share = common / (ch * cw), common / (h * w)
    label = step_label("CenterCrop", i)
    both = ("Evaluation and prediction crop the same way (CenterCrop is in both "
            "pipelines).")
    if image_share < MIN_IMAGE_SHARE:
        problem = (f"{label} cuts {_hw(crop)} (height x width) out of {what}: "
                   f"{_pct(1 - image_share)} of each crop is black padding. {both} Crop "
                   f"at most the images' size, or remove it.")
    elif kept_share < MIN_KEPT_SHARE:
        problem = (f"{label} keeps {_hw(crop)} (height x width) of {what}: "
                   f"{_pct(kept_share)} of each image. {both} Crop a larger part, or "
                   f"remove it.")
    else:
        return None
    ih, iw = input_size
    fits = min(h, ih) * min(w, iw) >= MIN_IMAGE_SHARE * ih * iw and \
        min(h, ih) * min(w, iw) >= MIN_KEPT_SHARE * h * w
    fix: Fix = (set_params(i, "CenterCrop", {"size": None},
                           f"Crop to the input size ({_hw(input_size)})")
                if fits and p.get("size") is not None and tuple(crop) != tuple(input_size)
                else remove(i, "CenterCrop"))
    return Hint(problem, i, fix)


def _upscale_hint(i: int, name: str, p: dict, out: tuple[int, int], size: tuple[int, int],
                  input_size: tuple[int, int], what: str) -> Hint | None:
    area = out[0] * out[1]
    if p.get("size") is None or \
            area <= MAX_UPSCALE * max(size[0] * size[1], input_size[0] * input_size[1]):
        return None
    made = (f"resizes its crops of {what} to {_hw(out)} (height x width)"
            if name == "RandomResizedCrop" else
            f"makes {_hw(out)} (height x width) images out of {what}")
    return Hint(
        f"{step_label(name, i)} {made}, which the network sees at {_hw(input_size)} "
        f"(data.input_size): slow, and it adds no detail. Use the input size.",
        i, set_params(i, name, {"size": None}, f"Use the input size ({_hw(input_size)})",
                      key="input size"))


def _normalize_hint(i: int, p: dict, data_mean: Any, data_std: Any) -> Hint | None:
    mean = [float(v) for v in p.get("mean") or [0.0]]
    std = [float(v) for v in p.get("std") or [1.0]]
    if all(m == 0.0 for m in mean) and all(s == 1.0 for s in std):
        return None  # (x - 0) / 1 changes nothing
    tiny = [s for s in std if s < SMALL_STD]
    blow = (f" Its std {min(tiny):g} multiplies values by up to {1 / min(tiny):,.0f}."
            if tiny else "")
    return Hint(
        f"{step_label('Normalize', i)} normalises on top of data.mean {list(data_mean)} and "
        f"data.std {list(data_std)}, which every pipeline already ends with: the images "
        f"are normalised twice.{blow} Set data.mean and data.std instead, and remove it.",
        i, remove(i, "Normalize"))


def _gray_jitter_hint(i: int, p: dict) -> Hint | None:
    moot = [k for k in ("saturation", "hue") if float(p.get(k) or 0.0) > 0]
    if not moot:
        return None
    return Hint(
        f"{step_label('ColorJitter', i)} varies {' and '.join(moot)}, which grayscale images "
        f"(data.channels 1) do not have: {'they have' if len(moot) > 1 else 'it has'} no "
        f"effect. Set hue and saturation to 0 (brightness and contrast still apply).",
        i, set_params(i, "ColorJitter", {"saturation": 0.0, "hue": 0.0},
                      "Set hue and saturation to 0"))


def _random_crop_hint(i: int, p: dict, crop: tuple[int, int], size: tuple[int, int],
                      what: str) -> Hint | None:
    pad = 2 * int(p.get("padding") or 0)
    if size[0] > MAX_CROP_FACTOR * crop[0] and size[1] > MAX_CROP_FACTOR * crop[1]:
        side = -(-max(crop) * 8 // 7)  # the classic 256 -> 224: a little room to shift in
        return Hint(
            f"{step_label('RandomCrop', i)} keeps {_hw(crop)} (height x width) of {what}: "
            f"{_pct(crop[0] * crop[1] / (size[0] * size[1]))} of each image, a small random "
            f"patch (evaluation keeps the centre patch). Put a Resize before it (shorter "
            f"side {side}), or use RandomResizedCrop instead.",
            i, insert_before(i, "RandomCrop", {"type": "Resize", "params": {"size": [side]}},
                             f"Resize to {side} first"))
    fits = crop[0] <= size[0] + pad and crop[1] <= size[1] + pad
    if not p.get("pad_if_needed") and not fits:
        padded = f" (with the padding, {_hw((size[0] + pad, size[1] + pad))})" if pad else ""
        return Hint(
            f"{step_label('RandomCrop', i)} cuts {_hw(crop)} (height x width) out of {what}"
            f"{padded}: the crop is larger than the image, so training stops with an error. "
            f"Turn on pad_if_needed, crop at most the images' size, or put a Resize first.",
            i, set_params(i, "RandomCrop", {"pad_if_needed": True}, "Pad images to the crop"),
            stops=True)
    mode = p.get("padding_mode")
    # Each side is padded by the padding, and with pad_if_needed by what the crop lacks.
    sides = [pad // 2 + max(0, c - s - pad) for c, s in zip(crop, size)]
    most = [s - (mode == "reflect") for s in size]
    if mode not in ("reflect", "symmetric") or all(a <= m for a, m in zip(sides, most)):
        return None
    return Hint(
        f"{step_label('RandomCrop', i)} pads {what} by up to {max(sides)} pixels a side to "
        f"cut {_hw(crop)} (height x width) out of them, more than padding_mode {mode} can "
        f"mirror, so training stops with an error. Use padding_mode constant or edge, crop "
        f"at most the images' size, or put a Resize first.",
        i, set_params(i, "RandomCrop", {"padding_mode": "edge"}, "Pad with the edge pixels"),
        stops=True)


def pipeline_hints(transforms: Sequence[Any], image_size: Sequence[int] | None,
                   input_size: Sequence[int], data_mean: Any = (0.5,),
                   data_std: Any = (0.5,), channels: int = 3) -> list[Hint]:
    """Hints about sizes and normalisation in the training list ``transforms``.

    Parameters
    ----------
    transforms
        Components, ``{"type", "params"}`` dicts or names; missing parameters take their
        registry defaults.
    image_size
        The dataset's typical (height, width) (:func:`typical_image_size`); None: no size
        hints (nothing to compare with).
    input_size
        ``data.input_size``: what "auto" sizes mean and what the network sees.
    data_mean, data_std
        ``data.mean`` and ``data.std``, named in the Normalize hint.
    channels
        ``data.channels``: on 1 channel a ColorJitter's hue and saturation do nothing.

    Returns
    -------
    list of Hint
        In the order of ``transforms``: a CenterCrop mostly padding or keeping a sliver
        of the image; a RandomCrop larger than the (padded) image, or padded by a
        reflection wider than the image (both :attr:`~.fixes.Hint.stops` training), or of
        less than half its height and width (a small patch); a Resize or
        RandomResizedCrop far larger than both the image and the input size; a Normalize
        that is not the identity; a ColorJitter's hue or saturation on grayscale images.
        Never raises.
    """
    input_hw = (int(input_size[0]), int(input_size[1]))
    size = (int(image_size[0]), int(image_size[1])) if image_size else None
    what = f"images typically {size[0]} high and {size[1]} wide" if size else ""
    hints: list[Hint] = []
    for i, t in enumerate(transforms):
        try:
            name, p = _spec(t)
            hint = None
            if name in ("Resize", "CenterCrop", "RandomResizedCrop", "RandomCrop"):
                out = _out_size(name, p, size, input_hw)
                if size is not None and out is not None:
                    hint = _crop_hint(i, p, out, size, input_hw, what) \
                        if name == "CenterCrop" else \
                        _random_crop_hint(i, p, out, size, what) if name == "RandomCrop" \
                        else _upscale_hint(i, name, p, out, size, input_hw, what)
                size = out
                what = f"the {_hw(out)} images {step_label(name, i)} makes" if out else ""
            elif name == "Normalize":
                hint = _normalize_hint(i, p, data_mean, data_std)
            elif name == "ColorJitter" and int(channels) == 1:
                hint = _gray_jitter_hint(i, p)
        except (TypeError, ValueError, IndexError, ZeroDivisionError):
            continue  # an invalid step: the pipeline view says what is wrong
        if hint is not None:
            hints.append(hint)
    return hints


def all_hints(experiment: Any, classes: Sequence[str] = (), folder: str = "",
              class_colours: dict | None = None,
              image_size: Sequence[int] | None = None) -> list[Hint]:
    """Every hint about ``experiment.augment.transforms``: the label hints
    (:func:`~.hints.label_hints`) then :func:`pipeline_hints`, each list in step order."""
    transforms = list(experiment.augment.transforms)
    data = experiment.data
    return label_hints(classes, transforms, class_colours, folder) + pipeline_hints(
        transforms, image_size, data.input_size, data.mean, data.std, data.channels)
