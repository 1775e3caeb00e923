"""The Train tab shows its last run as the run's folder keeps it (walker report
walk-tomorrow, defects 2 and 7): after a restart it still names the model the run kept
("Model kept: epoch 1: …, accuracy …", from run.json alone, as the run's end said it);
a ``workbench resume`` of that run in a terminal is shown when the window is activated or
the tab shown (its epochs, "Finished: 2 of 2 epochs"); and "Cannot continue: … is
training right now" is taken back once the run's lock is free."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from helpers import run_cli
from qt_helpers import after_epoch
from workbench.core.runs.lock import RunLock
from workbench.core.errors import WorkbenchError
from workbench.core.runs.store import read_run_info
from workbench.qt.panels.train.start_checks import IDLE_TEXT
from workbench.qt.panels.train.status import metrics_text

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def trained(qtbot, monkeypatch, train_panel, train_error_boxes):
    """A Train panel that trained one epoch of its 2 and was stopped; its run folder."""
    panel = train_panel(epochs=2)
    with monkeypatch.context() as m:
        after_epoch(m, 1, lambda trainer: trainer.request_stop())
        with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
            panel.start_button.click()
    assert done.args[0]["status"] == "stopped"
    return panel, panel.last_run_dir


def _activate(panel) -> None:
    """The user comes back to the window (from a terminal)."""
    QApplication.sendEvent(panel, QEvent(QEvent.Type.WindowActivate))


def test_a_restarted_train_tab_names_the_model_the_last_run_kept(qtbot, train_panel):
    panel = train_panel(epochs=1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    live = panel.status.text()  # "Finished 1 epoch. Model kept: epoch 1: …"
    kept = read_run_info(panel.last_run_dir)["bundle"]
    assert kept["epoch"] == 1 and f"Model kept: epoch 1: {metrics_text(kept['metrics'])}" \
        in live

    again = train_panel(epochs=1)  # the next start
    assert again.restore_last_run(done.args[0]["run_dir"])
    line = again.run_label.text()
    numbers = metrics_text({k: v for k, v in kept["metrics"].items()
                            if k not in ("lr", "seconds")})
    assert f"1 of 1 planned epochs. Model kept: epoch 1: {numbers}. Continue…" in line, line
    assert numbers.endswith(f"accuracy {100 * kept['metrics']['val_acc']:.1f}%")


def test_a_resume_in_a_terminal_is_shown_when_the_window_is_activated(
        qtbot, capsys, trained):
    panel, run_dir = trained
    before = panel.plots.point_counts()["epochs"]
    ended = panel.status.text()  # "Stopped after 1 complete epoch… Model kept: epoch 1…"
    assert ended.startswith("Stopped") and f"Model kept: epoch {before}" in ended, ended
    rc, _out, err = run_cli(capsys, "resume", run_dir, "--epochs", "1")
    assert rc == 0, err
    info = read_run_info(run_dir)
    assert info["epochs_done"] == before + 1
    _activate(panel)
    assert panel.plots.point_counts()["epochs"] == before + 1
    status = info["status"].replace("_", " ")
    assert f"({status}), {before + 1} of {info['epochs_planned']} planned epochs. Model kept: " \
        f"epoch {before + 1}:" in panel.run_label.text()
    assert panel.progress.format().endswith(f"{before + 1} of {info['epochs_planned']} epochs")
    assert panel.continue_button.isEnabled()
    # The status line above no longer says how the run ended here: it says what it says
    # at start-up.
    assert panel.status.text() == IDLE_TEXT
    assert f"Model kept: epoch {before}" not in panel.status.text()


def test_the_tab_shown_again_shows_a_run_resumed_elsewhere_after_a_restart(
        qtbot, capsys, trained, train_panel):
    _panel, run_dir = trained
    again = train_panel(epochs=2)  # the next start
    assert again.restore_last_run(run_dir)
    shown = again.plots.point_counts()["epochs"]
    _activate(again)  # nothing changed: nothing is shown again
    assert again.plots.point_counts()["epochs"] == shown
    assert run_cli(capsys, "resume", run_dir, "--epochs", "2")[0] == 0
    again.show()  # the Train tab is shown (the window was on another)
    qtbot.waitExposed(again)
    assert again.plots.point_counts()["epochs"] == shown + 2
    assert f"{shown + 2} of {shown + 2} planned epochs" in again.run_label.text()


def test_training_right_now_is_taken_back_once_the_runs_lock_is_free(
        qtbot, trained, train_error_boxes):
    panel, run_dir = trained
    lock = RunLock(run_dir)  # as `workbench resume` in a terminal holds it
    assert lock.acquire()
    panel.ask_continue = lambda plan: None
    assert not panel.continue_run()
    assert "is training right now" in panel.status.text()
    assert panel.status.text().startswith("Cannot continue: ")
    _activate(panel)  # still training there: still said
    assert "is training right now" in panel.status.text()
    lock.release()  # the terminal's run ended
    _activate(panel)
    assert "training right now" not in panel.status.text()
    assert panel.status.level != "error"


def test_a_continue_that_opens_takes_back_training_right_now(qtbot, trained):
    panel, run_dir = trained
    lock = RunLock(run_dir)
    assert lock.acquire()
    asked = []
    panel.ask_continue = lambda plan: asked.append(plan)  # cancelled
    assert not panel.continue_run()
    lock.release()
    assert not panel.continue_run()  # the dialog opens; cancelled again
    assert asked and "training right now" not in panel.status.text()


def test_another_refusal_while_the_run_trains_is_not_taken_back_as_training(
        qtbot, monkeypatch, trained, train_error_boxes):
    panel, run_dir = trained
    lock = RunLock(run_dir)  # a terminal trains it, and the run's dataset is gone
    assert lock.acquire()

    def gone(*_args, **_kwargs):
        raise WorkbenchError("the dataset folder /photos/cats is gone: open it on the Data "
                             "tab")

    monkeypatch.setattr("workbench.core.runs.plan.continue_plan", gone)
    assert not panel.continue_run()
    refused = panel.status.text()
    assert refused.startswith("Cannot continue: the dataset folder /photos/cats is gone")
    lock.release()
    _activate(panel)  # the lock is free: the refusal was not about it, and stays
    assert panel.status.text() == refused
    assert "no longer training elsewhere" not in panel.status.text()
