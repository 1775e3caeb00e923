"""A run continued past the end of its schedule trains on at a held rate: the rate given
(``resume --lr X``), else the rate its last planned epoch trained at, with a note giving a
rate when that one is near zero; never a warm restart (walk-tomorrow2 defect 1).

Measured before: a CosineAnnealingLR run of 3 epochs resumed with ``--epochs 3 --lr 0.005``
trained epoch 4 at lr 0.0 (its validation loss the same as epoch 3's: a wasted epoch that
counted against early stopping's patience), then epochs 5 and 6 at 0.00125 and 0.00375,
climbing back towards the peak (a cosine is periodic past ``T_max``); the note said "past
its end it follows its own rule", and no rate was proposed.
"""

from __future__ import annotations

import json

import pytest

from helpers import run_cli as run, stop_after
from workbench.core.registry import Component
from workbench.core.train import schedules


def _lrs(run_dir) -> list[float]:
    return [m["lr"] for m in json.loads((run_dir / "metrics.json").read_text())["epochs"]]


def _trained(capsys, tmp_path, experiment, scheduler: Component, epochs: int = 3):
    experiment.scheduler = scheduler
    exp_file, run_dir = tmp_path / "exp.json", tmp_path / "run"
    experiment.save(exp_file)
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir, "--epochs", epochs)
    assert code == 0, err
    return run_dir


@pytest.mark.parametrize("params", [{}, {"warmup_epochs": 1}])
def test_a_cosine_continued_past_its_end_holds_the_rate_given(capsys, tmp_path,
                                                              tiny_experiment, params):
    run_dir = _trained(capsys, tmp_path, tiny_experiment,
                       Component("CosineAnnealingLR", params))
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "3", "--lr", "0.005")
    assert code == 0, err
    assert ("the CosineAnnealingLR schedule ended with epoch 3: the added epochs train at "
            "the constant learning rate given, 0.005") in out
    assert "own rule" not in out
    assert _lrs(run_dir)[3:] == [pytest.approx(0.005)] * 3  # not 0, then climbing


@pytest.mark.parametrize("scheduler", [
    Component("CosineAnnealingLR", {}),
    Component("CosineAnnealingLR", {"warmup_epochs": 1}),
    Component("StepLR", {"step_size": 1, "gamma": 0.5}),
    Component("MultiStepLR", {"milestones": [1], "gamma": 0.5}),
    Component("ExponentialLR", {"gamma": 0.5}),
], ids=lambda c: f"{c.type}{c.params.get('warmup_epochs') or ''}")
def test_without_a_rate_the_added_epochs_hold_the_last_epochs_rate(capsys, tmp_path,
                                                                   tiny_experiment,
                                                                   scheduler):
    run_dir = _trained(capsys, tmp_path, tiny_experiment, scheduler)
    last = _lrs(run_dir)[-1]
    assert 0 < last < 0.01
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "2")
    assert code == 0, err
    assert (f"the {scheduler.type} schedule ended with epoch 3: the added epochs hold the "
            f"learning rate of its last epoch, {last:.3g}") in out
    assert _lrs(run_dir)[3:] == [pytest.approx(last)] * 2


def test_a_schedule_that_ended_near_zero_says_which_rate_to_give(capsys, tmp_path,
                                                                 tiny_experiment):
    run_dir = _trained(capsys, tmp_path, tiny_experiment,
                       Component("ExponentialLR", {"gamma": 0.001}), epochs=2)
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "2")
    assert code == 0, err
    (note,) = [ln for ln in out.splitlines() if "ExponentialLR" in ln]
    assert "ended with epoch 2 at a learning rate of 1e-05, too small to change the " \
           "weights" in note and "--lr 0.001" in note, note
    assert _lrs(run_dir)[2:] == [pytest.approx(1e-5)] * 2


def test_a_checkpoint_that_stepped_past_its_end_resumes_at_its_last_epochs_rate(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    """Checkpoints written before schedules held their rate: the cosine had stepped to
    eta_min (0) after its last epoch."""
    real = schedules.build_scheduler

    def unbounded(*args, **kwargs):
        schedule = real(*args, **kwargs)
        schedule.total_epochs = None
        return schedule

    monkeypatch.setattr(schedules, "build_scheduler", unbounded)
    run_dir = _trained(capsys, tmp_path, tiny_experiment, Component("CosineAnnealingLR", {}))
    monkeypatch.setattr(schedules, "build_scheduler", real)
    last = _lrs(run_dir)[-1]
    code, _, err = run(capsys, "resume", run_dir, "--epochs", "2")
    assert code == 0, err
    assert _lrs(run_dir)[3:] == [pytest.approx(last)] * 2


def test_a_continuation_across_the_end_holds_the_last_planned_rate(capsys, tmp_path,
                                                                   tiny_experiment):
    from workbench.core.train.run import run_training

    exp = tiny_experiment
    exp.scheduler = Component("CosineAnnealingLR", {})
    exp.training.epochs = 3
    run_dir = tmp_path / "run"
    assert run_training(exp.validate(), run_dir, [stop_after(1)], name="run").status == \
        "stopped"
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "4")  # to epoch 5 of 3
    assert code == 0, err
    lrs = _lrs(run_dir)
    assert lrs[3:] == [pytest.approx(lrs[2])] * 2 and lrs[2] > 0
    assert ("the CosineAnnealingLR schedule was planned for 3 epochs and keeps that plan; "
            f"past its end the added epochs hold the learning rate of its last epoch, "
            f"{lrs[2]:.3g}") in out


def test_a_continuation_across_an_end_near_zero_says_so_before_it_gets_there(
        capsys, tmp_path, tiny_experiment):
    from workbench.core.train.run import run_training

    exp = tiny_experiment
    exp.scheduler = Component("ExponentialLR", {"gamma": 0.001})
    run_dir = tmp_path / "run"
    assert run_training(exp.validate(), run_dir, [stop_after(1)], name="run").status == \
        "stopped"
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "3")  # to epoch 4 of 2
    assert code == 0, err
    (note,) = [ln for ln in out.splitlines() if "ExponentialLR" in ln]
    assert ("ends with epoch 2 at a learning rate of 1e-05, too small to change the weights, "
            "and holds it up to epoch 4: to train past epoch 2 usefully, continue from it "
            "with a constant rate of 0.001, a tenth of the 0.01 the run was set to (--lr "
            "0.001)") in note, note
    assert _lrs(run_dir)[1:] == [pytest.approx(1e-5)] * 3
