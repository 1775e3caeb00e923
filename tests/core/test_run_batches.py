"""A run keeps its batches' losses coarsely in metrics.json ("batches"), so that a continued
or reopened run can plot its loss per batch from epoch 1, not from the continuation on."""

from __future__ import annotations

import json

import pytest

from workbench.core.runs.batches import (POINTS_PER_EPOCH, BatchLosses, EpochNorms,
                                         batch_steps, binned, read_batches, read_norms)
from workbench.core.runs.recorder import RunRecorder
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.trainer import Trainer


def test_binning_keeps_short_epochs_whole_and_averages_long_ones():
    assert binned([1.0, 2.0, 3.0], 5) == [1.0, 2.0, 3.0]
    values = [float(i) for i in range(100)]
    out = binned(values, 10)
    assert len(out) == 10 and out[0] == pytest.approx(4.5) and out[-1] == pytest.approx(94.5)
    assert sum(out) / len(out) == pytest.approx(sum(values) / len(values))


def test_points_sit_inside_their_epoch_on_the_global_step_axis():
    entry = {"epoch": 3, "num_batches": 313, "loss": [0.0] * POINTS_PER_EPOCH}
    steps = batch_steps(entry, 313)
    assert steps == sorted(set(steps)) and 2 * 313 < steps[0] and steps[-1] <= 3 * 313
    short = {"epoch": 1, "num_batches": 4, "loss": [1.0, 2.0, 3.0, 4.0]}
    assert batch_steps(short, 4) == [1, 2, 3, 4]


def test_a_resumed_epoch_replaces_the_later_ones():
    losses = BatchLosses([{"epoch": e, "num_batches": 2, "loss": [1.0, 1.0]}
                          for e in (1, 2, 3)])
    losses.keep_until(1)  # resumed from epoch 1's checkpoint
    losses.add(float("nan"), 2)  # a non-finite loss is not kept
    losses.add(0.5, 2)
    losses.end_epoch(2)
    assert [e["epoch"] for e in losses.epochs] == [1, 2]
    assert losses.epochs[1] == {"epoch": 2, "num_batches": 2, "loss": [0.5]}


def test_the_recorder_writes_them_and_a_continued_run_keeps_the_earlier_ones(
        tmp_path, tiny_experiment):
    run = tmp_path / "run"
    tiny_experiment.training.epochs = 2
    Trainer(tiny_experiment, [RunRecorder(run)]).fit()
    first = read_batches(run)
    history = json.loads((run / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in first] == [1, 2]
    n = first[0]["num_batches"]
    assert n > 0 and len(first[0]["loss"]) == min(n, POINTS_PER_EPOCH)
    # The points' mean is the epoch's training loss (to the weights of a short last batch).
    assert sum(first[0]["loss"]) / len(first[0]["loss"]) == \
        pytest.approx(history[0]["train_loss"], rel=0.2)
    # Continued tomorrow: epochs 1-2 are still there, epoch 3 is added.
    tiny_experiment.training.epochs = 3
    Trainer(tiny_experiment, [RunRecorder(run)], checkpoint=load_checkpoint(run)).fit()
    again = read_batches(run)
    assert [e["epoch"] for e in again] == [1, 2, 3] and again[:2] == first
    # The layer-norm samples too (four an epoch when nobody asks for more), likewise.
    norms = read_norms(run)
    assert [e["epoch"] for e in norms] == [1, 2, 3]
    assert norms[0]["names"] == ["2 Linear", "4 Linear"]
    step, grads, weights = norms[0]["samples"][0]
    assert step >= 1 and len(grads) == len(weights) == 2 and all(w > 0 for w in weights)


def test_norms_written_with_a_non_finite_value_read_back_as_nan(tmp_path):
    norms = EpochNorms()
    norms.add(3, ["2 Linear"], [float("nan")], [1.5])
    norms.end_epoch(1)
    (tmp_path / "metrics.json").write_text(json.dumps({"epochs": [], "norms": norms.epochs},
                                                      allow_nan=False))
    [entry] = read_norms(tmp_path)
    [[step, grads, weights]] = entry["samples"]
    assert step == 3 and grads[0] != grads[0] and weights == [1.5]


def test_a_run_from_before_or_a_damaged_entry_reads_as_none(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"epochs": [], "batches": [
        {"epoch": 1, "num_batches": 2, "loss": [1.0, 2.0, 3.0]},  # more points than batches
        {"epoch": "2", "num_batches": 2, "loss": [1.0]}, "junk",
        {"epoch": 3, "num_batches": 2, "loss": [1.0, True]},
        {"epoch": 4, "num_batches": 2, "loss": [0.5]}]}))
    assert read_batches(tmp_path) == [{"epoch": 4, "num_batches": 2, "loss": [0.5]}]
    (tmp_path / "metrics.json").write_text(json.dumps({"epochs": []}))
    assert read_batches(tmp_path) == []
    assert read_batches(tmp_path / "missing") == []
