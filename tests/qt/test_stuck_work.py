"""Background work that never ends must not freeze the app: the GUI thread waits a bounded
time, says on the console what is stuck and where every thread is, and goes on."""

from __future__ import annotations

import threading

import workbench.qt.workers.threads as threads
import workbench.qt.workers.worker as worker
from workbench.qt.workers import TaskRunner, TrainingRun, TrainingWorker, await_workers

RUN_TIMEOUT_MS = 120000


def test_a_job_that_never_ends_is_reported_not_waited_for(qtbot, capfd):
    release = threading.Event()

    def job_that_hangs(state):
        release.wait(30)

    runner = TaskRunner()
    runner.submit(job_that_hangs)
    try:
        assert await_workers(timeout_s=0.3) is False
        err = capfd.readouterr().err
        assert "a background job did not end within 0 s" in err
        assert "job_that_hangs" in err  # the stack shows where it is stuck
    finally:
        release.set()
    assert await_workers(timeout_s=30)


def test_a_run_stuck_after_its_end_gets_its_thread_left_and_the_next_run_trains(
        qtbot, tiny_experiment, monkeypatch, capfd):
    monkeypatch.setattr(worker, "CLOSE_WAIT_S", 0.3)
    holds = [threading.Event(), threading.Event()]  # what keeps run 1, run 2 in their thread
    real_run = TrainingWorker.run
    calls = []

    def run_then_hang(self):
        hold = holds[len(calls)]
        calls.append(1)
        real_run(self)  # reports its end...
        hold.wait(60)  # ...then does not leave the thread until released

    monkeypatch.setattr(TrainingWorker, "run", run_then_hang)
    run = TrainingRun()
    stuck_thread = threads.training_thread()
    try:
        with qtbot.waitSignal(run.finished, timeout=RUN_TIMEOUT_MS):
            run.start(tiny_experiment, save_bundle=False)
        with qtbot.waitSignal(run.finished, timeout=RUN_TIMEOUT_MS) as second:
            run.start(tiny_experiment, save_bundle=False)  # waits 0.3 s, then goes on
        assert second.args[0]["status"] == "finished"
        assert "a training run did not end within 0 s" in capfd.readouterr().err
        second_thread = threads.training_thread()
        assert second_thread is not stuck_thread  # the second run had a new thread
        assert stuck_thread.isRunning()
        holds[1].set()  # the second run leaves its thread; the first stays stuck...
        monkeypatch.setattr(TrainingWorker, "run", real_run)
        with qtbot.waitSignal(run.finished, timeout=RUN_TIMEOUT_MS):
            run.start(tiny_experiment, save_bundle=False)  # ...and is not waited for again
        assert "did not end" not in capfd.readouterr().err
        assert threads.training_thread() is second_thread
    finally:
        for hold in holds:
            hold.set()
    assert stuck_thread.wait(30000)  # released: the old thread ends
    run.shutdown()
    assert "did not end" not in capfd.readouterr().err


def test_quitting_waits_for_every_live_worker_not_only_pool_jobs(qtbot, capfd):
    """A worker on a thread of its own (a study, a run) is awaited at quit as a pool job
    is: bounded, and named when it does not end."""
    from workbench.qt.workers.threads import WorkerThread
    from workbench.qt.workers.worker import Worker, WorkerSignals

    release = threading.Event()
    thread = WorkerThread("test-long-worker")
    signals = WorkerSignals()
    long_job = Worker(lambda state: release.wait(30))
    long_job.description = "the long job"
    with qtbot.waitSignal(signals.started, timeout=30000):
        long_job.start(signals, 1, thread)
    try:
        assert await_workers(timeout_s=0.3) is False
        assert "the long job did not end within 0 s" in capfd.readouterr().err
    finally:
        release.set()
    assert await_workers(timeout_s=30)
    assert long_job.done.is_set()
    assert thread.end("the test thread")
