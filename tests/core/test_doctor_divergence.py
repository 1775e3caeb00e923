"""After a run diverged, `workbench train` says one rate and one way forward: the LR
finder's rate when it ran (else the doctor's own), from the last good checkpoint when an
epoch was kept (``workbench resume RUN --lr X``), from the start when none was. And
run.json keeps the seconds the run trained, an epoch cut short included."""

from __future__ import annotations

import json
import re

import pytest

from helpers import diverged_findings, train_diverged
from workbench.core.train.lr_find import LRFindResult


def _poison(monkeypatch, from_epoch: int) -> None:
    """NaN losses once ``from_epoch - 1`` epochs are done (never in the LR finder's
    sweep, which runs as a Trainer too)."""
    from workbench.core.train.callbacks.lr_finder import LRFinder
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def poisoned(self, x, target):
        logits, loss = real(self, x, target)
        sweeping = any(isinstance(h, LRFinder) for h in self.hooks)
        if self.epochs_done >= from_epoch - 1 and not sweeping:
            loss = loss * float("nan")
        return logits, loss

    monkeypatch.setattr(Trainer, "forward_loss", poisoned)


def _finder_says(monkeypatch, lr: float | None) -> None:
    def find_lr(experiment, **kwargs):
        return LRFindResult([1e-4, lr or 1e-3], [1.0, 0.5], [1.0, 0.5], lr, False,
                            "stubbed" if lr else "the loss never fell")

    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", find_lr)


def _rates(text: str) -> set[str]:
    return set(re.findall(r"--lr ([0-9][0-9.e+-]*)", text))


def _train(capsys, tmp_path, experiment):
    run_dir, out, err = train_diverged(capsys, tmp_path, experiment)
    info = json.loads((run_dir / "run.json").read_text())
    (finding,) = diverged_findings(run_dir)
    return run_dir, out, err, info, finding


def test_after_a_kept_epoch_it_continues_from_the_checkpoint_at_the_finders_rate(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    _poison(monkeypatch, 2)
    _finder_says(monkeypatch, 0.038)
    run_dir, out, err, info, finding = _train(capsys, tmp_path, tiny_experiment)
    text = out + err
    # Measured before: "lower it (e.g. to 0.001 ...) and start again", "Fix: use 0.001",
    # then "the LR finder suggests 0.038", and "workbench resume RUN --lr X" last.
    assert _rates(text) == {"0.038"}, text
    assert "start again" not in text and "--lr X" not in text
    assert "the last good checkpoint (epoch 1) is" in err
    last = [ln for ln in out.splitlines() if ln.startswith("doctor:")][-1]
    assert last.startswith("doctor: diverged at epoch 2 (error)")
    assert "continue from the last good checkpoint (epoch 1) at a learning rate of 0.038" \
        in last and f"workbench resume {run_dir} --lr 0.038" in last
    assert finding["fix"] in last and finding["action"] == {
        "label": "Continue with lr 0.038", "set": {"optimizer.params.lr": 0.038},
        "continue": True, "open": ""}
    assert info["epochs_done"] == 1


def test_in_the_first_epoch_it_starts_again_at_the_doctors_rate(capsys, tmp_path,
                                                                tiny_experiment, monkeypatch):
    _poison(monkeypatch, 1)
    _finder_says(monkeypatch, None)  # no suggestion: the doctor's own rate stands
    run_dir, out, err, info, finding = _train(capsys, tmp_path, tiny_experiment)
    text = out + err
    assert _rates(text) == {"0.001"}, text  # a tenth of the 0.01 that diverged
    assert "workbench resume" not in text and "last good checkpoint" not in text
    assert "train again from the start at a learning rate of 0.001" in finding["fix"]
    assert finding["action"]["continue"] is False
    # It trained for a while before it diverged: run.json says how long (it said 0.0).
    assert info["status"] == "diverged" and info["epochs_done"] == 0
    assert info["duration_s"] > 0


@pytest.mark.parametrize("metric, best, value, improves", [
    ("val_loss", 0.012343774, 0.012343398, False),  # measured past a OneCycleLR's end
    ("val_loss", 0.0123, 0.0120, True),
    ("val_acc", 0.9990, 0.9991, True),  # one more image right is better
])
def test_a_best_epoch_must_really_be_better(metric, best, value, improves):
    from workbench.core.train.callbacks.early_stopping import BestTracker

    tracker = BestTracker(metric, best={"metric": metric, "value": best, "epoch": 4})
    assert tracker.update({"epoch": 5, metric: value}) is improves
    assert tracker.best["epoch"] == (5 if improves else 4)
