"""Every command's output option (`report -o`, `predict --csv`, `init -o`, `evaluate
--csv-dir`, `explain --out`, `export`) refuses, before any work and with nothing written, a
run folder's own files (bundle.pt, run.json, metrics.json, experiment.json, checkpoints/),
even with --overwrite; a file output in a folder that does not exist is refused, not made
(a mistyped folder), while the folder options are created if needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import random_bundle, refused, run_cli


@pytest.fixture
def run(tmp_path, tiny_experiment):
    """A run folder: its bundle, experiment, run.json, metrics.json and checkpoints."""
    run = tmp_path / "runs" / "r"
    (run / "checkpoints").mkdir(parents=True)
    random_bundle(run / "bundle.pt", tiny_experiment)
    tiny_experiment.save(run / "experiment.json")
    for own in ("run.json", "metrics.json", "split.json", "checkpoints/best.pt"):
        (run / own).write_text("{}")
    return run


def _files(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("argv, option, written", [
    (["report", "{run}", "-o", "{run}/bundle.pt"], "-o", "bundle.pt"),
    (["report", "{run}", "-o", "{run}/run.json"], "-o", "run.json"),
    (["predict", "{run}", "{image}", "--csv", "{run}/checkpoints/best.pt"], "--csv",
     "checkpoints/best.pt"),
    (["predict", "{run}", "{image}", "--csv", "{run}/metrics.json"], "--csv", "metrics.json"),
    (["init", "--data", "{data}", "-o", "{run}/experiment.json", "--overwrite"], "-o",
     "experiment.json"),
    (["evaluate", "{run}", "--csv-dir", "{run}/checkpoints"], "--csv-dir", "checkpoints"),
    (["explain", "{run}", "{image}", "--out", "{run}/checkpoints"], "--out", "checkpoints"),
])
def test_no_output_writes_over_a_run_s_own_files(capsys, run, tiny_folder, argv, option,
                                                 written):
    image = sorted(Path(tiny_folder, "red").iterdir())[0]
    before = _files(run)
    argv = [a.format(run=run, image=image, data=tiny_folder) for a in argv]
    refused(run_cli(capsys, *argv), f"{option} would write {run / written}",
            "a run's own files are never written over", f"give {option} another name")
    assert _files(run) == before  # nothing lost, nothing added


@pytest.mark.parametrize("argv, option", [
    (["report", "{run}", "-o", "{typo}/deeper/rep.html"], "-o"),
    (["predict", "{run}", "{image}", "--csv", "{typo}/p.csv"], "--csv"),
    (["init", "--data", "{data}", "-o", "{typo}/exp.json"], "-o"),
    (["export", "{run}", "--code", "{typo}/model.py"], "--code"),
])
def test_a_file_in_a_folder_that_does_not_exist_is_refused_not_made(capsys, tmp_path, run,
                                                                    tiny_folder, argv, option):
    typo = tmp_path / "Dekstop"
    image = sorted(Path(tiny_folder, "red").iterdir())[0]
    argv = [a.format(run=run, image=image, data=tiny_folder, typo=typo) for a in argv]
    parent = typo / "deeper" if argv[0] == "report" else typo
    refused(run_cli(capsys, *argv), f"the folder {parent} of {option} ", "does not exist",
            "create it", f"give {option} a file in a folder that exists")
    assert not typo.exists()


def test_the_csv_folder_is_still_created_if_needed(capsys, tmp_path, run):
    out = tmp_path / "new" / "csv"
    code, _, err = run_cli(capsys, "evaluate", run, "--csv-dir", out)
    assert code == 0, err
    assert (out / "per_class.csv").is_file()


def test_init_refuses_an_existing_file_before_scanning_the_dataset(capsys, tmp_path,
                                                                   tiny_folder):
    exp = tmp_path / "exp.json"
    exp.write_text("{}")  # the user's own file
    err = refused(run_cli(capsys, "init", "--data", tiny_folder, "-o", exp),
                  f"{exp} exists: choose another -o, or give --overwrite")
    assert "chose" not in err and exp.read_text() == "{}"


@pytest.mark.parametrize("argv, option", [
    (["lr-find", "{run}/experiment.json", "--write"], "--write"),
    (["tune", "{run}/experiment.json", "--space", "{space}", "--apply"], "--apply"),
])
def test_lr_find_and_tune_do_not_rewrite_a_runs_experiment(capsys, run, tmp_path, argv,
                                                           option):
    # Resuming the run refuses an experiment.json that differs from its checkpoint's.
    space = tmp_path / "space.json"
    space.write_text('{"optimizer.params.lr": {"low": 0.0001, "high": 0.1, "log": true}}')
    before = _files(run)
    argv = [a.format(run=run, space=space) for a in argv]
    refused(run_cli(capsys, *argv), f"{option} would rewrite {run / 'experiment.json'}",
            "copy it to a file of your own")
    assert _files(run) == before
