"""Evaluate tab, the confusion matrix from the keyboard: the heatmap is no Tab stop, so the
Most confused list is a keyboard user's way to a cell's images. A pair chosen there with
Tab, the arrow keys or Enter does what a click does: it outlines the cell and lists its
images (only a click did, and a keyboard user never saw a mistake's images)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_evaluate_confusion import _view

from workbench.qt.accessible import spoken_name

CLASSES = ["turn_left", "turn_right", "stop_sign"]


def _matrix() -> np.ndarray:
    return np.array([[5, 3, 0],
                     [1, 6, 0],
                     [0, 2, 4]])


def _pair_row(view, cell: tuple[int, int]) -> int:
    return next(i for i in range(view.pairs.count())
                if tuple(view.pairs.item(i).data(Qt.ItemDataRole.UserRole)) == cell)


def test_a_pair_chosen_with_the_arrow_keys_lists_its_images(qtbot):
    view = _view(qtbot, _matrix(), CLASSES, size=(900, 500))
    assert view.cell_model.rowCount() == 0
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    view.pairs.setFocus(Qt.FocusReason.TabFocusReason)  # Tab into the list
    qtbot.waitUntil(view.pairs.hasFocus)
    # Its first pair (3× turn_left → turn_right) is chosen, as Down would skip it.
    assert view.pairs.currentRow() == 0 and view.pairs.item(0).isSelected()
    assert view.heatmap.selected == (0, 1) and view.heatmap.highlight.isVisible()
    assert view.cell_model.rowCount() == 3
    assert view.cell_label.text().startswith("true turn_left → predicted turn_right: 3")
    QTest.keyClick(view.pairs, Qt.Key.Key_Down)  # 2× stop_sign → turn_right
    assert view.heatmap.selected == (2, 1)
    assert view.cell_model.rowCount() == 2
    assert view.cell_label.text().startswith("true stop_sign → predicted turn_right: 2")


def test_enter_on_the_pair_already_chosen_lists_its_images_again(qtbot):
    view = _view(qtbot, _matrix(), CLASSES, size=(900, 500))
    row = _pair_row(view, (1, 0))
    view.pairs.setCurrentRow(row)
    assert view.heatmap.selected == (1, 0)
    view.heatmap.select_cell(0, 1)  # a cell clicked in the matrix since
    assert view.cell_model.rowCount() == 3
    QTest.keyClick(view.pairs, Qt.Key.Key_Return)
    assert view.heatmap.selected == (1, 0)
    assert view.cell_model.rowCount() == 1


def test_the_list_and_the_cell_images_are_named_for_a_screen_reader(qtbot):
    view = _view(qtbot, _matrix(), CLASSES, size=(900, 500))
    assert "choose a pair in the list" in view.cell_label.text()  # the keyboard's way
    assert spoken_name(view.pairs) == "Most confused pairs"
    assert spoken_name(view.cell_images) == "Images of the selected cell"
