"""Thumbnail captions of phone photos: at a 12-13 pt desktop font every caption read
"IMG_….jpg" (cut in the middle, in a cell that did not grow with the font), so the images
could not be told apart. Captions keep the digits that tell files apart, and a cell is as
wide as a phone's file name at the view's font."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QStyleOptionViewItem

from qt_helpers import thumbnail_view
from workbench.qt.thumbnails import ThumbnailView

NAMES = ["IMG_20240101_123456.jpg", "IMG_20240101_123457.jpg", "IMG_0001.jpg",
         "IMG_0002.jpg", "IMG_0012.jpg", "PXL_20240101_090000123.jpg",
         "PXL_20240101_090000124.jpg"]


def _captions(qtbot, tmp_path, points: float, all_classes: bool) -> tuple[ThumbnailView, list]:
    """The caption lines each of NAMES is painted with, at a ``points`` pt font."""
    for name in NAMES:
        (tmp_path / name).write_bytes(b"")  # never decoded: the captions only
    view, model, _loader = thumbnail_view(qtbot, 88)
    font = view.font()
    font.setPointSizeF(points)
    view.setFont(font)
    model.set_samples([(str(tmp_path / n), 0) for n in NAMES], ["birds"],
                      name_classes=all_classes)
    view.set_caption_lines(2 if all_classes else 1)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = QRect(QPoint(0, 0), view.delegate.cell_size(view.fontMetrics()))
    width = view.delegate.caption_rect(option.rect, view.fontMetrics()).width()
    lines = []
    for row in range(len(NAMES)):
        opt = QStyleOptionViewItem(option)
        view.delegate.initStyleOption(opt, model.index(row))
        shown = view.delegate.caption_lines(opt, width)
        assert all(opt.fontMetrics.horizontalAdvance(t) <= width for t in shown), shown
        lines.append(shown)
    return view, lines


def test_phone_photo_captions_differ_at_large_fonts(qtbot, tmp_path):
    for points in (9, 12, 13):
        for all_classes in (False, True):
            _view, lines = _captions(qtbot, tmp_path, points, all_classes)
            names = [shown[-1] for shown in lines]
            assert len(set(names)) == len(NAMES), (points, names)
            assert all(n.endswith(".jpg") for n in names), names
            if all_classes:
                assert all(shown[0] == "birds" for shown in lines)


def test_a_cell_fits_a_phones_file_name_whole_at_any_font(qtbot, tmp_path):
    widths = []
    for points in (9, 12, 13, 16):
        view, lines = _captions(qtbot, tmp_path, points, all_classes=True)
        assert lines[2] == ["birds", "IMG_0001.jpg"], (points, lines[2])
        widths.append(view.gridSize().width())
    assert widths == sorted(widths) and widths[-1] > widths[0]  # the cell follows the font


def test_file_names_keep_their_last_digits_and_extension(qtbot):
    from workbench.qt.thumbnails import elide_file_name

    view = ThumbnailView()
    qtbot.addWidget(view)
    metrics = view.fontMetrics()
    width = metrics.horizontalAdvance("IMG_0000.jpg")
    cases = {"IMG_20240101_123456.jpg": "3456.jpg", "DSC_0042_edited_version.png": "42",
             "a_very_long_name_without_any_digit.jpeg": ".jpeg"}
    for name, kept in cases.items():
        shown = elide_file_name(metrics, name, width)
        assert kept in shown and "…" in shown, (name, shown)
        assert metrics.horizontalAdvance(shown) <= width
    assert elide_file_name(metrics, "IMG_0001.jpg", width) == "IMG_0001.jpg"
    narrow = elide_file_name(metrics, "IMG_20240101_123456.jpg", metrics.horizontalAdvance("…"))
    assert metrics.horizontalAdvance(narrow) <= metrics.horizontalAdvance("…")
