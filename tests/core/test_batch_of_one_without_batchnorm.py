"""Batches of one image without BatchNorm (walk-explain report, 5): seed-cnn at batch size
1 trained each epoch in 168-192 s against 7-13 s at 32 on the same machine, and no part of
the app said a word. ``train`` and ``check --experiment`` now note it before the run, with
the batch size the fixes propose (``causes.one_image_cause``, said with the batch size
that leaves too few steps: ``causes.split_steps_cause``); with BatchNorm the run refuses
batches of one (its own message), and a tiny set, where a batch of 32 would leave too few
steps, or a batch of one chosen with gradient accumulation, gets no note."""

from __future__ import annotations

import pytest

from helpers import make_image_folder, run_cli
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.doctor.causes import one_image_cause

NOTE = ("warning: The batch size is 1, so each of the 126 steps an epoch learns from a single "
        "image: its gradient is noisy, and an epoch takes many times longer than in batches "
        "of 32 (4 steps). Fix: set the batch size to 32 (4 steps an epoch; --set "
        "data.batch_size=32).")


@pytest.fixture
def batch_one(tmp_path, tiny_experiment):
    """tiny_experiment on 3 x 60 images (126 for training) at batch size 1."""
    tiny_experiment.data.folder = make_image_folder(tmp_path / "sixty", per_class=60)
    tiny_experiment.data.batch_size = 1
    path = tmp_path / "one.json"
    tiny_experiment.save(path)
    return path


def test_train_and_check_note_batches_of_one_with_the_usual_batch_size(capsys, tmp_path,
                                                                        batch_one):
    code, _, err = run_cli(capsys, "check", "--experiment", batch_one)
    assert code == 0, err
    assert NOTE in err.splitlines()
    code, _, err = run_cli(capsys, "train", batch_one, "--epochs", 1, "--out", tmp_path / "r")
    assert code == 0, err
    assert NOTE in err.splitlines()
    exp = Experiment.load(batch_one)
    exp.data.batch_size = 2  # any batch of more than one image: nothing to say
    exp.save(batch_one)
    code, _, err = run_cli(capsys, "check", "--experiment", batch_one)
    assert code == 0 and "batch size" not in err.lower(), err


def test_no_note_with_accumulation_on_a_tiny_set_or_with_batchnorm(batch_one):
    exp = Experiment.load(batch_one)
    assert one_image_cause(exp, 126, 3).action == {
        "label": "Set the batch size to 32", "set": {"data.batch_size": 32},
        "continue": False, "open": ""}
    assert one_image_cause(exp, 20, 3) is None  # 32 would leave 3 steps: one image is fine
    exp.training.accumulate = 8  # one image at a time, gradients of 8: chosen so
    assert one_image_cause(exp, 126, 3) is None
    exp.training.accumulate = 1
    exp.model.layers.insert(2, Component("BatchNorm1d"))
    assert one_image_cause(exp, 126, 3) is None  # refused by the run: its own message
