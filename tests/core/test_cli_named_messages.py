"""What the CLI says of a mistyped input names what the user typed and what to do: the
option (``--start``, not an internal name), the command that writes a missing experiment
file, an experiment file given where a trained model is wanted, a missing model; and
``--help`` says the exit-code rule ``predict`` and ``explain`` share."""

from __future__ import annotations

import pytest

from helpers import refused, run_cli


def test_lr_find_names_the_options_typed(capsys, tiny_experiment, tmp_path):
    tiny_experiment.save(tmp_path / "exp.json")
    err = refused(run_cli(capsys, "lr-find", tmp_path / "exp.json", "--start", "1",
                          "--end", "0.1"), "--end: must be larger than --start (1)")
    assert "start_lr" not in err


@pytest.mark.parametrize("command", [["train", "{}", "--out", "{run}"], ["lr-find", "{}"]])
def test_a_missing_experiment_file_names_the_command_that_writes_it(capsys, tmp_path,
                                                                     command):
    missing = tmp_path / "my exp.json"
    argv = [a.format(missing, run=tmp_path / "run") for a in command]
    refused(run_cli(capsys, *argv), f"experiment file {missing} does not exist",
            f"workbench init -o '{missing}'")
    assert not (tmp_path / "run").exists()


def test_an_experiment_file_given_as_the_model_is_said_to_be_one(capsys, tiny_experiment,
                                                                  tmp_path):
    tiny_experiment.save(tmp_path / "exp.json")
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    err = refused(run_cli(capsys, "predict", tmp_path / "exp.json", image),
                  f"{tmp_path / 'exp.json'} is an experiment file",
                  f"workbench train {tmp_path / 'exp.json'} --out RUN")
    assert "damaged" not in err
    # Another JSON file is still no bundle.
    (tmp_path / "other.json").write_text('{"format_version": 1}')
    refused(run_cli(capsys, "predict", tmp_path / "other.json", image),
            "not a readable bundle")


def test_a_missing_model_says_what_to_give(capsys, tmp_path):
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    refused(run_cli(capsys, "predict", tmp_path / "nothere", image),
            f"bundle {tmp_path / 'nothere'} does not exist: give a run folder",
            "or its bundle.pt")


@pytest.mark.parametrize("command", ["predict", "explain"])
def test_help_says_when_a_command_on_many_images_fails(capsys, command):
    code, out, _ = run_cli(capsys, command, "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "exit code 0 once one image was" in text and "2 when none" in text
