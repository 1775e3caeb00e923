"""A run continued for "N more", fewer than its plan: the schedule keeps its length (the
checkpoint's ``schedule_epochs``), and so does the plan. The Continue plan says the schedule
as the checkpoint keeps it ("over 6 epochs, at epoch 3"), run.json keeps ``epochs_planned``
and records the run as stopped partway (not "finished"), and ``workbench resume`` without
``--epochs`` (Continue's "finish the planned epochs") then goes on to the schedule's end."""

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


def test_n_more_short_of_the_plan_keeps_the_plan_and_the_schedule(capsys, run_dir):
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "2")
    assert code == 0, err
    assert load_checkpoint(run_dir).schedule_epochs == 6  # what actually trains
    info = _info(run_dir)
    # Not "finished 3/3": stopped at epoch 3 of the 6 planned, saying why.
    assert (info["status"], info["epochs_done"], info["epochs_planned"]) == ("stopped", 3, 6)
    assert "epoch 3 of the 6 planned" in info["message"]
    from workbench.core.runs.record import read_record

    record = read_record(run_dir)
    assert (record.status, record.epochs_done, record.epochs_planned) == ("stopped", 3, 6)
    # The Continue plan: the schedule's length as the checkpoint keeps it; the plan to finish.
    plan = continue_plan(run_dir)
    assert (plan.done, plan.planned, plan.schedule_epochs) == (3, 6, 6)
    assert plan.can_finish and plan.mode == "finish" and plan.target == 6
    text = plan.settings_text()
    assert "CosineAnnealingLR schedule over 6 epochs, at epoch 3" in text, text
    # The rate its last epoch trained at is cosine's over 6 epochs, not over 3.
    lr = plan.lr
    assert plan.last_lr == pytest.approx(lr * (1 + math.cos(math.pi * 2 / 6)) / 2, rel=1e-6)
    assert "epochs 2 to 3 (of the 6 planned)" in out  # said as it started
    # `resume` without --epochs finishes the plan, to the schedule's end.
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 0, err
    assert "epochs 4 to 6" in out and "planned)" not in out
    info = _info(run_dir)
    assert (info["status"], info["epochs_done"], info["epochs_planned"]) == ("finished", 6, 6)
    assert info["message"] == ""


def test_a_run_continued_past_its_plan_says_the_schedule_ended():
    plan = ContinuePlan(run_dir="r", name="r", status="finished", done=17, planned=17,
                        optimizer="Adam", lr=0.001, scheduler="StepLR", schedule_epochs=12)
    assert "StepLR schedule over 12 epochs, at epoch 17: past its end" in plan.settings_text()
    assert not plan.can_finish
    at_end = ContinuePlan(run_dir="r", name="r", status="finished", done=12, planned=12,
                          optimizer="Adam", lr=0.001, scheduler="StepLR")
    assert "StepLR schedule over 12 epochs, at epoch 12: its end" in at_end.settings_text()


def test_the_plan_and_how_a_short_segment_ends():
    from workbench.core.runs.plan import ended_short, planned_epochs

    assert planned_epochs(5, 40) == 40  # "N more" short of the schedule: the plan stays
    assert planned_epochs(17, 12) == 17  # continued past the schedule's end
    assert planned_epochs(6, 0) == 6  # a checkpoint that does not say
    status, message = ended_short("finished", 5, 40)
    assert status == "stopped" and "epoch 5 of the 40 planned" in message
    assert ended_short("finished", 40, 40) == ("finished", "")
    assert ended_short("early_stopped", 5, 40) == ("early_stopped", "")
