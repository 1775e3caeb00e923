"""The Health tab from the keyboard alone (walker report "a11y2"): Alt+Right / Alt+Left
choose another image of the current row, as a click does (a keyboard user could exclude
only the image chosen by default: never the other copy of a pair); a check started from
its button ends with the focus on the findings' first row (it was left anywhere: the
buttons are off while a check runs), and a field the user moved to meanwhile keeps it;
the Show combo and the table have names a screen reader says."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from helpers import make_photo_folder
from qt_helpers import health_experiment, loaded_data_panel, run_health_check
from workbench.qt.accessible import spoken_name

WAIT_MS = 30000
ALT = Qt.KeyboardModifier.AltModifier


def _health(qtbot, tmp_path, conflict: bool = True):
    """The Health view of a Data panel shown and active; with ``conflict``, cats_00 filed
    again under dogs (one conflicting-labels row of two images)."""
    root = make_photo_folder(tmp_path / "d")
    if conflict:
        shutil.copy(root / "cats" / "cats_00.png", root / "dogs" / "copy_of_cat.png")
    panel = loaded_data_panel(qtbot, root, health_experiment("keys"))
    panel.views.setCurrentWidget(panel.health)
    panel.resize(1300, 800)
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=WAIT_MS)
    return panel.health


def _check_with_space(qtbot, health, then=None) -> None:
    """Check pressed with Space, as a keyboard user does; ``then()`` right after."""
    health.check_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(health.check_button.hasFocus, timeout=WAIT_MS)
    with qtbot.waitSignal(health.checked, timeout=WAIT_MS):
        QTest.keyClick(health.check_button, Qt.Key.Key_Space)
        if then is not None:
            then()


def test_alt_arrows_choose_another_image_of_the_row_and_exclude_acts_on_it(qtbot, tmp_path):
    health = _health(qtbot, tmp_path)
    [conflict] = [f for f in run_health_check(qtbot, health) if f.kind == "conflict"]
    health.select(conflict)
    table, paths = health.table, list(conflict.paths)
    default = health.chosen_path()
    other = next(p for p in paths if p != default)
    table.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(table, Qt.Key.Key_Right, ALT)
    assert health.chosen_path() == other
    assert "Alt+Left/Right" in health.actions.chosen_label.text()  # the key is said
    QTest.keyClick(table, Qt.Key.Key_Left, ALT)
    assert health.chosen_path() == default
    QTest.keyClick(table, Qt.Key.Key_Left, ALT)  # round the row
    assert health.chosen_path() == other
    row = health.model.findings.index(conflict)
    tip = health.model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Alt+Left/Right" in tip
    health.exclude_button.click()
    assert other in health.model.excluded and default not in health.model.excluded


def test_plain_arrows_still_move_in_the_table(qtbot, tmp_path):
    health = _health(qtbot, tmp_path)
    run_health_check(qtbot, health)
    table = health.table
    table.setFocus(Qt.FocusReason.TabFocusReason)
    chosen, column = health.chosen_path(), table.currentIndex().column()
    QTest.keyClick(table, Qt.Key.Key_Right)
    assert health.chosen_path() == chosen and table.currentIndex().column() == column + 1


def test_a_check_started_from_the_keyboard_ends_on_the_first_finding(qtbot, tmp_path):
    health = _health(qtbot, tmp_path)
    _check_with_space(qtbot, health)
    assert health.stack.currentWidget() is health.table
    assert QApplication.focusWidget() is health.table
    assert health.table.currentIndex().row() == 0
    # Once more, moving to the excluded list while it runs: the list keeps the focus.
    _check_with_space(qtbot, health,
                      then=lambda: health.excluded.list.setFocus(Qt.FocusReason.TabFocusReason))
    assert QApplication.focusWidget() is health.excluded.list


def test_a_check_with_no_findings_gives_the_focus_back_to_its_button(qtbot, tmp_path):
    health = _health(qtbot, tmp_path, conflict=False)
    _check_with_space(qtbot, health)
    assert health.stack.currentWidget() is health.empty
    assert QApplication.focusWidget() is health.check_button


def test_the_show_combo_and_the_findings_table_are_named(qtbot, tmp_path):
    health = _health(qtbot, tmp_path)
    run_health_check(qtbot, health)
    assert spoken_name(health.kind_combo) == "Show findings"
    assert spoken_name(health.table) == "Findings"
