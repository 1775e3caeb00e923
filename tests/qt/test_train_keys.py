"""The Train tab's keys: Ctrl+Return starts training, Ctrl+P pauses and resumes, Ctrl+.
stops, only while the Train tab is shown; the buttons' tooltips name them. And the schedule
"none" reads as a sentence."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

RUN_TIMEOUT_MS = 120000
WAIT_MS = 30000
CTRL = Qt.KeyboardModifier.ControlModifier


def active(qtbot, widget):
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget.window(), timeout=WAIT_MS)
    return widget


def press(widget, key) -> None:
    QTest.keyClick(QApplication.focusWidget() or widget, key, CTRL)


def test_keys_start_pause_resume_and_stop_a_run(qtbot, train_panel):
    panel = active(qtbot, train_panel(epochs=3))
    assert "(Ctrl+Return)" in panel.start_button.toolTip()
    assert "(Ctrl+P)" in panel.pause_button.toolTip()
    assert "(Ctrl+.)" in panel.stop_button.toolTip()
    press(panel, Qt.Key.Key_P)  # nothing to pause yet: nothing happens
    assert not panel.is_running() and panel.pause_button.text() == "Pause"

    with qtbot.waitSignal(panel.run.paused, timeout=RUN_TIMEOUT_MS):
        press(panel, Qt.Key.Key_Return)
        press(panel, Qt.Key.Key_P)  # while the run sets up: it holds before its first batch
    assert panel.is_running() and panel.pause_button.text() == "Resume"
    press(panel, Qt.Key.Key_Return)  # Start is disabled during a run: nothing happens
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        press(panel, Qt.Key.Key_P)
    assert done.args[0]["status"] == "finished" and len(done.args[0]["history"]) == 3

    with qtbot.waitSignal(panel.run.paused, timeout=RUN_TIMEOUT_MS):
        press(panel, Qt.Key.Key_Enter)  # the keypad's Enter
        press(panel, Qt.Key.Key_P)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as stopped:
        press(panel, Qt.Key.Key_Period)
    assert stopped.args[0]["status"] == "stopped"


def test_the_keys_work_only_while_the_train_tab_is_shown(qtbot, train_window):
    window = active(qtbot, train_window)
    panel = window.train_panel
    window.tabs.setCurrentWidget(window.data_panel)
    window.data_panel.setFocus()
    press(window, Qt.Key.Key_Return)
    assert not panel.is_running()


def test_the_schedule_none_says_the_learning_rate_stays_constant(qtbot, train_window):
    editor = train_window.train_panel.schedule_editor
    qtbot.waitUntil(lambda: editor.combo.isEnabled(), timeout=WAIT_MS)
    editor.combo.setCurrentText("none")
    qtbot.waitUntil(lambda: editor.form is not None and editor.form.entry.name == "none",
                    timeout=WAIT_MS)
    texts = [label.text() for label in editor.form.findChildren(QLabel) if not label.isHidden()]
    assert texts == ["No schedule: the learning rate stays constant."]


def test_an_entry_with_no_parameters_reads_naturally(qtbot):
    from workbench.core.catalog import LAYERS, SCHEDULERS
    from workbench.qt.forms import ParamForm

    relu = ParamForm(LAYERS.get("ReLU"))
    qtbot.addWidget(relu)
    assert [w.text() for w in relu.findChildren(QLabel)] == ["ReLU has no parameters."]
    none = ParamForm(SCHEDULERS.get("none"))
    qtbot.addWidget(none)
    assert [w.text() for w in none.findChildren(QLabel)] == ["Nothing to set."]
