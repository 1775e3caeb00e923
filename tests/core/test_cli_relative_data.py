"""A relative ``data.folder`` means the same wherever a command runs: in an experiment
file it is relative to the file's folder, in ``--set data.folder=`` (as ``--data``) to the
current folder, and runs and bundles record it absolute, so evaluate, resume and report
find the data from any other folder."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli
from workbench.core.experiment import Experiment


def _file_with_relative_folder(tmp_path, tiny_experiment) -> Path:
    """``tmp_path/w/e.json`` whose data.folder is ``../tiny`` (the dataset beside ``w``)."""
    exp_file = tmp_path / "w" / "e.json"
    exp_file.parent.mkdir()
    tiny_experiment.save(exp_file)
    doc = json.loads(exp_file.read_text())
    assert Path(doc["data"]["folder"]) == tmp_path / "tiny"
    doc["data"]["folder"] = "../tiny"  # as a hand edit, or a file shared in a repository
    exp_file.write_text(json.dumps(doc))
    return exp_file


def test_a_relative_folder_in_the_file_is_read_beside_it_from_another_folder(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    exp_file = _file_with_relative_folder(tmp_path, tiny_experiment)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # where ../tiny does not exist
    run_dir = tmp_path / "w" / "runs" / "rel1"
    code, out, err = run_cli(capsys, "train", exp_file, "--out", run_dir, "--epochs", "1")
    assert code == 0, err
    recorded = json.loads((run_dir / "experiment.json").read_text())["data"]["folder"]
    assert recorded == str(tmp_path / "tiny")
    # From yet another folder, the run and its bundle still find their data.
    monkeypatch.chdir(tmp_path / "w")
    code, out, err = run_cli(capsys, "evaluate", run_dir / "bundle.pt")
    assert code == 0 and "accuracy" in out.lower(), err
    code, out, err = run_cli(capsys, "resume", run_dir, "--epochs", "1")
    assert code == 0, err


def test_set_data_folder_is_relative_to_the_current_folder_and_recorded_absolute(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", exp_file, "--out", "runs/relset", "--epochs",
                           "1", "--set", "data.folder=tiny")
    assert code == 0, err
    recorded = json.loads((tmp_path / "runs/relset/experiment.json").read_text())
    assert recorded["data"]["folder"] == str(tmp_path / "tiny")


def test_loading_leaves_an_absolute_folder_as_it_is(tmp_path, tiny_experiment, monkeypatch):
    exp_file = tmp_path / "sub" / "e.json"
    exp_file.parent.mkdir()
    tiny_experiment.save(exp_file)  # as the app writes it: absolute
    monkeypatch.chdir(exp_file.parent)
    assert Experiment.load(exp_file).data.folder == tiny_experiment.data.folder
    doc = json.loads(exp_file.read_text())
    doc["data"]["folder"] = ""  # the demo dataset stays the demo dataset
    exp_file.write_text(json.dumps(doc))
    assert Experiment.load(exp_file).data.folder == ""


def test_lr_find_write_keeps_a_relative_folder_relative(capsys, tmp_path, tiny_experiment,
                                                        monkeypatch):
    # The file moves with its data (a repository, a shared folder): writing the rate back
    # must not pin it to where it was on this machine.
    exp_file = _file_with_relative_folder(tmp_path, tiny_experiment)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "lr-find", exp_file, "--steps", 15, "--end", 1, "--write")
    assert code == 0, err
    doc = json.loads(exp_file.read_text())
    assert doc["data"]["folder"] == "../tiny"
    assert doc["optimizer"]["params"]["lr"] != tiny_experiment.optimizer.params["lr"]
