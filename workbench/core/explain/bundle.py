"""Explanations for a trained bundle and an image file (see :mod:`workbench.core.explain.methods`).

The image goes through the bundle's own evaluation pipeline, exactly as
:class:`~workbench.core.predict.Predictor` prepares it, so the heatmap explains the very
prediction the Predict panel shows; the display image is that tensor with the normalisation
undone, so a heatmap lies on the pixels the network saw (after any resize or crop).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import numpy as np
import torch

from workbench.core.bundle import Bundle
from workbench.core.errors import WorkbenchError
from workbench.core.explain import methods
from workbench.core.explain.methods import GradCamResult, LayerChoice, LayerRef
from workbench.core.predict import ImageLike, Predictor


@dataclass
class ExplainImage:
    """One image prepared for a bundle's network.

    Attributes
    ----------
    tensor
        (C, H, W) float, after the bundle's evaluation preprocessing.
    display
        (H, W, 3) uint8: the same pixels un-normalised (grayscale repeated to RGB), the
        background for :func:`~workbench.core.explain.methods.overlay`.
    path
        The file it came from, if any.
    source_size
        ``(height, width)`` of the original image, upright (EXIF orientation applied): the
        file's own size, before the pipeline resized it to the network's input.
    whole
        Whether the network saw the whole original (the pipeline only resizes), so its
        input, and a heatmap over it, can be stretched back onto the original's proportions
        (:func:`~workbench.core.explain.display.in_proportion`); False when a step crops.
    """

    tensor: torch.Tensor
    display: np.ndarray
    path: str | None = None
    source_size: tuple[int, int] | None = None
    whole: bool = True

    def shown(self) -> np.ndarray:
        """The display image in the original's proportions when the network saw it whole
        (a 144x48 photo resized to 48x48 is shown 144 wide, 48 high), else as it is."""
        from workbench.core.explain.display import in_proportion

        if not self.whole or self.source_size is None:
            return self.display
        return in_proportion(self.display, self.source_size)


class Explainer:
    """Grad-CAM, feature maps and filters of a bundle's network.

    Parameters
    ----------
    bundle
        A :class:`~workbench.core.bundle.Bundle` or the path of a bundle file.
    device
        Where to run the network (``"cpu"`` by default).

    Raises
    ------
    BundleError
        For a bundle that cannot be loaded.
    """

    def __init__(self, bundle: Bundle | str | Path, device: str | torch.device = "cpu"):
        self.predictor = Predictor(bundle, device)
        self.model = self.predictor.model
        self.classes = self.predictor.classes
        self.experiment = self.predictor.bundle.experiment
        self._layers: list | None = None

    def load(self, item: ImageLike | ExplainImage) -> ExplainImage:
        """Decode and preprocess an image file (or PIL image) for the network.

        Raises
        ------
        WorkbenchError
            For a file that cannot be read, naming it and why.
        """
        if isinstance(item, ExplainImage):
            return item
        from workbench.core.data.augment.preview import to_display

        from workbench.core.data.augment.transforms import eval_sees_whole_image
        from workbench.core.data.summary import image_header

        where = None if not isinstance(item, (str, Path)) else str(item)
        try:
            decoded = self.predictor.decode(item)
            tensor = self.predictor.transform(decoded)
        except WorkbenchError:
            raise
        except (OSError, ValueError) as e:
            raise WorkbenchError(f"{where or 'the image'}: cannot read image: {e}") from None
        header = image_header(where) if where else None
        w, h = header[0] if header else decoded.size  # the file's size, not the draft's
        shown = to_display(tensor, self.experiment)
        if shown.shape[2] == 1:
            shown = np.repeat(shown, 3, axis=2)
        elif shown.shape[2] != 3:
            shown = np.repeat(shown.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
        return ExplainImage(tensor, np.ascontiguousarray(shown), where, (int(h), int(w)),
                            eval_sees_whole_image(self.experiment))

    def layers(self) -> "list[LayerChoice]":
        """The network's layers with a spatial output (measured once, then cached)."""
        if self._layers is None:
            h, w = self.experiment.data.input_size
            self._layers = methods.explainable_layers(
                self.model, (self.experiment.data.channels, h, w), self.experiment.model.layers)
        return list(self._layers)

    def default_layer(self) -> "LayerChoice | None":
        """The layer explained when none is chosen: the last convolution (see
        :func:`~workbench.core.explain.methods.default_layer`); None for a network without one."""
        return methods.default_layer(self.layers())

    def _class_index(self, target: int | str | None) -> int | None:
        if isinstance(target, str):
            if target not in self.classes:
                raise WorkbenchError(f"class {target!r} is not one of this model's classes: "
                                     f"{', '.join(self.classes)}")
            return self.classes.index(target)
        return target

    def grad_cam(self, item: ImageLike | ExplainImage, target_class: int | str | None = None,
                 layer: "LayerRef" = None) -> "GradCamResult":
        """Grad-CAM for an image; ``target_class`` is an index or a class name (default:
        the predicted class). See :func:`~workbench.core.explain.methods.grad_cam`."""
        image = self.load(item)
        result = methods.grad_cam(self.model, image.tensor, self._class_index(target_class), layer)
        if result.class_index < len(self.classes):
            result.class_name = self.classes[result.class_index]
        return result

    def feature_maps(self, item: ImageLike | ExplainImage, layer: "LayerRef" = None
                     ) -> np.ndarray:
        """Feature maps of one layer for an image; see
        :func:`~workbench.core.explain.methods.feature_maps`."""
        return methods.feature_maps(self.model, self.load(item).tensor, layer)

    def filters(self) -> np.ndarray:
        """The first convolution's filters; see
        :func:`~workbench.core.explain.methods.first_conv_filters`."""
        return methods.first_conv_filters(self.model)


__all__ = ["ExplainImage", "Explainer"]
