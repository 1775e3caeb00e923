"""Python's cycle collector, run on the GUI thread only: :func:`collect_garbage_on_gui_thread`."""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot


class GuiThreadGarbageCollector(QObject):
    """Python's cycle collector, run on the GUI thread only, from a timer.

    Left automatic, a collection runs in whichever thread happens to allocate: often the
    training thread or a pool thread. Qt objects in garbage cycles (a closed panel's timers,
    its helper QObjects) are then destroyed in a thread that does not own them, which Qt
    forbids ("Timers cannot be stopped from another thread") and which can crash or hang
    the app later. pyqtgraph's ``GarbageCollector`` does the same for the same reason.

    The thresholds are Python's own; only the thread changes. Reference counting still
    frees everything that is not in a cycle at once, in any thread.
    """

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    @Slot()
    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds; the number of
        unreachable objects found."""
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self.threshold
        if c0 <= t0:
            return 0
        generation = 2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0
        return gc.collect(generation)


_COLLECTOR: GuiThreadGarbageCollector | None = None


def collect_garbage_on_gui_thread() -> GuiThreadGarbageCollector:
    """Install (once) the :class:`GuiThreadGarbageCollector` on the running application;
    call on the GUI thread once the QApplication exists."""
    global _COLLECTOR
    if _COLLECTOR is None:
        _COLLECTOR = GuiThreadGarbageCollector(parent=QCoreApplication.instance())
    return _COLLECTOR
