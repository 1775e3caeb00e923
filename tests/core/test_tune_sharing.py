"""Tune studies that are continued or shared: a seed repeats a fresh search but never makes
a second process or a re-run draw the same trials again; a run whose every trial failed
says why and exits non-zero; a grid that is done runs nothing more."""

from __future__ import annotations

import json
import logging

import pytest

optuna = pytest.importorskip("optuna")

from workbench.cli import main  # noqa: E402
from workbench.core.errors import SpecError  # noqa: E402
from workbench.core.tune.space import SearchSpace, apply_params  # noqa: E402
from workbench.core.tune.storage import open_study  # noqa: E402
from workbench.core.tune.study import run_study  # noqa: E402

LR = "optimizer.params.lr"


def space(sampler="random", params=None, **extra):
    return {"format_version": 1, "sampler": sampler, "seed": 0, "epochs": 1,
            "params": params or {LR: {"type": "float", "low": 1e-3, "high": 0.1,
                                      "log": True}}, **extra}


def lrs(summary):
    return [t["params"][LR] for t in summary.trials]


def _cli(tmp_path, exp, sp, *argv):
    exp_path, space_path = tmp_path / "exp.json", tmp_path / "space.json"
    exp.save(exp_path)
    space_path.write_text(json.dumps(sp))
    return main(["tune", str(exp_path), "--space", str(space_path),
                 "--storage", f"sqlite:///{tmp_path / 's.db'}", *map(str, argv)])


# -- a seed ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_a_seeded_study_repeats_when_fresh_and_draws_new_values_when_continued(
        tiny_experiment, tmp_path, sampler):
    def study(db, trials):
        return run_study(tiny_experiment, space(sampler), trials=trials, study_name="s",
                         storage=f"sqlite:///{tmp_path / db}", runs_parent=tmp_path / "runs")

    first = study("a.db", 2)
    # Running the command again continues the study: new values, not trial 0 again...
    continued = study("a.db", 1)
    assert len(set(lrs(continued))) == 3, lrs(continued)
    # ... exactly those one run of three trials draws: a fresh search with the same seed
    # repeats, and a continued one stays repeatable.
    once = study("b.db", 3)
    assert lrs(once)[:2] == lrs(first) and lrs(once) == lrs(continued)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # ask(), not optimize
@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_processes_sharing_a_seeded_study_draw_different_values(tmp_path, sampler):
    # Each process opens the study with its own sampler, built from the same SPACE.json.
    sp = SearchSpace.from_dict(space(sampler))
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    one, two = (open_study(optuna, url, "shared", sp) for _ in range(2))
    drawn = []
    for study in (one, two, one, two):
        trial = study.ask()
        drawn.append(trial.suggest_float(LR, 1e-3, 0.1, log=True))
    assert len(set(drawn)) == 4, drawn


# -- every trial failed ----------------------------------------------------------------------
def test_cli_tune_whose_every_trial_diverged_exits_3_saying_why(tiny_experiment, tmp_path,
                                                                 capsys):
    sp = space(params={LR: {"type": "float", "low": 5.0, "high": 10.0}}, epochs=2)
    code = _cli(tmp_path, tiny_experiment, sp, "--trials", 2, "--study", "div")
    out, err = capsys.readouterr()
    assert code == 3, err  # as `workbench train` exits for a diverged run
    assert "no trial has completed yet" in out
    (line,) = [e for e in err.splitlines() if "no trial completed" in e]
    assert "all 2 trials of this run failed" in line and "trial 0" in line
    assert "diverged" in line and "Traceback" not in err


def test_cli_tune_whose_trials_failed_otherwise_exits_2_with_the_first_reason(
        tiny_experiment, tmp_path, capsys, monkeypatch):
    import workbench.core.tune.study as tune

    def refused(exp, params):
        raise SpecError("data.batch_size", "too big for this dataset")

    monkeypatch.setattr(tune, "apply_params", refused)
    code = _cli(tmp_path, tiny_experiment, space(), "--trials", 1, "--study", "bad", "--apply")
    err = capsys.readouterr().err
    assert code == 2, err
    assert "no trial completed: trial 0 failed: invalid combination" in err
    assert "too big for this dataset" in err and "was not changed" in err


def test_a_run_with_one_complete_trial_still_exits_0(tiny_experiment, tmp_path, capsys,
                                                     monkeypatch):
    import workbench.core.tune.study as tune

    calls = []

    def first_refused(exp, params):
        calls.append(params)
        if len(calls) == 1:
            raise SpecError("data.batch_size", "too big for this dataset")
        return apply_params(exp, params)

    monkeypatch.setattr(tune, "apply_params", first_refused)
    assert _cli(tmp_path, tiny_experiment, space(), "--trials", 2, "--study", "ok") == 0
    assert "no trial completed" not in capsys.readouterr().err


# -- a grid that is done ---------------------------------------------------------------------
@pytest.fixture
def optuna_records():
    """What Optuna logs (its logger does not propagate, so caplog cannot see it)."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("optuna")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_done_grid_runs_nothing_more(tiny_experiment, tmp_path, capsys, optuna_records):
    grid = space("grid", {LR: {"type": "categorical", "choices": [0.001, 0.01]}})
    assert _cli(tmp_path, tiny_experiment, grid, "--trials", 1, "--study", "g") == 0
    assert _cli(tmp_path, tiny_experiment, grid, "--study", "g") == 0  # the one left
    capsys.readouterr()
    assert _cli(tmp_path, tiny_experiment, grid, "--study", "g") == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == ("the grid of 2 combinations is done (study g): nothing "
                                   "to run")
    study = optuna.load_study(study_name="g", storage=f"sqlite:///{tmp_path / 's.db'}")
    assert sorted(t.params[LR] for t in study.trials) == [0.001, 0.01]  # no duplicate
    assert not [r for r in optuna_records if "re-evaluating" in r.getMessage()]
    assert "re-evaluating" not in err


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_a_grid_whose_last_combination_runs_elsewhere_is_left_to_that_process(
        tiny_experiment, tmp_path):
    grid = space("grid", {LR: {"type": "categorical", "choices": [0.001, 0.01]}})
    url = f"sqlite:///{tmp_path / 's.db'}"
    kwargs = dict(storage=url, study_name="g", runs_parent=tmp_path / "runs")
    run_study(tiny_experiment, grid, trials=1, **kwargs)
    other = open_study(optuna, url, "g", SearchSpace.from_dict(grid))
    other.ask().suggest_categorical(LR, [0.001, 0.01])  # another process's running trial
    summary = run_study(tiny_experiment, grid, **kwargs)
    assert summary.ran == [] and len(summary.trials) == 2
    assert "1 still running in another process" in summary.note
