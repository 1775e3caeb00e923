"""A trial its pruner stopped is "pruned" in its run.json, as the Tune table and the CLI
say, and can still be continued like a stopped run."""

from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")

from helpers import run_cli  # noqa: E402
from workbench.core.runs.plan import continue_plan  # noqa: E402
from workbench.core.runs.store import RunStore, read_run_info  # noqa: E402
from workbench.core.tune.study import run_study  # noqa: E402


def test_a_pruned_trial_is_a_pruned_run_that_can_be_continued(tiny_experiment, tmp_path,
                                                                capsys):
    runs = tmp_path / "runs"
    # Accuracy never exceeds 1.1, so the threshold pruner prunes after the first epoch.
    summary = run_study(tiny_experiment, {
        "params": {"optimizer.params.lr": {"type": "float", "low": 1e-3, "high": 0.1}},
        "sampler": "random", "seed": 0, "epochs": 3,
        "pruner": {"type": "threshold", "lower": 1.1}},
        trials=1, storage=f"sqlite:///{tmp_path / 's.db'}", runs_parent=runs)
    (trial,) = summary.trials
    assert trial["state"] == "pruned"
    run = trial["run_dir"]
    info = read_run_info(run)
    assert info["status"] == "pruned" and "pruned by Optuna" in info["message"]
    store = RunStore(runs)
    store.refresh()
    assert store.get(run).status == "pruned"  # what the Runs tab lists
    plan = continue_plan(run)
    assert (plan.status, plan.done, plan.planned, plan.can_finish) == ("pruned", 1, 3, True)
    code, _, err = run_cli(capsys, "resume", run)
    assert code == 0, err
    assert read_run_info(run)["status"] == "finished"
    assert read_run_info(run)["epochs_done"] == 3
