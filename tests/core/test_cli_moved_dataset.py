"""An experiment file whose data.folder is gone (the dataset moved): the commands that read
it name the file, the field, and how to give the dataset on the command line."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli


@pytest.fixture
def moved(tmp_path, tiny_experiment):
    exp = tiny_experiment.copy()
    exp.data.folder = str(tmp_path / "gone")
    path = tmp_path / "moved.json"
    exp.save(path)
    (tmp_path / "space.json").write_text(json.dumps({"params": {"optimizer.params.lr": {
        "type": "float", "low": 1e-3, "high": 0.1, "log": True}}, "epochs": 1}))
    return path


@pytest.mark.parametrize("argv, remedy", [
    (["train", "{exp}", "--out", "{tmp}/run"], "give the dataset with --data DIR"),
    (["lr-find", "{exp}"], "give the dataset with --data DIR"),
    (["tune", "{exp}", "--space", "{tmp}/space.json", "--trials", "1",
      "--storage", "sqlite:///{tmp}/s.db"], "give the dataset with --data DIR"),
    (["check", "--experiment", "{exp}"],
     "give the dataset as DIR (workbench check DIR --experiment {exp})"),
])
def test_a_moved_dataset_names_the_file_and_data(capsys, tmp_path, moved, argv, remedy):
    args = [a.format(exp=moved, tmp=tmp_path) for a in argv]
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == "", err
    assert err.strip() == (
        f"workbench {args[0]}: error: {moved}: data.folder {tmp_path / 'gone'} does not "
        f"exist (moved?): {remedy.format(exp=moved)}, or fix data.folder in {moved}")
    assert not (tmp_path / "run").exists()


def test_data_given_on_the_command_line_is_used(capsys, tmp_path, moved, tiny_folder):
    code, _, err = run_cli(capsys, "train", moved, "--out", tmp_path / "run", "--epochs", 1,
                           "--data", tiny_folder)
    assert code == 0, err
    code, _, err = run_cli(capsys, "check", tiny_folder, "--experiment", moved)
    assert code == 0, err
