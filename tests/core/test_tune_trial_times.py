"""A trial's training time is its run's, as run.json and the Runs tab count it, for a trial
cut short too (stopped mid-epoch, or killed and found dead later), never Optuna's wall time;
and a study continued with another metric is refused naming the metric, not a direction
(walk-tune report, items 1 and 3)."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from workbench.core.errors import SpecError
from workbench.core.runs.lock import LOCK_NAME
from workbench.core.runs.store import read_run_info, write_run_info
from workbench.core.train.callbacks.base import Callback
from workbench.core.tune.stale import fail_dead_trials
from workbench.core.tune.study import run_study, trial_dict

optuna = pytest.importorskip("optuna")

LR = "optimizer.params.lr"
SPACE = {"format_version": 1, "sampler": "random", "seed": 0, "epochs": 3,
         "params": {LR: {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}}}


def dead_run(folder, name: str, seconds: float):
    """The run folder a trial's process left when it was killed in epoch 3: run.json still
    "running" after 2 epochs, its lock free."""
    folder.mkdir(parents=True)
    write_run_info(folder, {"name": name, "experiment_name": name, "status": "running",
                            "epochs_done": 2, "epochs_planned": 6, "duration_s": seconds})
    (folder / LOCK_NAME).touch()
    return folder


class _StopInSecondEpoch(Callback):
    """Stop as the Stop button does, one batch into epoch 2 (an epoch cut short)."""

    def __init__(self):
        self.ended = 0

    def on_epoch_end(self, trainer, epoch, metrics):
        self.ended = epoch

    def on_batch_end(self, trainer, epoch, batch, num_batches, *args, **kwargs):
        if self.ended:
            trainer.request_stop()


def test_a_stopped_trials_training_time_is_its_runs(tiny_experiment, tmp_path):
    summary = run_study(tiny_experiment, SPACE, trials=1,
                        storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s",
                        runs_parent=tmp_path / "runs", callbacks=[_StopInSecondEpoch()])
    (trial,) = summary.trials
    assert (trial["state"], trial["failure"]) == ("fail", "stopped")
    info = read_run_info(trial["run_dir"])
    assert info["epochs_done"] == 1
    # run.json counts the cut-short epoch too; the Runs tab shows this number.
    assert trial["train_s"] == info["duration_s"]


def test_a_killed_trials_training_time_is_its_runs_not_the_time_until_it_was_found(
        tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=url, study_name="s", direction="maximize")
    killed = study.ask()
    killed.set_user_attr("run_dir", str(dead_run(tmp_path / "runs" / "r", "s-trial-0",
                                                 5.128)))
    assert fail_dead_trials(study, tmp_path / "runs") == [0]
    (t,) = [trial_dict(t) for t in study.get_trials() if t.number == 0]
    assert (t["failure"], t["train_s"]) == ("interrupted", 5.128)
    assert t["duration_s"] is not None  # Optuna's wall time: kept apart


def test_another_metric_is_refused_naming_the_metric(tiny_experiment, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 's.db'}"
    run_study(tiny_experiment, {**SPACE, "epochs": 1}, trials=1, storage=url,
              study_name="s", runs_parent=tmp_path / "runs")
    assert optuna.load_study(study_name="s", storage=url).user_attrs["metric"] == "val_acc"
    # val_loss is minimized, the study maximizes: the metric is what the user changed.
    with pytest.raises(SpecError) as e:
        run_study(tiny_experiment, {**SPACE, "metric": "val_loss"}, trials=1, storage=url,
                  study_name="s", runs_parent=tmp_path / "runs")
    assert str(e.value) == ("space.metric: study s already measures val_acc, not val_loss: "
                            "use metric val_acc, or another study name")
    exp, space = tmp_path / "exp.json", tmp_path / "space.json"
    tiny_experiment.save(exp)
    space.write_text(json.dumps({**SPACE, "metric": "val_loss"}))
    code, _out, err = run_cli(capsys, "tune", exp, "--space", space, "--trials", 1,
                              "--storage", url, "--study", "s")
    assert code == 2 and "space.metric: study s already measures val_acc" in err
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 1  # none added
