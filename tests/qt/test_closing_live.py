"""The quit question follows the run it asks about while it waits for an answer: it named
"epoch 2 of 3" while the run behind it already showed "Epoch 3/3" (UI review), since its
text was made once. After each epoch it is said again; once the run has ended it says so
and offers "Quit" (nothing is stopped then)."""

from __future__ import annotations

import pytest

from qt_helpers import after_epoch
from workbench.qt.closing import LiveQuestion, ask_stop_training
from workbench.qt.main_window import MainWindow

TIMEOUT_MS = 60000


@pytest.fixture
def window(qtbot, tiny_experiment):
    tiny_experiment.training.epochs = 3
    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    yield w
    w.train_panel.shutdown()


def test_the_question_names_the_epoch_the_run_is_in_and_says_when_it_has_ended(
        qtbot, window, monkeypatch):
    panel = window.train_panel
    # The run holds after epochs 1 and 2, until the question has been read.
    after_epoch(monkeypatch, 1, lambda trainer: trainer.pause())
    after_epoch(monkeypatch, 2, lambda trainer: trainer.pause())
    with qtbot.waitSignal(panel.run.paused, timeout=TIMEOUT_MS):
        panel.start()
    question = LiveQuestion(panel, window)
    assert "is training: epoch 2 of 3." in question.box.text()
    with qtbot.waitSignal(panel.run.paused, timeout=TIMEOUT_MS):
        panel.run.pause(False)  # it trains on while the question waits
    assert "is training: epoch 3 of 3." in question.box.text()
    with qtbot.waitSignal(panel.training_finished, timeout=TIMEOUT_MS):
        panel.run.pause(False)
    assert "has ended" in question.box.text() and "quitting stops nothing" in \
        question.box.text()
    assert (question.stop.text(), question.keep.text()) == ("Quit", "Don't quit")


def test_the_answer_is_the_button_pressed(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    def answer(label):
        def exec_(box):
            (button,) = [b for b in box.buttons() if b.text() == label]
            button.click()
        return exec_

    monkeypatch.setattr(QMessageBox, "exec", answer("Stop and quit"))
    assert ask_stop_training(window)
    monkeypatch.setattr(QMessageBox, "exec", answer("Keep training"))
    assert not ask_stop_training(window)
