"""Showing numpy pictures in Qt: array to QImage, and a label that scales its picture to fit.

Explanation pictures are often tiny (a 16x16 input, 3x3 filters): they are enlarged to fill
their view with nearest-neighbour scaling, so every pixel stays a crisp block, which is
what the user inspects. Pictures larger than their view are shrunk smoothly.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout,
                               QWidget)

from workbench.qt.colours import inherited_palette, level_colour, rows_palette

#: Saved pictures are enlarged (whole multiples, nearest neighbour) to at least this size.
SAVE_MIN_SIDE = 512


def to_uint8(array: np.ndarray) -> np.ndarray:
    """A picture as uint8: uint8 stays as is, floats in [0, 1] are scaled to 0-255."""
    a = np.asarray(array)
    if a.dtype == np.uint8:
        return a
    return (np.nan_to_num(a.astype(np.float32)).clip(0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def array_to_image(array: np.ndarray) -> QImage:
    """(H, W), (H, W, 1) or (H, W, 3) picture, uint8 or float in [0, 1], as a QImage.

    The QImage owns a copy of the pixels (it does not refer to the array).
    """
    a = to_uint8(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    a = np.ascontiguousarray(a)
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    if a.ndim == 3 and a.shape[2] == 3:
        return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    raise ValueError(f"a picture is (H, W) or (H, W, 1 or 3), not shape {a.shape}")


def enlarged(image: QImage, min_side: int = SAVE_MIN_SIDE) -> QImage:
    """``image`` scaled by a whole factor (nearest neighbour) until its shorter side reaches
    ``min_side``; a large image is returned as it is."""
    side = min(image.width(), image.height())
    factor = max(1, -(-min_side // max(side, 1)))
    if factor == 1:
        return image
    return image.scaled(image.width() * factor, image.height() * factor,
                        Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.FastTransformation)


class ImageView(QLabel):
    """Shows one picture scaled to fit the label, keeping its aspect ratio; or a text.

    Attributes
    ----------
    image
        The picture at its own resolution (None while a text is shown).
    """

    def __init__(self, placeholder: str = "", min_side: int = 220,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.image: QImage | None = None
        self._level = "muted"  # the text's: a quiet hint, or "error"
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setMinimumSize(min_side, min_side)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # A well on the palette's rows' colour, light or dark (no style sheet: a widget with
        # one keeps its colours when the palette changes).
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.show_text(placeholder)

    def show_array(self, array: np.ndarray) -> None:
        """Show a numpy picture (see :func:`array_to_image`)."""
        self.image = array_to_image(array)
        self.setText("")
        self.setMargin(0)  # the picture fills the view
        self._rescale()

    def show_text(self, text: str, error: bool = False) -> None:
        """Show a message in place of the picture (red when ``error``)."""
        self.image = None
        self.clear()
        self._level = "error" if error else "muted"
        self._colour()
        self.setMargin(12)  # a text is padded
        self.setText(text)

    def _colour(self) -> None:
        """The text's colour on the rows' colour of the palette it is shown on."""
        palette = QPalette()  # no role set: all inherited but the text's
        palette.setColor(QPalette.ColorRole.Text, level_colour(
            self._level, rows_palette(inherited_palette(self))))
        self.setPalette(palette)  # (the same again changes nothing)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802  (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ParentChange):
            self._colour()

    def event(self, event: QEvent) -> bool:
        # Not changeEvent: QWidget does not pass this event on to it.
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # moved to another screen
            self._rescale()
        return super().event(event)

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(320, 320)

    def hasHeightForWidth(self) -> bool:  # noqa: N802  (Qt override)
        return False  # a fixed minimum; its text wraps inside (else the window ignores it)

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.image is None:
            return
        # In device pixels (2 per logical pixel at 200% scaling), drawn 1:1 on the screen.
        ratio = self.devicePixelRatioF()
        box = self.contentsRect().size() * ratio
        w, h = self.image.width(), self.image.height()
        scale = min(box.width() / w, box.height() / h)
        # Enlarged to fill the view (not by whole multiples only: a 6x6 grid of 48-pixel
        # maps at 1.6x would stay at 1x, a third of the space); nearest neighbour keeps
        # the pixels crisp blocks, a step of one screen pixel between them at most.
        mode = (Qt.TransformationMode.FastTransformation if scale >= 1
                else Qt.TransformationMode.SmoothTransformation)
        size = QSize(max(1, round(w * scale)), max(1, round(h * scale)))
        pixmap = QPixmap.fromImage(self.image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                                     mode))
        pixmap.setDevicePixelRatio(ratio)
        self.setPixmap(pixmap)


class _Ramp(QWidget):
    """The overlay's colour map as a bar, low (left) to high (right)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        from workbench.core.explain.display import colormap  # the overlay's own colours

        self._image = array_to_image(colormap(np.linspace(0.0, 1.0, 256))[None, :, :])
        self.setFixedHeight(12)
        self.setMinimumWidth(60)

    def paintEvent(self, event) -> None:  # noqa: N802  (Qt override)
        painter = QPainter(self)
        painter.drawImage(self.rect(), self._image)
        painter.end()


class ColourKey(QWidget):
    """The heatmap's colour key: "low", the colour bar, "high"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.ramp = _Ramp()
        self.setToolTip("Heatmap colours, relative to the map's strongest point")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("low"))
        layout.addWidget(self.ramp, 1)
        layout.addWidget(QLabel("high"))


def page(note: QLabel, view: ImageView) -> QWidget:
    """A tab page: a wrapped note above a picture view that takes the rest."""
    note.setWordWrap(True)
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.addWidget(note)
    layout.addWidget(view, 1)
    return widget


__all__ = ["ColourKey", "ImageView", "SAVE_MIN_SIDE", "array_to_image", "enlarged", "page",
           "to_uint8"]
