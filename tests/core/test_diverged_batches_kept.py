"""A run that diverged mid-epoch keeps that epoch's batches in metrics.json, the exploded
batch the message names the last, as the live loss-per-batch plot showed them: after a
restart the Train tab plots the divergence too ("exploded to 2e+09 at batch 3 of epoch 2"
was the last point live, while metrics.json held epoch 1's batches only, or, diverged in
epoch 1, no metrics.json at all)."""

from __future__ import annotations

import json
import re

import pytest

from workbench.core.registry import Component
from workbench.core.runs.batches import POINTS_PER_EPOCH, BatchLosses, batch_steps, read_batches
from workbench.core.runs.record import keep_epochs, read_history
from workbench.core.runs.recorder import RunRecorder
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training
from workbench.core.train.trainer import Trainer


class _Plot(Callback):
    """What the Train tab's loss-per-batch plot hears: (global step, loss) per batch."""

    def __init__(self):
        self.points, self.per_epoch = [], 0

    def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
        self.points.append(((epoch - 1) * num_batches + batch, loss))
        self.per_epoch = num_batches


def _explode_from(monkeypatch, epochs_done: int) -> None:
    """Training losses a billion times too large once ``epochs_done`` epochs are kept."""
    real = Trainer.forward_loss

    def exploding(self, x, target):
        logits, loss = real(self, x, target)
        return logits, (loss * 1e9 if self.model.training and
                        self.epochs_done >= epochs_done else loss)

    monkeypatch.setattr(Trainer, "forward_loss", exploding)


@pytest.mark.parametrize("epochs_done", [0, 1])
def test_the_diverged_epochs_batches_are_saved_as_plotted(tmp_path, tiny_experiment,
                                                          monkeypatch, epochs_done):
    tiny_experiment.data.batch_size = 4  # 21 training images: 6 batches, cut at batch 3
    _explode_from(monkeypatch, epochs_done)
    plot, run = _Plot(), tmp_path / "run"
    outcome = run_training(tiny_experiment, run, [plot])
    assert outcome.status == "diverged"
    batch, epoch = map(int, re.search(r"at batch (\d+) of epoch (\d+)",
                                      outcome.message).groups())
    assert (batch, epoch) == (3, epochs_done + 1) and plot.per_epoch == 6
    # As a restart reads it (only the epochs run.json counts, and the one cut short).
    assert len(read_history(run)) == epochs_done
    saved = read_batches(run)
    assert [e["epoch"] for e in saved] == list(range(1, epochs_done + 2))
    points = [(s, v) for e in saved for s, v in zip(batch_steps(e, 0), e["loss"])]
    assert [s for s, _ in points] == [s for s, _ in plot.points]
    assert [v for _, v in points] == pytest.approx([v for _, v in plot.points], abs=1e-6)
    assert points[-1][0] == (epoch - 1) * 6 + batch  # the batch the message names, last
    if epochs_done:  # continued at a sane rate: its epoch 2 replaces the cut one
        monkeypatch.undo()
        tiny_experiment.optimizer = Component("Adam", {"lr": 1e-3})
        Trainer(tiny_experiment, [RunRecorder(run)], checkpoint=load_checkpoint(run)).fit()
        again = read_batches(run)
        assert [e["epoch"] for e in again] == [1, 2] and not any("cut" in e for e in again)
        assert len(again[1]["loss"]) == 6
        assert json.loads((run / "run.json").read_text())["epochs_done"] == 2


def test_a_long_cut_epoch_keeps_its_last_batch_a_point_of_its_own():
    losses = BatchLosses()
    for i in range(1, 201):  # batch 200 of 500 exploded
        losses.add(6.02e8 if i == 200 else 1.0, 500, i)
    losses.end_epoch(3, cut=True)
    [entry] = losses.epochs
    assert entry["cut"] and entry["last_batch"] == 200
    assert len(entry["loss"]) == POINTS_PER_EPOCH and entry["loss"][-1] == 6.02e8
    assert set(entry["loss"][:-1]) == {1.0}
    steps = batch_steps(entry, 500)
    assert steps == sorted(set(steps)) and steps[0] > 1000 and steps[-1] == 1200


def test_only_a_cut_epoch_past_the_checkpoint_is_read():
    # A process killed between metrics.json and run.json left epoch 3 (not cut): dropped.
    metrics = {"epochs": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}],
               "batches": [{"epoch": 2, "num_batches": 4, "loss": [1.0]},
                           {"epoch": 3, "num_batches": 4, "loss": [1.0]}]}
    assert [e["epoch"] for e in keep_epochs(metrics, 2)["batches"]] == [2]
    metrics["batches"][1].update(cut=True, last_batch=2)
    assert [e["epoch"] for e in keep_epochs(metrics, 2)["batches"]] == [2, 3]
    assert [e["epoch"] for e in keep_epochs(metrics, 1)["batches"]] == []
    assert [e["epoch"] for e in keep_epochs(metrics, 2)["epochs"]] == [1, 2]
