"""Evaluate tab, a second evaluation after a Most confused pair was chosen: the new result
shows no cell chosen, as a first one does (the old list's next pair was chosen in the new
matrix: a wrong cell outlined, or, with fewer classes, one outside it and an IndexError),
and each click or double-click on a pair chooses it once (its images listed once)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_evaluate_confusion import _result, _view
from test_evaluate_confusion_keys import CLASSES, _matrix, _pair_row

from workbench.qt.panels.evaluate.confusion import NO_CELL


def _click(view, row: int, double: bool = False) -> None:
    pos = view.pairs.visualItemRect(view.pairs.item(row)).center()
    QTest.mouseClick(view.pairs.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    if double:
        QTest.mouseDClick(view.pairs.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _chosen(view) -> list[tuple[int, int]]:
    """The cells chosen from now on, one entry each time a cell's images are listed."""
    cells: list[tuple[int, int]] = []
    view.heatmap.cell_clicked.connect(lambda row, col: cells.append((row, col)))
    return cells


def _nothing_chosen(view) -> None:
    assert view.heatmap.selected is None and not view.heatmap.highlight.isVisible()
    assert view.cell_label.text() == NO_CELL
    assert view.cell_model.rowCount() == 0


def test_evaluating_again_after_a_pair_was_chosen_chooses_no_cell(qtbot):
    view = _view(qtbot, _matrix(), CLASSES, size=(900, 500))
    _click(view, 0)  # 3× turn_left → turn_right
    assert view.heatmap.selected == (0, 1) and view.cell_model.rowCount() == 3
    view.set_result(_result(_matrix(), CLASSES))  # Evaluate again (another model)
    _nothing_chosen(view)
    _click(view, _pair_row(view, (2, 1)))  # the list still chooses
    assert view.heatmap.selected == (2, 1) and view.cell_model.rowCount() == 2


def test_evaluating_fewer_classes_after_a_pair_was_chosen(qtbot):
    view = _view(qtbot, _matrix(), CLASSES, size=(900, 500))
    _click(view, 0)
    errors: list[BaseException] = []
    with qtbot.captureExceptions() as caught:
        view.set_result(_result(np.array([[5, 1], [2, 6]]), ["cat", "dog"]))
        errors = [e for _, e, _ in caught]
    assert not errors  # the old list's (2, 1) chosen in a 2-class matrix: IndexError
    _nothing_chosen(view)
    _click(view, 0)  # 2× dog → cat
    assert view.heatmap.selected == (1, 0)
    assert view.cell_label.text().startswith("true dog → predicted cat: 2")


def test_a_click_or_a_double_click_chooses_a_pair_once(qtbot):
    view = _view(qtbot, _matrix(), CLASSES, size=(900, 500))
    cells = _chosen(view)
    _click(view, _pair_row(view, (2, 1)))
    assert cells == [(2, 1)]
    cells.clear()
    _click(view, _pair_row(view, (0, 1)), double=True)
    assert cells == [(0, 1)]
    assert view.cell_model.rowCount() == 3
    # Clicked again after a cell was chosen in the matrix, a pair lists its images again.
    view.heatmap.select_cell(2, 1)
    cells.clear()
    _click(view, _pair_row(view, (0, 1)))
    assert cells == [(0, 1)] and view.cell_model.rowCount() == 3


def test_after_evaluating_again_the_keys_still_choose_a_pair(qtbot):
    view = _view(qtbot, _matrix(), CLASSES, size=(900, 500))
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    view.pairs.setFocus(Qt.FocusReason.TabFocusReason)  # Tab into the list: its first pair
    qtbot.waitUntil(view.pairs.hasFocus)
    assert view.heatmap.selected == (0, 1)
    view.set_result(_result(_matrix(), CLASSES))  # Evaluate again, the focus in the list
    _nothing_chosen(view)
    QTest.keyClick(view.pairs, Qt.Key.Key_Down)  # the first pair
    assert view.heatmap.selected == (0, 1) and view.cell_model.rowCount() == 3
    QTest.keyClick(view.pairs, Qt.Key.Key_Down)
    assert view.heatmap.selected == (2, 1) and view.cell_model.rowCount() == 2
