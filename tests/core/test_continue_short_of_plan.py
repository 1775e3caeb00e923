"""A run continued for "N more", fewer than its schedule runs over: the schedule keeps its
length (the checkpoint's ``schedule_epochs``), and the Continue plan says it as it is ("over
6 epochs, at epoch 3"), not as the epochs asked for ("over 3 epochs", which read as if the
learning rate had reached its end)."""

from __future__ import annotations

import json
import math

import pytest

from helpers import run_cli as run, stop_after
from workbench.core.registry import Component
from workbench.core.runs.plan import ContinuePlan, continue_plan
from workbench.core.train.checkpoint import load_checkpoint


@pytest.fixture
def run_dir(tmp_path, tiny_experiment):
    """A cosine-scheduled run stopped after epoch 1 of its 6."""
    from workbench.core.train.run import run_training

    exp = tiny_experiment
    exp.scheduler = Component("CosineAnnealingLR", {})
    exp.training.epochs = 6
    out = tmp_path / "run"
    outcome = run_training(exp.validate(), out, [stop_after(1)], name="run")
    assert outcome.status == "stopped" and outcome.epochs_done == 1
    return out


def _info(run_dir) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def test_n_more_short_of_the_schedule_says_the_schedule_as_it_is(capsys, run_dir):
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "2")
    assert code == 0, err
    assert load_checkpoint(run_dir).schedule_epochs == 6  # what actually trains
    info = _info(run_dir)
    assert (info["status"], info["epochs_done"], info["epochs_planned"]) == ("finished", 3, 3)
    plan = continue_plan(run_dir)
    assert (plan.done, plan.planned, plan.schedule_epochs) == (3, 3, 6)
    text = plan.settings_text()
    assert "CosineAnnealingLR schedule over 6 epochs, at epoch 3" in text, text
    # The rate its last epoch trained at is cosine's over 6 epochs, not over 3.
    lr = plan.lr
    assert plan.last_lr == pytest.approx(lr * (1 + math.cos(math.pi * 2 / 6)) / 2, rel=1e-6)


def test_a_run_continued_past_its_plan_says_the_schedule_ended():
    plan = ContinuePlan(run_dir="r", name="r", status="finished", done=17, planned=17,
                        optimizer="Adam", lr=0.001, scheduler="StepLR", schedule_epochs=12)
    assert "StepLR schedule over 12 epochs, at epoch 17: past its end" in plan.settings_text()
    assert not plan.can_finish
    at_end = ContinuePlan(run_dir="r", name="r", status="finished", done=12, planned=12,
                          optimizer="Adam", lr=0.001, scheduler="StepLR")
    assert "StepLR schedule over 12 epochs, at epoch 12: its end" in at_end.settings_text()
