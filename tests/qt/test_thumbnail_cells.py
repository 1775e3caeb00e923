"""Thumbnail cells: any aspect ratio fits the icon square and never covers its caption."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from qt_helpers import thumbnail_view
from workbench.qt.thumbnails import ThumbnailView, elide_file_name

SIZE = 64
RED, BLUE, GREEN, YELLOW = (220, 30, 30), (30, 30, 220), (30, 200, 30), (220, 200, 30)


def _solid(path, width, height, colour, orientation=None):
    image = Image.new("RGB", (width, height), colour)
    if orientation is None:
        image.save(path, quality=95)
    else:
        exif = image.getexif()
        exif[0x0112] = orientation  # Orientation: 6 = shown turned 90 degrees clockwise
        image.save(path, quality=95, exif=exif)
    return str(path)


def _near(colour, rgb, tol=60):
    return all(abs(a - b) < tol for a, b in zip((colour.red(), colour.green(), colour.blue()),
                                                rgb))


def test_portrait_and_landscape_fit_the_icon_square_over_a_readable_caption(qtbot, tmp_path):
    # A panorama first: the view takes the first row's size for every row (uniform sizes),
    # which is what let a portrait photo run over its caption.
    samples = [
        (_solid(tmp_path / "panorama.jpg", 1600, 400, GREEN), 0),
        (_solid(tmp_path / "landscape.jpg", 4032, 3024, BLUE), 0),
        (_solid(tmp_path / "portrait_photo_with_a_rather_long_file_name.jpg",
                3024, 4032, RED), 0),
        (_solid(tmp_path / "exif_rotated.jpg", 4032, 3024, YELLOW, orientation=6), 0),
        (_solid(tmp_path / "tall.jpg", 300, 1200, RED), 0),
    ]
    view, model, loader = thumbnail_view(qtbot, SIZE)
    view.resize(600, 300)
    model.set_samples(samples, ["a"])
    view.show()
    qtbot.waitUntil(lambda: all(loader.get(p) is not None for p, _ in samples), timeout=20000)
    view.doItemsLayout()  # lay out again now that every thumbnail has its real shape
    qtbot.wait(50)

    delegate = view.delegate
    metrics = view.fontMetrics()
    # Every row asks for the same cell, whatever its shape or name: the view sizes all rows
    # by one of them (the current one), so a different hint meant clipped rows.
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    hints = {(h.width(), h.height()) for h in
             (view.itemDelegate().sizeHint(option, model.index(r)) for r in range(len(samples)))}
    assert len(hints) == 1, hints
    shapes = {}
    for row, (path, _) in enumerate(samples):
        index = model.index(row)
        pix = index.data(Qt.ItemDataRole.DecorationRole)
        shapes[row] = (pix.width(), pix.height())
        assert pix.width() <= SIZE and pix.height() <= SIZE, path
        cell = view.visualRect(index)
        icon = delegate.icon_rect(cell)
        drawn = delegate.pixmap_rect(pix.size(), cell)
        caption = delegate.caption_rect(cell, metrics)
        assert icon.size() == QSize(SIZE, SIZE)
        assert icon.contains(drawn), (path, drawn, icon)
        assert not caption.intersects(icon), (path, caption, icon)
        assert cell.contains(caption) and caption.height() >= metrics.height(), path
        grid = QRect(cell.topLeft(), view.gridSize())
        assert grid.contains(cell), path
    assert shapes[2][1] == SIZE and shapes[2][0] < SIZE  # portrait: fitted by its height
    assert shapes[3][1] == SIZE and shapes[3][0] < SIZE  # EXIF-rotated: portrait too
    assert shapes[1][0] == SIZE and shapes[1][1] < SIZE  # landscape: fitted by its width

    # What is painted: no photo pixel in a caption line, and the caption text is there.
    image = view.viewport().grab().toImage()
    for row in (2, 3, 4):
        cell = view.visualRect(model.index(row))
        caption = delegate.caption_rect(cell, metrics)
        colour = YELLOW if row == 3 else RED
        pixels = [image.pixelColor(x, y) for y in range(caption.top(), caption.bottom() + 1)
                  for x in range(caption.left(), caption.right() + 1)]
        assert not any(_near(c, colour) for c in pixels), samples[row][0]
        assert any(c.lightness() < 128 for c in pixels), "the caption is drawn"


def test_long_captions_are_elided_and_the_grid_follows_the_font(qtbot):
    view = ThumbnailView(size=SIZE)
    qtbot.addWidget(view)
    before = view.gridSize()
    font = view.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    view.setFont(font)
    assert view.gridSize().height() > before.height()
    cell = QRect(0, 0, view.gridSize().width(), view.gridSize().height())
    caption = view.delegate.caption_rect(cell, view.fontMetrics())
    assert caption.height() >= view.fontMetrics().height()
    long_name = "a_very_long_file_name_from_a_phone_camera_20240101_123456.jpg"
    elided = view.fontMetrics().elidedText(long_name, view.textElideMode(), caption.width())
    assert "…" in elided and view.fontMetrics().horizontalAdvance(elided) <= caption.width()


class _RecordingPainter(QPainter):
    """A painter that keeps the text of every drawText call (and still draws)."""

    def __init__(self, device):
        super().__init__(device)
        self.texts: list[str] = []

    def drawText(self, *args):  # noqa: N802  (Qt override)
        self.texts.append(next(a for a in args if isinstance(a, str)))
        return super().drawText(*args)


def test_all_classes_captions_paint_the_class_over_the_file_name(qtbot, tmp_path):
    # The "All classes" grid: a class line over a file-name line, each elided on its own.
    # initStyleOption hands the delegate "\u2028" for the model's "\n", so a split on
    # "\n" alone painted one middle-cut line ("Black-…_0.png").
    long_class = "Black-throated_blue_warbler_female_first_winter_plumage"
    samples = [(_solid(tmp_path / "img_0.png", 32, 32, RED), 0),
               (_solid(tmp_path / "img_10_from_a_long_camera_name.png", 32, 32, BLUE), 1)]
    view, model, loader = thumbnail_view(qtbot, SIZE)
    model.set_samples(samples, ["center", long_class], name_classes=True)
    view.set_caption_lines(2)
    view.resize(400, 300)
    view.show()
    metrics = view.fontMetrics()
    image = QImage(view.gridSize(), QImage.Format.Format_RGB32)
    lines = []
    for row in range(len(samples)):
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        option.rect = QRect(QPoint(0, 0), view.delegate.cell_size(metrics))
        image.fill(Qt.GlobalColor.white)
        painter = _RecordingPainter(image)
        view.itemDelegate().paint(painter, option, model.index(row))
        painter.end()
        assert len(painter.texts) == 1
        lines.append(painter.texts[0].split("\n"))
    width = view.delegate.caption_rect(option.rect, metrics).width()
    assert lines[0] == ["center", "img_0.png"]
    klass, name = lines[1]
    mode = Qt.TextElideMode.ElideMiddle
    assert klass == metrics.elidedText(long_class, mode, width) and "…" in klass
    # The file name keeps its digits (test_thumbnail_captions.py), "img_10….png".
    assert name == elide_file_name(metrics, Path(samples[1][0]).name, width) and "10" in name
    assert all(metrics.horizontalAdvance(t) <= width for t in (klass, name))
