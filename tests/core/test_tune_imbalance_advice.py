"""A study on imbalanced classes (walk-imbalance report, item 6): ranked by val_acc it favours
trials that neglect the small classes. ``workbench tune`` says so in a note, as the Tune tab
does under its Metric, and never changes the metric. The class balance (``data.balance``) is
a categorical field that a study can search."""

from __future__ import annotations

import json

import pytest

from helpers import make_image_folder, run_cli
from workbench.core.experiment import Experiment
from workbench.core.tune.advice import (BALANCE_PATH, balance_choices, metric_advice,
                                        study_advice)
from workbench.core.tune.space import SearchSpace, apply_params

#: The walk's training split: 'frequent', 'rare' and 'tiny' under a third of 'common'.
WALK = {"common": 320, "frequent": 80, "rare": 20, "tiny": 5}
BALANCE = {"type": "categorical", "choices": ["none", "weighted_loss", "weighted_sampler"]}


def test_accuracy_on_imbalanced_classes_is_advised_against_in_both_front_ends():
    app = metric_advice("val_acc", WALK, balance_searched=False)
    assert app == ("The classes are imbalanced (64.0x in training: 'common' 320 / 'tiny' 5): "
                   "val_acc mostly follows the large classes. val_bal_acc ranks trials by "
                   "every class alike (a new study's Metric: a stored study keeps its own); "
                   "tick Class balance to search it too.")
    cli = metric_advice("val_acc", WALK, balance_searched=False, cli=True)
    assert cli.startswith("the classes are imbalanced (64.0x in training: 'common' 320 / "
                          "'tiny' 5): val_acc mostly follows the large classes; \"metric\": "
                          "\"val_bal_acc\" in the space file ranks trials by every class")
    assert cli.endswith(f'and "data.balance": {json.dumps(BALANCE)} searches the class '
                        f'balance')
    # Searched already: not suggested again.
    assert metric_advice("val_acc", WALK, True).endswith("keeps its own).")
    assert "data.balance" not in metric_advice("val_loss", WALK, True, cli=True)
    # Nothing to say: the balanced accuracy already, classes within 3x, no split, a class
    # without training images (training refuses it, saying so).
    assert metric_advice("val_bal_acc", WALK, False) is None
    assert metric_advice("val_acc", {"a": 30, "b": 10}, False) is None
    assert metric_advice("val_acc", None, False) is None
    assert metric_advice("val_acc", {"a": 30, "b": 0}, False) is None


def test_the_class_balance_choices_are_the_experiments():
    assert balance_choices() == BALANCE["choices"]
    for value in balance_choices():
        assert apply_params(Experiment(), {BALANCE_PATH: value}).data.balance == value
    space = SearchSpace.from_dict({"params": {BALANCE_PATH: BALANCE}, "sampler": "grid"})
    assert space.params[BALANCE_PATH].grid_values() == BALANCE["choices"]


@pytest.fixture
def imbalanced_experiment(tiny_experiment, tmp_path):
    """``tiny_experiment`` on 'blue' 40 images, 'green' and 'red' 4 each."""
    folder = tmp_path / "imbalanced"
    make_image_folder(folder, classes=("blue",), per_class=40)
    make_image_folder(folder, classes=("green", "red"), per_class=4)
    tiny_experiment.data.folder = str(folder)
    return tiny_experiment


def test_workbench_tune_notes_the_imbalance_and_searches_the_class_balance(
        imbalanced_experiment, tmp_path, capsys):
    pytest.importorskip("optuna")
    exp, space = tmp_path / "exp.json", tmp_path / "space.json"
    imbalanced_experiment.save(exp)
    # The space the Tune tab saves with Class balance ticked.
    space.write_text(json.dumps({"format_version": 1, "params": {BALANCE_PATH: BALANCE},
                                 "sampler": "grid", "epochs": 1}))
    code, out, err = run_cli(capsys, "tune", exp, "--space", space)
    assert code == 0, err
    notes = [line for line in err.splitlines() if "imbalanced" in line]
    assert notes == [f"note: {study_advice(imbalanced_experiment, 'val_acc', {BALANCE_PATH: 1})}"]
    assert notes[0].startswith("note: the classes are imbalanced (9.3x in training: 'blue' "
                               "28 / 'green' 3)") and "data.balance" not in notes[0]
    trials = [line for line in out.splitlines() if line.startswith("trial ")]
    assert len(trials) == 3 and all(" complete " in t for t in trials)
    assert {t.split("data.balance=")[1].split()[0] for t in trials} == \
        {repr(v) for v in BALANCE["choices"]}
    # The metric stays the space's: val_acc (no note for the balanced accuracy).
    assert all("val_acc" in t for t in trials)
    assert study_advice(imbalanced_experiment, "val_bal_acc", {}) is None
