"""The evaluation pipeline's steps as plain data: what to do to an image file, in order.

:func:`evaluation_steps` is the one description of Workbench's inference preprocessing
that leaves Workbench: the ONNX export writes it into its JSON
(:func:`workbench.core.export.preprocessing.preprocessing_document`, as ``"steps"``), and
the code export lists it in its header and implements it in the generated ``preprocess()``
(:mod:`workbench.core.model.codegen_preprocess`). The steps come from the same plan the
evaluation pipeline is built from (:func:`workbench.core.data.augment.transforms._plan`
with ``train=False``), so neither can describe another preprocessing than the one the model
was validated with. The first step, ``convert``, lists in ``rules`` every conversion
:func:`~.images.load_image` applies to a file (the reduced-size JPEG decode, EXIF
orientation, 16-bit to 8-bit, palette and transparency onto white, the colour mode), with
the formulas.
"""

from __future__ import annotations

from typing import Any

from torchvision.transforms import v2

from workbench.core.data.steps import ToChannelsImage

_CONVERT_NOTE = ("decode the file with Pillow and make it upright (EXIF), scale 16-bit images "
                 "to 8 bits, composite transparency onto white, convert to the model's "
                 "colour mode: apply 'rules' in order, each when its 'when' holds")

#: Pillow's integer ITU-R 601 luma: L = (19595 R + 38470 G + 7471 B + 32768) >> 16.
_LUMA = [19595, 38470, 7471]


def _convert_rules(target: str, min_side: int) -> list[dict[str, Any]]:
    """What :func:`workbench.core.data.images.load_image` does to a file, step by step: the
    conversions a reader must repeat to feed the model what it was trained on."""
    if target == "L":
        final = ("image.convert('L'): from RGB, L = (19595 R + 38470 G + 7471 B + 32768) >> 16 "
                 "(Pillow's integer ITU-R 601 luma); from 1 (bilevel): 0 or 255; from CMYK, "
                 "YCbCr, LAB or HSV: Pillow's own conversion")
    else:
        final = ("image.convert('RGB'): from L, the value copied to R, G and B; from 1 "
                 "(bilevel): 0 or 255; from CMYK, YCbCr, LAB or HSV: Pillow's own conversion")
    rules: list[dict[str, Any]] = [
        {"id": "decode", "when": "always",
         "do": "open the file with Pillow (PIL.Image.open, then load()); an animated image "
               "(GIF, APNG, WebP) gives its first frame. Pillow itself decodes 16-bit colour "
               "and 16-bit gray+alpha images (e.g. PNG) to 8 bits by keeping each sample's "
               "high byte (v >> 8); a 16-bit grayscale image stays 16-bit (mode I;16) for "
               "the rule 'sixteen_bit'"},
        {"id": "jpeg_draft",
         "when": f"the file is a JPEG (Pillow's format JPEG or MPO) whose shorter side is at "
                 f"least {2 * min_side} pixels",
         "do": f"before load(): image.draft(image.mode, ({min_side}, {min_side})): libjpeg "
               f"decodes at 1/2, 1/4 or 1/8 of the size, the smallest that keeps both sides "
               f"at least {min_side} (twice the largest size the steps below resize or crop "
               f"to), in the file's own colour mode",
         "formats": ["JPEG", "MPO"], "min_side": min_side},
        {"id": "reduce",
         "when": f"after load(): the mode is RGB or L and the shorter side is at least "
                 f"{4 * min_side} pixels (after a jpeg_draft too, when 1/8 left it that "
                 f"large)",
         "do": f"image = image.reduce(min(min(width, height) // {min_side}, 8)): Pillow's "
               f"average of each whole-factor box (factors 4 to 8), keeping image.info and "
               f"the EXIF block for the rules below",
         "min_side": min_side, "smallest_factor": 4, "largest_factor": 8},
        {"id": "exif_orientation", "when": "the image has an EXIF Orientation tag",
         "do": "turn it upright: PIL.ImageOps.exif_transpose(image) (a damaged EXIF block is "
               "ignored: the image is kept as stored)"},
        {"id": "already_done",
         "when": f"the mode is {target} and image.info has no 'transparency' key",
         "do": "skip the rules below"},
        {"id": "sixteen_bit",
         "when": "mode I;16 (any byte order: I;16, I;16B, I;16L, I;16N), or mode I (32-bit "
                 "integers) holding a value above 255",
         "do": "v8 = numpy.rint(numpy.clip(v, 0, 65535) / 257) as uint8 (rint: halves to "
               "even), a mode L image. Not Pillow's convert('L'), which clips at 255 and turns "
               "most of a 16-bit image white",
         "clip": [0, 65535], "divide_by": 257, "rounding": "half_to_even"},
        {"id": "thirty_two_bit", "when": "mode I with every value at most 255",
         "do": "v8 = numpy.clip(v, 0, 255) as uint8, a mode L image"},
        {"id": "float", "when": "mode F (32-bit floats)",
         "do": "NaN becomes 0, +inf 255, -inf 0; when every value lies in [0, 1], multiply "
               "by 255; v8 = numpy.clip(numpy.rint(v), 0, 255) as uint8, a mode L image"},
        {"id": "palette", "when": "mode P or PA (a palette)",
         "do": "image.convert('RGBA') for PA or when image.info has 'transparency', else "
               "image.convert('RGB')"},
        {"id": "transparency",
         "when": "mode RGBA, LA, RGBa or La, or image.info has 'transparency' (a transparent "
                 "colour)",
         "do": "composite onto opaque white: rgba = image.convert('RGBA'), then each colour "
               "channel c with alpha a (0-255) becomes floor((c * a + 255 * (255 - a)) / 255 "
               "+ 0.5), as Image.new('RGBA', image.size, (255, 255, 255, 255))"
               ".alpha_composite(rgba) gives; alpha is dropped (mode RGB)",
         "background": [255, 255, 255]},
        {"id": "to_mode", "when": f"the mode is still not {target}", "do": final},
        {"id": "to_array", "when": "always",
         "do": f"numpy.asarray(image) (uint8, (H, W) for L, (H, W, 3) for RGB), channels "
               f"first: (C, H, W) with C = {1 if target == 'L' else 3}"},
    ]
    if target == "L":
        rules[-2]["luma_weights"] = _LUMA
        rules[-2]["luma_shift"] = 16
    return rules


def _step(step: Any, min_side: int) -> dict[str, Any]:
    """One pipeline step as plain data another program can follow (``min_side``: the size
    JPEGs are decoded at, :func:`~workbench.core.data.augment.pipeline.decode_side`)."""
    t = step.transform
    if isinstance(t, ToChannelsImage):
        mode = "RGB" if t.channels == 3 else "L"
        return {"op": "convert", "mode": mode, "note": _CONVERT_NOTE,
                "rules": _convert_rules(mode, min_side)}
    if isinstance(t, v2.Resize):
        size = [int(s) for s in t.size]
        return {"op": "resize", "size": size,
                "mode": "exact" if len(size) == 2 else "shorter_side",
                "interpolation": str(getattr(t.interpolation, "value", t.interpolation)),
                "antialias": bool(t.antialias),
                "note": "on the uint8 (C, H, W) image, as torchvision.transforms.v2."
                        "functional.resize(x, size, interpolation, antialias=True); the "
                        "result stays uint8 (rounded). exact: size is [H, W]; shorter_side: "
                        "the shorter side becomes size[0] and the other int(size[0] * "
                        "longer / shorter). Pillow's image.resize((W, H), Image.BILINEAR) "
                        "is the same antialiased filter and agrees within 1 of 255"}
    if isinstance(t, v2.CenterCrop):
        return {"op": "center_crop", "size": [int(s) for s in t.size],
                "note": "the centre region of size [h, w]: top = round((H - h) / 2), left = "
                        "round((W - w) / 2) (Python's round), x[:, top:top + h, left:left + "
                        "w]; an image smaller than the crop is first padded with zeros, "
                        "(w - W) // 2 columns on the left and (w - W + 1) // 2 on the right, "
                        "rows alike"}
    if isinstance(t, v2.Grayscale):
        return {"op": "grayscale", "channels": int(t.num_output_channels),
                "weights": [0.2989, 0.587, 0.114],
                "note": "on the uint8 image: from 3 channels, L = 0.2989 R + 0.587 G + 0.114 "
                        "B in float32, truncated to uint8, then copied to every output "
                        "channel; 1 channel is copied as it is"}
    if isinstance(t, v2.ToDtype):
        return {"op": "scale", "divide_by": 255.0, "dtype": "float32",
                "note": "x.astype(float32) / 255: values in [0, 1]"}
    if isinstance(t, v2.Normalize):
        return {"op": "normalize", "mean": [float(m) for m in t.mean],
                "std": [float(s) for s in t.std], "note": "(x - mean) / std per channel"}
    # A deterministic step added to the registry later: its description still says it.
    return {"op": step.role or type(t).__name__, "description": step.text}


def evaluation_steps(exp: Any) -> list[tuple[str, dict[str, Any]]]:
    """The steps of ``exp``'s evaluation pipeline, each as ``(text, step)``: the one-line
    description the pipeline view shows, and the step as plain data (``{"op": ...}`` with
    its sizes, constants and a ``note`` or the ``convert`` step's ``rules``).

    Raises
    ------
    SpecError
        For an experiment whose pipeline cannot be built (naming the field).
    """
    from workbench.core.data.augment.pipeline import decode_side
    from workbench.core.data.augment.transforms import _plan

    plan = _plan(exp, train=False)
    side = decode_side(exp, (_plan(exp, train=True), plan))
    return [(s.text, _step(s, side)) for s in plan]


__all__ = ["evaluation_steps"]
