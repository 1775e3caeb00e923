"""Figures and counts read as the rest of the command line says them: tune's accuracies as
percentages (as train prints them), a mean or std of the wrong length with the count to
give ("give 1 value", not "give 1 or 1 values")."""

from __future__ import annotations

import re

from helpers import refused, run_cli, run_lr_search


def test_tune_prints_accuracies_as_train_does(capsys, tmp_path, tiny_experiment):
    code, out, err, _ = run_lr_search(capsys, tmp_path, tiny_experiment)
    assert code == 0, err
    trial = next(line for line in out.splitlines() if line.startswith("trial 0 complete"))
    assert re.search(r"  val_acc \d{1,3}\.\d%  ", trial), trial
    best = next(line for line in out.splitlines() if line.startswith("best: trial 0"))
    assert re.search(r", val_acc \d{1,3}\.\d% \(maximize\)", best), best


def test_a_mean_for_three_channels_on_grayscale_asks_for_one_value(capsys, tmp_path,
                                                                   tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    line = refused(run_cli(capsys, "train", exp_file, "--out", tmp_path / "run", "--set",
                           "data.channels=1"), "data.mean", "has 3 values")
    assert line.endswith("images have 1 channel: give 1 value, e.g. [0.5]"), line
