"""A run whose learning rate is far too large, in the app: it diverges, and the LR finder
then proposes a rate for this network and data in the Doctor tab (as ``workbench train``
does), which its button sets and which trains; a new run stops the sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(qtbot, tiny_experiment, monkeypatch):
    exp = tiny_experiment
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    exp.optimizer = Component("Adam", {"lr": 10.0})
    exp.training.epochs = 3
    monkeypatch.setattr("workbench.qt.panels.train.panel.show_error", lambda *a: None)
    p = TrainPanel(exp)
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def diverged(panel) -> dict:
    (f,) = [f for f in panel.findings.findings if f["kind"] == "diverged"]
    return f


def test_after_a_divergence_the_doctor_proposes_the_lr_finders_rate_and_it_trains(
        qtbot, panel):
    sweep = panel.findings.after_divergence
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as err:
        panel.start_button.click()
    assert "exploded" in err.args[0] and "learning rate (10)" in err.args[0]
    assert sweep.is_running() and "learning-rate finder" in panel.run_label.text()
    qtbot.waitUntil(lambda: sweep.outcome is not None, timeout=RUN_TIMEOUT_MS)
    lr, _text = sweep.outcome
    assert lr is not None and 1e-6 < lr < 1.0
    f = diverged(panel)
    assert f["action"]["set"] == {"optimizer.params.lr": lr}
    assert "LR finder" in f["fix"] and f"{lr:g}" in panel.run_label.text()
    # The attempt stays listed (the next run does not take its name), with the proposal.
    info = json.loads((Path(panel.last_run_dir) / "run.json").read_text())
    assert info["status"] == "diverged" and info["epochs_done"] == 0
    (kept,) = [g for g in info["findings"] if g["kind"] == "diverged"]
    assert kept["action"]["set"] == {"optimizer.params.lr": lr}
    assert not panel.continue_button.isEnabled()  # nothing to continue from
    button = panel.findings.fix_button(panel.findings.findings.index(f))
    assert button.text() == f"Use lr {lr:g}" and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(lr)
    # The proposed rate trains: no divergence this time.
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    assert done.args[0]["status"] == "finished"
    assert "diverged" not in [g["kind"] for g in panel.findings.findings]


def test_a_run_that_kept_epochs_gets_the_proposal_in_its_run_json(qtbot, panel,
                                                                   monkeypatch):
    from workbench.core.train.callbacks.lr_finder import LRFinder
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def poisoned(self, x, target):  # NaN in epoch 2 of the run, never in the sweep
        logits, loss = real(self, x, target)
        sweeping = any(isinstance(h, LRFinder) for h in self.hooks)
        return logits, (loss * float("nan") if self.epochs_done == 1 and not sweeping
                        else loss)

    monkeypatch.setattr(Trainer, "forward_loss", poisoned)
    panel.experiment.optimizer.params["lr"] = 1e-3
    sweep = panel.findings.after_divergence
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    run_dir = Path(panel.last_run_dir)
    assert (run_dir / "run.json").is_file()
    qtbot.waitUntil(lambda: sweep.outcome is not None, timeout=RUN_TIMEOUT_MS)
    lr, _text = sweep.outcome
    assert lr is not None
    info = json.loads((run_dir / "run.json").read_text())
    (f,) = [f for f in info["findings"] if f["kind"] == "diverged"]
    assert f["action"]["set"] == {"optimizer.params.lr": lr} and "LR finder" in f["fix"]


def test_a_new_run_stops_the_sweep_and_its_result_is_dropped(qtbot, panel):
    sweep = panel.findings.after_divergence
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert sweep.is_running()
    done = sweep._done
    panel.experiment.optimizer.params["lr"] = 1e-3
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()  # a new run: the sweep stops at its next batch
        assert not sweep.is_running() and "learning-rate finder" not in \
            panel.run_label.text()
    assert done.wait(30)
    qtbot.wait(50)  # the stopped job's report, if any, has come and gone
    assert sweep.outcome is None
    assert "diverged" not in [g["kind"] for g in panel.findings.findings]
    assert "learning-rate finder" not in panel.run_label.text()


def test_a_sweep_given_up_as_too_slow_says_it_stopped_and_why(qtbot, panel, monkeypatch):
    """The line said "a minute at most" while it looked; when the sweep's first steps
    project more, the next line follows on from it instead of contradicting it."""
    too_slow = ("the LR finder would take about 75 s here, so it was not run: find a rate "
                "with it yourself (Find learning rate… on this tab)")
    monkeypatch.setattr("workbench.core.train.doctor.suggest.lr_after_divergence",
                        lambda *a, **k: (None, too_slow))
    sweep = panel.findings.after_divergence
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert "(a minute at most)" in panel.run_label.text()
    qtbot.waitUntil(lambda: sweep.outcome is not None, timeout=RUN_TIMEOUT_MS)
    assert panel.run_label.text() == (
        "The learning-rate finder stopped: it would take about 75 s here, more than the "
        "minute it is given: find a rate with it yourself (Find learning rate… on this tab).")
