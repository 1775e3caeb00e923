"""After a divergence, an epoch whose training loss was many times the loss of guessing is
no "last good checkpoint", and a divergence counts as fixed only once the continued run
kept an epoch (walk-crash defect 4).

Measured before: SGD at lr 0.8 on seed-cnn, epoch 1 at a training loss of 57.7 (41 times
the 1.39 of guessing 4 classes; validation 25.4, 50%), NaN in epoch 2. The doctor said
"continue from the last good checkpoint (epoch 1) at a learning rate of 0.0059"; that
continued run exploded at batch 4 of epoch 2.
"""

from __future__ import annotations

import math

from helpers import diverged_findings, no_lr_suggestion, run_cli, train_diverged
from workbench.core.train.callbacks.doctor import ExplodingLoss

GUESS = math.log(3)  # make_image_folder's three colours


def _script(monkeypatch, state: dict) -> None:
    """``state["wrecked"]``: epoch 1's mean training loss as reported (what SGD at lr 0.8
    left, under the exploded line); ``state["nan_from"]``: training losses are NaN from
    that epoch on (0: never). Never in the LR finder's sweep, which the doctor stubs out."""
    from workbench.core.train.trainer import Trainer

    real_epoch, real_loss = Trainer._run_epoch, Trainer.forward_loss

    def run_epoch(self, epoch, train):
        out = real_epoch(self, epoch, train)
        if train and out is not None and epoch == 1 and state.get("wrecked"):
            return state["wrecked"], out[1]
        return out

    def forward_loss(self, x, target):
        logits, loss = real_loss(self, x, target)
        if state.get("nan_from") and self.model.training and \
                self.epochs_done + 1 >= state["nan_from"]:
            loss = loss * float("nan")
        return logits, loss

    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
    monkeypatch.setattr(Trainer, "forward_loss", forward_loss)
    no_lr_suggestion(monkeypatch)


def _train(capsys, tmp_path, experiment):
    run_dir, out, err = train_diverged(capsys, tmp_path, experiment)
    return run_dir, out + err


def test_an_epoch_far_above_guessing_is_not_sound_though_under_the_exploded_line():
    explosion = ExplodingLoss(4)
    wrecked = {"train_loss": 57.6898, "val_loss": 25.4069, "val_acc": 0.5}
    assert not explosion.epoch(wrecked["train_loss"])  # under the line: the run went on
    assert not explosion.sane(wrecked)
    assert explosion.unsound(wrecked) == ("its training loss was 57.7, 42 times the 1.39 of "
                                          "guessing every class equally")
    assert explosion.sane({"train_loss": 1.6, "val_loss": 1.2, "val_acc": 0.5})


def test_after_a_wrecked_epoch_the_fix_trains_again_from_the_start(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    _script(monkeypatch, {"wrecked": 45.0, "nan_from": 2})
    run_dir, text = _train(capsys, tmp_path, tiny_experiment)
    (finding,) = diverged_findings(run_dir)
    assert "Epoch 1, the last one kept, is no sound place to go on from either: its " \
           "training loss was 45, 41 times the 1.10 of guessing" in finding["message"]
    assert finding["fix"].startswith("train again from the start at a learning rate of 0.001")
    assert finding["action"]["continue"] is False
    assert "last good checkpoint" not in text and "workbench resume" not in text


def test_a_divergence_is_withdrawn_only_once_the_continued_run_keeps_an_epoch(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    state = {"nan_from": 2}
    _script(monkeypatch, state)
    run_dir, text = _train(capsys, tmp_path, tiny_experiment)
    (first,) = diverged_findings(run_dir)
    assert first["action"]["continue"] is True and "last good checkpoint (epoch 1)" in text
    assert first["action"]["label"] == "Continue with lr 0.001"
    # Continued at the fix's rate, it diverges again: the finding is not fixed.
    code, out, err = run_cli(capsys, "resume", run_dir, "--lr", "0.001")
    assert code == 3, err
    assert diverged_findings(run_dir)[0]["resolved"] == "" and "withdrawn:" not in out
    # Continued at that rate, it keeps an epoch: now it is, and says with what.
    state["nan_from"] = 0
    code, out, err = run_cli(capsys, "resume", run_dir, "--lr", "0.001", "--epochs", "2")
    assert code == 0, err
    why = diverged_findings(run_dir)[0]["resolved"]
    assert why.startswith("fixed by continuing at lr 0.001: epoch 2 trained and was kept, at "
                          "a training loss of "), why
    assert why.endswith(f"(guessing every class equally: {GUESS:.2f})")
    # And workbench resume says so, as it says every other finding withdrawn (the diverged
    # kind is held back from the progress lines until its rate is settled, and its
    # withdrawal was held back with it).
    assert any(line.startswith("doctor: diverged") and line.endswith(f"withdrawn: {why}")
               for line in out.splitlines()), out


def test_a_divergence_is_not_withdrawn_by_a_continuation_at_lr_0(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    # walk-cli2 defect 2: "fixed by continuing at lr 0", though epoch 2's losses were the
    # diverged run's own weights measured again.
    state = {"nan_from": 2}
    _script(monkeypatch, state)
    run_dir, _ = _train(capsys, tmp_path, tiny_experiment)
    state["nan_from"] = 0
    code, out, err = run_cli(capsys, "resume", run_dir, "--lr", "0", "--epochs", "1")
    assert code == 0, err
    assert diverged_findings(run_dir)[0]["resolved"] == "" and "withdrawn" not in out
