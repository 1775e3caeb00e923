"""The saved model is the reported model: a stopped, early-stopped or finished run's bundle
holds exactly the weights whose metrics the run reports (the last finished epoch, or the
best one when restored), run.json says which, and evaluating the bundle on the validation
split gives the reported numbers."""

from __future__ import annotations

import json
import os
import random
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.cli import main
from workbench.core.bundle import load_bundle
from workbench.core.evaluate.evaluation import evaluate
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.runs.recorder import RunRecorder
from workbench.core.train.trainer import Callback, Trainer


def noisy_folder(root: Path, per_class: int = 16, size: int = 8) -> str:
    """Three classes that overlap (noisy colours), so accuracy and loss move with every
    step: weights from a partial epoch would show in the numbers."""
    from PIL import Image

    rng = random.Random(1)
    np_rng = np.random.default_rng(1)
    bases = {"a": (150, 100, 100), "b": (100, 150, 100), "c": (100, 100, 150)}
    for name, base in bases.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shift = np.array([rng.randint(-60, 60) for _ in range(3)])
            pixels = np.clip(np.array(base) + shift + np_rng.normal(0, 40, (size, size, 3)),
                             0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return str(root)


@pytest.fixture
def exp(tmp_path) -> Experiment:
    e = Experiment(name="noisy")
    e.data.folder = noisy_folder(tmp_path / "data")
    e.data.input_size = [8, 8]
    e.data.batch_size = 6
    e.data.val_fraction = 0.25
    # BatchNorm: its running statistics (and num_batches_tracked) move in a partial epoch
    # even where the weights' change is small; dropout draws random numbers.
    e.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 24}),
                      Component("BatchNorm1d"), Component("ReLU"),
                      Component("Dropout", {"p": 0.2}), Component("Linear")]
    e.optimizer = Component("SGD", {"lr": 0.05, "momentum": 0.9})
    e.augment.transforms = []
    e.training.epochs = 4
    e.training.device = "cpu"
    return e


class StopAt(Callback):
    """Request a stop after ``batch`` of ``epoch`` (as the Stop button or Ctrl-C would)."""

    def __init__(self, epoch: int, batch: int):
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
        if (epoch, batch) == (self.epoch, self.batch):
            trainer.request_stop()


def assert_same_weights(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def stop_early_on(exp, monkeypatch, scores) -> None:
    """Early stopping on val_acc (patience 2, restore_best), the epochs scoring ``scores``
    in turn on validation (their losses real)."""
    exp.training.early_stopping, exp.training.patience = True, 2
    exp.training.monitor = "val_acc"
    exp.training.restore_best = True
    scores = iter(scores)
    real = Trainer._run_epoch

    def scripted(self, epoch, train):
        out = real(self, epoch, train)
        return out if train or out is None else (out[0], next(scores))

    monkeypatch.setattr(Trainer, "_run_epoch", scripted)


def assert_bundle_scores_as_reported(run_dir: Path, epoch: int) -> None:
    """bundle.pt evaluated on the validation split gives epoch ``epoch``'s reported
    validation accuracy and loss, and run.json and the bundle say it is that epoch."""
    history = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    reported = next(m for m in history if m["epoch"] == epoch)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["bundle"]["epoch"] == epoch
    assert info["bundle"]["metrics"] == reported
    bundle = load_bundle(run_dir / "bundle.pt")
    assert bundle.epoch == epoch and bundle.val_acc == reported["val_acc"]
    result = evaluate(bundle)
    assert result.split == "val"
    assert result.accuracy == pytest.approx(reported["val_acc"], abs=1e-9)
    assert float(result.losses.mean()) == pytest.approx(reported["val_loss"], rel=1e-4)


def test_a_stop_mid_epoch_keeps_the_last_finished_epochs_weights(exp, tmp_path):
    run_dir = tmp_path / "run"
    result = Trainer(exp, [RunRecorder(run_dir), StopAt(epoch=3, batch=2)]).fit()
    assert result.status == "stopped" and len(result.history) == 2
    assert result.weights_epoch == 2
    # Exactly last.pt's weights (the end of epoch 2), BatchNorm counters included: not the
    # two batches of epoch 3 trained after it.
    last = load_checkpoint(run_dir)
    assert last.epoch == 2
    assert_same_weights(load_bundle(run_dir / "bundle.pt").state_dict, last.model)
    assert_bundle_scores_as_reported(run_dir, epoch=2)


def test_a_stop_in_the_first_epoch_of_a_resumed_segment_keeps_the_checkpoint(exp, tmp_path):
    run_dir = tmp_path / "run"
    Trainer(exp, [RunRecorder(run_dir), StopAt(epoch=2, batch=1)]).fit()
    before = load_checkpoint(run_dir)
    assert before.epoch == 1
    # Continue, and stop again before another epoch finishes: still epoch 1's weights.
    result = Trainer(before.experiment, [RunRecorder(run_dir), StopAt(epoch=2, batch=3)],
                     checkpoint=before).fit()
    assert result.status == "stopped" and result.weights_epoch == 1
    assert_same_weights(load_bundle(run_dir / "bundle.pt").state_dict, before.model)
    assert_bundle_scores_as_reported(run_dir, epoch=1)


def test_a_finished_run_keeps_its_last_epoch_and_says_so(exp, tmp_path):
    run_dir = tmp_path / "run"
    exp.training.epochs = 2
    result = Trainer(exp, [RunRecorder(run_dir)]).fit()
    assert result.status == "finished" and result.weights_epoch == 2
    assert json.loads((run_dir / "run.json").read_text())["bundle"]["restored_best"] is False
    assert_bundle_scores_as_reported(run_dir, epoch=2)


def test_early_stopping_with_restore_best_keeps_the_best_epoch_and_says_so(exp, tmp_path,
                                                                           monkeypatch):
    run_dir = tmp_path / "run"
    exp.training.epochs = 8
    # Epoch 2 is the best by val_acc, then it gets worse: stop after epoch 4, restore 2.
    stop_early_on(exp, monkeypatch, [0.5, 0.9, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8])
    result = Trainer(exp, [RunRecorder(run_dir)]).fit()
    assert result.status == "early_stopped" and result.restored_best
    assert result.weights_epoch == 2 and len(result.history) == 4
    info = json.loads((run_dir / "run.json").read_text())
    assert info["bundle"]["epoch"] == 2 and info["bundle"]["restored_best"] is True
    assert info["bundle"]["metrics"]["val_acc"] == 0.9
    assert_same_weights(load_bundle(run_dir / "bundle.pt").state_dict,
                        load_checkpoint(run_dir / "checkpoints" / "best.pt").model)


def test_patience_run_out_at_the_planned_end_or_after_a_continue_keeps_the_best_epoch(
        exp, tmp_path, monkeypatch):
    """The auditor's first finding: the same four epochs kept epoch 2 with 8 planned (early
    stopped) but epoch 4 with 4 planned (patience ran out on the last epoch); and a
    Continue whose epochs did not improve replaced the best epoch's bundle with its last."""
    from workbench.core.train.run import run_training

    run_dir = tmp_path / "run"
    exp.training.epochs = 4
    stop_early_on(exp, monkeypatch, [0.5, 0.9, 0.6, 0.7, 0.6, 0.7])
    result = Trainer(exp, [RunRecorder(run_dir)]).fit()
    assert result.status == "early_stopped" and result.restored_best
    assert result.weights_epoch == 2 and len(result.history) == 4
    assert json.loads((run_dir / "run.json").read_text())["bundle"]["epoch"] == 2

    # Continued for 2 more epochs that do not improve: the best epoch is still the earlier
    # segment's epoch 2, read back from best.pt.
    ckpt = load_checkpoint(run_dir)
    ckpt.experiment.training.epochs = 6
    outcome = run_training(ckpt.experiment, run_dir, checkpoint=ckpt)
    assert outcome.status == "early_stopped", outcome.error
    info = json.loads((run_dir / "run.json").read_text())
    assert info["epochs_done"] == 6
    assert info["bundle"]["epoch"] == 2 and info["bundle"]["restored_best"] is True
    assert_same_weights(load_bundle(run_dir / "bundle.pt").state_dict,
                        load_checkpoint(run_dir / "checkpoints" / "best.pt").model)


def test_ctrl_c_in_workbench_train_keeps_the_reported_epoch(exp, tmp_path, monkeypatch,
                                                            capsys):
    exp_file = tmp_path / "exp.json"
    exp.save(exp_file)
    real = Trainer.optimizer_step
    steps = []

    def interrupted(self, loss, step=True, scale=1.0):
        real(self, loss, step, scale)
        steps.append(self.epochs_done)
        if self.epochs_done == 2 and steps.count(2) == 2:  # 2 batches into epoch 3
            os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, through the handler

    monkeypatch.setattr(Trainer, "optimizer_step", interrupted)
    run_dir = tmp_path / "run"
    code = main(["train", str(exp_file), "--out", str(run_dir)])
    out, err = capsys.readouterr()
    assert code == 130, err
    assert "epoch 3/4" not in out  # the unfinished epoch was not reported
    assert "the bundle holds epoch 2's weights" in out
    reported = json.loads((run_dir / "metrics.json").read_text())["epochs"][-1]
    assert f"val_acc {100 * reported['val_acc']:.1f}%" in out  # as the epoch lines print it
    assert_same_weights(load_bundle(run_dir / "bundle.pt").state_dict,
                        load_checkpoint(run_dir).model)
    assert_bundle_scores_as_reported(run_dir, epoch=2)


def test_a_continue_of_a_run_stopped_right_after_its_best_epoch_keeps_that_epoch(
        exp, tmp_path, monkeypatch):
    """Stopped (Stop, Ctrl-C, a kill) right after a new best epoch, then continued until
    early stopping ends it: the bundle holds the best epoch's weights (the checkpoint's
    own), not the last epoch's written over the better bundle."""
    from tests.helpers import stop_after
    from workbench.core.train.run import run_training

    run_dir = tmp_path / "run"
    exp.training.epochs = 8
    stop_early_on(exp, monkeypatch, [0.5, 0.9, 0.6, 0.7, 0.6, 0.7])
    result = Trainer(exp, [RunRecorder(run_dir), stop_after(2)]).fit()
    assert result.status == "stopped" and result.weights_epoch == 2
    ckpt = load_checkpoint(run_dir)
    assert ckpt.epoch == 2 and ckpt.best["epoch"] == 2

    outcome = run_training(ckpt.experiment, run_dir, checkpoint=ckpt)
    assert outcome.status == "early_stopped", outcome.error
    info = json.loads((run_dir / "run.json").read_text())
    assert info["epochs_done"] == 4
    assert info["bundle"]["epoch"] == 2 and info["bundle"]["restored_best"] is True
    assert_same_weights(load_bundle(run_dir / "bundle.pt").state_dict, ckpt.model)
