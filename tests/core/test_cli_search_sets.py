"""`tune --apply` and `lr-find --write` write what the search ran with: the --set values
too, not only the values found (a rate found with SGD into an Adam file is wrong)."""

from __future__ import annotations

import pytest

from helpers import run_cli, run_lr_search
from workbench.core.experiment import Experiment


def test_lr_find_write_keeps_the_set_values_it_ran_with(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    assert Experiment.load(exp_file).optimizer.type == "Adam"
    code, out, err = run_cli(capsys, "lr-find", exp_file, "--steps", 15, "--end", 1,
                             "--set", "optimizer.type=SGD", "--write")
    assert code == 0, err
    suggested = float(out.splitlines()[-1].rsplit(" ", 1)[1])
    written = Experiment.load(exp_file)
    assert written.optimizer.type == "SGD"
    assert written.optimizer.params["lr"] == pytest.approx(suggested, rel=1e-2)
    assert "also wrote the --set values the search ran with: optimizer.type=SGD" in err


def test_lr_find_write_without_set_says_nothing_more(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    code, _, err = run_cli(capsys, "lr-find", exp_file, "--steps", 15, "--end", 1, "--write")
    assert code == 0, err
    assert "also wrote" not in err and Experiment.load(exp_file).optimizer.type == "Adam"


def test_tune_apply_keeps_the_set_values_it_ran_with(capsys, tmp_path, tiny_experiment):
    code, _, err, exp_file = run_lr_search(capsys, tmp_path, tiny_experiment, "--apply",
                                           "--set", "data.input_size=[12,12]")
    assert code == 0, err
    written = Experiment.load(exp_file)
    assert written.data.input_size == [12, 12]  # the size the trials trained at
    assert written.optimizer.params["lr"] != tiny_experiment.optimizer.params["lr"]
    assert "also wrote the --set values the search ran with: data.input_size=[12,12]" in err
