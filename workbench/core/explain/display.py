"""Turning explanation arrays into pictures: a colour map, heatmap overlays, tile grids.

Numpy only (plus torch for one resize), so the core needs no plotting library; the GUI
shows the returned uint8 / float arrays as they are. :mod:`workbench.core.explain.methods` re-exports
everything here.
"""

from __future__ import annotations

import math

import numpy as np
import torch

# The classic "jet" ramp (dark blue, blue, cyan, yellow, red, dark red): the colour map
# Grad-CAM figures are usually drawn with, so users recognise "red = looked here".
_JET_AT = np.array([0.0, 0.125, 0.375, 0.625, 0.875, 1.0])
_JET_RGB = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0],
                     [1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]])


def colormap(values: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to jet colours.

    Parameters
    ----------
    values
        Any shape; values outside [0, 1] are clipped, NaN counts as 0.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``values.shape + (3,)``: 0 is dark blue, 1 dark red.
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0).clip(0.0, 1.0)
    rgb = np.stack([np.interp(v, _JET_AT, _JET_RGB[:, c]) for c in range(3)], axis=-1)
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"overlay needs an image of shape (H, W, 3) or (H, W), "
                         f"not {tuple(np.shape(image))}")
    if img.dtype != np.uint8:
        raise ValueError(f"overlay needs a uint8 image (0-255), not {img.dtype}")
    return img


def resize_map(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map to ``size`` = (height, width); float32."""
    h = np.asarray(heatmap, dtype=np.float32)
    if h.ndim != 2:
        raise ValueError(f"a heatmap is 2-D (H, W), not shape {h.shape}")
    if h.shape == tuple(size):
        return h
    t = torch.from_numpy(np.ascontiguousarray(h))[None, None]
    out = torch.nn.functional.interpolate(t, size=tuple(int(s) for s in size),
                                          mode="bilinear", align_corners=False)
    return out[0, 0].numpy()


def in_proportion(image: np.ndarray, source_size: tuple[int, int],
                  max_side: int = 2048) -> np.ndarray:
    """Stretch the network's input picture back to the original image's proportions.

    The pipeline resized a (H, W) original to the network's (h, w) input, squashing it when
    the aspects differ; this undoes the squash by enlarging one side (nearest neighbour, so
    each input pixel stays a visible block): a 48x48 input of a 144x48 original becomes
    48 high, 144 wide. A position keeps its fraction of the width and height, so a heatmap
    over the input, resized to the result (:func:`overlay` does), lies where it did.

    Parameters
    ----------
    image
        (h, w) or (h, w, C): what the network saw.
    source_size
        ``(height, width)`` of the original.
    max_side
        The result's longest side at most (a panorama is not stretched without end).
    """
    img = np.asarray(image)
    h, w = img.shape[:2]
    sh, sw = (max(1, int(v)) for v in source_size)
    if sw * h >= sh * w:   # wider than the input: stretch the width
        new_h, new_w = h, max(1, round(h * sw / sh))
    else:
        new_h, new_w = max(1, round(w * sh / sw)), w
    if max(new_h, new_w) > max_side:
        shrink = max_side / max(new_h, new_w)
        new_h, new_w = max(1, round(new_h * shrink)), max(1, round(new_w * shrink))
    if (new_h, new_w) == (h, w):
        return img
    rows = np.minimum((np.arange(new_h) + 0.5) * h / new_h, h - 1).astype(np.intp)
    cols = np.minimum((np.arange(new_w) + 0.5) * w / new_w, w - 1).astype(np.intp)
    return np.ascontiguousarray(img[rows][:, cols])


def as_grey(image_rgb_uint8: np.ndarray) -> np.ndarray:
    """The image in grey (its luminance), lifted to 64-255 so dark parts stay visible under
    colours; (H, W, 3) uint8. Under a heatmap it keeps the shapes and drops the colours,
    which would mix with the heatmap's (red heat over a blue object reads purple)."""
    img = _as_rgb(image_rgb_uint8).astype(np.float32)
    luma = img @ np.array([0.299, 0.587, 0.114], np.float32)
    grey = (64.0 + luma * (191.0 / 255.0) + 0.5).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def overlay(image_rgb_uint8: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45,
            grey: bool = False) -> np.ndarray:
    """Blend a heatmap, drawn with :func:`colormap`, over an image.

    Parameters
    ----------
    image_rgb_uint8
        (H, W, 3) uint8; a grayscale (H, W) or (H, W, 1) image is repeated to RGB.
    heatmap
        2-D values in [0, 1]; resized (bilinear) to the image's size when it differs.
    alpha
        Weight of the colours, 0 (image only) to 1 (heatmap only).
    grey
        Draw the image in grey (:func:`as_grey`) under the colours, so that every colour
        seen is the heatmap's, over objects of any colour.

    Returns
    -------
    numpy.ndarray
        (H, W, 3) uint8: ``(1 - alpha) * image + alpha * colormap(heatmap)``.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"overlay alpha must be between 0 and 1, not {alpha}")
    img = as_grey(image_rgb_uint8) if grey else _as_rgb(image_rgb_uint8)
    colours = colormap(resize_map(heatmap, img.shape[:2])).astype(np.float32)
    out = (1.0 - alpha) * img.astype(np.float32) + alpha * colours
    return (out + 0.5).clip(0, 255).astype(np.uint8)


def _tile(tiles: np.ndarray, columns: int | None, pad: int, pad_value: float,
          empty_value: float | None = None) -> np.ndarray:
    """Tiles (N, h, w, ...) -> one array (rows*(h+pad)-pad, cols*(w+pad)-pad, ...); the
    cells after the last tile, and the gaps between them, are ``empty_value`` (default
    ``pad_value``)."""
    n, h, w = tiles.shape[:3]
    if n == 0:
        raise ValueError("nothing to tile: the array holds no maps")
    cols = int(columns) if columns else math.ceil(math.sqrt(n))
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    pad = max(0, int(pad))
    grid = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad) + tiles.shape[3:],
                   pad_value, dtype=tiles.dtype)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = tiles[i]
    if empty_value is not None and n < rows * cols:  # the last row's end: no maps there
        r, c = divmod(n, cols)
        grid[r * (h + pad):, c * (w + pad):] = empty_value
    return grid


def feature_grid(maps: np.ndarray, columns: int | None = None, pad: int = 1,
                 pad_value: float = 1.0, empty_value: float | None = None) -> np.ndarray:
    """Tile feature maps (C, h, w) into one 2-D image, row by row.

    Parameters
    ----------
    maps
        What :func:`~workbench.core.explain.methods.feature_maps` returns.
    columns
        Tiles per row; default: about the square root of C (a near-square grid).
    pad
        Pixels between tiles, filled with ``pad_value`` (1.0: white lines between maps
        shown in [0, 1]).
    empty_value
        Fills the cells after the last map and the gaps between them, so they can be
        drawn as background rather than as gaps (default: ``pad_value``).

    Returns
    -------
    numpy.ndarray
        2-D, ``(rows * (h + pad) - pad, columns * (w + pad) - pad)``.
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"feature maps are (C, h, w), not shape {maps.shape}")
    return _tile(maps, columns, pad, pad_value, empty_value)


def filter_grid(filters: np.ndarray, columns: int | None = None, pad: int = 1,
                pad_value: float = 1.0) -> np.ndarray:
    """Tile first-layer filters (N, h, w, 3 or 1) into one (H, W, 3 or 1) image.

    Parameters are as for :func:`feature_grid`; pass what
    :func:`~workbench.core.explain.methods.first_conv_filters` returns.
    """
    filters = np.asarray(filters)
    if filters.ndim != 4:
        raise ValueError(f"filters are (N, h, w, channels), not shape {filters.shape}")
    return _tile(filters, columns, pad, pad_value)


__all__ = ["as_grey", "colormap", "feature_grid", "filter_grid", "in_proportion", "overlay",
           "resize_map"]
