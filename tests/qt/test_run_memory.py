"""Between runs the app holds nothing of the last run's training state: the worker drops
its trainer in the training thread, and the heap's freed memory goes back to the system."""

from __future__ import annotations

import gc
import weakref

import workbench.qt.workers.threads as threads
from workbench.qt.workers import TrainingRun

RUN_TIMEOUT_MS = 120000


def test_after_a_run_the_trainer_is_gone_and_free_memory_is_released(qtbot, tiny_experiment,
                                                                     monkeypatch):
    released = []
    monkeypatch.setattr(threads, "release_free_memory", lambda: released.append(1) or True)
    run = TrainingRun()
    trainers = []
    run.fit_started.connect(lambda info: trainers.append(weakref.ref(run.worker.trainer)))
    with qtbot.waitSignal(run.finished, timeout=RUN_TIMEOUT_MS):
        run.start(tiny_experiment, save_bundle=False)
    qtbot.waitUntil(lambda: released == [1], timeout=RUN_TIMEOUT_MS)  # after run() returned
    gc.collect()
    [trainer] = trainers
    assert trainer() is None  # model, optimizer and loaders freed, not kept till next run
    run.shutdown()
