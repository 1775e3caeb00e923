"""Where the window has room, the Train tab's first share shows the whole settings form:
its height was taken from the page as it was before torch loaded (the Type row alone), so
a form taller than the Device & run page (RMSprop, OneCycleLR) scrolled even on a tall
screen."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication


def test_a_tall_window_shows_the_whole_optimizer_form(qtbot, train_window):
    panel = train_window.train_panel
    panel.optimizer_editor.combo.setCurrentText("RMSprop")  # six settings each
    panel.schedule_editor.combo.setCurrentText("OneCycleLR")
    train_window.resize(1366, 1000)
    train_window.show()
    qtbot.waitExposed(train_window, timeout=30000)
    qtbot.waitUntil(lambda: panel.first_share.done, timeout=30000)
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(20)
    page = panel.settings_tabs.currentWidget()
    assert page.widget().height() <= page.viewport().height()  # nothing to scroll to
    assert not page.verticalScrollBar().isVisible()
