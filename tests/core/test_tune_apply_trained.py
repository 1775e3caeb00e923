"""Applying a study's best trial gives the experiment the trial trained, not only its
searched values on whatever the experiment has now (an Adam rate on SGD at another batch
size is a combination no trial ran); and it says when the trials trained another number
of epochs (walk-lrtune report, items 1 and 4)."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.tune.study import run_study, trial_dict
from workbench.core.tune.trained import TRAINED, epochs_note, trained_value, trial_settings

optuna = pytest.importorskip("optuna")

LR = "optimizer.params.lr"
#: One learning rate: a grid of one point, done after one trial.
GRID = {"format_version": 1, "sampler": "grid", "epochs": 1,
        "params": {LR: {"type": "categorical", "choices": [0.02]}}}


def _to_sgd(exp: Experiment) -> Experiment:
    """The experiment edited since the study ran (another study applied, or by hand)."""
    other = exp.copy()
    other.optimizer = Component("SGD", {"lr": 0.5, "momentum": 0.9})
    other.data.batch_size = 4
    other.training.epochs = 5
    return other.validate()


def test_the_best_trial_is_applied_with_the_settings_it_trained(tmp_path, tiny_experiment):
    summary = run_study(tiny_experiment, GRID, storage=f"sqlite:///{tmp_path / 's.db'}",
                        study_name="lronly", runs_parent=tmp_path / "runs")
    trial = summary.trials[0]
    assert trial[TRAINED]["optimizer"]["type"] == "Adam"
    assert trial[TRAINED]["training"]["epochs"] == 1  # the space's epochs, as it trained
    now = _to_sgd(tiny_experiment)
    searched, trained, differences = trial_settings(now, trial)
    # Only the searched value: SGD at an Adam rate, batch 4, which no trial trained.
    assert (searched.optimizer.type, searched.data.batch_size) == ("SGD", 4)
    assert searched.optimizer.params["lr"] == pytest.approx(0.02)
    # As the trial trained it: Adam at that rate, batch 8; the epochs stay the experiment's.
    assert trained.optimizer.type == "Adam" and trained.data.batch_size == 8
    assert trained.optimizer.params["lr"] == pytest.approx(0.02)
    assert "momentum" not in trained.optimizer.params
    assert trained.training.epochs == 5 and trained.name == now.name
    assert trained.data.folder == now.data.folder
    said = " ".join(differences)  # what is written first, then what it replaces
    assert "optimizer Adam (was SGD)" in said and "batch size 8 (was 4)" in said
    assert "learning rate" not in said  # the searched value is no difference
    assert epochs_note(trained, trial) == "trial 0 trained 1 epoch; the experiment trains 5"
    # The same experiment as the trial's: nothing else to take, nothing to say.
    assert trial_settings(trained, trial)[1:] == (None, [])


def _older_study(tmp_path, experiment):
    """A study of one trial as an older Workbench stored it: no trained experiment kept
    with it, only its run's experiment.json."""
    run_dir = tmp_path / "2026-01-01_00-00-00-old-trial-0"
    run_dir.mkdir()
    (run_dir / "experiment.json").write_text(json.dumps(experiment.to_dict()))
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", study_name="old",
                                direction="maximize")
    study.add_trial(optuna.trial.create_trial(
        params={LR: 0.02}, value=0.5, user_attrs={"run_dir": str(run_dir)},
        distributions={LR: optuna.distributions.FloatDistribution(1e-4, 0.1, log=True)}))
    return study


def test_a_trial_of_an_older_workbench_is_read_from_its_run(tmp_path, tiny_experiment):
    study = _older_study(tmp_path, tiny_experiment)
    trial = trial_dict(study.trials[0])
    trained = trial_settings(_to_sgd(tiny_experiment), trial)[1]
    assert trained.optimizer.type == "Adam" and trained.data.batch_size == 8


def test_listing_an_older_study_reads_no_run_s_experiment(tmp_path, tiny_experiment,
                                                         monkeypatch):
    """The Tune tab lists a study every 10 s: an older trial's experiment.json (a file
    on a share, per trial) is read only for the trial applied or shown."""
    from pathlib import Path

    study = _older_study(tmp_path, tiny_experiment)
    read = []
    real = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: read.append(self.name)
                        or real(self, *a, **k))
    trial = trial_dict(study.trials[0])
    assert "experiment.json" not in read
    assert trained_value(trial, "optimizer.type") == "Adam"  # shown: read then, once
    assert trial_settings(_to_sgd(tiny_experiment), trial)[1].optimizer.type == "Adam"
    assert read.count("experiment.json") == 1


def _tuned(capsys, tmp_path, experiment):
    """``workbench tune`` run on ``experiment`` saved as exp.json, over the GRID space:
    the file and the command's arguments (to run again with ``--apply``)."""
    exp_file, space_file = tmp_path / "exp.json", tmp_path / "space.json"
    space_file.write_text(json.dumps(GRID))
    experiment.save(exp_file)
    args = ["tune", exp_file, "--space", space_file, "--study", "lronly",
            "--storage", f"sqlite:///{tmp_path / 's.db'}"]
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    return exp_file, args


def test_tune_apply_writes_what_the_best_trial_trained(capsys, tmp_path, tiny_experiment):
    exp_file, args = _tuned(capsys, tmp_path, tiny_experiment)
    _to_sgd(tiny_experiment).save(exp_file)  # edited since: SGD, batch 4, 5 epochs
    code, _, err = run_cli(capsys, *args, "--apply")  # the grid is done: no new trial
    assert code == 0, err
    written = Experiment.load(exp_file)
    assert written.optimizer.type == "Adam" and written.data.batch_size == 8
    assert written.optimizer.params["lr"] == pytest.approx(0.02)
    assert written.training.epochs == 5
    assert "also wrote the other settings trial 0 trained" in err
    assert "optimizer Adam (was SGD)" in err
    assert ("note: trial 0 trained 1 epoch; the experiment trains 5: give --set "
            "training.epochs=1") in err


def test_tune_apply_keeps_a_typed_set_and_says_what_the_trial_trained(capsys, tmp_path,
                                                                     tiny_experiment):
    """``--set data.batch_size=4`` with ``--apply`` of a trial of batch 8: what was typed is
    written, and said as another value than the trial's (it said "wrote 4" and wrote 8)."""
    exp_file, args = _tuned(capsys, tmp_path, tiny_experiment)
    code, _, err = run_cli(capsys, *args, "--apply", "--set", "data.batch_size=4")
    assert code == 0, err
    written = Experiment.load(exp_file)
    assert written.data.batch_size == 4
    assert written.optimizer.params["lr"] == pytest.approx(0.02)
    assert "batch size" not in err  # not among the trial's settings written
    assert ("also wrote the --set values, where trial 0 trained others: data.batch_size=4 "
            "(it trained 8)") in err
    assert "the search ran with" not in err


def test_apply_keeps_the_experiment_s_excluded_images(tmp_path, tiny_experiment):
    """Images Health excluded since the study ran stay excluded (and those included again
    stay included): a curation of the dataset, as its folder, not a setting found."""
    summary = run_study(tiny_experiment, GRID, storage=f"sqlite:///{tmp_path / 's.db'}",
                        study_name="lronly", runs_parent=tmp_path / "runs")
    now = _to_sgd(tiny_experiment)
    now.data.exclude = ["red/0.png"]
    _, trained, differences = trial_settings(now.validate(), summary.trials[0])
    assert trained.data.exclude == ["red/0.png"]
    assert not any("excluded" in line for line in differences)
