"""The Explain dialog's Grad-CAM tab: the image, the heatmap over it with its colour key,
the caption, and the opacity slider.

The heatmap is drawn in the jet colours over the image in grey
(:func:`~workbench.core.explain.display.overlay` with ``grey``): the image's own colours
would mix with the heatmap's (red heat over a blue square read as purple); the image in
colour is beside it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from workbench.core.explain.picture import DEFAULT_ALPHA
from workbench.qt.panels.explain.jobs import Explanation
from workbench.qt.panels.explain.texts import cam_caption
from workbench.qt.fitted import FittedLabel
from workbench.qt.panels.explain.views import ColourKey, ImageView

NO_IMAGE = "Open an image, or drop one here, to explain it."
#: Shown in place of the heatmap when the map is flat (GradCamResult.flat).
FLAT_MAP = {"empty": "No heatmap to draw: the map is empty at this layer (all zero).",
            "constant": "No heatmap to draw: the map is the same everywhere at this layer."}
#: Percent: the image stays recognisable under the colours (``workbench explain``'s too).
DEFAULT_OPACITY = round(100 * DEFAULT_ALPHA)


class CamTab(QWidget):
    """The image beside its Grad-CAM overlay; :meth:`show_explanation` fills it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.explanation: Explanation | None = None
        self.image_view = ImageView(NO_IMAGE)
        self.overlay_view = ImageView("")
        self.key = ColourKey()
        policy = self.key.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the pictures keep their size without a key
        self.key.setSizePolicy(policy)
        self.key.hide()
        views = QGridLayout()
        views.addWidget(self.image_view, 0, 0)
        views.addWidget(self.overlay_view, 0, 1)
        views.addWidget(self.key, 1, 1)
        views.setRowStretch(0, 1)
        views.setColumnStretch(0, 1)
        views.setColumnStretch(1, 1)
        self.cam_info = FittedLabel("")
        self.cam_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(DEFAULT_OPACITY)
        self.opacity.setToolTip("How strongly the heatmap covers the image")
        self.opacity.valueChanged.connect(self.draw_overlay)
        row = QHBoxLayout()
        row.addWidget(QLabel("Heatmap opacity:"))
        row.addWidget(self.opacity, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(views, 1)
        layout.addWidget(self.cam_info)
        layout.addLayout(row)

    def has_heatmap(self) -> bool:
        """Whether a heatmap is drawn (not none, nor a flat map that shows no place)."""
        ex = self.explanation
        return ex is not None and ex.cam is not None and ex.cam.flat is None

    def show_explanation(self, ex: Explanation, chosen_name: str, chosen: int | None) -> None:
        """Show ``ex``: the image, the overlay (or why there is none) and the caption."""
        self.explanation = ex
        self.image_view.show_array(ex.display)
        if self.has_heatmap():
            self.draw_overlay()
        elif ex.cam is not None:  # a flat map shows no place: "red: strongest" would mislead
            self.overlay_view.show_text(FLAT_MAP[ex.cam.flat])
        else:  # no Grad-CAM (an MLP has no convolution): the reason
            self.overlay_view.show_text(ex.cam_error or "", error=True)
        self._heatmap_shown(self.has_heatmap())
        self.cam_info.setText(cam_caption(ex, chosen_name, chosen))

    def clear(self, text: str = NO_IMAGE) -> None:
        """Nothing explained (the image could not be read): no pictures, no caption."""
        self.explanation = None
        for view in (self.image_view, self.overlay_view):
            view.show_text(text)
        self.cam_info.setText("")
        self._heatmap_shown(False)

    def _heatmap_shown(self, shown: bool) -> None:
        # Nothing to fade and no colours to explain without a heatmap.
        self.opacity.setEnabled(shown)
        self.key.setVisible(shown)

    @Slot()
    def draw_overlay(self) -> None:
        """Draw the heatmap over the image (in grey) at the slider's opacity."""
        if not self.has_heatmap():
            return
        from workbench.core.explain.display import overlay

        ex = self.explanation
        self.overlay_view.show_array(overlay(ex.display, ex.cam.heatmap,
                                             self.opacity.value() / 100.0, grey=True))


__all__ = ["CamTab", "DEFAULT_OPACITY", "FLAT_MAP", "NO_IMAGE"]
