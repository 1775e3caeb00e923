"""The Augment preview's tiles and their captions: images as pixmaps drawn at the tile's own
screen's pixels (:class:`Tile`), the built-in sample picture, a batch tile's label (one line per part of a mix), the caption naming the image
the draws are made of, and the batch tab's note."""

from __future__ import annotations

import math
import os

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

TILE_PX = 112


def to_pixmap(arr: np.ndarray, px: int = TILE_PX, ratio: float | None = None) -> QPixmap:
    """uint8 (H, W, C) array -> pixmap scaled to fit ``px`` logical pixels (sharp pixels
    when enlarged), made at ``ratio`` device pixels per logical pixel (default: the
    highest of the screens', 2 at 200% scaling; a :class:`Tile` gives its own screen's)
    and drawn 1:1 on such a screen."""
    if ratio is None:
        app = QGuiApplication.instance()
        ratio = app.devicePixelRatio() if app is not None else 1.0
    side = math.ceil(px * ratio)
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2 or arr.shape[2] == 1:
        img = QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        img = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    img = img.copy()  # own the pixels: the array goes away
    mode = Qt.TransformationMode.FastTransformation if max(h, w) * 2 <= side else \
        Qt.TransformationMode.SmoothTransformation
    pix = QPixmap.fromImage(img).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode)
    pix.setDevicePixelRatio(ratio)
    return pix


def sample_image(size: int = 224):
    """A built-in picture whose flips and rotations are easy to see (an "F" on a
    gradient with a red corner), used until a dataset is loaded."""
    from PIL import Image, ImageDraw

    y, x = np.mgrid[0:size, 0:size]
    arr = np.stack([x * 200 // size + 30, y * 180 // size + 40,
                    np.full_like(x, 150)], -1).astype(np.uint8)
    img = Image.fromarray(arr)
    d = ImageDraw.Draw(img)
    s = size / 224
    d.rectangle([0, 0, 40 * s, 40 * s], fill=(220, 30, 30))
    for box in ([70, 40, 100, 190], [70, 40, 170, 70], [70, 100, 150, 128]):
        d.rectangle([v * s for v in box], fill=(250, 250, 250))
    return img


class TileCaption(QLabel):
    """A batch tile's label: one line per part of a mix ("0.50 Zürich café +" over
    "0.50 dog"), each cut with "…" to the label's width; :meth:`text` and the tooltip keep
    the whole label."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent)
        self.setMinimumWidth(TILE_PX)

    def setText(self, text: str) -> None:  # noqa: N802  (Qt override)
        super().setText(text)
        self.setToolTip(text)
        self.updateGeometry()

    def shown_lines(self) -> list[str]:
        """The lines drawn: the label split at " + ", each elided to the width."""
        parts = self.text().split(" + ") if self.text() else []
        width = max(1, self.contentsRect().width())
        fm = self.fontMetrics()
        return [fm.elidedText(p + (" +" if i < len(parts) - 1 else ""),
                              Qt.TextElideMode.ElideRight, width)
                for i, p in enumerate(parts)]

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        lines = max(1, len(self.text().split(" + ")))
        return QSize(TILE_PX, self.fontMetrics().lineSpacing() * lines + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(TILE_PX, self.sizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802  (Qt override)
        paint_lines(self, self.shown_lines())


def paint_lines(label: QLabel, lines: list[str]) -> None:
    """Draw ``lines`` (already cut to the width) centred at the top of ``label``."""
    painter = QPainter(label)
    painter.setPen(label.palette().color(QPalette.ColorRole.WindowText))
    painter.drawText(label.contentsRect(), int(Qt.AlignmentFlag.AlignHCenter |
                                               Qt.AlignmentFlag.AlignTop), "\n".join(lines))


class Tile(QLabel):
    """A tile: an image (:meth:`show_array`) made at the device pixels of the screen the
    tile is on (not the highest ratio of all screens: a 1x laptop screen beside a 2x
    monitor), made again when the window moves to a screen of another ratio."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.array: np.ndarray | None = None
        self.setFixedSize(TILE_PX + 4, TILE_PX + 4)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #202020; border: 1px solid #555;")

    def show_array(self, arr: np.ndarray | None) -> None:
        """Show the uint8 (H, W, C) ``arr`` (None: nothing)."""
        self.array = arr
        self.setPixmap(QPixmap() if arr is None else
                       to_pixmap(arr, ratio=self.devicePixelRatioF()))

    def event(self, event: QEvent) -> bool:
        # Not changeEvent: QWidget does not pass this event on to it.
        if event.type() == QEvent.Type.DevicePixelRatioChange and self.array is not None:
            self.show_array(self.array)  # moved to another screen
        return super().event(event)


def tile_label() -> Tile:
    return Tile()


class ImageCaption(QLabel):
    """The caption under the Original tile: the image's class (when it came from the
    dataset) over its file name, each on one line cut with "…" to the tile's width (the
    class at its end, the file name in its middle, so its extension stays); the tooltip
    has the class and the whole path."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent)
        self.lines: list[tuple[str, Qt.TextElideMode]] = []
        self.setFixedWidth(TILE_PX + 4)
        self.setStyleSheet("font-size: 9pt;")

    def show_image(self, path: str, class_name: str = "") -> None:
        """Name the image ``path`` (a file, or a description such as "built-in sample")
        of class ``class_name`` ("" when not from the dataset)."""
        name = os.path.basename(path) or path
        self.lines = ([(class_name, Qt.TextElideMode.ElideRight)] if class_name else []) + \
            [(name, Qt.TextElideMode.ElideMiddle)]
        super().setText("\n".join(text for text, _ in self.lines))
        self.setToolTip(f"Class: {class_name}\n{path}" if class_name else path)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * len(self.lines) + 2)

    def shown_lines(self) -> list[str]:
        """The lines drawn, each cut to the width."""
        width, fm = max(1, self.contentsRect().width()), self.fontMetrics()
        return [fm.elidedText(text, mode, width) for text, mode in self.lines]

    def paintEvent(self, event) -> None:  # noqa: N802  (Qt override)
        paint_lines(self, self.shown_lines())


def batch_note(shown: int, batch_size: int, balance: str) -> tuple[str, str]:
    """The line over the batch and its tooltip: what the batch is and how it was drawn."""
    if not shown:
        return ("No training batch to show: the training split has no readable image "
                "(see the Data tab's counts and exclusions).", "")
    how = "weighted sampler, classes equally likely" if balance == "weighted_sampler" \
        else "shuffled"
    tip = ("Drawn as training draws a batch: from the training split only (validation "
           "images never train), " +
           ("with the weighted sampler (data.balance), which makes every class equally "
            "likely in a batch" if balance == "weighted_sampler" else
            "in a shuffled order (data.balance none or weighted loss: classes appear as "
            "often as they have images)") +
           "; after the augmentation and batch-level mixing (MixUp, CutMix), whose "
           "labels show the mix.")
    return (f"One training batch ({shown} of {batch_size} images) as the model sees it: "
            f"training split, {how}.", tip)
