"""`lr-find --write` without a suggestion and `tune --apply` without a completed trial
change nothing and exit 2 (the experiment's or the budget's to change, not a bug); a
Ctrl-C keeps its own exit code."""

from __future__ import annotations

import json
import signal

import pytest

pytest.importorskip("torch")

from workbench.cli import main  # noqa: E402
from workbench.core.train.lr_find import LRFindResult  # noqa: E402
from workbench.core.tune.study import StudySummary  # noqa: E402


def test_lr_find_write_without_a_suggestion_exits_2_and_leaves_the_file(
        tiny_experiment, tmp_path, capsys, monkeypatch):
    import workbench.core.train.lr_find as lr_find

    path = tmp_path / "exp.json"
    tiny_experiment.save(path)
    before = path.read_bytes()
    monkeypatch.setattr(lr_find, "find_lr", lambda *a, **k: LRFindResult(
        [1e-4, 1e-3], [2.0, 2.0], [2.0, 2.0], None, False, "the loss never fell"))
    code = main(["lr-find", str(path), "--write"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "no suggestion" in err and path.read_bytes() == before


def _tune(tmp_path, exp, monkeypatch, summary, stop_signal=None):
    import workbench.core.tune.study as study

    def fake_run_study(*args, stop_event=None, **kwargs):
        if stop_signal is not None:
            stop_event.signum = stop_signal
            stop_event.set()
        return summary

    monkeypatch.setattr(study, "run_study", fake_run_study)  # the command imports it late
    exp_path, space_path = tmp_path / "exp.json", tmp_path / "space.json"
    exp.save(exp_path)
    space_path.write_text(json.dumps({"format_version": 1, "epochs": 1, "params": {
        "optimizer.params.lr": {"type": "float", "low": 1e-3, "high": 0.1}}}))
    before = exp_path.read_bytes()
    code = main(["tune", str(exp_path), "--space", str(space_path), "--trials", "1",
                 "--apply"])
    assert exp_path.read_bytes() == before
    return code


def test_tune_apply_with_no_trial_run_exits_2(tiny_experiment, tmp_path, capsys,
                                              monkeypatch):
    summary = StudySummary("s", "sqlite://", "val_accuracy", "maximize")  # ran nothing
    code = _tune(tmp_path, tiny_experiment, monkeypatch, summary)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "no trial has completed" in err


def test_tune_apply_stopped_by_ctrl_c_before_a_trial_completed_exits_130(
        tiny_experiment, tmp_path, capsys, monkeypatch):
    summary = StudySummary("s", "sqlite://", "val_accuracy", "maximize", ran=[0], trials=[
        {"number": 0, "state": "fail", "failure": "stopped", "error": "stopped by the user"}])
    code = _tune(tmp_path, tiny_experiment, monkeypatch, summary, signal.SIGINT)
    assert code == 130, capsys.readouterr().err
