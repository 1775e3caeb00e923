"""Closing the window while other long work runs: a Tune study (each trial is a training
run) and the Data tab's label check ask first, as a training run does; "Stop and quit"
stops the study as its Stop button does (the trial is recorded as stopped). The tester
closed mid-study and the running trial was stopped without a word."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.qt.closing import ask_stop_work, may_close
from workbench.qt.main_window import MainWindow
from workbench.qt.workers import task_pool

TIMEOUT_MS = 120000


@pytest.fixture
def answers(monkeypatch):
    """Every box asked is answered by the button labelled as the next of ``answers.queue``
    says; what each box said is kept in ``answers.asked`` (title, text)."""
    class Answers:
        queue: list[str] = []
        asked: list[tuple[str, str]] = []

    def exec_(box):
        Answers.asked.append((box.windowTitle(), box.text()))
        label = Answers.queue.pop(0)
        (button,) = [b for b in box.buttons() if b.text() == label]
        button.click()

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    # The real question (tests/qt/conftest.py answers it "Stop and quit" unasked).
    monkeypatch.setattr(MainWindow, "confirm_close", staticmethod(ask_stop_work))
    return Answers


def running_epoch(tune) -> int:
    """The epoch the trial is training now: one past the last finished. Read on the GUI
    thread, with no events handled before the question is built, it cannot move on (a fast
    machine finishes epoch 2 before the test asks, so no fixed number holds)."""
    return int(tune.run.epoch.get("epoch") or 0) + 1


@pytest.fixture
def studying(qtbot, tiny_experiment):
    """A window whose Tune tab runs study "closing" (trials that never end on their own),
    its first trial past its first epoch."""
    tiny_experiment.training.epochs = 500
    tiny_experiment.data.batch_size = 2
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    window.show()
    tune = window.tune_panel
    tune.trials_spin.setValue(3)
    tune.name_edit.setText("closing")
    with qtbot.waitSignal(tune.run.epoch_finished, timeout=TIMEOUT_MS):
        assert tune.start()
    yield window
    window.shutdown()
    task_pool().waitForDone()


def test_closing_mid_study_asks_and_stop_and_quit_records_the_trial_as_stopped(
        qtbot, studying, answers):
    window, tune = studying, studying.tune_panel
    answers.queue = ["Keep searching"]
    now = running_epoch(tune)  # the epoch in progress as the question is asked
    assert now >= 2
    assert not window.close()
    (title, text), = answers.asked
    assert title == "Stop the study and quit?"
    assert f"Study “closing” is running trial 0: epoch {now} of 500." in text
    assert "recorded as stopped" in text and "Runs tab" in text
    assert window.isVisible() and tune.is_running()  # it searches on
    qtbot.waitUntil(lambda: int(tune.run.epoch.get("epoch") or 0) >= 2, timeout=TIMEOUT_MS)

    answers.queue = ["Stop and quit"]
    assert window.close()
    assert not tune.is_running()
    # As the Stop button leaves it: failed "stopped" in Optuna (shown "stopped"), and its
    # run folder "stopped" with the epochs it finished.
    import optuna

    from workbench.core.runs.store import read_run_info
    from workbench.core.tune.storage import default_storage
    from workbench.core.tune.study import trial_dict

    study = optuna.load_study(study_name="closing", storage=default_storage())
    (trial,) = [trial_dict(t) for t in study.get_trials()]
    assert (trial["state"], trial["failure"]) == ("fail", "stopped")
    info = read_run_info(trial["run_dir"])
    assert info["status"] == "stopped" and info["epochs_done"] >= 2


def test_the_study_question_follows_the_study_and_says_when_it_has_ended(
        qtbot, studying):
    from workbench.qt.closing import StudyQuestion

    tune = studying.tune_panel
    now = running_epoch(tune)
    question = StudyQuestion(tune, studying)
    assert f"trial 0: epoch {now} of 500" in question.box.text()
    qtbot.waitUntil(lambda: f"trial 0: epoch {now + 1} of 500" in question.box.text(),
                    timeout=TIMEOUT_MS)
    with qtbot.waitSignal(tune.study_finished, timeout=TIMEOUT_MS):
        tune.stop()
    assert question.box.windowTitle() == "Quit?"
    assert "has ended" in question.box.text() and "quitting stops nothing" in \
        question.box.text()
    assert (question.stop.text(), question.keep.text()) == ("Quit", "Don't quit")
    question.box.deleteLater()


def test_closing_mid_label_check_asks_and_a_window_at_rest_does_not(
        qtbot, tiny_experiment, answers, monkeypatch):
    release = threading.Event()

    def slow_check(exp, index, labels, state):  # the label check takes minutes
        release.wait(60)
        raise RuntimeError("cancelled")

    monkeypatch.setattr("workbench.qt.panels.data.health.jobs.check", slow_check)
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    assert may_close(window) and answers.asked == []  # nothing runs: nothing asked
    health = window.data_panel.health
    health.check(labels=True)
    answers.queue = ["Keep checking"]
    assert not window.close()
    (title, text), = answers.asked
    assert title == "Stop checking labels and quit?"
    assert "Check labels is running on the Data tab" in text and "minutes" in text
    assert health.is_checking()
    answers.queue = ["Stop and quit"]
    release.set()
    assert window.close()
    task_pool().waitForDone()


def test_a_fast_health_check_is_stopped_without_a_question(
        qtbot, tiny_experiment, answers, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr("workbench.qt.panels.data.health.jobs.check",
                        lambda exp, index, labels, state: release.wait(60))
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    window.data_panel.health.check(labels=False)  # seconds: not worth a question
    assert window.data_panel.health.is_checking()
    release.set()
    assert window.close() and answers.asked == []
    task_pool().waitForDone()
