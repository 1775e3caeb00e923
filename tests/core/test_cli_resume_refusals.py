"""`workbench resume` refuses what the checkpoint cannot carry over, before it says or
writes a word: another optimizer type, an optimizer setting whose state the checkpoint did
not keep, a run another process trains now, a folder that is not a run. What it can carry
over (other optimizer settings) it applies, and past the end of a schedule that ended near
zero it says which rate to give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from helpers import run_cli as run
from workbench.core.registry import Component
from workbench.core.runs.lock import RunLock
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.optim import OPTIMIZERS, build_optimizer
from workbench.core.train.resume import STATEFUL_SETTINGS


def _trained(capsys, tmp_path, experiment, epochs: int = 1, *flags: str) -> Path:
    exp_file, run_dir = tmp_path / "exp.json", tmp_path / "run"
    experiment.save(exp_file)
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir, "--epochs", epochs,
                       *flags)
    assert code == 0, err
    return run_dir


def _snapshot(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes()
            for p in sorted(run_dir.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("sets, field", [
    (["optimizer.type=SGD"], "optimizer.type"),  # measured: KeyError 'momentum', exit 1
    (["optimizer.params.amsgrad=true"], "optimizer.params.amsgrad"),
    (["scheduler.type=StepLR"], "scheduler.type"),  # refused, but after "resuming ..."
])
def test_a_resume_the_checkpoint_cannot_follow_is_refused_and_changes_nothing(
        capsys, tmp_path, tiny_experiment, sets, field):
    run_dir = _trained(capsys, tmp_path, tiny_experiment)
    before = _snapshot(run_dir)
    argv = [a for s in sets for a in ("--set", s)]
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "1", *argv)
    assert code == 2 and out == ""  # not even "resuming ..."
    assert len(err.strip().splitlines()) == 1 and f"error: {field}:" in err
    assert "start a new run" in err and "bug" not in err
    assert _snapshot(run_dir) == before  # run.json, experiment.json, checkpoints: as they were


def test_other_optimizer_settings_are_applied_on_resuming(capsys, tmp_path, tiny_experiment):
    # Loading the checkpoint's optimizer state used to put its settings back: the weight
    # decay given was written to experiment.json and never used.
    run_dir = _trained(capsys, tmp_path, tiny_experiment)
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "1",
                         "--set", "optimizer.params.weight_decay=0.25")
    assert code == 0, err
    assert "note: optimizer settings changed on resuming: weight_decay 0.0 to 0.25" in out
    groups = load_checkpoint(run_dir).optimizer["param_groups"]
    assert [g["weight_decay"] for g in groups] == [0.25] * len(groups)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS.names()))
def test_every_setting_left_out_of_the_stateful_list_resumes(name):
    # STATEFUL_SETTINGS must name every setting that, turned on, needs state the
    # checkpoint lacks: turning each other one on continues a saved state for a step.
    entry = OPTIMIZERS.get(name)
    for param in entry.params:
        if param.name in STATEFUL_SETTINGS.get(name, ()) or param.type not in (bool, float) \
                or param.name == "lr":
            continue
        on = True if param.type is bool else (0.9 if param.max is None or param.max >= 0.9
                                              else param.max)
        model = torch.nn.Linear(3, 2)
        first = build_optimizer(Component(name, {param.name: param.type(0)}),
                                model.parameters())
        model(torch.randn(4, 3)).sum().backward()
        first.step()
        second = build_optimizer(Component(name, {param.name: on}), model.parameters())
        built = [{k: v for k, v in g.items() if k != "params"} for g in second.param_groups]
        second.load_state_dict(first.state_dict())
        for group, fresh in zip(second.param_groups, built):
            group[param.name] = fresh[param.name]  # as resuming applies it
        model(torch.randn(4, 3)).sum().backward()
        second.step()  # no KeyError: the saved state fits


def test_a_run_trained_elsewhere_now_is_refused_before_a_word(capsys, tmp_path,
                                                              tiny_experiment):
    run_dir = _trained(capsys, tmp_path, tiny_experiment)
    before = _snapshot(run_dir)
    other = RunLock(run_dir)  # another process training it (flock: per open file)
    assert other.acquire()
    try:
        code, out, err = run(capsys, "resume", run_dir, "--epochs", "1")
    finally:
        other.release()
    assert code == 2 and out == ""  # no "resuming", "training" or cache line first
    assert "is being trained right now" in err and len(err.strip().splitlines()) == 1
    assert _snapshot(run_dir) == before
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "1")  # free again: it goes
    assert code == 0 and out.startswith(f"resuming {run_dir} after epoch 1"), err


def test_what_is_not_a_run_is_named_as_such(capsys, tmp_path, tiny_experiment):
    code, _, err = run(capsys, "resume", tmp_path / "nonexist")
    assert code == 2 and f"run folder {tmp_path / 'nonexist'} does not exist" in err
    code, _, err = run(capsys, "resume", tmp_path / "nonexist" / "checkpoints" / "last.pt")
    assert code == 2 and "checkpoint " in err and "does not exist" in err
    husk = tmp_path / "husk"  # a run that finished no epoch: run.json, no checkpoint
    husk.mkdir()
    (husk / "run.json").write_text(json.dumps({"status": "diverged"}))
    code, _, err = run(capsys, "resume", husk)
    assert code == 2 and f"run folder {husk} has no checkpoint to resume from" in err
    assert "checkpoints/last.pt is missing" in err and "finished none" in err


def test_past_the_end_of_a_one_cycle_the_note_gives_a_rate_and_that_rate_holds(
        capsys, tmp_path, tiny_experiment):
    tiny_experiment.scheduler = Component("OneCycleLR", {})
    run_dir = _trained(capsys, tmp_path, tiny_experiment, 2)  # ends at 0.01/250000
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "1")
    assert code == 0, err
    (note,) = [ln for ln in out.splitlines() if "OneCycleLR" in ln]
    assert "too small to change the weights" in note and "--lr 0.001" in note
    # A sentence with its verb (it said "to train on usefully with a constant rate").
    assert "to train on usefully, continue with a constant rate of 0.001, a tenth" in note
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "2", "--lr", "0.001")
    assert code == 0, err
    assert "the added epochs train at the constant learning rate given, 0.001" in out
    epochs = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    assert [m["lr"] for m in epochs[3:]] == [pytest.approx(1e-3)] * 2  # held, not scaled
    assert epochs[2]["lr"] < 1e-6
