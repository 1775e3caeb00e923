"""Two windows open on one data directory (a second click on the icon): neither drops what
the other saved, whichever closes last, and the second one says that another is open
(walk-crash defect 1)."""

from __future__ import annotations

import json

import workbench.qt.app as app
import workbench.qt.session_share as share
from workbench.core.runs.store import write_run_info
from workbench.core.session import session_path
from workbench.qt.session_share import SessionLock, hold_session, merged_text, shared_text


def _window(qtbot, **kwargs):
    window = app.create_window(**kwargs)
    qtbot.addWidget(window)
    window.session_keeper.timer.stop()  # written when the test says (save_now, close)
    return window


def _file() -> dict:
    return json.loads(session_path().read_text())


def test_the_window_closed_last_keeps_the_other_windows_edits_and_last_run(
        qtbot, image_folder, tmp_path):
    a = _window(qtbot, data=str(image_folder))
    a.session_keeper.save_now()
    b = _window(qtbot)  # opened again: the same session
    run = tmp_path / "runs" / "a-run"
    run.mkdir(parents=True)
    write_run_info(run, {"name": "a-run", "status": "finished", "epochs_done": 1})
    a.experiment.training.epochs = 7
    a.session_keeper.last_run = str(run)  # A trained a run: the Train tab's last run
    assert a.session_keeper.save_now()
    b.tabs.setCurrentWidget(b.runs_panel)  # B does anything at all
    assert b.session_keeper.save_now()
    a.close()
    b.close()
    saved = _file()
    assert saved["experiment"]["training"]["epochs"] == 7
    assert saved["train"]["last_run"] == str(run)
    assert saved["window"]["tab"] == "Runs"  # B's own change is kept too


def test_a_part_both_windows_changed_is_the_later_ones():
    base = json.dumps({"session_version": 1, "train": {"last_run": ""},
                       "window": {"tab": "Data", "geometry": "g"},
                       "experiment": {"training": {"epochs": 10}}})
    theirs = json.dumps({"session_version": 1, "train": {"last_run": "/runs/a"},
                         "window": {"tab": "Train", "geometry": "g"},
                         "experiment": {"training": {"epochs": 7}}})
    ours = json.dumps({"session_version": 1, "train": {"last_run": ""},
                       "window": {"tab": "Model", "geometry": "g"},
                       "experiment": {"training": {"epochs": 10}}})
    merged = json.loads(merged_text(base, ours, theirs))
    assert merged == {"session_version": 1, "train": {"last_run": "/runs/a"},
                      "window": {"tab": "Model", "geometry": "g"},
                      "experiment": {"training": {"epochs": 7}}}
    assert list(merged) == ["session_version", "train", "window", "experiment"]
    assert merged_text(base, ours, "") == ours  # no file (deleted, or a first start)
    assert merged_text(base, ours, "{cut") == ours  # nothing of a damaged one to keep


def test_a_second_window_says_another_is_open_and_takes_the_lock_once_it_closes(
        qtbot, monkeypatch):
    monkeypatch.setattr(share, "RETRY_MS", 20)
    other = SessionLock(session_path())  # the first window, in another process
    session_path().parent.mkdir(parents=True, exist_ok=True)
    assert other.acquire()
    window = _window(qtbot)
    lock = hold_session(window, session_path())
    try:
        assert lock.shared and not lock.held
        text = shared_text(session_path())
        assert text.startswith(f"Another Workbench window is already open, with the same "
                               f"settings and runs folder ({session_path().parent}). Both "
                               f"windows keep their session in "
                               f"{session_path()}: each window's changes are kept")
        assert "WORKBENCH_HOME" in text
        other.release()  # the first window closed
        qtbot.waitUntil(lambda: lock.held)  # the next window to start finds this one
        assert not SessionLock(session_path()).acquire()
    finally:
        lock.release()
        other.release()


def test_a_window_alone_holds_the_lock(qtbot):
    window = _window(qtbot)
    lock = hold_session(window, session_path())
    try:
        assert lock.held and not lock.shared
    finally:
        lock.release()


def test_a_window_that_merged_keeps_merging_at_its_next_writes(qtbot, image_folder):
    # After one merge the window wrote its whole state again at its next change, so the
    # other window's edits it had kept were thrown away a moment later.
    a = _window(qtbot, data=str(image_folder))
    a.session_keeper.save_now()
    b = _window(qtbot)
    a.experiment.training.epochs = 7
    assert a.session_keeper.save_now()
    b.tabs.setCurrentWidget(b.runs_panel)
    assert b.session_keeper.save_now()  # a merge: A's epochs kept
    b.tabs.setCurrentWidget(b.data_panel)
    assert b.session_keeper.save_now()  # B's next change, nothing written by A since
    saved = _file()
    assert saved["experiment"]["training"]["epochs"] == 7
    assert saved["window"]["tab"] == "Data"


def test_a_window_opened_with_an_experiment_keeps_it_when_the_other_wrote_first(
        qtbot, image_folder, tmp_path):
    # B's experiment (given on its command line) was its state as it opened, so the merge
    # took it for unchanged and wrote A's over it: B showed X, and the next start had A's.
    a = _window(qtbot, data=str(image_folder))
    a.session_keeper.save_now()
    exp = a.experiment.copy()
    exp.training.epochs = 3
    exp.save(tmp_path / "x.json")
    b = _window(qtbot, experiment=str(tmp_path / "x.json"))
    a.tabs.setCurrentWidget(a.runs_panel)  # A writes before B's first save
    assert a.session_keeper.save_now()
    assert b.session_keeper.save_now()
    saved = _file()
    assert saved["experiment"]["training"]["epochs"] == 3
    assert saved["window"]["tab"] == "Runs"  # A's change, which B did not make, is kept


def test_a_deleted_last_run_is_not_kept_in_the_session(qtbot, image_folder, tmp_path):
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    write_run_info(run, {"name": "r1", "status": "finished", "epochs_done": 1})
    a = _window(qtbot, data=str(image_folder))
    a.session_keeper.last_run = str(run)
    assert a.session_keeper.save_now()
    a.tabs.setCurrentWidget(a.train_panel)  # built, with no last run of its own
    (run / "run.json").unlink()
    run.rmdir()
    a.train_panel.forget_runs([str(run)])  # as the Runs tab's delete does
    a.experiment.training.epochs = 4  # any change: written again
    assert a.session_keeper.save_now()
    assert _file()["train"]["last_run"] == ""
