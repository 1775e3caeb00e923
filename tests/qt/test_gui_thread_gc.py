"""Qt objects in garbage cycles are destroyed on the GUI thread, even when the allocations
that make a collection due happen in a training or pool thread."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject, Qt, QTimer

from workbench.qt.workers import collect_garbage_on_gui_thread


def test_a_qt_object_in_a_cycle_dies_on_the_gui_thread_while_another_thread_allocates(qtbot):
    collector = collect_garbage_on_gui_thread()
    assert not gc.isenabled()
    died_in: list[str] = []
    for _ in range(20):
        o = QObject()
        o.timer = QTimer(o)
        o.timer.start(60000)
        o.me = o  # a cycle: only the cycle collector frees it
        o.destroyed.connect(lambda *_: died_in.append(threading.current_thread().name),
                            Qt.ConnectionType.DirectConnection)
    del o

    def allocate_cycles() -> None:  # what a training thread does all the time
        for _ in range(50000):
            a: list = []
            a.append(a)

    t = threading.Thread(target=allocate_cycles, name="busy-thread")
    t.start()
    t.join()
    assert died_in == []  # nothing was collected in the busy thread
    qtbot.waitUntil(lambda: len(died_in) == 20, timeout=10000)
    assert set(died_in) == {threading.main_thread().name}
    assert collector.timer.isActive()


def test_check_collects_only_when_the_youngest_generation_is_over_its_threshold(qtbot):
    collector = collect_garbage_on_gui_thread()
    gc.collect()
    assert collector.check() == 0  # nothing allocated since
    for _ in range(collector.threshold[0] + 10):
        a: list = []
        a.append(a)
    assert collector.check() >= collector.threshold[0]
