"""Hyperparameter search: SPACE.json checks, apply_params, and Optuna studies that a user
continues, prunes, stops, shares between processes and applies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from workbench.cli import main  # noqa: E402
from workbench.core.errors import SpecError, WorkbenchError  # noqa: E402
from workbench.core.experiment import Experiment  # noqa: E402
from workbench.core.registry import Component
from workbench.core.runs.store import read_run_info  # noqa: E402
from workbench.core.tune.study import best_params, run_study  # noqa: E402
from workbench.core.tune.space import SearchSpace, apply_params, space_example  # noqa: E402

LR = {"optimizer.params.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}


def space(params=None, **extra):
    return {"format_version": 1, "params": params or LR, "sampler": "random", "seed": 0,
            "epochs": 1, **extra}


@pytest.fixture
def dropout_experiment(tiny_experiment):
    exp = tiny_experiment.copy()
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("ReLU"), Component("Dropout", {"p": 0.1}),
                        Component("Linear")]
    return exp.validate()


# -- the space -----------------------------------------------------------------------------
def test_unknown_path_is_named_with_what_exists(tiny_experiment):
    sp = SearchSpace.from_dict(space({"optimizer.params.momentum": {"type": "float",
                                                                    "low": 0, "high": 0.9}}))
    with pytest.raises(SpecError) as e:
        sp.check(tiny_experiment)
    assert e.value.field == "space.params.optimizer.params.momentum"
    assert "Adam" in str(e.value) and "weight_decay" in str(e.value)  # what it has instead
    with pytest.raises(SpecError, match="has 4 item"):
        SearchSpace.from_dict(space({"model.layers[7].params.p": {"type": "float", "low": 0,
                                                                  "high": 1}})
                              ).check(tiny_experiment)
    with pytest.raises(SpecError, match="no field 'batchsize'; it has .*batch_size"):
        apply_params(tiny_experiment, {"data.batchsize": 8})


@pytest.mark.parametrize("spec, match", [
    ({"type": "float", "low": 0.1, "high": 0.01}, "must be below high"),
    ({"type": "float", "low": 0.0, "high": 0.1, "log": True}, "log range must start above 0"),
    ({"type": "int", "low": 1.5, "high": 4}, "expected an integer"),
    ({"type": "categorical", "choices": []}, "non-empty list"),
    ({"type": "uniform", "low": 0, "high": 1}, "not one of float, int, categorical"),
    ({"type": "float", "low": 0, "high": 1, "hgih": 2}, "unknown field"),
])
def test_bad_ranges_are_named(spec, match):
    with pytest.raises(SpecError, match=match) as e:
        SearchSpace.from_dict(space({"optimizer.params.lr": spec}))
    assert e.value.field.startswith("space.params.optimizer.params.lr")


def test_grid_needs_a_finite_list_of_values():
    with pytest.raises(SpecError, match="grid sampler needs a finite list") as e:
        SearchSpace.from_dict(space(sampler="grid"))
    assert e.value.field == "space.params.optimizer.params.lr"
    grid = SearchSpace.from_dict(space({"data.batch_size": {"type": "int", "low": 8,
                                                            "high": 32, "step": 8}},
                                       sampler="grid"))
    assert grid.params["data.batch_size"].grid_values() == [8, 16, 24, 32]


def test_range_outside_the_experiments_bounds_is_refused(dropout_experiment):
    sp = SearchSpace.from_dict(space({"model.layers[3].params.p": {"type": "float",
                                                                   "low": 0.0, "high": 1.5}}))
    with pytest.raises(SpecError, match="1.5 is not valid.*above the maximum") as e:
        sp.check(dropout_experiment)
    assert e.value.field == "space.params.model.layers[3].params.p"


def test_the_shipped_example_fits_the_default_preset():
    from workbench.core.model.presets import preset_experiment

    sp = SearchSpace.from_dict(space_example())
    sp.check(preset_experiment("seed-cnn"))
    assert sp.sampler == "tpe" and sp.metric == "val_acc" and sp.epochs == 5


# -- apply_params --------------------------------------------------------------------------
def test_apply_params_sets_every_kind_of_path(dropout_experiment):
    exp = apply_params(dropout_experiment, {
        "optimizer.params.lr": 0.05, "optimizer.params.weight_decay": 1e-4,
        "data.batch_size": 16, "training.epochs": 3, "model.layers[3].params.p": 0.4,
        "model.layers[1].params.out_features": 32, "augment.transforms[0].params.p": 0.2})
    assert exp.optimizer.params["lr"] == 0.05 and exp.optimizer.params["weight_decay"] == 1e-4
    assert exp.data.batch_size == 16 and exp.training.epochs == 3
    assert exp.model.layers[3].params["p"] == 0.4
    assert exp.model.layers[1].params["out_features"] == 32
    assert exp.augment.transforms[0].params["p"] == 0.2
    assert dropout_experiment.data.batch_size == 8  # the original is left alone


def test_optimizer_type_resets_its_params_before_searched_ones_apply(tiny_experiment):
    adam = tiny_experiment.copy()
    adam.optimizer.params["betas"] = [0.8, 0.9]
    exp = apply_params(adam, {"optimizer.params.lr": 0.2, "optimizer.type": "SGD"})
    assert exp.optimizer.type == "SGD"
    assert exp.optimizer.params["lr"] == 0.2  # applied after the type, so it survives
    assert "betas" not in exp.optimizer.params and "momentum" in exp.optimizer.params
    same = apply_params(adam, {"optimizer.type": "Adam"})  # unchanged type keeps its params
    assert same.optimizer.params["betas"] == [0.8, 0.9]


def test_searched_params_must_exist_for_every_searched_type(tiny_experiment):
    sp = SearchSpace.from_dict(space({
        "optimizer.type": {"type": "categorical", "choices": ["SGD", "Adam"]},
        "optimizer.params.momentum": {"type": "float", "low": 0.0, "high": 0.9}}))
    with pytest.raises(SpecError, match="with optimizer.type = 'Adam'.*no parameter "
                                        "'momentum'"):
        sp.check(tiny_experiment)


# -- studies -------------------------------------------------------------------------------
def test_three_trial_study_is_stored_and_each_trial_is_a_run(tiny_experiment,
                                                             _isolated_home):
    seen = []
    summary = run_study(tiny_experiment, space({**LR, "data.batch_size": {
        "type": "int", "low": 4, "high": 12, "step": 4}}), trials=3, study_name="tiny",
        on_trial=seen.append)
    db = _isolated_home / "runs" / "studies.sqlite"  # the default: next to the runs
    assert db.is_file() and summary.storage == f"sqlite:///{db.resolve()}"
    study = optuna.load_study(study_name="tiny", storage=summary.storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    assert [t["number"] for t in seen] == [0, 1, 2]
    for t in study.trials:
        run = Path(t.user_attrs["run_dir"])
        assert run.parent == _isolated_home / "runs"
        assert read_run_info(run)["name"] == f"tiny-trial-{t.number}"
        assert json.loads((run / "experiment.json").read_text())["data"]["batch_size"] == \
            t.params["data.batch_size"]
        assert read_run_info(run)["epochs_done"] == 1  # the space's epochs per trial
    assert summary.best_params == study.best_params
    assert summary.best_value == max(t.value for t in study.trials)
    assert "best: trial" in summary.to_text()
    # A study survives the process: running it again continues it.
    again = run_study(tiny_experiment, space(), trials=1, study_name="tiny")
    assert len(again.trials) == 4
    assert best_params(summary.storage, "tiny") == again.best_params


def test_pruner_marks_a_poor_trial_pruned(tiny_experiment, tmp_path):
    # Accuracy never exceeds 1.1, so the threshold pruner prunes after the first epoch.
    summary = run_study(tiny_experiment, space(epochs=3, pruner={"type": "threshold",
                                                                 "lower": 1.1}),
                        trials=1, storage=f"sqlite:///{tmp_path / 's.db'}",
                        runs_parent=tmp_path / "runs")
    (trial,) = summary.trials
    assert trial["state"] == "pruned"
    info = read_run_info(trial["run_dir"])
    assert info["epochs_done"] == 1 and "pruned" in info["message"]


def test_invalid_trial_fails_with_its_message_and_the_study_goes_on(tiny_experiment,
                                                                     tmp_path, monkeypatch):
    import workbench.core.tune.study as tune

    calls = []

    def flaky(exp, params):
        calls.append(params)
        if len(calls) == 1:
            raise SpecError("data.batch_size", "too big for this dataset")
        return apply_params(exp, params)

    monkeypatch.setattr(tune, "apply_params", flaky)
    summary = run_study(tiny_experiment, space(), trials=2,
                        storage=f"sqlite:///{tmp_path / 's.db'}", runs_parent=tmp_path)
    assert [t["state"] for t in summary.trials] == ["fail", "complete"]
    assert "too big for this dataset" in summary.trials[0]["error"]


def test_stop_event_ends_the_running_trial_and_the_study(tiny_experiment, tmp_path):
    from workbench.core.train.trainer import Callback

    stop = threading.Event()

    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, trainer, epoch, metrics):
            stop.set()

    summary = run_study(tiny_experiment, space(epochs=50), trials=5,
                        storage=f"sqlite:///{tmp_path / 's.db'}", runs_parent=tmp_path,
                        callbacks=[StopAfterFirstEpoch()], stop_event=stop)
    (trial,) = summary.trials
    assert trial["state"] == "fail" and "stopped by the user" in trial["error"]
    assert read_run_info(trial["run_dir"])["epochs_done"] < 50


def test_budget_and_storage_errors_are_one_clear_line(tiny_experiment, tmp_path):
    with pytest.raises(SpecError, match="number of trials and/or a time budget"):
        run_study(tiny_experiment, space(), storage=f"sqlite:///{tmp_path / 's.db'}")
    with pytest.raises(WorkbenchError, match="cannot open the study storage"):
        run_study(tiny_experiment, space(), trials=1, storage="nosuchdb://x")
    with pytest.raises(WorkbenchError, match="no study nope"):
        best_params(f"sqlite:///{tmp_path / 's.db'}", "nope")


# -- the command ---------------------------------------------------------------------------
def _files(tmp_path, exp, sp):
    exp_path, space_path = tmp_path / "exp.json", tmp_path / "space.json"
    exp.save(exp_path)
    space_path.write_text(json.dumps(sp))
    return exp_path, space_path


def test_cli_tune_applies_the_best_params(tiny_experiment, tmp_path, capsys):
    exp_path, space_path = _files(tmp_path, tiny_experiment, space())
    url = f"sqlite:///{tmp_path / 's.db'}"
    code = main(["tune", str(exp_path), "--space", str(space_path), "--trials", "2",
                 "--storage", url, "--study", "cli", "--apply"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.count("trial ") >= 2 and "trial 0 complete" in out.out
    best = best_params(url, "cli")["optimizer.params.lr"]
    assert Experiment.load(exp_path).optimizer.params["lr"] == best


def test_cli_tune_errors_are_one_line(tiny_experiment, tmp_path, capsys):
    exp_path, space_path = _files(tmp_path, tiny_experiment, space({"data.nope": {
        "type": "int", "low": 1, "high": 2}}))
    assert main(["tune", str(exp_path), "--space", str(space_path), "--trials", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "space.params.data.nope" in err and "Traceback" not in err
    exp_path, space_path = _files(tmp_path, tiny_experiment, space())
    assert main(["tune", str(exp_path), "--space", str(space_path), "--trials", "0"]) == 2
    assert "--trials: " in capsys.readouterr().err



def test_cli_tune_seed_above_what_optuna_takes_is_one_line(tiny_experiment, tmp_path, capsys):
    # Optuna seeds numpy's generator, which takes 0 to 2**32 - 1: a larger seed was a
    # ValueError from inside the sampler ("a bug").
    exp_path, space_path = _files(tmp_path, tiny_experiment, space(seed=2**32))
    code = main(["tune", str(exp_path), "--space", str(space_path), "--trials", "1",
                 "--storage", f"sqlite:///{tmp_path / 's.db'}"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "space.seed" in err and "4294967295" in err
    exp_path, space_path = _files(tmp_path, tiny_experiment, space(seed=2**32 - 1))
    assert SearchSpace.load(space_path).seed == 2**32 - 1


@pytest.mark.parametrize("text, words", [
    ('{"params": {"optimizer.params.lr": 1}', "is not valid JSON (line 1, column"),
    ('{"seed": ' + "9" * 5000 + "}", "an integer of 5,000 digits")])
def test_cli_tune_space_that_is_not_json_is_one_line_naming_it_once(
        tiny_experiment, tmp_path, capsys, text, words):
    exp_path, space_path = _files(tmp_path, tiny_experiment, space())
    space_path.write_text(text)
    assert main(["tune", str(exp_path), "--space", str(space_path), "--trials", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert err.count(str(space_path)) == 1, err


def test_cli_tune_apply_writes_through_a_symlink_and_keeps_the_link(tiny_experiment, tmp_path,
                                                                    capsys):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    exp_path, space_path = _files(real_dir, tiny_experiment, space())
    link = tmp_path / "exp.json"
    link.symlink_to(exp_path)
    url = f"sqlite:///{tmp_path / 's.db'}"
    code = main(["tune", str(link), "--space", str(space_path), "--trials", "1",
                 "--storage", url, "--study", "link", "--apply"])
    assert code == 0, capsys.readouterr().err
    assert link.is_symlink() and link.resolve() == exp_path.resolve()
    best = best_params(url, "link")["optimizer.params.lr"]
    assert Experiment.load(exp_path).optimizer.params["lr"] == best


def test_cli_tune_apply_that_cannot_write_is_one_line_and_keeps_the_file(
        tiny_experiment, tmp_path, capsys, monkeypatch):
    import errno

    import workbench.core.io as io

    exp_path, space_path = _files(tmp_path, tiny_experiment, space())
    before = exp_path.read_bytes()

    real = io.atomic_write_text

    def full_for_the_experiment(path, text):  # the trials' run folders still write
        if Path(path) == exp_path:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(io, "atomic_write_text", full_for_the_experiment)
    code = main(["tune", str(exp_path), "--space", str(space_path), "--trials", "1",
                 "--storage", f"sqlite:///{tmp_path / 's.db'}", "--study", "full", "--apply"])
    err = capsys.readouterr().err
    assert code == 2, err
    line = [e for e in err.splitlines() if "error" in e]
    assert len(line) == 1 and str(exp_path) in line[0] and "No space left" in line[0]
    assert "Traceback" not in err and exp_path.read_bytes() == before


def test_cli_tune_stops_on_sigterm_and_exits_with_143(tiny_experiment, tmp_path, capsys,
                                                       monkeypatch):
    import signal

    import workbench.core.tune.study as tune

    exp_path, space_path = _files(tmp_path, tiny_experiment, space())
    real = tune.run_study
    seen = {}

    def terminated_at_once(*args, stop_event=None, **kwargs):
        signal.raise_signal(signal.SIGTERM)  # what logout, kill or a scheduler sends
        seen["stopped"] = stop_event.is_set()
        return real(*args, stop_event=stop_event, **kwargs)

    def outside(signum, frame):  # stands in for the default (which would end pytest)
        seen["reached the process"] = True

    monkeypatch.setattr(tune, "run_study", terminated_at_once)
    previous = signal.signal(signal.SIGTERM, outside)
    try:
        code = main(["tune", str(exp_path), "--space", str(space_path), "--trials", "1",
                     "--storage", f"sqlite:///{tmp_path / 's.db'}", "--study", "term"])
        assert signal.getsignal(signal.SIGTERM) is outside  # put back afterwards
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == {"stopped": True}  # the study was asked to stop, the process lived on
    assert code == 143, capsys.readouterr().err


def test_two_processes_share_one_study(tiny_experiment, tmp_path):
    # Seeded, as the README's example is: each process must still draw its own values.
    exp_path, space_path = _files(tmp_path, tiny_experiment, space(seed=0))
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [sys.executable, "-m", "workbench", "tune", str(exp_path), "--space",
           str(space_path), "--trials", "2", "--storage", url, "--study", "shared"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    study = optuna.load_study(study_name="shared", storage=url)
    assert len(study.trials) == 4
    assert all(t.state.name == "COMPLETE" for t in study.trials)
    assert len({t.number for t in study.trials}) == 4
    assert len({t.params["optimizer.params.lr"] for t in study.trials}) == 4
