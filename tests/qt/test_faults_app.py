"""Faults while the app trains: an error inside the trainer, a runs folder that fills up.
The Train panel says what happened, keeps the finished epochs, and can start another run."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(qtbot, tiny_experiment, monkeypatch):
    tiny_experiment.training.epochs = 3
    p = TrainPanel(tiny_experiment)
    qtbot.addWidget(p)
    shown = []
    monkeypatch.setattr("workbench.qt.panels.train.panel.show_error",
                        lambda parent, title, text: shown.append(text))
    p.shown_errors = shown
    yield p
    p.shutdown()


def _start_another_run_and_finish(qtbot, panel) -> dict:
    assert not panel.is_running() and panel.start_button.isEnabled()
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    assert done.args[0]["status"] == "finished" and done.args[0]["bundle"]
    return done.args[0]


def test_an_error_inside_the_trainer_is_reported_and_the_panel_trains_again(
        qtbot, panel, monkeypatch):
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def broken(self, x, target):
        if self.epochs_done == 1:
            raise RuntimeError("a layer broke in epoch 2")
        return real(self, x, target)

    monkeypatch.setattr(Trainer, "forward_loss", broken)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as err:
        panel.start_button.click()
    assert "a layer broke in epoch 2" in err.args[0]
    assert panel.status.level == "error" and "a layer broke" in panel.status.text()
    assert panel.shown_errors and "a layer broke" in panel.shown_errors[0]
    run_dir = Path(panel.last_run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "failed" and "a layer broke" in info["message"]
    from workbench.core.train.checkpoint import load_checkpoint

    assert load_checkpoint(run_dir).epoch == 1  # the finished epoch is kept

    monkeypatch.setattr(Trainer, "forward_loss", real)
    _start_another_run_and_finish(qtbot, panel)


def test_a_full_runs_folder_is_reported_keeps_the_checkpoint_and_the_app_goes_on(
        qtbot, panel, monkeypatch):
    import workbench.core.train.checkpoint as checkpoint

    real, calls = checkpoint.atomic_write, []

    def full_disk(path, write):
        calls.append(path)
        if len(calls) > 1:  # epoch 1's checkpoint is written, epoch 2's is not
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, write)

    monkeypatch.setattr(checkpoint, "atomic_write", full_disk)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as err:
        panel.start_button.click()
    message = err.args[0]
    run_dir = Path(panel.last_run_dir)
    assert str(run_dir) in message and "No space left on device" in message
    assert "Free some disk space" in message
    assert "No space left on device" in panel.status.text()
    assert checkpoint.load_checkpoint(run_dir).epoch == 1

    monkeypatch.setattr(checkpoint, "atomic_write", real)
    _start_another_run_and_finish(qtbot, panel)


def test_a_bundle_that_cannot_be_written_is_reported_not_shown_as_saved(
        qtbot, panel, monkeypatch):
    import workbench.core.bundle as bundle

    def full_disk(path, write):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(bundle, "atomic_write", full_disk)
    saved = []
    panel.bundle_saved.connect(saved.append)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as err:
        panel.start_button.click()
    assert "cannot write the bundle" in err.args[0] and "last.pt" in err.args[0]
    assert not saved
    run_dir = Path(panel.last_run_dir)
    assert (run_dir / "checkpoints" / "last.pt").exists()
    assert not (run_dir / "bundle.pt").exists()
