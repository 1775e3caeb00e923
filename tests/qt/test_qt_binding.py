"""The Qt binding itself must be safe for a long session.

PySide6-Essentials 6.12.0 loses a reference to ``None`` on every Qt call that returns
nothing; on Python < 3.12 (where None is not immortal) the interpreter aborts once the count
reaches zero, which a training run's progress and plot updates reach within minutes.
pyproject.toml excludes that release; this test catches any other release that does it.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel, QProgressBar


def test_void_qt_calls_do_not_leak_references_to_none(qtbot):
    label, bar = QLabel(), QProgressBar()
    qtbot.addWidget(label)
    qtbot.addWidget(bar)
    before = sys.getrefcount(None)
    for i in range(2000):
        label.setText("x")
        bar.setValue(i % 100)
    after = sys.getrefcount(None)
    # A few references come and go with the interpreter's own bookkeeping; a leaking binding
    # loses one per call, i.e. thousands here.
    assert before - after < 100, f"None lost {before - after} references over 4000 Qt calls"
