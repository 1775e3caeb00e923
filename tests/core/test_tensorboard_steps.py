"""TensorBoard's step axis when a continued run has another number of batches an epoch
(another batch size, or another process count under torchrun)."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training


def _scalars(run_dir, tag) -> list[tuple[int, float]]:
    ea = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    ea.Reload()
    return [(e.step, e.value) for e in ea.Scalars(tag)]


@pytest.mark.parametrize("batch_size", [2, 32])  # more batches an epoch, then fewer
def test_a_run_continued_with_another_batch_count_keeps_every_epoch_in_order(
        tmp_path, tiny_experiment, batch_size):
    run = tmp_path / "run"
    tiny_experiment.training.epochs = 2
    assert run_training(tiny_experiment, run, norm_interval=1).status == "finished"
    before = _scalars(run, "epoch")
    ckpt = load_checkpoint(run)
    exp = ckpt.experiment.copy()
    exp.training.epochs = 3
    exp.data.batch_size = batch_size
    assert run_training(exp, run, checkpoint=ckpt, norm_interval=1).status == "finished"
    epochs = _scalars(run, "epoch")
    assert [v for _, v in epochs] == [1.0, 2.0, 3.0]  # none purged
    assert epochs[:2] == before  # the earlier epochs where they were
    batches = json.loads((run / "metrics.json").read_text())["batches"]
    counts = [e["num_batches"] for e in batches]
    assert counts[0] == counts[1] != counts[2]
    # Every batch once, numbered on without a gap: epoch 3 follows epoch 2's last batch.
    steps = [s for s, _ in _scalars(run, "loss/train_batch")]
    assert steps == list(range(1, sum(counts) + 1))
    assert epochs[2][0] == sum(counts)
    # The norms are at the optimizer step metrics.json gives, one step a batch here (no
    # accumulation), so they fall on that axis too: each within its own epoch's batches.
    norms = json.loads((run / "metrics.json").read_text())["norms"]
    name = norms[0]["names"][0]
    norm_steps = [s for s, _ in _scalars(run, f"grad_norm/{name}")]
    assert norm_steps == [sample[0] for e in norms for sample in e["samples"]]
    assert {e["epoch"] for e in norms} == {1, 2, 3}
    for e in norms:
        first, last = sum(counts[:e["epoch"] - 1]), sum(counts[:e["epoch"]])
        assert all(first < sample[0] <= last for sample in e["samples"]), e["epoch"]
