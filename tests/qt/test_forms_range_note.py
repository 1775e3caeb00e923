"""A number typed beyond a parameter's bounds is not silently undone: the form says why
the old value stays (real key presses, as a user types them)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from workbench.core.registry import Entry, Param
from workbench.qt.forms import ParamForm

ENTRY = Entry("Thing", lambda **kw: kw, params=(
    Param("lr", float, 1e-3, min=1e-6, max=1.0, log=True, help="Learning rate."),
))


def type_into(qtbot, box, text: str, key=Qt.Key.Key_Tab) -> None:
    """Select what ``box`` shows, type ``text`` and press ``key`` (Tab: focus leaves)."""
    box.window().activateWindow()
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    box.selectAll()
    QTest.keyClicks(box, text)
    QTest.keyClick(box, key)


def test_sgd_lr_above_its_maximum_is_said_and_the_old_rate_stays(qtbot, train_panel):
    panel = train_panel()
    panel.show()
    editor = panel.optimizer_editor
    editor.combo.setCurrentIndex(editor.combo.findText("SGD"))
    box = editor.form.editors["lr"]
    old = panel.experiment.optimizer.params["lr"]
    assert editor.form.range_note.isHidden()
    type_into(qtbot, box, "50")
    note = editor.form.range_note
    assert note.isVisible() and note.text() == "lr can be at most 10: 50 was not taken"
    assert panel.experiment.optimizer.params["lr"] == old and box.value() == old
    # A rate it takes clears the note.
    type_into(qtbot, box, "0.05", Qt.Key.Key_Return)
    assert panel.experiment.optimizer.params["lr"] == 0.05
    assert not editor.form.range_note.isVisible()


def test_a_rate_past_either_bound_is_said_on_either_enter_key(qtbot):
    form = ParamForm(ENTRY, {})
    qtbot.addWidget(form)
    form.show()
    heard = []
    form.changed.connect(heard.append)
    type_into(qtbot, form.editors["lr"], "5", Qt.Key.Key_Return)
    assert form.range_note.isVisible()
    assert form.range_note.text() == "lr can be at most 1: 5 was not taken"
    type_into(qtbot, form.editors["lr"], "1e-9", Qt.Key.Key_Enter)  # the keypad Enter
    assert form.range_note.text() == "lr must be at least 1e-06: 1e-9 was not taken"
    assert form.values()["lr"] == 1e-3 and heard == []
