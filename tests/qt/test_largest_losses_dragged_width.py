"""Evaluate tab, Largest losses: a column the user sized by hand keeps its width when the
table's width changes (the window, or the splitter beside it); True and Predicted are
refitted to the room only while no column was sized by hand (each width change put True
back to its fitted width, throwing away the user's drag)."""

from __future__ import annotations

from test_many_long_class_names import _mistakes


def _table(qtbot):
    from workbench.qt.panels.evaluate.views import WorstLossesTable

    table = WorstLossesTable()
    qtbot.addWidget(table)
    table.resize(1340, 500)  # the tab's room at 1366x768
    table.show()
    qtbot.waitExposed(table)
    table.set_result(_mistakes())
    return table


def _narrow(qtbot, table, width: int) -> None:
    table.resize(width, 500)
    qtbot.waitUntil(lambda: table.width() == width)


def test_a_column_sized_by_hand_keeps_its_width_as_the_table_narrows(qtbot):
    table = _table(qtbot)
    fitted = table.columnWidth(2)
    table.horizontalHeader().resizeSection(1, 420)  # the user drags True wider
    _narrow(qtbot, table, 1300)
    assert table.columnWidth(1) == 420
    assert table.columnWidth(2) == fitted


def test_columns_not_sized_by_hand_follow_the_tables_width(qtbot):
    from workbench.qt.panels.evaluate.views import CLASS_WIDTH

    table = _table(qtbot)
    assert table.columnWidth(1) > CLASS_WIDTH  # room to spare at 1340 px
    _narrow(qtbot, table, 900)
    qtbot.waitUntil(lambda: table.columnWidth(1) == table.columnWidth(2) == CLASS_WIDTH)
