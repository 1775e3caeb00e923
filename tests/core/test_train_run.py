"""The run façade (one outcome, classified once) and callbacks that keep their own state
in the checkpoint, restored on resuming without code of their own in the trainer."""

from __future__ import annotations


from workbench.core.runs.store import read_run_info
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training


class Counter(Callback):
    """Counts the epochs it has seen, across every segment of a run."""

    state_key = "counter"

    def __init__(self):
        self.seen = 0
        self.loaded: dict | None = None

    def on_epoch_end(self, trainer, epoch, metrics):
        self.seen += 1

    def state_dict(self):
        return {"seen": self.seen}

    def load_state_dict(self, state):
        self.loaded = dict(state)
        self.seen = int(state["seen"])


def test_a_callbacks_state_is_saved_in_the_checkpoint_and_restored_on_resume(
        tiny_experiment, tmp_path):
    run = tmp_path / "run"
    tiny_experiment.training.epochs = 2
    first = run_training(tiny_experiment, run, [Counter()])
    assert first.status == "finished" and first.run_dir == run
    ckpt = load_checkpoint(run)
    assert ckpt.callbacks["counter"] == {"seen": 2}
    # Early stopping's state travels the same way (and stays readable at the top level).
    assert ckpt.callbacks["early_stopping"]["best"] == ckpt.best

    again = Counter()
    exp = ckpt.experiment
    exp.training.epochs = 3
    outcome = run_training(exp, run, [again], checkpoint=ckpt)
    assert outcome.status == "finished" and again.loaded == {"seen": 2}
    assert again.seen == 3 and load_checkpoint(run).callbacks["counter"] == {"seen": 3}


def test_the_outcome_of_a_diverged_run_says_so_once_for_every_caller(tiny_experiment,
                                                                     tmp_path):
    class Poison(Callback):
        def on_fit_start(self, trainer, info):
            real = trainer.forward_loss

            def poisoned(x, target):
                logits, loss = real(x, target)
                return logits, loss * float("nan") if trainer.epochs_done else loss
            trainer.forward_loss = poisoned

    run = tmp_path / "run"
    tiny_experiment.training.epochs = 3
    outcome = run_training(tiny_experiment, run, [Poison()])
    assert outcome.status == "diverged" and outcome.failed
    assert "diverged" in outcome.message and "learning rate" in outcome.message
    assert outcome.epochs_done == 1 and outcome.run_dir == run
    assert outcome.bundle_path is None and not (run / "bundle.pt").exists()
    assert read_run_info(run)["status"] == "diverged"
    assert outcome.result is not None and outcome.result.status == "diverged"


def test_a_run_that_cannot_start_is_a_failed_outcome_not_an_exception(tiny_experiment,
                                                                      tmp_path):
    tiny_experiment.training.monitor = "val_acc"
    tiny_experiment.data.val_fraction = 0.0
    outcome = run_training(tiny_experiment, tmp_path / "run")
    assert outcome.status == "failed" and outcome.result is not None
    assert "training.monitor" in outcome.message and "validation" in outcome.message
    assert not (tmp_path / "run").exists()  # nothing was written
