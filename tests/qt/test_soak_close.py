"""Closing the main window at any moment of a run, again and again (issue 9's soak).

Closing the window while a run was starting, or in the middle of an epoch, once crashed the
app about one close in twenty (a segfault: the worker QObject destroyed under its running
thread; the worker is now plain Python, let go of once its thread has left it). This test
repeats the close at moments spread over a run's life: at once (the thread just started,
the trainer scanning), when the run has started, after a random number of batches, and
just after an epoch ended (its checkpoint just written). A segfault here kills pytest,
which fails the suite too.

After every close: the run is no longer running, its thread has finished (the QThread
and the system thread alike), and the run folder is either absent (closed before the first
epoch ended: nothing to keep) or complete and loadable (run.json says it stopped, the last
checkpoint and the bundle load).
"""

from __future__ import annotations

import json
import os
import random
import threading

from PySide6.QtCore import Qt

from workbench.qt.main_window import MainWindow

ITERATIONS = 12
MOMENTS = ("at once", "fit started", "after batches", "epoch ended")
TIMEOUT_MS = 60000


def _system_threads() -> set[int]:
    try:
        return {int(t) for t in os.listdir("/proc/self/task")}
    except OSError:  # no /proc (not Linux): the QThread checks still apply
        return set()


def _run_folders(runs) -> set:
    # The runs folder also holds the Runs tab's index (runs.sqlite).
    return {p for p in runs.iterdir() if p.is_dir()} if runs.exists() else set()


def _python_threads() -> set[str]:
    return {t.name for t in threading.enumerate()
            if not isinstance(t, threading._DummyThread) and t.is_alive()}


def _check_run_folder(run_dir) -> str:
    """``"absent"`` or ``"kept"``; fails the test on a half-written folder."""
    from workbench.core.bundle import load_bundle
    from workbench.core.train.checkpoint import load_checkpoint

    if not run_dir.exists():
        return "absent"
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "stopped", info
    assert info["epochs_done"] >= 1
    checkpoint = load_checkpoint(run_dir)  # checkpoints/last.pt
    assert checkpoint is not None
    bundle = load_bundle(run_dir / "bundle.pt")
    assert bundle.classes == ["blue", "green", "red"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(metrics["epochs"]) == info["epochs_done"]
    return "kept"


def _close_at(qtbot, window: MainWindow, moment: str, wanted_batches: int) -> dict:
    """Start a run in ``window``, wait for ``moment`` and close the window; returns what
    was seen of the run (``thread``: the training thread's system id, when known)."""
    panel = window.train_panel
    seen = {"fit": False, "batches": 0, "epochs": 0, "thread": None, "errors": []}

    def in_training_thread(*_args):
        seen["thread"] = threading.get_native_id()

    def on_batches(chunk):
        seen["batches"] += len(chunk["steps"])

    def on_epoch(_metrics):
        seen["epochs"] += 1

    panel.run.fit_started.connect(lambda _info: seen.__setitem__("fit", True))
    panel.run.batches_finished.connect(on_batches)
    panel.run.epoch_finished.connect(on_epoch)
    panel.run.errored.connect(seen["errors"].append)
    try:
        panel.start()
        assert panel.is_running()
        job = panel.run._job
        # Direct connections to the worker's own signals run in the training thread: they
        # tell that thread's system id (the panel's signals arrive queued on the GUI thread).
        panel.run.signals.yielded.connect(in_training_thread, Qt.ConnectionType.DirectConnection)
        reached = {"at once": lambda: True, "fit started": lambda: seen["fit"],
                   "after batches": lambda: seen["batches"] >= wanted_batches,
                   "epoch ended": lambda: seen["epochs"] >= 1}[moment]
        qtbot.waitUntil(lambda: reached() or bool(seen["errors"]), timeout=TIMEOUT_MS)
        assert not seen["errors"], f"the run failed before the window closed: {seen['errors']}"
    finally:
        window.close()  # also on a failure: never leave a training thread behind
    assert not panel.is_running(), moment
    # The run has left the training thread (which stays for the next run).
    assert job.done.is_set(), moment
    return seen


def test_closing_the_window_at_any_moment_of_a_run_never_crashes_or_loses_work(
        qtbot, tiny_experiment, workbench_home):
    tiny_experiment.training.epochs = 200  # never finishes on its own: always closed
    tiny_experiment.data.batch_size = 4
    rng = random.Random(9)
    runs = workbench_home / "runs"
    outcomes = []
    python_threads = _python_threads()
    system_counts: list[int] = []
    training_threads: set[int] = set()
    for i in range(ITERATIONS):
        moment = MOMENTS[i % len(MOMENTS)]
        before = _run_folders(runs)
        window = MainWindow(tiny_experiment)
        if i % 2:
            window.show()  # half the time the plots are drawn too
        seen = _close_at(qtbot, window, moment, rng.randint(1, 12))
        # Deleting the window now: any signal of the run still queued must not reach it.
        with qtbot.waitSignal(window.destroyed, timeout=TIMEOUT_MS):
            window.deleteLater()
        thread = seen["thread"]
        if thread is not None:
            # Every run uses the one training thread, kept for the next run.
            training_threads.add(thread)
            assert len(training_threads) == 1, training_threads
        # Threads Python started are the same as before; (threads it merely saw, like the
        # training QThread, stay listed as "dummy" ones in Python 3.11 after they end, so
        # the system's list above is the one to trust for those.)
        assert _python_threads() == python_threads, moment
        system_counts.append(len(_system_threads()))

        new = _run_folders(runs) - before
        assert len(new) <= 1, new
        outcomes.append((moment, _check_run_folder(new.pop()) if new else "absent"))
    # Closing after an epoch ended always keeps that epoch.
    assert all(kept == "kept" for moment, kept in outcomes if moment == "epoch ended"), outcomes
    assert [kept for _moment, kept in outcomes].count("kept") >= ITERATIONS // 4
    # No thread is left behind by a close: after the first round of moments (which may
    # start Qt's pool threads and torch's own, kept for reuse) the count stays put.
    assert max(system_counts[len(MOMENTS):]) <= max(system_counts[:len(MOMENTS)]), \
        system_counts
