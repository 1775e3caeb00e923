"""A study remembers the experiment it searched: continuing it with another network or
dataset is refused before any trial (both front ends: run_study), and `workbench tune
--apply` never writes another experiment's best trial unasked. A study is named
``<dataset>-<network>`` by default, as the Tune tab names it, and one named otherwise that
searched the experiment is named in a note. A trial's line gives its run's training time."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from workbench.core.errors import WorkbenchError
from workbench.core.registry import Component
from workbench.core.runs.names import run_name_base
from workbench.core.runs.store import read_run_info
from workbench.core.tune.study import run_study

optuna = pytest.importorskip("optuna")

LR = "optimizer.params.lr"
SPACE = {"params": {LR: {"type": "float", "low": 1e-3, "high": 0.1, "log": True}},
         "sampler": "random", "seed": 0, "epochs": 1}


@pytest.fixture
def wider(tiny_experiment):
    """Another network on the same dataset."""
    exp = tiny_experiment.copy()
    exp.name = "wider"
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("ReLU"), Component("Dropout", {"p": 0.1}),
                        Component("Linear")]
    return exp.validate()


def test_a_study_of_another_network_is_not_continued(tiny_experiment, wider, tmp_path):
    url, runs = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "runs"
    run_study(tiny_experiment, SPACE, trials=1, storage=url, study_name="st1",
              runs_parent=runs)
    with pytest.raises(WorkbenchError) as e:
        run_study(wider, SPACE, trials=1, storage=url, study_name="st1", runs_parent=runs)
    assert "study st1 searched experiment \"experiment\", not this one: its network had 4 " \
           "layers" in str(e.value)
    assert "give another study name" in str(e.value)
    assert len(optuna.load_study(study_name="st1", storage=url).trials) == 1  # none added
    # Asked for: continued, and the summary says how the experiments differ.
    summary = run_study(wider, SPACE, trials=1, storage=url, study_name="st1",
                        runs_parent=runs, other_experiment=True)
    assert len(summary.trials) == 2 and summary.other_experiment
    assert "its network had 4 layers" in summary.to_text()
    # The same experiment continues it as before.
    assert len(run_study(tiny_experiment, SPACE, trials=1, storage=url, study_name="st1",
                         runs_parent=runs).trials) == 3


def test_cli_tune_apply_never_writes_another_experiments_best(capsys, tiny_experiment,
                                                              wider, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    seed, mlp, space = tmp_path / "seed.json", tmp_path / "mlp.json", tmp_path / "space.json"
    tiny_experiment.save(seed)
    wider.save(mlp)
    space.write_text(json.dumps(SPACE))
    common = ["--space", space, "--trials", 1, "--storage", url, "--study", "st1"]
    assert run_cli(capsys, "tune", seed, *common)[0] == 0
    before = mlp.read_text()
    code, out, err = run_cli(capsys, "tune", mlp, *common, "--apply")
    assert code == 2 and out == "", err
    assert err.strip() == (
        f"workbench tune: error: study st1 searched experiment \"experiment\", not {mlp}'s "
        f"(its network had 4 layers (Flatten, Linear, ReLU, Linear), this one has 5 "
        f"(Flatten, Linear, ReLU, Dropout, Linear)): their trials are not comparable; give "
        f"another --study name, or --other-experiment to add to it anyway")
    assert mlp.read_text() == before
    assert len(optuna.load_study(study_name="st1", storage=url).trials) == 1
    code, out, err = run_cli(capsys, "tune", mlp, *common, "--apply", "--other-experiment")
    assert code == 0, err
    assert "study st1 searched experiment \"experiment\"" in out  # the summary says it
    assert "its best trial may be one of that experiment's" in err
    assert "wrote trial" in err and mlp.read_text() != before


def test_the_default_study_is_the_tune_tabs_and_an_older_one_is_named(
        capsys, tiny_experiment, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    exp, space = tmp_path / "exp.json", tmp_path / "space.json"
    tiny_experiment.name = "mine"
    tiny_experiment.save(exp)
    space.write_text(json.dumps(SPACE))
    # A study an earlier workbench tune named after the experiment.
    run_study(tiny_experiment, SPACE, trials=1, storage=url, study_name="mine",
              runs_parent=tmp_path / "runs")
    code, out, err = run_cli(capsys, "tune", exp, "--space", space, "--trials", 1,
                             "--storage", url)
    assert code == 0, err
    default = run_name_base(tiny_experiment)
    assert default == "tiny-custom"
    assert f"study {default} ({url}): 1 trial(s)" in out
    assert (f"note: starting study {default} (named <dataset>-<network>, as the Tune tab "
            f"names it); this storage also holds mine, which searched this experiment: to "
            f"continue it, give --study mine") in err
    # Once the default study exists, the note is not said again.
    code, out, err = run_cli(capsys, "tune", exp, "--space", space, "--trials", 1,
                             "--storage", url)
    assert code == 0 and f"study {default} ({url}): 2 trial(s)" in out
    assert "note: starting study" not in err


def test_a_trials_line_gives_its_runs_training_time(capsys, tiny_experiment, tmp_path):
    from workbench.cli.search import _trial_line

    line = _trial_line({"number": 0, "state": "complete", "value": 0.5, "params": {LR: 0.01},
                        "duration_s": 9.4, "train_s": 8.4, "run_dir": "r"}, "val_acc")
    assert "(8.4 s)" in line and "9.4" not in line
    failed = _trial_line({"number": 1, "state": "fail", "value": None, "params": {},
                          "duration_s": 0.3, "train_s": None, "error": "boom"}, "val_acc")
    assert "(0.3 s wall)" in failed
    exp, space = tmp_path / "exp.json", tmp_path / "space.json"
    tiny_experiment.save(exp)
    space.write_text(json.dumps(SPACE))
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, err = run_cli(capsys, "tune", exp, "--space", space, "--trials", 1,
                             "--storage", url, "--study", "t")
    assert code == 0, err
    (trial,) = optuna.load_study(study_name="t", storage=url).trials
    line = next(x for x in out.splitlines() if x.startswith("trial 0 complete"))
    assert f"({trial.user_attrs['train_s']:.1f} s)" in line
    run_s = read_run_info(trial.user_attrs["run_dir"])["duration_s"]
    assert abs(trial.user_attrs["train_s"] - run_s) <= 0.2 + 0.1 * run_s  # as the Runs tab
