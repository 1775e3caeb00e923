"""The Tune tab's layout: no blank band under the toolbar, the fields table's rows shown
whole, the optimizer choices readable, the trials table's header without a blank stub."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from workbench.core.model.presets import preset_layers
from workbench.qt.panels.tune.panel import TunePanel
from workbench.qt.panels.tune.space_editor import COL
from workbench.qt.panels.tune.widgets import HidingMessageLabel
from workbench.qt.workers import task_pool

from qt_helpers import drag_splitter_handle

WARNING = ("The experiment changed since these fields were chosen: Layer 10 (Dropout) p is "
           "no longer in it and was taken out of the search. Check the ticked fields, then "
           "press Start.")


@pytest.fixture
def panel(qtbot, tiny_experiment):
    tiny_experiment.model.layers = preset_layers("seed-cnn")  # 10 fields, as in the app
    p = TunePanel(tiny_experiment)
    qtbot.addWidget(p)
    p.resize(1140, 640)  # the Tune tab's page in the default 1162x706 window
    p.show()
    qtbot.waitExposed(p)
    QApplication.processEvents()
    yield p
    p.shutdown()
    task_pool().waitForDone()


def test_empty_message_lines_take_no_room(qtbot, panel):
    # From a UI review: two empty message lines left ~40 px blank under the toolbar.
    assert panel.message.isHidden() and panel.status.isHidden()
    gap = panel.editor.mapTo(panel, QPoint(0, 0)).y() - panel.start_button.geometry().bottom()
    assert gap < 16
    panel.message.show_message("Saved the search space to /tmp/space.json", "ok")
    qtbot.waitUntil(lambda: panel.message.isVisible())
    assert panel.status.isHidden()
    panel.message.show_message("")
    assert panel.message.isHidden()


def test_a_hiding_label_without_a_parent_never_opens_a_window(qtbot):
    label = HidingMessageLabel()
    label.show_message("text")
    assert not label.isVisible()
    label.deleteLater()


def _rows_whole(editor) -> bool:
    height = editor.viewport().height()
    return height > 0 and height % editor.rowHeight(0) == 0


def test_the_fields_table_shows_whole_rows(qtbot, panel):
    editor = panel.editor
    # Room for every row: the table is as tall as its rows, no scrollbar, no blank area.
    assert editor.verticalScrollBar().maximum() == 0
    rows = sum(editor.rowHeight(r) for r in range(editor.rowCount()))
    assert editor.viewport().height() == rows
    # A message takes room: the table shows as many whole rows as fit (the last one was
    # cut in half), at whatever height the window is.
    panel.message.show_message(WARNING, "warning")
    for height in (560, 547, 529, 511, 490, 463):
        panel.resize(1140, height)
        QApplication.processEvents()
        assert editor.verticalScrollBar().maximum() > 0, height
        assert _rows_whole(editor), (height, editor.viewport().height())
        # Scrolled to the end the last row is whole too.
        editor.verticalScrollBar().setValue(editor.verticalScrollBar().maximum())
        last = editor.visualRect(editor.model().index(editor.rowCount() - 1, 0))
        assert last.bottom() < editor.viewport().height(), height
    # The form follows the table.
    assert panel.sampler_combo.isVisible()


def test_the_optimizer_choices_are_readable(panel):
    # It read "Adam, Adam…": "Adam, AdamW, SGD" (no duplicate) cut to a column for two.
    editor = panel.editor
    cell = editor.item(editor.row_of("optimizer.type"), COL["Choices"])
    assert cell.text() == "Adam, AdamW, SGD"
    assert cell.toolTip() == cell.text()
    assert editor.fontMetrics().horizontalAdvance(cell.text()) + 8 <= \
        editor.columnWidth(COL["Choices"])
    assert editor.horizontalScrollBar().maximum() == 0  # and every column still in view


def test_loaded_long_choices_keep_the_names_whole_and_are_whole_in_their_tooltip(panel):
    # The field names come first (they tell the rows apart, walk-keyboard item 6): where
    # the table has no room for loaded choices too, they are cut, whole in the cell's
    # tooltip, and a very long one never takes the table.
    editor = panel.editor
    editor.set_params({"optimizer.type": {"type": "categorical",
                                          "choices": ["Adam", "AdamW", "SGD", "RMSprop"]}})
    text = "Adam, AdamW, SGD, RMSprop"
    [row] = [r for r in range(editor.rowCount())
             if editor.item(r, COL["Choices"]) is not None
             and editor.item(r, COL["Choices"]).text() == text]
    assert editor.item(row, COL["Choices"]).toolTip() == text
    assert editor.columnWidth(COL["Field"]) >= editor.field_width() - 40
    editor.set_params({"optimizer.type": {"type": "categorical", "choices": ["x" * 200]}})
    assert editor.columnWidth(COL["Choices"]) < 400


def test_loaded_choices_and_names_widen_the_table_where_the_window_has_room(qtbot, panel):
    # At 1366x768 loaded choices read "Adam, Ada…, RMSprop" while the trials beside them
    # took half the window: the split was sized once, when the tab was first shown.
    editor = panel.editor

    def whole(text: str) -> bool:
        return editor.fontMetrics().horizontalAdvance(text) + 8 <= \
            editor.columnWidth(COL["Choices"]) and \
            editor.columnWidth(COL["Field"]) >= editor.field_width() - 40  # names whole

    panel.resize(1346, 680)  # the window made larger: a 1366x768 screen's
    text = "Adam, AdamW, SGD, RMSprop"
    editor.set_params({"optimizer.type": {"type": "categorical",
                                          "choices": text.split(", ")}})
    qtbot.waitUntil(lambda: whole(text))
    # A loaded field the experiment does not list is named by its path, longer than the
    # names before: the table widens for it too.
    before = panel.split.sizes()[0]
    editor.set_params({"optimizer.type": {"type": "categorical", "choices": text.split(", ")},
                       "model.layers[8].params.negative_slope": {"type": "float", "low": 0.0,
                                                                 "high": 0.3}})
    qtbot.waitUntil(lambda: panel.split.sizes()[0] > before and whole(text))
    assert editor.horizontalScrollBar().maximum() == 0
    # Once the user has dragged the handle, the split stays where they left it.
    drag_splitter_handle(qtbot, panel.split, 0, dx=-120)
    dragged = panel.split.sizes()[0]
    editor.set_params({"model.layers[8].params.negative_slope_of_the_leaky_relu": {
        "type": "float", "low": 0.0, "high": 0.3}})
    panel.resize(1300, 680)
    QApplication.processEvents()
    assert panel.split.sizes()[0] == dragged


def test_the_trials_header_reaches_the_tables_edge(panel):
    table = panel.trials_table
    header = table.horizontalHeader()
    assert header.stretchLastSection()
    last = table.columnCount() - 1
    assert header.sectionViewportPosition(last) + header.sectionSize(last) == \
        table.viewport().width()
