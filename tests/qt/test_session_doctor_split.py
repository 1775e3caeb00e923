"""The Model doctor's split across restarts: the doctor follows its findings until the
user drags the handle (workbench.qt.panels.model.doctor_share); a restart without a drag
must not freeze it at the sizes it happened to have (nor a session an earlier version
wrote, which kept them whether dragged or not); a dragged size is kept."""

from __future__ import annotations

from PySide6.QtWidgets import QSplitter

from qt_helpers import drag_splitter_handle
from workbench.core.session import session_text, write_session

from test_model_doctor_share import WAIT_MS, _settle
from test_session_reopen import _custom, _file, _window

KEY = "model.network_doctor"


def _shown_split(qtbot, window) -> QSplitter:
    window.show()
    window.resize(1200, 760)
    window.tabs.setCurrentWidget(window.model_panel)
    split = window.model_panel.findChild(QSplitter, KEY)
    qtbot.waitUntil(split.isVisible, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(window.model_panel.doctor.findings), timeout=WAIT_MS)
    _settle(qtbot)
    return split


def _follows_findings(qtbot, window, split) -> bool:
    doctor = window.model_panel.doctor
    count, before = len(doctor.findings), split.sizes()[1]
    window.model_panel.add_layer("Softmax")  # one more finding: Softmax before the loss
    qtbot.waitUntil(lambda: len(doctor.findings) == count + 1, timeout=WAIT_MS)
    _settle(qtbot)
    return not split.user_sized and split.sizes()[1] > before


def test_the_doctor_follows_its_findings_after_a_restart_until_dragged(qtbot, image_folder):
    exp = _custom(image_folder)
    split = _shown_split(qtbot, _window(qtbot))
    old = bytes(split.saveState().data())  # what an earlier version kept, undragged
    split.window().close()
    write_session(session_text(exp, b"", "Model", splitters={KEY: old}))

    window = _window(qtbot)
    split = _shown_split(qtbot, window)
    assert not split.user_sized
    window.close()
    assert not [k for k in _file()["window"].get("splitters", {}) if k.startswith(KEY)]

    window = _window(qtbot)  # restarted without a drag: still follows
    split = _shown_split(qtbot, window)
    assert _follows_findings(qtbot, window, split)
    window.model_panel.undo_action.trigger()
    _settle(qtbot)
    drag_splitter_handle(qtbot, split, -60)
    _settle(qtbot)
    assert split.user_sized
    dragged = split.sizes()
    window.close()

    window = _window(qtbot)  # the user's size comes back, and stays
    split = _shown_split(qtbot, window)
    assert split.user_sized
    assert abs(split.sizes()[1] - dragged[1]) <= 2, (split.sizes(), dragged)
    window.model_panel.add_layer("Softmax")
    _settle(qtbot)
    assert abs(split.sizes()[1] - dragged[1]) <= 2
    window.close()
