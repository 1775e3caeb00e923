"""Closing the window while a run trains asks first ("Stop and quit" / "Keep training"):
keeping it leaves the run and the window as they were; a signal (Ctrl+C, SIGTERM) closes
without a question, as nobody is there to answer."""

from __future__ import annotations

import pytest

from workbench.qt.closing import QUIT_WITHOUT_ASKING, may_close, stop_training_question
from workbench.qt.main_window import MainWindow

TIMEOUT_MS = 60000


@pytest.fixture
def training_window(qtbot, tiny_experiment):
    tiny_experiment.training.epochs = 500  # never finishes on its own
    tiny_experiment.data.batch_size = 2
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.train_panel.run.epoch_finished, timeout=TIMEOUT_MS):
        window.train_panel.start()
    yield window
    window.train_panel.shutdown()


def test_keep_training_refuses_the_close_and_stop_and_quit_stops_the_run(
        qtbot, training_window, monkeypatch):
    window, asked = training_window, []
    monkeypatch.setattr(MainWindow, "confirm_close",
                        staticmethod(lambda w: asked.append(w) or False))  # Keep training
    assert not window.close()
    assert asked == [window] and window.isVisible() and window.train_panel.is_running()
    before = window.train_panel.plots.point_counts()["epochs"]
    qtbot.waitUntil(lambda: window.train_panel.plots.point_counts()["epochs"] > before,
                    timeout=TIMEOUT_MS)  # it trains on
    monkeypatch.setattr(MainWindow, "confirm_close", staticmethod(lambda w: True))
    assert window.close()
    assert not window.train_panel.is_running()


def test_the_question_names_the_run_its_epoch_and_how_to_go_on(training_window):
    panel = training_window.train_panel
    text = stop_training_question(panel)
    from workbench.core.runs.store import read_run_info

    name = read_run_info(panel.last_run_dir)["name"]  # as the Runs tab lists it
    done = panel.plots.point_counts()["epochs"]
    assert f"“{name}” is training: epoch {done + 1} of 500" in text
    assert "kept" in text and "Continue…" in text
    assert "workbench resume" not in text  # a learner's question, not a terminal's


def test_a_signal_closes_without_asking_and_an_idle_window_never_asks(
        qtbot, qapp, training_window, tiny_experiment, monkeypatch):
    def never(_window):
        raise AssertionError("asked")

    monkeypatch.setattr(MainWindow, "confirm_close", staticmethod(never))
    idle = MainWindow(tiny_experiment)
    qtbot.addWidget(idle)
    assert may_close(idle)
    qapp.setProperty(QUIT_WITHOUT_ASKING, True)  # what Ctrl+C / SIGTERM's handler sets
    try:
        assert training_window.close()
    finally:
        qapp.setProperty(QUIT_WITHOUT_ASKING, None)
    assert not training_window.train_panel.is_running()
