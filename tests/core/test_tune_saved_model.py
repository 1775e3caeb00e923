"""A study's trials agree with their runs: a trial's value is its saved model's metric (as
run.json, the Runs tab and Evaluate give it); a float range on an integer field is refused
before any trial, and a study whose trials all failed on it can be corrected; a study
storage that cannot be written says where and what to do; --apply says what the trials
really trained; small messages name what is missing."""

from __future__ import annotations

import json
import sqlite3

import pytest

optuna = pytest.importorskip("optuna")

from optuna import distributions as D  # noqa: E402

from workbench.cli import main  # noqa: E402
from workbench.core.errors import SpecError, WorkbenchError  # noqa: E402
from workbench.core.runs.record import read_record  # noqa: E402
from workbench.core.runs.store import read_run_info  # noqa: E402
from workbench.core.train.trainer import Trainer  # noqa: E402
from workbench.core.tune.space import SearchSpace  # noqa: E402
from workbench.core.tune.study import run_study  # noqa: E402

LR = {"optimizer.params.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}
BATCH = "data.batch_size"


def space(params=None, **extra):
    return {"format_version": 1, "params": params or LR, "sampler": "random", "seed": 0,
            "epochs": 1, "pruner": "none", **extra}


# -- 1. the trial's value is the saved model's ----------------------------------------------
def test_a_trials_value_is_the_metric_of_the_model_its_run_saved(tiny_experiment, tmp_path,
                                                                  monkeypatch):
    """Validation accuracy 0.4, 0.9, 0.6 over three epochs: the run keeps the last epoch's
    weights (no early stopping), so the trial is worth 0.6, as run.json and the Runs tab
    say, not the 0.9 no saved model has."""
    accuracy = {1: 0.4, 2: 0.9, 3: 0.6}
    real = Trainer._run_epoch

    def run_epoch(self, epoch, train):
        out = real(self, epoch, train)
        return out if train or out is None else (out[0], accuracy[epoch])

    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
    summary = run_study(tiny_experiment, space(epochs=3), trials=1,
                        storage=f"sqlite:///{tmp_path / 's.db'}", study_name="m",
                        runs_parent=tmp_path / "runs")
    trial = summary.trials[0]
    assert trial["state"] == "complete"
    info = read_run_info(trial["run_dir"])
    assert info["bundle"]["epoch"] == 3 and not info["bundle"]["restored_best"]
    assert info["bundle"]["metrics"]["val_acc"] == pytest.approx(0.6)
    assert read_record(trial["run_dir"]).model_val_acc == pytest.approx(0.6)  # Runs tab
    assert trial["value"] == pytest.approx(0.6) and summary.best_value == pytest.approx(0.6)
    assert trial["epoch"] == 3
    # The trial's duration is its run's training time, the Runs tab's measure.
    assert trial["train_s"] == pytest.approx(read_record(trial["run_dir"]).duration_s,
                                             abs=0.01)


def test_with_early_stopping_the_value_is_the_restored_best_epochs(tiny_experiment, tmp_path,
                                                                   monkeypatch):
    accuracy = {1: 0.4, 2: 0.9, 3: 0.6, 4: 0.5}
    real = Trainer._run_epoch

    def run_epoch(self, epoch, train):
        out = real(self, epoch, train)
        return out if train or out is None else (out[0], accuracy[epoch])

    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
    exp = tiny_experiment.copy()
    exp.training.early_stopping, exp.training.patience = True, 2
    exp.training.monitor, exp.training.restore_best = "val_acc", True
    summary = run_study(exp, space(epochs=4), trials=1,
                        storage=f"sqlite:///{tmp_path / 's.db'}", study_name="e",
                        runs_parent=tmp_path / "runs")
    trial = summary.trials[0]
    info = read_run_info(trial["run_dir"])
    assert info["bundle"]["epoch"] == 2 and info["bundle"]["restored_best"]
    assert trial["value"] == pytest.approx(0.9) and trial["epoch"] == 2


def test_evaluate_measures_what_the_trial_is_worth(tiny_experiment, tmp_path):
    from workbench.core.evaluate.evaluation import evaluate

    summary = run_study(tiny_experiment, space(epochs=3), trials=1,
                        storage=f"sqlite:///{tmp_path / 's.db'}", study_name="v",
                        runs_parent=tmp_path / "runs")
    trial = summary.trials[0]
    measured = evaluate(f"{trial['run_dir']}/bundle.pt", split="val").accuracy
    assert trial["value"] == pytest.approx(measured, abs=1e-6)


# -- 2. a float range on an integer field -------------------------------------------------
@pytest.mark.parametrize("path", [BATCH, "model.layers[1].params.out_features"])
def test_a_float_range_on_an_integer_field_is_refused_before_any_trial(tiny_experiment,
                                                                       tmp_path, path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(SpecError) as e:
        run_study(tiny_experiment, space({path: {"type": "float", "low": 8, "high": 32}}),
                  trials=1, storage=url, study_name="f", runs_parent=tmp_path / "runs")
    assert e.value.field == f"space.params.{path}"
    assert "takes an integer here" in str(e.value)
    assert '{"type": "int", "low": 8, "high": 32}' in str(e.value)
    assert not (tmp_path / "runs").exists()  # no trial ran
    # Whole steps from a whole start give whole numbers: accepted.
    SearchSpace.from_dict(space({BATCH: {"type": "float", "low": 8, "high": 32, "step": 8}})
                          ).check(tiny_experiment)


def _failed_float_study(url):
    study = optuna.create_study(storage=url, study_name="err", direction="maximize")
    study.set_user_attr("metric", "val_acc")
    study.add_trial(optuna.trial.create_trial(
        params={BATCH: 8.36}, distributions={BATCH: D.FloatDistribution(8, 32)},
        state=optuna.trial.TrialState.FAIL))
    return study


def test_a_study_whose_trials_all_failed_on_a_field_is_not_told_to_search_it_so_again(
        tiny_experiment, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _failed_float_study(url)
    with pytest.raises(SpecError) as e:
        run_study(tiny_experiment, space({BATCH: {"type": "int", "low": 4, "high": 8}}),
                  trials=1, storage=url, study_name="err", runs_parent=tmp_path / "runs")
    text = str(e.value)
    assert "every trial that searched it failed, so give another study name" in text
    assert "err-2" in text and "search it as a float range again" not in text


# -- 4. storage ----------------------------------------------------------------------------
def test_a_read_only_study_storage_says_so_and_what_to_do(tiny_experiment, tmp_path, capsys):
    db = tmp_path / "st.sqlite"
    _failed_float_study(f"sqlite:///{db}")  # a study file that exists
    url = f"sqlite:///file:{db}?mode=ro&uri=true"  # SQLite opens it read-only
    with pytest.raises(WorkbenchError) as e:
        run_study(tiny_experiment, space(), trials=1, storage=url, study_name="new",
                  runs_parent=tmp_path / "runs")
    text = str(e.value)
    assert f"cannot write the study storage {db}" in text and "read-only" in text
    assert "choose another place for it (--storage" in text
    exp_path, space_path = tmp_path / "exp.json", tmp_path / "space.json"
    tiny_experiment.save(exp_path)
    space_path.write_text(json.dumps(space()))
    code = main(["tune", str(exp_path), "--space", str(space_path), "--trials", "1",
                 "--storage", url])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "read-only" in err
    assert "unexpected" not in err and "bug" not in err


def test_a_missing_storage_folder_is_named(tiny_experiment, tmp_path):
    with pytest.raises(WorkbenchError) as e:
        run_study(tiny_experiment, space(), trials=1,
                  storage=f"sqlite:///{tmp_path / 'nope' / 'st.sqlite'}",
                  runs_parent=tmp_path / "runs")
    assert f"the folder {tmp_path / 'nope'} does not exist" in str(e.value)


def test_a_plain_file_path_is_a_sqlite_storage(tiny_experiment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    summary = run_study(tiny_experiment, space(), trials=1, storage="plain.sqlite",
                        study_name="p", runs_parent=tmp_path / "runs")
    assert summary.storage == f"sqlite:///{tmp_path / 'plain.sqlite'}"
    with sqlite3.connect(tmp_path / "plain.sqlite") as db:
        assert db.execute("select study_name from studies").fetchall() == [("p",)]


# -- 8. --apply and the --set values --------------------------------------------------------
def test_cli_apply_says_the_trials_trained_the_spaces_epochs(tiny_experiment, tmp_path,
                                                             capsys):
    exp_path, space_path = tmp_path / "exp.json", tmp_path / "space.json"
    tiny_experiment.save(exp_path)
    space_path.write_text(json.dumps(space(epochs=1)))
    code = main(["tune", str(exp_path), "--space", str(space_path), "--trials", "1",
                 "--storage", f"sqlite:///{tmp_path / 's.db'}", "--apply",
                 "--set", "training.epochs=3", "--set", "data.batch_size=4"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "the --set values the search ran with: data.batch_size=4" in err
    assert "training.epochs=3" not in err.split("ran with:")[1].splitlines()[0]
    assert "training.epochs=3 from --set, though the trials trained 1 epoch(s)" in err


# -- 10. messages ----------------------------------------------------------------------------
def test_a_missing_range_end_is_named_as_missing():
    with pytest.raises(SpecError) as e:
        SearchSpace.from_dict(space({"optimizer.params.lr": {"type": "float", "high": 0.01}}))
    assert e.value.field == "space.params.optimizer.params.lr.low"
    assert "low is missing" in str(e.value) and "None" not in str(e.value)


def test_a_range_over_the_optimizer_type_asks_for_choices(tiny_experiment):
    with pytest.raises(SpecError) as e:
        SearchSpace.from_dict(space({"optimizer.type": {"type": "float", "low": 1,
                                                        "high": 2}})).check(tiny_experiment)
    text = str(e.value)
    assert '"type": "categorical"' in text and '["Adam", "SGD"]' in text
    assert "ReLU" not in text


def test_an_out_of_memory_trial_points_at_the_searched_batch_sizes_range(tiny_experiment,
                                                                         tmp_path,
                                                                         monkeypatch):
    from types import SimpleNamespace

    from workbench.core.train import run as run_module
    from workbench.core.train.failures import TrainingOutOfMemory

    def out_of_memory(experiment, *args, **kwargs):
        bs = experiment.data.batch_size
        error = TrainingOutOfMemory(f"the cpu ran out of memory at batch size {bs}. Try "
                                    f"batch size {bs // 2}", bs)
        return SimpleNamespace(run_dir=None, failed=True, error=error, message=str(error),
                               status="out_of_memory", result=None)

    monkeypatch.setattr(run_module, "run_training", out_of_memory)
    summary = run_study(tiny_experiment, space({BATCH: {"type": "int", "low": 4, "high": 8}}),
                        trials=1, storage=f"sqlite:///{tmp_path / 's.db'}",
                        runs_parent=tmp_path / "runs")
    error = summary.trials[0]["error"]
    assert "data.batch_size is searched (4 to 8): lower the range's high end below" in error
