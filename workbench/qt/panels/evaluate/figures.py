"""What the Evaluate panel's "Save PNG…" writes: the view on show as a figure that stands on
its own.

Each image starts with a title line (the model, the data evaluated, the images and the
accuracy) and shows the whole view: the whole confusion matrix, zoomed or not, without
the selected cell's outline (with whether it shows counts or row-normalised shares; for
more than :data:`GRAB_CLASSES` classes a larger figure that names every class on both
axes and lists the names it cuts in full), every row of the
per-class table and of the largest-loss table (not only those that fit on screen), the
calibration histogram with its legend.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QAbstractItemView, QWidget

_MARGIN = 8
#: Up to this many classes the saved matrix is the heatmap as on screen (every class
#: labelled); above, a larger figure naming every class on both axes.
GRAB_CLASSES = 25


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


def svg_pixmap(svg: str, dpr: float = 1.0) -> QPixmap:
    """An SVG document drawn at its own size (times ``dpr`` pixels per point), on white."""
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    size = renderer.defaultSize()
    pixmap = QPixmap(round(size.width() * dpr), round(size.height() * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(QColor("white"))
    painter = QPainter(pixmap)
    try:
        renderer.render(painter, QRectF(0, 0, size.width(), size.height()))
    finally:
        painter.end()
    return pixmap


def matrix_figure(heatmap: Any) -> QPixmap:
    """The whole confusion matrix, whatever the zoom on screen: the heatmap as it looks
    up to :data:`GRAB_CLASSES` classes; above, the larger figure of
    :func:`~workbench.core.evaluate.confusion_figure.confusion_svg`, every class named on
    both axes (the heatmap's few labels and small cells would not be read on paper)."""
    if len(heatmap.classes) > GRAB_CLASSES:
        from workbench.core.evaluate.confusion_figure import confusion_svg
        from workbench.qt.panels.evaluate.heatmap import FULL

        svg = confusion_svg(heatmap.confusion, heatmap.classes, heatmap.normalized,
                            shares=heatmap.normalized, full=FULL)
        return svg_pixmap(svg, heatmap.devicePixelRatioF())
    shown = heatmap.highlight.isVisible()
    view = heatmap.plot.vb.viewRect()
    heatmap.highlight.setVisible(False)  # the selection is the screen's, not the figure's
    try:
        heatmap.reset_zoom()
        return heatmap.grab()
    finally:
        heatmap.plot.vb.setRange(view, padding=0)
        heatmap.highlight.setVisible(shown)


def figure_image(panel: Any) -> QImage:
    """The image "Save PNG…" writes for ``panel`` (an EvaluatePanel with a result)."""
    result, current = panel.result, panel.results.currentWidget()
    lines = [title_line(result)]
    if current is panel.confusion:
        heatmap = panel.confusion.heatmap
        lines.append("Confusion matrix (rows: true class, columns: predicted class), "
                     + ("row-normalised: the share of each true class's images"
                        if heatmap.normalized else "counts of images")
                     + (" (colours on a log scale)" if heatmap.log_scale else ""))
        pixmap = matrix_figure(heatmap)
    elif current is panel.per_class:
        lines.append("Precision, recall, F1 and support per class, and their macro average")
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
