"""The Train tab's keys: Start training, Pause/Resume and Stop, while the tab is shown.

Each key presses its button, so it does what the button does and nothing while the button
is disabled (Start during a run, Stop with no run). The keys work wherever the focus is in
the window while the Train tab is shown (not while another tab or a dialog is), and the
buttons' tooltips name them. None is taken elsewhere: the File menu has Ctrl+N, Ctrl+O,
Ctrl+S, Ctrl+Shift+S and Ctrl+Q, the Model tab Ctrl+Z/Ctrl+Y, Ctrl+D, Delete and Alt+Up/Down,
Predict Ctrl+V, and the window Ctrl+1 to Ctrl+8 for its tabs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton

from workbench.qt.keyboard import shortcut_tip

#: Start training (the keypad's Enter too).
START_KEYS = ("Ctrl+Return", "Ctrl+Enter")
#: Pause a run, or resume a paused one.
PAUSE_KEYS = ("Ctrl+P",)
#: Stop the run after its current batch.
STOP_KEYS = ("Ctrl+.",)
#: Start's tooltip while nothing stops it from training.
START_TIP = shortcut_tip("Train the network on the loaded dataset", START_KEYS[0])


def add_run_keys(panel: Any) -> None:
    """Give ``panel``'s Start, Pause and Stop buttons their keys, named in their tooltips."""
    panel.start_button.setToolTip(START_TIP)
    for button, keys in ((panel.start_button, START_KEYS), (panel.pause_button, PAUSE_KEYS),
                         (panel.stop_button, STOP_KEYS)):
        if button is not panel.start_button:
            button.setToolTip(shortcut_tip(button.toolTip(), keys[0]))
        action = QAction(panel)
        action.setShortcuts([QKeySequence(k) for k in keys])
        # While the panel is shown in the active window, wherever the focus is in it (even on
        # the tab bar): not on the other tabs, whose panels are hidden then.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False, b=button: _press(b))
        panel.addAction(action)


def _press(button: QAbstractButton) -> None:
    if button.isEnabled() and button.isVisible():
        button.click()
