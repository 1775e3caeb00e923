"""Evaluate tab's result views as a learner reads them: the calibration histogram says what
its ECE means and draws each bar over exactly its confidence range; the largest-loss table
starts every file name at one place whatever the thumbnail's shape; the confusion matrix
writes a few long class names in full (on two staggered lines) before it cuts them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSize

from workbench.core.evaluate.evaluation import EvaluationResult

WAIT_MS = 30000


def _result(probs, y_true, paths=None, classes=("cat", "dog")) -> EvaluationResult:
    probs = np.asarray(probs, dtype=np.float32)
    y = np.asarray(y_true)
    paths = paths or [f"/x/{i}.png" for i in range(len(y))]
    return EvaluationResult(classes=list(classes), paths=list(paths), y_true=y, probs=probs,
                            losses=-np.log(probs[np.arange(len(y)), y]).astype(np.float64),
                            top_k=1)


def test_calibration_bars_span_their_confidence_range_and_the_ece_is_explained(qtbot):
    from workbench.qt.panels.evaluate.views import CalibrationPlot

    plot = CalibrationPlot()
    qtbot.addWidget(plot)
    # Confidences 0.95 (right), 0.93 (wrong), 0.85 (right), 0.62 (wrong).
    r = _result([[0.95, 0.05], [0.93, 0.07], [0.15, 0.85], [0.62, 0.38]], [0, 1, 1, 1])
    plot.set_result(r)
    h = plot.histogram
    # Each bar covers its whole bin on the x axis (0.9-1.0 drawn from 0.9 to 1.0), not a
    # narrower part of it that reads as another range.
    edges = h["edges"]
    for which in ("correct", "wrong"):
        ranges = plot.bar_ranges(which)
        for i, (x0, x1) in enumerate(ranges):
            assert (x0, x1) == (pytest.approx(edges[i]), pytest.approx(edges[i + 1])), which
    # The wrong images are stacked on the correct ones of the same bin.
    assert list(plot.wrong_bars.opts["y0"]) == list(h["correct"])
    # The ECE is said once, in percentage points (not "ECE 0.053" in the title and "5.3
    # points" under it), and the line under the title says what it means (0 is perfect).
    title, note = plot.title_text(), plot.note.text()
    assert title.endswith(f"· ECE {100 * h['ece']:.1f} percentage points")
    assert f"{h['ece']:.3f}" not in title + note and "points" not in note
    assert note.startswith("Expected calibration error (ECE): how far, on average, the "
                           "confidence is from the accuracy; 0 is perfect")
    assert "over-confident" in note  # sure of 0.93 and 0.62, and wrong
    assert "0 is perfect" in plot.header.toolTip() and "calibration error" in plot.header.toolTip()


def test_calibration_page_shows_the_explanation_under_the_title(qtbot, make_evaluate_panel):
    panel = make_evaluate_panel()
    page = panel.calibration_page
    assert page.isAncestorOf(panel.calibration.note)


def test_largest_losses_file_names_start_at_one_place_whatever_the_thumbnail(qtbot, tmp_path):
    from workbench.qt.panels.evaluate.views import WORST_THUMB, WorstLossesTable

    shapes = {"wide.png": (64, 20), "tall.png": (20, 64), "square.png": (40, 40),
              "small.png": (12, 30)}
    paths = []
    for name, size in shapes.items():
        Image.new("RGB", size, (200, 30, 30)).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    table = WorstLossesTable()
    qtbot.addWidget(table)
    table.set_result(_result([[0.6, 0.4], [0.3, 0.7], [0.8, 0.2], [0.45, 0.55]],
                             [0, 0, 1, 1], paths))
    box = QSize(WORST_THUMB, WORST_THUMB)
    # The row's icon is what the table draws before the name: as wide for every row, both
    # before the thumbnails are decoded and after.
    assert {table.item(r, 0).icon().actualSize(box).width() for r in range(4)} == {WORST_THUMB}
    qtbot.waitUntil(lambda: all(table.loader.get(p) is not None for p in paths),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: all(not table.item(r, 0).icon().pixmap(box).toImage()
                                .pixelColor(WORST_THUMB // 2, WORST_THUMB // 2).alpha() == 0
                                for r in range(4)), timeout=WAIT_MS)
    sizes = {table.item(r, 0).icon().actualSize(box).toTuple() for r in range(4)}
    assert sizes == {(WORST_THUMB, WORST_THUMB)}


@pytest.mark.parametrize("width", [1076, 1340])  # the tab at 1100x706, 1366x768
def test_largest_losses_show_long_class_names_in_full(qtbot, width):
    """True and Predicted were cut to "northern_car…" (100 px each) while Top
    probabilities had 350 px to spare: similar long names could not be told apart."""
    from PySide6.QtWidgets import QHeaderView

    from workbench.qt.panels.evaluate.views import WorstLossesTable

    birds = ("northern_cardinal", "great_crested_grebe", "eurasian_blue_tit")
    table = WorstLossesTable()
    qtbot.addWidget(table)
    table.resize(width, 400)
    table.show()
    paths = [f"/x/{b}_{i:03d}.png" for i, b in enumerate(birds)]
    table.set_result(_result([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]], [0, 1, 2],
                             paths, classes=birds))
    metrics = table.fontMetrics()
    for c in (1, 2):  # True, Predicted
        widest = max(metrics.horizontalAdvance(table.item(r, c).text()) for r in range(3))
        assert table.columnWidth(c) >= widest + 8, (c, table.columnWidth(c), widest)
    assert table.columnWidth(3) < table.columnWidth(1)  # "0.357": a short number
    names = max(metrics.horizontalAdvance(table.item(r, 0).text()) for r in range(3))
    assert table.columnWidth(0) >= names + 64  # the file name beside its thumbnail
    assert table.horizontalHeader().stretchLastSection()  # Top probabilities: the rest
    last = table.horizontalHeader().sectionSize(4)
    assert last > 300 and table.horizontalHeader().sectionResizeMode(4) != \
        QHeaderView.ResizeMode.Fixed


SHAPES = ["blue_square", "green_triangle", "red_circle", "yellow_cross"]


@pytest.mark.parametrize("size", [(1076, 460), (1340, 520)])  # the tab at 1100x706, 1366x768
def test_few_long_class_names_are_written_in_full_on_two_lines(qtbot, size):
    from PySide6.QtGui import QImage, QPainter

    from workbench.qt.panels.evaluate.confusion import ConfusionView

    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    y = np.repeat(np.arange(4), 5)
    probs = np.full((20, 4), 0.1, dtype=np.float32)
    probs[np.arange(20), y] = 0.7
    view.set_result(_result(probs, y, classes=SHAPES))
    heatmap = view.heatmap
    qtbot.waitUntil(lambda: heatmap.cell_pixels() < 1e9)
    axis = heatmap.plot.getAxis("bottom")
    qtbot.waitUntil(lambda: [t.lstrip("\n") for _, t in axis._tickLevels[0]] == SHAPES,
                    timeout=WAIT_MS)
    # pyqtgraph draws every one of them (it leaves out a label crossing the axis' ends),
    # every other one a line lower, and the axis is tall enough for both lines.
    image = QImage(10, 10, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        drawn = [text for _, _, text in axis.generateDrawSpecs(painter)[2]]
    finally:
        painter.end()
    assert drawn == ["blue_square", "\ngreen_triangle", "red_circle", "\nyellow_cross"]
    assert heatmap.staggered and heatmap.column_label_texts() == SHAPES
    line = heatmap._metrics.height()
    qtbot.waitUntil(lambda: axis.height() >= 2 * line + axis.label.boundingRect().height() * 0.8)
