"""Continuing a stored study with a changed search space: what Optuna can continue runs,
what it cannot is refused before any trial starts, naming the field and the study."""

from __future__ import annotations

import json

import pytest

optuna = pytest.importorskip("optuna")

from helpers import run_cli  # noqa: E402
from workbench.core.errors import SpecError  # noqa: E402
from workbench.core.tune.study import run_study  # noqa: E402

D = optuna.distributions
OPT = "optimizer.type"
BATCH = "data.batch_size"
LR = "optimizer.params.lr"


def space(params, **extra):
    return {"format_version": 1, "params": params, "sampler": "random", "seed": 0,
            "epochs": 1, **extra}


def _stored(url, params, distributions):
    """A study with one complete trial searched over ``distributions`` (no training)."""
    study = optuna.create_study(storage=url, study_name="s", direction="maximize")
    study.set_user_attr("metric", "val_acc")
    study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions,
                                              value=0.5))
    return study


@pytest.mark.parametrize("params, old, new, words", [
    ({OPT: "Adam"}, D.CategoricalDistribution(["Adam", "SGD"]),
     {OPT: {"type": "categorical", "choices": ["Adam", "AdamW", "SGD"]}},
     ["choices ['Adam', 'SGD']", "use the same choices"]),
    ({BATCH: 8}, D.IntDistribution(4, 16, step=4),
     {BATCH: {"type": "categorical", "choices": [4, 8]}},
     ["an int range 4 to 16, step 4", "choices [4, 8]", "the kind", "as an int range again"]),
    ({LR: 0.01}, D.FloatDistribution(1e-3, 0.1, log=True),
     {LR: {"type": "float", "low": 1e-3, "high": 0.1}},
     ["log scale", "the scale", "on a log scale again"]),
])
def test_a_space_optuna_cannot_continue_is_refused_before_any_trial(
        tiny_experiment, tmp_path, params, old, new, words):
    url = f"sqlite:///{tmp_path / 's.db'}"
    path = next(iter(params))
    _stored(url, params, {path: old})
    with pytest.raises(SpecError) as e:
        run_study(tiny_experiment, space(new), trials=1, storage=url, study_name="s",
                  runs_parent=tmp_path / "runs")
    assert e.value.field == f"space.params.{path}"
    text = str(e.value)
    assert "study s already searched it" in text and "or give another study name" in text
    for w in words:
        assert w in text
    # Nothing was added to the study: no failed trial without parameters.
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 1
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_changed_range_or_an_added_field_continues_the_study(tiny_experiment, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _stored(url, {LR: 0.01}, {LR: D.FloatDistribution(1e-3, 0.1, log=True)})
    summary = run_study(tiny_experiment, space({
        LR: {"type": "float", "low": 1e-4, "high": 0.05, "log": True},
        OPT: {"type": "categorical", "choices": ["Adam", "SGD"]}}), trials=1, storage=url,
        study_name="s", runs_parent=tmp_path / "runs")
    assert [t["state"] for t in summary.trials] == ["complete", "complete"]


def test_cli_refuses_a_changed_choice_list_with_exit_2_and_one_line(
        capsys, tiny_experiment, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _stored(url, {OPT: "SGD"}, {OPT: D.CategoricalDistribution(["Adam", "SGD"])})
    exp_path, space_path = tmp_path / "exp.json", tmp_path / "space.json"
    tiny_experiment.save(exp_path)
    space_path.write_text(json.dumps(space({OPT: {"type": "categorical",
                                                  "choices": ["Adam", "AdamW", "SGD"]}})))
    code, out, err = run_cli(capsys, "tune", exp_path, "--space", space_path, "--trials", 3,
                             "--storage", url, "--study", "s")
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and "bug" not in err
    assert "space.params.optimizer.type" in err and "study s" in err
    assert "use the same choices, or give another study name" in err
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 1
