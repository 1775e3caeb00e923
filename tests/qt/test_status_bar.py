"""The window's status bar ends a long message in "…" (QStatusBar cut it mid-word: "…is far
too lar"), keeps the whole of it in the tooltip and in currentMessage(), elides it anew
when the window is resized, and still clears a timed message."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QStatusBar

from workbench.qt.common import ElidedStatusBar

LONG = ("Training failed: training diverged: the loss exploded to 6.02e+08 at batch 4 of "
        "epoch 1, over 100 times the 1.39 of guessing every class equally. The learning rate "
        "(10) is far too large: lower it (e.g. to 0.001, or find one with the LR finder) and "
        "start again")


def test_a_long_message_ends_in_an_ellipsis_and_keeps_its_whole_text(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    bar = ElidedStatusBar(window)
    window.setStatusBar(bar)
    window.resize(600, 300)
    window.show()
    qtbot.waitExposed(window)
    bar.showMessage(LONG)
    shown = QStatusBar.currentMessage(bar)
    assert shown.endswith("…") and len(shown) < len(LONG)
    assert bar.currentMessage() == LONG and bar.toolTip() == LONG
    window.resize(1300, 300)
    qtbot.waitUntil(lambda: len(QStatusBar.currentMessage(bar)) > len(shown), timeout=5000)
    bar.showMessage("Saved x.json", 100)  # short: shown whole, then cleared
    assert QStatusBar.currentMessage(bar) == "Saved x.json" and bar.toolTip() == ""
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=5000)
