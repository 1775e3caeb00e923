"""Grad-CAM pictures of image files, made headless: what ``workbench explain`` writes.

The computation is the Explain dialog's: :class:`~workbench.core.explain.bundle.Explainer`
prepares the image with the bundle's own evaluation pipeline,
:func:`~workbench.core.explain.methods.grad_cam` makes the map (at the last convolution
unless a layer is chosen) and :func:`~workbench.core.explain.display.overlay` draws it over
the image in grey, as the dialog draws it (the image's own colours would mix with the
heatmap's: red heat over a blue object reads purple).

The picture under the heatmap is the image file itself, upright and in colour, at its own
size (or the size asked for) when the network sees the whole image: its pipeline only
resizes, so a point of the heatmap lies at the same fraction of the width and height of the
file. When the pipeline crops, it is what the network saw (the crop), as the dialog shows
it, enlarged like the dialog's saved pictures.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import WorkbenchError

#: The heatmap's weight over the image (the Explain dialog's default opacity, 45%).
DEFAULT_ALPHA = 0.45
#: Without a size asked for, a picture's longer side is at most this (a 6000x4000 photo
#: gives a 2048x1365 PNG, not a 70-megapixel one).
MAX_SIDE = 2048
#: A picture of what the network saw (a cropping pipeline) is enlarged by a whole factor
#: (nearest neighbour) until its shorter side is at least this: the dialog's Save PNG size.
ENLARGE_TO = 512
#: What ``size`` may be: the longer side in pixels.
SIZE_RANGE = (16, 8192)

NO_GRAD_CAM = ("its network has no convolutional layer (no layer whose output is an "
               "image-like map: an MLP flattens the image into one list of numbers "
               "first), so there is no Grad-CAM for it: Grad-CAM shows where in the image "
               "a convolution's maps hold the evidence for a class, and this network keeps "
               "no positions. Train a network with a Conv2d layer (e.g. the seed-cnn "
               "preset) or a pretrained Backbone to see one")


@dataclass
class CamPicture:
    """One image explained.

    Attributes
    ----------
    path
        The image file.
    predicted, explained
        ``(class name, probability)`` of the network's top class and of the class the map
        explains (the same unless another class was asked for).
    layer
        The label of the layer the map was taken at (``"5 Conv2d"``).
    picture
        (H, W, 3) uint8, the heatmap over the image (in grey); None when the map shows no place
        (``note`` says why: nothing at this layer speaks for the class).
    note
        For a flat map, what it means and what to try; else None.
    cropped
        The picture shows what the network saw (its pipeline crops), not the whole file.
    shrunk
        The image was larger than :data:`MAX_SIDE` and the picture was made smaller.
    """

    path: str
    predicted: tuple[str, float]
    explained: tuple[str, float]
    layer: str
    picture: np.ndarray | None = None
    note: str | None = None
    cropped: bool = False
    shrunk: bool = False


def network_layer(explainer: Any, name: str | None = None) -> Any:
    """The :class:`~workbench.core.explain.methods.LayerChoice` to explain at.

    ``name`` is a layer's label as the Explain dialog lists it (``"5 Conv2d"``, any case),
    its 1-based number (``"5"``; in a Backbone: its last block with a convolution), the
    part after ``›`` of a Backbone's stage (``"layer4"``), or its module path; None: the
    last convolution.

    Raises
    ------
    WorkbenchError
        For a network without a spatial layer (an MLP: no Grad-CAM, and why), or a name
        that is no such layer (listing those there are).
    """
    from workbench.core.explain.methods import default_layer

    layers = explainer.layers()
    if not layers:
        raise WorkbenchError(f"{_bundle_name(explainer)}: {NO_GRAD_CAM}")
    if name is None:
        return explainer.default_layer()
    text = str(name).strip()
    low = text.casefold()
    found = [c for c in layers if text == c.label or low == c.label.casefold()] or \
        [c for c in layers if low == c.label.split(" › ")[-1].casefold()]
    if not found and text.isdigit():
        number = int(text)
        found = [c for c in layers if c.index == number - 1]
        if not found:
            raise WorkbenchError(_not_spatial(explainer, number, layers))
        found = [default_layer(found)]
    found = found or [c for c in layers if text == c.path]
    if len(found) != 1:
        raise WorkbenchError(f"the network has no layer {text!r} with an image-like "
                             f"output: choose one of {_listed(layers)}")
    return found[0]


def _not_spatial(explainer: Any, number: int, layers: list) -> str:
    specs = explainer.experiment.model.layers
    if 1 <= number <= len(specs):
        return (f"layer {number} ({specs[number - 1].type}) gives no image-like map (it "
                f"comes after the image was flattened or pooled to one value per "
                f"channel), so Grad-CAM cannot be taken there: choose one of "
                f"{_listed(layers)}")
    return (f"the network has no layer {number} (it has {len(specs)}): choose one of "
            f"{_listed(layers)}")


def _listed(layers: list) -> str:
    return ", ".join(repr(c.label) for c in layers)


def _bundle_name(explainer: Any) -> str:
    return str(explainer.predictor.bundle.path or "this bundle")


def class_index(explainer: Any, name: str | None) -> int | None:
    """The index of the class ``name`` (exact, else its only case-insensitive match);
    None for None (each image's predicted class).

    Raises
    ------
    WorkbenchError
        For a name that is none of the model's classes, listing them.
    """
    if name is None:
        return None
    classes = list(explainer.classes)
    if name in classes:
        return classes.index(name)
    same = [i for i, c in enumerate(classes) if c.casefold() == name.casefold()]
    if len(same) == 1:
        return same[0]
    close = difflib.get_close_matches(name, classes, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise WorkbenchError(f"class {name!r} is not one of this model's classes{hint}: choose "
                         f"one of {', '.join(classes)}")


def probabilities(explainer: Any, tensor: Any) -> list[float]:
    """Every class's probability for one preprocessed image, in class order (the model's
    train/eval modes are left as they were)."""
    import torch

    from workbench.core.explain.methods import _Modes

    model = explainer.model
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    with _Modes(model) as m, torch.no_grad():
        probs = torch.softmax(m(tensor.unsqueeze(0).to(device)).float(), dim=1)[0].cpu()
    return [float(v) for v in probs.tolist()]


def picture_size(source: tuple[int, int], size: int | None = None,
                 max_side: int = MAX_SIDE) -> tuple[tuple[int, int], bool]:
    """``((height, width), shrunk)`` of a picture of an image of ``source`` (h, w): its
    own size, or with its longer side ``size``; without ``size``, at most ``max_side``."""
    h, w = (max(1, int(v)) for v in source)
    longer = size if size else min(max(h, w), max_side)
    if longer == max(h, w):
        return (h, w), False
    scale = longer / max(h, w)
    return (max(1, round(h * scale)), max(1, round(w * scale))), not size


def _resized(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """``image`` (H, W, 3) uint8 at ``hw``: enlarged by nearest neighbour (each pixel a
    crisp block, as the dialog shows it), shrunk smoothly."""
    from PIL import Image

    if image.shape[:2] == tuple(hw):
        return image
    h, w = hw
    up = h * w > image.shape[0] * image.shape[1]
    method = Image.Resampling.NEAREST if up else Image.Resampling.LANCZOS
    return np.asarray(Image.fromarray(image).resize((w, h), method))


def _the_file(path: str, hw: tuple[int, int]) -> np.ndarray:
    """The image file, upright, RGB, at ``hw`` (h, w)."""
    from workbench.core.data.images import load_image

    # Decoded at no less than the size needed (draft mode for a big JPEG), then resized.
    return _resized(np.asarray(load_image(path, 3, min_side=min(hw))), hw)


def cam_picture(explainer: Any, path: str, target: int | None = None, layer: Any = None,
                size: int | None = None, alpha: float = DEFAULT_ALPHA) -> CamPicture:
    """Grad-CAM of the image file ``path`` for class ``target`` (None: the predicted
    class) at ``layer`` (a LayerChoice; None: the last convolution), drawn over the image.

    ``size`` is the picture's longer side (default: see :func:`picture_size`); ``alpha``
    the heatmap's weight, 0 to 1.

    Raises
    ------
    WorkbenchError
        For an image that cannot be read (naming it and why), or a network without a
        spatial layer.
    """
    from workbench.core.explain.display import overlay

    image = explainer.load(path)
    cam = explainer.grad_cam(image, target, layer)
    probs = cam.probabilities  # (one forward pass for both)
    names = list(explainer.classes)
    best = max(range(len(probs)), key=lambda i: probs[i])
    out = CamPicture(str(path), (names[best], probs[best]),
                     (cam.class_name or str(cam.class_index), cam.probability), cam.layer,
                     cropped=not image.whole)
    if cam.flat is not None:  # no place to show: the dialog draws no heatmap either
        out.note = cam.note
        return out
    if image.whole:
        hw, out.shrunk = picture_size(image.source_size or image.display.shape[:2], size)
        out.picture = overlay(_the_file(str(path), hw), cam.heatmap, alpha, grey=True)
        return out
    drawn = overlay(image.display, cam.heatmap, alpha, grey=True)  # the crop the network saw
    h, w = drawn.shape[:2]
    if size:
        hw, _ = picture_size((h, w), size)
    else:
        factor = max(1, -(-ENLARGE_TO // max(1, min(h, w))))
        hw = (h * factor, w * factor)
    out.picture = _resized(drawn, hw)
    return out


def save_png(picture: np.ndarray, path: str | Path) -> Path:
    """Write ``picture`` (H, W, 3) uint8 as a PNG, atomically; returns the path.

    Raises
    ------
    OSError
        When it cannot be written.
    """
    from PIL import Image

    from workbench.core.io import atomic_write

    path = Path(path)
    atomic_write(path, lambda f: Image.fromarray(picture).save(f, "PNG"))
    return path


__all__ = ["CamPicture", "DEFAULT_ALPHA", "ENLARGE_TO", "MAX_SIDE", "NO_GRAD_CAM",
           "SIZE_RANGE", "cam_picture", "class_index", "network_layer", "picture_size",
           "probabilities", "save_png"]
