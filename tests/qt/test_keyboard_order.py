"""Tab order is reading order where widgets are made after the window (keyboard walk-through):
the Doctor's "Use lr 0.001" came after the whole plot bar, Tune's Type boxes after the
whole right-hand side, Augment's parameter fields after the preview; scroll areas that show
no focus were Tab stops; after a step added from Augment's "Add ▾" menu the focus stayed on
Add, so Delete did nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QAbstractScrollArea, QApplication, QMenu

from test_keyboard_reach import WAIT_MS, shown, tab_stops


def _finding(kind: str, epoch: int, lr: float) -> dict:
    return {"kind": kind, "epoch": epoch, "severity": "error", "message": f"{kind} at {epoch}.",
            "fix": "lower the rate", "action": {"label": f"Train with lr {lr}",
                                                "set": {"optimizer.params.lr": lr},
                                                "continue": False, "open": ""}}


def _hidden_stops(stops) -> list[str]:
    """The stops that draw no focus: a scroll area (a table or list draws its own)."""
    return [type(w).__name__ for w in stops if isinstance(w, QAbstractScrollArea)
            and not isinstance(w, QAbstractItemView)]


def test_the_doctors_fix_buttons_come_right_after_its_tab(qtbot, train_panel):
    panel = shown(qtbot, train_panel())
    panel.run.finding.emit(_finding("diverged", 2, 0.001))
    panel.run.finding.emit(_finding("lr_too_high", 3, 0.0003))
    view = panel.findings.view
    first, second = view.fix_button(0), view.fix_button(1)
    qtbot.waitUntil(lambda: panel.settings_tabs.currentWidget() is view
                    and second.isVisible(), timeout=WAIT_MS)
    assert first.text() == "Use lr 0.001"
    bar = panel.settings_tabs.tabBar()
    stops = tab_stops(qtbot, bar, presses=4)
    assert stops[:2] == [first, second], [type(w).__name__ for w in stops]
    assert not _hidden_stops(stops)
    first.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(first.hasFocus, timeout=WAIT_MS)
    QTest.keyClick(first, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is bar  # and Shift+Tab goes back to the tab
    # A finding that comes later takes its turn after the others, not after the plots.
    panel.run.finding.emit(_finding("overfitting", 5, 0.0001))
    qtbot.waitUntil(lambda: view.fix_button(2).isVisible(), timeout=WAIT_MS)
    stops = tab_stops(qtbot, bar, presses=4)
    assert stops[:3] == [first, second, view.fix_button(2)]


def test_tunes_type_boxes_are_in_the_tables_turn(qtbot, tune_panel):
    from workbench.qt.panels.tune.space_editor import COL

    panel = shown(qtbot, tune_panel)
    editor = panel.editor
    for _ in range(2):  # as built, and listed again (the tab shown after another edit)
        combos = [editor.cellWidget(r, COL["Type"]) for r in range(editor.rowCount())]
        assert len(combos) > 3
        stops = tab_stops(qtbot, editor, presses=len(combos) + 1)
        assert stops == combos + [panel.sampler_combo], [type(w).__name__ for w in stops]
        panel.experiment.training.epochs = 3
        panel.refresh_fields()


def _augment_panel(qtbot):
    from test_augment_keys import _shown_panel

    panel = _shown_panel(qtbot)
    panel.resize(1366, 740)
    qtbot.waitUntil(lambda: panel.form is not None and panel.form.isVisible(), timeout=WAIT_MS)
    return panel


def test_augment_tab_order_has_no_invisible_stop_and_the_form_after_its_tab(qtbot):
    from workbench.qt.keyboard import focus_stops

    panel = _augment_panel(qtbot)
    stops = tab_stops(qtbot, panel.list, presses=20)
    assert not _hidden_stops(stops)  # the preview's 16 draws, the form's area
    fields = focus_stops(panel.form)
    at = stops.index(panel.pipelines.tabBar())
    assert fields and stops[at + 1:at + 1 + len(fields)] == fields
    panel.list.setCurrentRow(1)  # another step: its form, in the same turn
    qtbot.waitUntil(lambda: panel.form.isVisible(), timeout=WAIT_MS)
    stops = tab_stops(qtbot, panel.pipelines.tabBar(), presses=3)
    assert stops[0] is focus_stops(panel.form)[0]


def test_a_step_added_from_the_menu_by_keyboard_has_the_focus(qtbot):
    panel = _augment_panel(qtbot)
    before = [c.type for c in panel.experiment.augment.transforms]
    panel.list.setCurrentRow(0)
    panel.add_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(panel.add_button.hasFocus, timeout=WAIT_MS)
    picked = []

    def pick() -> None:  # in the menu: the first group, its first transform
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, pick)
            return
        if not picked:
            picked.append(menu)
            QTest.keyClick(menu, Qt.Key.Key_Down)
            QTest.keyClick(menu, Qt.Key.Key_Right)  # opens the group's submenu
        else:
            QTest.keyClick(menu, Qt.Key.Key_Return)
            return
        QTimer.singleShot(20, pick)

    QTimer.singleShot(0, pick)
    QTest.keyClick(panel.add_button, Qt.Key.Key_Space)  # opens the menu; returns once closed
    qtbot.waitUntil(lambda: len(panel.experiment.augment.transforms) == len(before) + 1,
                    timeout=WAIT_MS)
    assert QApplication.focusWidget() is panel.list
    assert panel.list.currentRow() == 1  # the new step, after the selected one
    QTest.keyClick(panel.list, Qt.Key.Key_Delete)  # acts on it at once
    assert [c.type for c in panel.experiment.augment.transforms] == before
