"""The Explain dialog's work, run in pool threads: plain functions over one :class:`Explainer`.

Nothing here touches a widget. Results are plain values and numpy arrays; an explanation
that cannot be made for this network (an MLP has no spatial layer) comes back as a message
in the result instead of an exception, so the parts that do work are still shown.

torch is imported only inside the functions: the module is imported with the dialog, which
the main window imports before torch is loaded.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Feature maps shown at most: a layer of 512 channels would make tiles too small to read.
MAX_MAPS = 64


@dataclass
class Setup:
    """What the dialog needs before any image: choices and the first layer's filters."""

    classes: list[str]
    layers: list[Any]                 # LayerChoice, in network order
    filters: np.ndarray | None        # filter_grid output, float [0, 1]
    filters_error: str | None = None
    filters_count: int = 0
    default_layer: str | None = None  # path of the layer chosen at first (the last conv)


@dataclass
class Explanation:
    """Everything shown for one image, class and layer."""

    path: str
    display: np.ndarray     # (H, W, 3) uint8, what the network saw, in the original's proportions
    top: list[tuple[str, float]] = field(default_factory=list)  # predicted classes, best first
    probabilities: list[float] = field(default_factory=list)    # every class's, in class order
    cam: Any = None                              # GradCamResult, or None with cam_error
    cam_error: str | None = None
    maps: np.ndarray | None = None               # feature grid, (H, W, 3) uint8
    maps_shown: int = 0
    maps_total: int = 0
    maps_error: str | None = None
    network_size: tuple[int, int] = (0, 0)       # (h, w) of the network's input
    source_size: tuple[int, int] | None = None   # (h, w) of the original image, upright
    whole: bool = True                           # the network saw all of it (no crop)


class ExplainSession:
    """One bundle's :class:`~workbench.core.explain.bundle.Explainer`, made on first use.

    Jobs of the same dialog may overlap (a superseded job still runs to its end), and the
    explainer's forward hooks are per call, so one lock serialises the use of the model.
    """

    def __init__(self, bundle_path: str):
        self.bundle_path = str(bundle_path)
        self._explainer = None
        self._stamp: tuple | None = None  # the bundle file's, when it was loaded
        self._classes: list[str] | None = None  # the first load's
        self._lock = threading.Lock()

    def _get(self):
        """The explainer, loaded again when the bundle file was saved again since (a run
        continued or resumed): an image is explained by the weights the file holds now."""
        from workbench.core.errors import WorkbenchError
        from workbench.core.explain.bundle import Explainer
        from workbench.core.io import file_stamp

        stamp = file_stamp(self.bundle_path)  # None: deleted since; the loaded one serves
        if self._explainer is None or (stamp is not None and stamp != self._stamp):
            self._explainer, self._stamp = Explainer(self.bundle_path), stamp
            if self._classes is None:
                self._classes = list(self._explainer.classes)  # the dialog lists these
        if list(self._explainer.classes) != self._classes:
            raise WorkbenchError(f"the model {self.bundle_path} was replaced by one of other "
                                 f"classes: close this window and choose Explain… again")
        return self._explainer

    def setup(self) -> Setup:
        """Load the bundle; list its classes, its spatial layers and its first filters."""
        from workbench.core.errors import WorkbenchError
        from workbench.core.explain.methods import filter_grid

        with self._lock:
            ex = self._get()
            layers = ex.layers()
            default = ex.default_layer()
            out = Setup(list(ex.classes), layers, None,
                        default_layer=default.path if default is not None else None)
            try:
                filters = ex.filters()
            except WorkbenchError as e:
                out.filters_error = str(e)
            else:
                out.filters, out.filters_count = filter_grid(filters), len(filters)
            return out

    def explain(self, image_path: str, target: int | None, layer: str | None) -> Explanation:
        """Grad-CAM for ``target`` (None: the predicted class) and the feature maps of
        ``layer`` (a LayerChoice path; None: the last convolution) for one image.

        Raises
        ------
        WorkbenchError
            When the image cannot be read (naming it).
        """
        from workbench.core.errors import WorkbenchError
        from workbench.core.explain.methods import feature_grid
        from workbench.core.explain.picture import probabilities

        with self._lock:
            ex = self._get()
            image = ex.load(image_path)
            out = Explanation(image_path, image.shown(),
                              network_size=tuple(int(v) for v in image.display.shape[:2]),
                              source_size=image.source_size, whole=image.whole)
            try:
                out.cam = ex.grad_cam(image, target, layer)
            except WorkbenchError as e:
                out.cam_error = str(e)
            # Every class's, as explain prints (Grad-CAM's forward pass gave them).
            probs = out.cam.probabilities if out.cam is not None else \
                probabilities(ex, image.tensor)
            out.top, out.probabilities = _top(ex.classes, probs), probs
            try:
                maps = ex.feature_maps(image, layer)
            except WorkbenchError as e:
                out.maps_error = str(e)
            else:
                out.maps_total = int(maps.shape[0])
                out.maps_shown = min(out.maps_total, MAX_MAPS)
                out.maps = _coloured_gaps(feature_grid(maps[:MAX_MAPS], pad_value=-1.0,
                                                       empty_value=-2.0))
            return out


#: Colour of the lines between feature maps: white or black would read as an activation.
GAP_RGB = (70, 130, 180)
#: The cells after the last map: the picture views' background (#f4f4f4), not a map.
EMPTY_RGB = (244, 244, 244)


def _coloured_gaps(grid: np.ndarray) -> np.ndarray:
    """A feature grid padded with -1 (gaps) and -2 (no map) as RGB uint8: maps grey, gaps
    coloured, the empty cells background."""
    grey = (grid.clip(0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    rgb[grid < 0] = GAP_RGB
    rgb[grid < -1.5] = EMPTY_RGB
    return rgb


def _top(names: list[str], probs: list[float], k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most probable classes, best first (ties: the earlier class)."""
    order = sorted(range(len(probs)), key=lambda i: -probs[i])[:k]
    return [(names[i] if i < len(names) else str(i), probs[i]) for i in order]


def predicted_text(top: list[tuple[str, float]]) -> str:
    """``cat (91.2%), then dog 5.1%, bird 3.7%`` (HTML-escaped)."""
    if not top:
        return "?"
    (best, p), rest = top[0], top[1:]
    text = f"{html.escape(best)} ({p * 100:.1f}%)"
    if rest:
        text += ", then " + ", ".join(f"{html.escape(c)} {q * 100:.1f}%" for c, q in rest)
    return text


def input_note(ex: Explanation, heatmap: bool = True) -> str:
    """What the network saw of the image, sizes as width×height: "Image 144×48, resized to
    48×48 for the network; shown in its own proportions, the heatmap stretched to match"
    (without ``heatmap``, none is drawn: the heatmap is not spoken of)."""
    h, w = ex.network_size
    if ex.source_size is None or not h:
        return ""
    sh, sw = ex.source_size
    if not ex.whole:
        return (f"<b>Input:</b> image {sw}×{sh}, resized and cropped to {w}×{h} for the "
                f"network; shown as the network saw it.")
    if (sh, sw) == (h, w):
        return f"<b>Input:</b> image {sw}×{sh}, as the network saw it."
    note = f"<b>Input:</b> image {sw}×{sh}, resized to {w}×{h} for the network"
    if sh * w == sw * h:
        return note + "."
    return note + ("; shown in its own proportions, the heatmap stretched to match."
                   if heatmap else "; shown in its own proportions.")


__all__ = ["Explanation", "ExplainSession", "MAX_MAPS", "Setup", "input_note", "predicted_text"]
