"""The Data tab while a large folder is checked: the progress bar is redrawn a few times a
second, not once a report, and the check leaves a core to the event loop."""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject

from qt_helpers import loaded_data_panel
from workbench.qt.panels.data import jobs

WAIT_MS = 30000


class _PaintCounter(QObject):
    def __init__(self):
        super().__init__()
        self.paints = 0

    def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def test_a_burst_of_progress_reports_redraws_the_bar_once_not_per_report(qtbot,
                                                                         image_folder):
    # A scan of 10,000 files reported progress about 50 times; each report repainted the
    # bar (and whatever else in the window waited to be painted) there and then.
    panel = loaded_data_panel(qtbot, image_folder)
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    bar = panel.progress
    counter = _PaintCounter()
    bar.installEventFilter(counter)
    bar.setRange(0, 10_000)
    bar.setValue(0)
    bar.show()
    qtbot.waitUntil(lambda: counter.paints > 0, timeout=WAIT_MS)  # laid out and drawn
    counter.paints = 0
    for done in range(200, 10_001, 200):  # 50 reports, faster than any redraw
        panel._verify_runner.progressed.emit(0, done, 10_000)
        panel._runner.progressed.emit(0, done, 10_000)
    assert counter.paints == 0  # nothing painted while the reports come
    qtbot.waitUntil(lambda: bar.value() == 10_000, timeout=WAIT_MS)  # the last one shows
    qtbot.waitUntil(lambda: counter.paints >= 1, timeout=WAIT_MS)
    assert counter.paints <= 3
    assert bar.maximum() == 10_000


def test_the_data_tab_checks_images_with_a_core_left_to_the_window(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(4)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    from workbench.qt import startup

    assert jobs.verify_workers() == 3
    monkeypatch.setattr(startup, "torch_importing", lambda: True)
    assert jobs.verify_workers() == 2  # the import holds the interpreter lock for long
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert jobs.verify_workers() == 1  # never none
