"""The Health table's Images cell keeps to its column: a group of more copies than fit is
drawn as the images that fit and "+K more" inside the cell (never over the Details text),
a click where no image is drawn chooses nothing, and the chosen image is always in sight;
the Score column tells apart label scores that differ near 1."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from workbench.qt.panels.data.health.cells import (GAP, MAX_SHOWN, MORE_WIDTH, PAD, THUMB,
                                                   image_rects, images_width, shown_images)
from workbench.qt.panels.data.health.findings import Finding
from workbench.qt.panels.data.health.table import (COLUMNS, IMAGES, FindingsModel,
                                                   FindingsTable)
from workbench.qt.thumbnails import ThumbnailLoader

DETAILS = COLUMNS.index("Details")
SCORE = COLUMNS.index("Score")


def _table(qtbot, findings, width=130 + 80 + 56 + 290 + 240):
    """A findings table whose Images column is fitted as at 1366x768 (290 px wide)."""
    table = FindingsTable(FindingsModel(ThumbnailLoader(None, size=80)))
    model = table.proxy.sourceModel()
    model.loader.setParent(table)
    model.setParent(table)
    qtbot.addWidget(table)
    model.set_findings(findings)
    table.show()
    table.resize(width + table.width() - table.viewport().width(), 400)
    table.fit_images_column()
    return table, model


def _leak(tmp_path, n=5, sides=None) -> Finding:
    paths = []
    for i in range(n):
        p = tmp_path / f"copy_{i}.png"
        Image.new("RGB", (40, 40), (255, 0, 0)).save(p)  # red: easy to find when drawn
        paths.append(str(p))
    return Finding("leak", tuple(paths), ("cats",) * n,
                   tuple(sides or ["train"] * (n - 1) + ["val"]),
                   detail="Copies in training and in validation. " * 4)


def _place(cell, k: int) -> QPoint:
    """The middle of the ``k``-th image place of an Images cell."""
    return QPoint(cell.left() + PAD + k * (THUMB + GAP) + THUMB // 2, cell.top() + PAD + 40)


def _red_pixels(image, rect) -> int:
    return sum(image.pixelColor(x, y) == QColor(255, 0, 0)
               for x in range(rect.left(), rect.right() + 1, 2)
               for y in range(rect.top(), rect.bottom() + 1, 2))


def test_a_big_groups_images_stay_out_of_the_details_column(qtbot, tmp_path):
    leak = _leak(tmp_path)
    table, model = _table(qtbot, [leak])
    assert table.columnWidth(IMAGES) == 290
    for p in leak.paths:  # every copy's thumbnail ready, those drawn or not
        model.loader.request(p)
    qtbot.waitUntil(lambda: all(model.loader.get(p) for p in leak.paths), timeout=10000)
    table.viewport().repaint()
    image = table.viewport().grab().toImage()
    details = table.visualRect(table.proxy.index(0, DETAILS))
    cell = table.visualRect(table.proxy.index(0, IMAGES))
    assert _red_pixels(image, details) == 0  # the 4th and 5th copies were drawn here
    assert _red_pixels(image, cell) > 0
    # Two fit, the second the val copy (chosen: in sight), with "+3 more" in the cell.
    assert [table.image_at(_place(cell, k)) for k in range(3)] == [(0, 0), (0, 4), None]
    rects = image_rects(leak, cell, 4)
    assert len(rects) == 2 and rects[-1].right() + GAP // 2 + MORE_WIDTH <= cell.right()


def test_a_column_fitted_to_a_big_group_has_the_room_its_more_is_drawn_in(qtbot, tmp_path):
    five, seven = _leak(tmp_path, 5), _leak(tmp_path, 7)
    # "+2 more" takes the MORE_WIDTH the cell draws it in: no more, no less (review-qt, 8).
    assert images_width([seven]) - images_width([five]) == MORE_WIDTH
    table, _ = _table(qtbot, [seven], width=130 + 80 + 56 + images_width([seven]) + 240)
    cell = table.visualRect(table.proxy.index(0, IMAGES))
    assert table.columnWidth(IMAGES) == images_width([seven])
    assert shown_images(seven, cell.width()) == list(range(MAX_SHOWN))
    assert image_rects(seven, cell)[-1].right() + GAP // 2 + MORE_WIDTH <= cell.right()


def test_a_click_where_no_image_is_drawn_chooses_nothing(qtbot, tmp_path):
    leak = _leak(tmp_path)
    table, model = _table(qtbot, [leak])
    cell = table.visualRect(table.proxy.index(0, IMAGES))
    third = _place(cell, 2)  # where "+3 more" is
    assert cell.contains(third)
    assert table.image_at(third) is None
    pressed = []
    table.image_pressed.connect(lambda row, image: pressed.append((row, image)))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=third)
    assert pressed == []  # the third copy was drawn (and chosen) here: now "+3 more" is
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=_place(cell, 0))
    assert pressed == [(0, 0)]


def test_the_chosen_image_is_drawn_in_the_last_place_that_fits(qtbot, tmp_path):
    leak = _leak(tmp_path, sides=["train", "train", "train", "val", "train"])
    table, model = _table(qtbot, [leak])
    assert model.chosen_image(0) == 3  # the val copy: excluding it ends the leak
    cell = table.visualRect(table.proxy.index(0, IMAGES))
    assert [table.image_at(_place(cell, k)) for k in range(3)] == [(0, 0), (0, 3), None]
    wide, _ = _table(qtbot, [leak], width=130 + 80 + 56 + 600 + 240)
    cell = wide.visualRect(wide.proxy.index(0, IMAGES))
    assert [wide.image_at(_place(cell, k)) for k in range(5)] == [(0, k) for k in range(5)]


def test_label_scores_near_1_read_differently(qtbot):
    findings = [Finding("label", (f"/x/{i}.png",), ("cat",), ("train",), score=s,
                        suggested="dog")
                for i, s in enumerate((0.9999, 0.9997, 0.9994, 0.5, 1.0))]
    table, model = _table(qtbot, findings)
    texts = [model.index(r, SCORE).data() for r in range(len(findings))]
    assert texts == ["0.9999", "0.9997", "0.999", "0.500", "1.000"]
