"""A run owns its name (walker report walk-tomorrow, defect 1): a window closed mid-run
("Stop and quit") does not keep the running run's name for the next start, a name kept
from the last session that a run took is not shown again, and Start never makes a second
run of a name another run has (it gets the first free "-2"), as the Runs tab refuses a
rename to one."""

from __future__ import annotations

import json

from qt_helpers import after_epoch, listed_run
from workbench.core.io import runs_dir
from workbench.core.runs.store import RunStore, read_run_info
from workbench.core.session import session_path, session_text, write_session
from workbench.qt import app

RUN_TIMEOUT_MS = 120000


def _window(qtbot):
    window = app.create_window()
    qtbot.addWidget(window)
    return window


def test_a_window_closed_mid_run_leaves_the_next_run_a_name_of_its_own(
        qtbot, monkeypatch, tiny_experiment):
    tiny_experiment.training.epochs = 40
    write_session(session_text(tiny_experiment, b"", "Train"))
    window = _window(qtbot)
    train = window.train_panel
    train.setup.name_edit.setText("phones-second")
    after_epoch(monkeypatch, 1, lambda trainer: trainer.pause())  # closed in epoch 2
    with qtbot.waitSignal(train.run.paused, timeout=RUN_TIMEOUT_MS):
        train.start_button.click()
    window.close()  # "Stop and quit": the run keeps its epoch, and its name
    window.session_keeper.save_now()  # as the app does once its loop has ended
    [stopped] = [p for p in runs_dir().iterdir() if p.is_dir()]
    assert read_run_info(stopped)["name"] == "phones-second"
    assert "run_name" not in json.loads(session_path().read_text())["train"]

    again = _window(qtbot)  # the next day
    setup = again.train_panel.setup
    assert setup.name_edit.text() == setup.name_edit.placeholderText() != "phones-second"
    assert setup.run_name() != "phones-second" and setup.name_note.isHidden()
    again.close()


def test_a_kept_name_a_run_took_meanwhile_is_not_shown_again(qtbot, tiny_experiment):
    listed_run(runs_dir(), "2026-12-07_09-51-47-phones-second", "phones-second")
    write_session(session_text(tiny_experiment, b"", "Train", run_name="Phones-Second"))
    window = _window(qtbot)
    setup = window.train_panel.setup
    assert setup.name_edit.text() == setup.name_edit.placeholderText()
    setup.set_typed_name("phones-third")  # a name no run has is the user's still
    assert setup.name_edit.text() == "phones-third"
    window.close()


def test_start_with_a_name_another_run_has_names_the_run_apart(qtbot, train_panel):
    listed_run(runs_dir(), "2026-12-07_09-51-47-phones-second", "phones-second")
    panel = train_panel(epochs=1)
    panel.setup.name_edit.setText("phones-second")
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
        assert panel.setup.name_note.isVisibleTo(panel)
        assert panel.setup.name_note.text() == ("Another run has this name: this run is "
                                                "named phones-second-2 (or type another).")
    assert read_run_info(done.args[0]["run_dir"])["name"] == "phones-second-2"
    names = sorted(read_run_info(p).get("name") for p in runs_dir().iterdir() if p.is_dir())
    assert names == ["phones-second", "phones-second-2"]
    assert panel.setup.name_note.isHidden()  # the box gives the next run a name of its own


def test_start_after_a_rename_to_the_suggested_name_names_the_run_apart(
        qtbot, train_panel):
    panel = train_panel(epochs=1)
    first = panel.setup.name_edit.placeholderText()  # <dataset>-<network>-1
    base = first.rsplit("-", 1)[0]
    assert first == f"{base}-1"
    one = listed_run(runs_dir(), f"2026-12-07_09-51-47-{first}", first)
    panel.setup.update_name()  # the runs changed: run 1 is there
    assert panel.setup.name_edit.placeholderText() == f"{base}-2"
    RunStore().rename(one, f"{base}-2")  # the Runs tab: run 1 now has the name suggested
    panel.setup.name_edit.setText("")
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    assert read_run_info(done.args[0]["run_dir"])["name"] == f"{base}-3"
    names = sorted(read_run_info(p)["name"] for p in runs_dir().iterdir() if p.is_dir())
    assert names == [f"{base}-2", f"{base}-3"]
    assert panel.setup.name_edit.placeholderText() == f"{base}-4"  # none is taken
