"""The diverged finding is said as the run ends, after its last checkpoint was written, so
the checkpoint's doctor state lacks it; a resumed run used to drop it from run.json
(measured: findings ``[]`` after ``workbench resume RUN --lr 0.001``). The recorder hands it
back to the doctor as the run resumes; a run that diverges again says so, at its epoch."""

from __future__ import annotations

import json

from helpers import run_cli, train_diverged
from test_doctor_divergence import _finder_says, _poison
from workbench.core.train.checkpoint import load_checkpoint


def _diverge(capsys, monkeypatch, tmp_path, experiment, at: int = 2):
    monkeypatch.setenv("WORKBENCH_TENSORBOARD", "0")
    _poison(monkeypatch, at)
    _finder_says(monkeypatch, 0.038)
    return train_diverged(capsys, tmp_path, experiment)[0]


def _kinds(run_dir) -> list[tuple[str, int]]:
    info = json.loads((run_dir / "run.json").read_text())
    return [(f["kind"], f["epoch"]) for f in info["findings"]]


def test_a_run_resumed_at_a_lower_rate_keeps_its_diverged_finding(
        capsys, monkeypatch, tmp_path, tiny_experiment):
    run_dir = _diverge(capsys, monkeypatch, tmp_path, tiny_experiment)
    assert ("diverged", 2) in _kinds(run_dir)
    assert load_checkpoint(run_dir).callbacks["doctor"]["findings"] == []  # said after it
    monkeypatch.undo()
    monkeypatch.setenv("WORKBENCH_TENSORBOARD", "0")
    code, _, err = run_cli(capsys, "resume", run_dir, "--lr", "0.001")
    assert code == 0, err
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and ("diverged", 2) in _kinds(run_dir)
    # Kept in the new checkpoint too, in the segment of the settings it was said at: the
    # checks at the new rate may still say each kind.
    doctor = load_checkpoint(run_dir).callbacks["doctor"]
    kinds = [f["kind"] for f in doctor["findings"]]
    assert "diverged" in kinds and doctor["segment"] > kinds.index("diverged")


def test_a_run_resumed_at_the_same_rate_that_diverges_again_says_so(
        capsys, monkeypatch, tmp_path, tiny_experiment):
    run_dir = _diverge(capsys, monkeypatch, tmp_path, tiny_experiment)
    assert _kinds(run_dir) == [("diverged", 2)]
    monkeypatch.undo()
    monkeypatch.setenv("WORKBENCH_TENSORBOARD", "0")
    _poison(monkeypatch, 3)  # epoch 2 trains now; epoch 3 diverges
    code, out, err = run_cli(capsys, "resume", run_dir)
    assert code == 3, err
    assert _kinds(run_dir) == [("diverged", 2), ("diverged", 3)]
    assert "doctor: diverged at epoch 3" in out
