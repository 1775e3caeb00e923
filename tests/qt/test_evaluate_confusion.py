"""Evaluate tab, confusion matrix with many classes (a tester's 90 uneven classes): the axes
name the classes in view and follow the zoom, the cells get numbers once they are large
enough, zooming is offered (with a way back) only where it shows more, one-image mistakes
stay visible beside a class of hundreds, the most-confused list has room, and Save PNG
writes a figure that names every class."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage

#: The tester's shape: one class of 60 validation images, the others 1-2, long names that
#: share their start ("species_0...") and differ in the middle.
SPECIES = ["Northern_rough-winged_swallow_juvenile"] + [
    f"species_{i:03d}_{('warbler', 'sparrow_adult_male', 'finch')[i % 3]}"
    for i in range(1, 90)]


def _uneven(k: int = 90) -> np.ndarray:
    m = np.zeros((k, k), dtype=np.int64)
    m[0, 0] = 60
    for i in range(1, k):
        m[i, i] = 1
        m[i, (i * 7) % k] += 1  # one mistake each
    return m


def _result(confusion: np.ndarray, classes: list[str]):
    """An EvaluationResult whose predictions make ``confusion``."""
    from workbench.core.evaluate.evaluation import EvaluationResult

    k = len(classes)
    pairs = [(r, c) for (r, c), n in np.ndenumerate(confusion) for _ in range(int(n))]
    y_true = np.array([r for r, _ in pairs], dtype=np.int64)
    probs = np.full((len(pairs), k), 0.1 / k, dtype=np.float32)
    probs[np.arange(len(pairs)), [c for _, c in pairs]] = 0.9
    return EvaluationResult(classes=list(classes), paths=[f"/x/{i}.png" for i in range(len(pairs))],
                            y_true=y_true, probs=probs, losses=np.ones(len(pairs)))


def _view(qtbot, confusion, classes, size=(1340, 500)):
    from workbench.qt.panels.evaluate.confusion import ConfusionView

    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(*size)  # the tab's room in a 1366x768 window
    view.show()
    qtbot.waitExposed(view)
    view.set_result(_result(confusion, classes))
    qtbot.waitUntil(lambda: view.heatmap.cell_pixels() < 1e9)
    return view


def _ticks(heatmap, side: str) -> list[str]:
    return [text for _, text in heatmap.plot.getAxis(side)._tickLevels[0]]


def test_many_classes_zoom_names_every_class_in_view_and_writes_the_cells(qtbot):
    view = _view(qtbot, _uneven(), SPECIES)
    heatmap = view.heatmap
    # The whole matrix: too small to name every class or number the cells, so the view
    # says how to zoom; nothing to reset yet.
    assert heatmap.zoomable() and not heatmap.zoomed()
    assert view.zoom_hint.isVisible() and "Scroll to zoom" in view.zoom_hint.text()
    assert view.reset_zoom_button.isVisible() and not view.reset_zoom_button.isEnabled()
    assert heatmap.plot.vb.state["mouseEnabled"] == [True, True]
    assert len(_ticks(heatmap, "left")) < 90 and heatmap.shown_numbers() == []

    heatmap.plot.vb.setRange(QRectF(30, 30, 12, 12), padding=0)  # as the wheel does
    rows = _ticks(heatmap, "left")
    for i in range(30, 42):  # every row in view is named, with the part that differs
        assert f"{i}: species_{i:03d}" in " ".join(rows), (i, rows)
    columns = [int(t.split(":")[0]) for t in _ticks(heatmap, "bottom")]
    (x0, x1), _ = heatmap.plot.vb.viewRange()  # wider than 12: the view is not square
    assert set(range(30, 42)) <= set(columns)  # every column in view: not every 4th from 0
    assert x0 - 1 <= min(columns) and max(columns) <= x1
    numbers = {(r, c): text for r, c, text, _ in heatmap.shown_numbers()}
    assert numbers[(31, 31)] == "1" and numbers[(30, 30)] == "2" and numbers[(30, 31)] == "0"
    assert view.reset_zoom_button.isEnabled()

    view.reset_zoom_button.click()
    assert not heatmap.zoomed() and not view.reset_zoom_button.isEnabled()
    assert heatmap.shown_numbers() == []


def test_row_names_keep_the_part_that_tells_them_apart(qtbot):
    names = [f"experiment_2024_batch_{i:02d}_a_rather_long_common_ending" for i in range(40)]
    view = _view(qtbot, np.eye(40, dtype=np.int64), names, size=(700, 500))
    heatmap = view.heatmap
    heatmap.plot.vb.setRange(QRectF(0, 0, 6, 6), padding=0)
    rows = _ticks(heatmap, "left")
    assert len(set(rows)) == len(rows) >= 6
    for i, row in enumerate(rows[:6]):
        assert f"batch_{i:02d}" in row or f"{i:02d}_a" in row, rows


def test_few_classes_are_read_whole_with_no_zoom_offered(qtbot):
    for classes in (["cat", "dog", "horse"],
                    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                     "horse", "ship", "truck"]):
        k = len(classes)
        m = np.full((k, k), 1, dtype=np.int64) + np.eye(k, dtype=np.int64) * 10
        view = _view(qtbot, m, classes)
        heatmap = view.heatmap
        assert not heatmap.zoomable() and not view.zoom_hint.isVisible()
        assert not view.reset_zoom_button.isVisible()
        assert heatmap.plot.vb.state["mouseEnabled"] == [False, False]  # no stray zoom
        assert len(_ticks(heatmap, "left")) == k == len(_ticks(heatmap, "bottom"))
        assert len(heatmap.shown_numbers()) == k * k


def test_one_image_mistakes_stay_visible_beside_a_large_class(qtbot):
    view = _view(qtbot, _uneven(), SPECIES)
    heatmap = view.heatmap
    colour = heatmap.image.image
    # A cell of one image against the largest of 60: a clear tint, not 1/60 of one.
    assert colour[1, 7] >= 0.3 and colour[0, 0] == 1.0 and colour[1, 2] == 0
    assert view.scale_note.isVisible() and "log scale" in view.scale_note.text()
    assert "from 1 to 60 images" in view.scale_note.toolTip()
    view.normalized_button.click()  # shares are even: no log scale, no note
    assert not view.scale_note.isVisible()


def test_the_most_confused_list_has_room_for_ten_pairs_on_one_line_each(qtbot):
    m = _uneven()
    m[5, 0] = 7  # some pairs with long names
    view = _view(qtbot, m, SPECIES)
    pairs = view.pairs
    assert pairs.count() >= 10 and not pairs.wordWrap()
    row = pairs.sizeHintForRow(0)
    assert pairs.viewport().height() >= 10 * row, (pairs.viewport().height(), row)
    first = pairs.item(0)
    assert first.text() == "7× species_005_finch → " \
        "Northern_rough-winged_swallow_juvenile (78%)"
    assert first.toolTip().startswith("true species_005_finch → predicted "
                                      "Northern_rough-winged_swallow_juvenile: 7")


def test_save_png_of_many_classes_names_every_class_and_of_few_shows_the_whole_matrix(
        qtbot, tmp_path):
    from workbench.qt.panels.evaluate.figures import GRAB_CLASSES, matrix_figure

    view = _view(qtbot, _uneven(), SPECIES)
    pixmap = matrix_figure(view.heatmap)
    # Room for 90 rows of names: far larger than the 790x490 widget grab it was.
    assert pixmap.height() / pixmap.devicePixelRatio() > 90 * 14
    assert pixmap.width() / pixmap.devicePixelRatio() > 90 * 14
    path = tmp_path / "m.png"
    assert pixmap.save(str(path)) and not QImage(str(path)).isNull()

    k = GRAB_CLASSES
    small = _view(qtbot, _uneven(k), [f"c{i}" for i in range(k)], size=(900, 500))
    # The zoom hint and Reset zoom appearing did not leave the plot narrower than its widget.
    assert small.heatmap.ci.geometry().width() == small.heatmap.width()
    small.heatmap.plot.vb.setRange(QRectF(0, 0, 3, 3), padding=0)
    zoomed = small.heatmap.plot.vb.viewRect()
    matrix_figure(small.heatmap)
    assert small.heatmap.plot.vb.viewRect() == zoomed  # the user's zoom is left alone


def test_most_confused_lines_are_elided_at_any_width_with_no_sideways_scrolling(
        qtbot, make_evaluate_panel):
    # The tester's 60 classes: pairs far longer than the list. Rows were as wide as their
    # text, so after the window was narrowed (1366 to 1100) the lines were clipped
    # mid-word under a horizontal scroll bar instead of ending in "…".
    names = ["Northern_rough-winged_swallow_juvenile",
             "Black-throated_blue_warbler_female_first_winter_plumage"] + SPECIES[2:60]
    m = _uneven(60)
    m[1:20, 0] += 3
    panel = make_evaluate_panel()
    qtbot.addWidget(panel)
    panel.resize(1340, 620)  # the tab's room in a 1366x768 window
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_result(_result(m, names))
    panel.results.setCurrentIndex(1)  # filled while its tab was hidden, as after Evaluate
    pairs = panel.confusion.pairs
    assert pairs.textElideMode() == Qt.TextElideMode.ElideRight and not pairs.wordWrap()
    for size in ((1340, 620), (1070, 620), (1070, 560), (1340, 620)):  # 1100x706: 1070x560
        panel.resize(*size)
        qtbot.waitUntil(lambda: pairs.visualItemRect(pairs.item(0)).width()
                        == pairs.viewport().width(), timeout=2000)
        longest = max(range(pairs.count()), key=lambda r: len(pairs.item(r).text()))
        row = pairs.visualItemRect(pairs.item(longest))
        # Each row is the list's width: its text, wider, is elided to it when painted.
        assert pairs.fontMetrics().horizontalAdvance(pairs.item(longest).text()) > row.width()
        assert pairs.viewport().rect().contains(row) or row.top() >= pairs.viewport().height()
        assert not pairs.horizontalScrollBar().isVisible(), size


def test_most_confused_lines_cut_long_names_in_the_middle_keeping_both_classes(qtbot):
    # Two 120-character names differing at their end: cut at the line's end, "1× Looo…"
    # showed neither which class it was, nor the arrow, nor the predicted class.
    from workbench.qt.class_names import shown_texts

    long = "L" + "o" * 110 + "ng name end "
    names = [long + "A", long + "B", "sp031", "sp032"]
    m = np.eye(4, dtype=np.int64) * 3
    m[0, 2] = m[1, 3] = m[3, 1] = 1
    view = _view(qtbot, m, names, size=(900, 400))
    pairs = view.pairs
    lines = dict(zip((pairs.item(r).text() for r in range(pairs.count())),
                     shown_texts(pairs, 0)))
    room = pairs.viewport().width()
    for full, shown in lines.items():
        assert pairs.fontMetrics().horizontalAdvance(shown) <= room, (shown, room)
        count, rest = full.split("× ", 1)
        true, predicted = rest.rsplit(" (", 1)[0].split(" → ")
        assert shown.startswith(f"{count}× ") and shown.endswith(full[full.rindex(" ("):])
        shown_true, shown_predicted = shown[len(count) + 2:shown.rindex(" (")].split(" → ")
        for name, cut in ((true, shown_true), (predicted, shown_predicted)):
            assert cut == name or ("…" in cut and cut[-1] == name[-1]), (name, cut)
    assert lines["1× " + long + "A → sp031 (25%)"].endswith("A → sp031 (25%)")
    assert lines["1× sp032 → " + long + "B (25%)"].startswith("1× sp032 → L")
