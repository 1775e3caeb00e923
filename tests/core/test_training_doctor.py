"""The training doctor on a live run: a loss that explodes without ever being NaN ends the
run as diverged, naming the learning rate, instead of finishing as a "success"."""

from __future__ import annotations

import json
import math

import pytest

from helpers import make_image_folder, run_cli
from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.core.train.callbacks.doctor import (EXPLODED_FACTOR, SUSTAINED_BATCHES,
                                                   ExplodingLoss)
from workbench.core.train.run import run_training


def test_the_line_is_far_above_guessing_and_only_a_sustained_excess_counts():
    check = ExplodingLoss(10)
    assert check.limit == pytest.approx(EXPLODED_FACTOR * math.log(10))
    assert ExplodingLoss(2).limit < check.limit  # the scale of a sane loss: ln(classes)
    healthy = [2.4, 2.1, 1.7, 5.0, 30.0, 1.2, 0.4]  # a bad start and an outlier included
    assert not any(check.batch(v) for v in healthy)
    spikes = [1e6] * (SUSTAINED_BATCHES - 1) + [1.0] + [1e6] * (SUSTAINED_BATCHES - 1)
    assert not any(check.batch(v) for v in spikes)  # interrupted: not yet
    assert [check.batch(v) for v in [1e6] * SUSTAINED_BATCHES][-1]
    assert check.epoch(1e4) and not check.epoch(3.0)
    text = check.message(1.5e10, 1, 7, 10.0)
    assert "1.5e+10" in text and "batch 7 of epoch 1" in text
    assert "learning rate (10)" in text and "to 1" in text


def _experiment(tmp_path, optimizer: Component) -> Experiment:
    exp = Experiment(name="digits-like")
    exp.data.folder = make_image_folder(tmp_path / "data", per_class=20, size=16)
    exp.data.input_size = [16, 16]
    exp.data.batch_size = 8
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    exp.optimizer = optimizer
    exp.training.epochs = 3
    exp.training.device = "cpu"
    return exp.validate()


@pytest.mark.parametrize("optimizer", [Component("Adam", {"lr": 10.0}),
                                       Component("SGD", {"lr": 10.0, "momentum": 0.9})])
def test_a_learning_rate_far_too_large_ends_the_run_as_diverged(tmp_path, optimizer):
    # Measured before this check: the loss reached 1e9-1e11 and never NaN; the run finished
    # with a bundle and every epoch marked best.
    outcome = run_training(_experiment(tmp_path, optimizer), tmp_path / "run")
    assert outcome.status == "diverged"
    assert "exploded" in outcome.message and "learning rate (10)" in outcome.message
    assert math.isfinite(outcome.error.value)  # a number: no NaN ended it
    assert outcome.bundle_path is None and not (tmp_path / "run" / "bundle.pt").exists()


def test_the_command_line_exits_with_3_and_a_healthy_run_is_left_alone(capsys, tmp_path):
    bad = _experiment(tmp_path, Component("Adam", {"lr": 10.0}))
    bad.save(tmp_path / "bad.json")
    code, _, err = run_cli(capsys, "train", tmp_path / "bad.json", "--out", tmp_path / "bad")
    assert code == 3
    assert "exploded" in err and "learning rate (10)" in err and "Traceback" not in err
    assert not (tmp_path / "bad" / "bundle.pt").exists()

    good = bad.copy()
    good.optimizer = Component("Adam", {"lr": 1e-3})
    good.save(tmp_path / "good.json")
    code, out, err = run_cli(capsys, "train", tmp_path / "good.json", "--out",
                             tmp_path / "good")
    assert code == 0, err
    assert json.loads((tmp_path / "good" / "run.json").read_text())["status"] == "finished"
