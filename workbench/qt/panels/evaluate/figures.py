"""What the Evaluate panel's "Save PNG…" writes: the view on show as a figure that stands on
its own.

Each image starts with a title line (the model, the data evaluated, the images and the
accuracy) and shows the whole view: the confusion matrix without the selected cell's
outline (with whether it shows counts or row-normalised shares), every row of the
per-class table and of the largest-loss table (not only those that fit on screen), the
calibration histogram with its legend.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QWidget

_MARGIN = 8


def model_name(bundle_path: str | None) -> str:
    """A bundle's name for people: its run folder's name for a run's ``bundle.pt``."""
    if not bundle_path:
        return "the model"
    folder, name = os.path.split(os.path.normpath(bundle_path))
    return os.path.basename(folder) if name == "bundle.pt" and folder else name


def title_line(result: Any) -> str:
    """``"MODEL on its validation split of DATA · 125 images · accuracy 71.9%"``."""
    what = {"val": "its validation split of ", "test": "its test part of "
            }.get(result.split, "all images of ")
    return (f"{model_name(result.bundle_path)} on {what}{result.source} · "
            f"{result.num_images:,} images · accuracy {result.accuracy:.1%}")


def full_table(view: QAbstractItemView) -> QPixmap:
    """``view`` grabbed with every row shown (made as tall as its rows for the grab)."""
    size = view.size()
    bar = view.verticalScrollBar()
    position = bar.value()
    policy = view.verticalScrollBarPolicy()
    header = view.horizontalHeader() if hasattr(view, "horizontalHeader") else None
    rows = view.verticalHeader().length() if hasattr(view, "verticalHeader") else 0
    height = rows + (header.height() if header is not None and not header.isHidden() else 0) \
        + 2 * view.frameWidth() + (view.horizontalScrollBar().height()
                                   if view.horizontalScrollBar().isVisible() else 0)
    try:
        view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.resize(size.width(), height)  # the rows' height, however tall the view
        bar.setValue(0)
        return view.grab()
    finally:
        view.resize(size)
        view.setVerticalScrollBarPolicy(policy)
        bar.setValue(position)


def with_title(pixmap: QPixmap, lines: list[str]) -> QImage:
    """``pixmap`` under ``lines`` of text (the first bold), on white."""
    bold = QFont()
    bold.setBold(True)
    fonts = [bold] + [QFont()] * (len(lines) - 1)
    heights = [QFontMetrics(f).height() for f in fonts]
    widths = [QFontMetrics(f).horizontalAdvance(t) for f, t in zip(fonts, lines)]
    dpr = pixmap.devicePixelRatio() or 1.0
    shown_w, shown_h = pixmap.width() / dpr, pixmap.height() / dpr
    top = _MARGIN + sum(heights) + _MARGIN
    width = int(max(shown_w, max(widths, default=0) + 2 * _MARGIN))
    image = QImage(int(width * dpr), int((top + shown_h) * dpr), QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(dpr)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.setPen(QColor(20, 20, 20))
        y = _MARGIN
        for font, text, h in zip(fonts, lines, heights):
            painter.setFont(font)
            painter.drawText(QRect(_MARGIN, y, width - 2 * _MARGIN, h),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            y += h
        painter.drawPixmap(QPoint(0, top), pixmap)
    finally:
        painter.end()
    return image


def figure_image(panel: Any) -> QImage:
    """The image "Save PNG…" writes for ``panel`` (an EvaluatePanel with a result)."""
    result, current = panel.result, panel.results.currentWidget()
    lines = [title_line(result)]
    if current is panel.confusion:
        heatmap = panel.confusion.heatmap
        lines.append("Confusion matrix (rows: true class, columns: predicted class), "
                     + ("row-normalised: the share of each true class's images"
                        if heatmap.normalized else "counts of images"))
        shown = heatmap.highlight.isVisible()
        heatmap.highlight.setVisible(False)  # the selection is the screen's, not the figure's
        try:
            pixmap = heatmap.grab()
        finally:
            heatmap.highlight.setVisible(shown)
    elif current is panel.per_class:
        lines.append("Precision, recall, F1 and support per class")
        pixmap = full_table(panel.per_class)
    elif current is panel.worst:
        shown, total = panel.worst.rowCount(), result.num_images
        lines.append(f"The {shown} largest losses of the {total:,} images (Export CSV…'s "
                     f"predictions.csv has every image's)" if shown < total else
                     "Every image's loss, largest first")
        pixmap = full_table(panel.worst)
    else:
        pixmap = current.grab()
    return with_title(pixmap, lines)


def save_figure(panel: Any, path: str) -> bool:
    """Write :func:`figure_image` to ``path`` as PNG; whether it was written."""
    widget: QWidget = panel.results.currentWidget()
    return widget is not None and figure_image(panel).save(path, "PNG")
