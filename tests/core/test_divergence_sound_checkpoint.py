"""After a divergence the doctor offers to go on only from a sound checkpoint, and never
sends the learner down a ladder of ever smaller rates.

Measured before: SGD at lr 5 on seed-cnn kept epoch 1 (training loss 1.90, validation loss
1.27e7) as "the last good checkpoint"; continuing from it at 0.018 diverged at once, and
the doctor then called 0.018 "far too large" and offered 0.0018, then 0.00018, while a fresh
start at 0.018 or 0.01 reached 100%. The rate it proposed after the divergence (0.01 in the
app, the LR finder's 0.018 on the command line) was said without saying whose it was, and
the advice before the run that the rate would very likely diverge was only a ``note:``.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from helpers import diverged_findings, make_image_folder, no_lr_suggestion, run_cli
from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component


def _experiment(tmp_path, preset: str = "seed-cnn", **optimizer) -> Experiment:
    exp = Experiment(name="colours")
    exp.data.folder = make_image_folder(tmp_path / "colours", per_class=20, size=32)
    exp.data.input_size = [32, 32]
    exp.data.batch_size = 32
    exp.model.layers, exp.model.preset = preset_layers(preset), preset
    exp.augment.transforms = []
    exp.optimizer = Component(optimizer.pop("type", "SGD"), optimizer or {"lr": 5.0})
    exp.training.epochs = 3
    exp.training.device = "cpu"
    return exp.validate()


def _diverged(run_dir) -> dict:
    return diverged_findings(run_dir)[-1]


def test_sgd_at_lr_5_keeps_no_wrecked_epoch_and_the_fix_trains_again_from_the_start(
        capsys, tmp_path, monkeypatch):
    no_lr_suggestion(monkeypatch)
    exp = _experiment(tmp_path)
    exp.save(tmp_path / "exp.json")
    run_dir = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", run_dir)
    assert code == 3, err
    # Said before the run as a warning (the Model doctor's milder advice is one too), with
    # the rate the doctor proposes after it.
    assert "warning: lr 5 is very high for SGD" in err and "Lower lr to about 0.01" in err
    assert "note: lr 5" not in err
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "diverged" and info["epochs_done"] == 0, info
    finding = _diverged(run_dir)
    assert "validation loss exploded" in finding["message"] and finding["epoch"] == 1
    assert finding["fix"].startswith("train again from the start at a learning rate of 0.01, "
                                     "SGD's usual rate (--lr 0.01)")
    assert finding["action"]["continue"] is False
    assert finding["action"]["set"] == {"optimizer.params.lr": 0.01}
    assert "last good checkpoint" not in out + err and "workbench resume" not in out + err
    # And that rate, from the start, trains.
    exp.optimizer.params["lr"] = 0.01
    exp.save(tmp_path / "again.json")
    code, out, err = run_cli(capsys, "train", tmp_path / "again.json", "--out",
                             tmp_path / "again")
    assert code == 0, err
    assert json.loads((tmp_path / "again" / "run.json").read_text())["status"] == "finished"


def _wreck(monkeypatch, *, train_from: int, eval_factor: float = 1.0) -> None:
    """From ``train_from`` epochs done on, the training loss is NaN; validation losses are
    ``eval_factor`` times their value (a BatchNorm network's running statistics)."""
    from workbench.core.train.callbacks.lr_finder import LRFinder
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def wrecked(self, x, target):
        logits, loss = real(self, x, target)
        if any(isinstance(h, LRFinder) for h in self.hooks):
            return logits, loss
        if self.model.training and self.epochs_done >= train_from:
            return logits, loss * float("nan")
        return logits, (loss if self.model.training else loss * eval_factor)

    monkeypatch.setattr(Trainer, "forward_loss", wrecked)


def test_a_resume_that_diverges_at_once_blames_the_checkpoint_not_the_sound_rate(
        capsys, tmp_path, monkeypatch):
    exp = _experiment(tmp_path, type="Adam", lr=1e-3)
    exp.training.epochs = 1
    exp.save(tmp_path / "exp.json")
    run_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", run_dir)
    assert code == 0, err
    _wreck(monkeypatch, train_from=1)  # the checkpoint's weights fail whatever the rate
    code, out, err = run_cli(capsys, "resume", run_dir, "--epochs", "1", "--lr", "1e-4")
    assert code == 3, err
    text = out + err
    # Measured before: "The learning rate (0.0001) is the usual cause: lower it", and
    # "continue from the last good checkpoint (epoch 1) at a learning rate of 1e-5".
    assert "usual cause" not in text and "far too large" not in text
    assert "the checkpoint's weights themselves are likely damaged" in text
    assert "lower than the 0.001 that trained those weights" in text
    assert "last good checkpoint" not in text and "1e-5" not in text
    finding = _diverged(run_dir)
    assert finding["epoch"] == 2
    assert finding["fix"].startswith("train again from the start at a learning rate of "
                                     "0.0001, the rate this run used (--lr 0.0001)")
    assert finding["action"] == {"label": "Train with lr 0.0001", "continue": False,
                                 "set": {"optimizer.params.lr": 0.0001}, "open": ""}
    # Above the rate that trained the checkpoint, the rate is what the evidence is against.
    code, out, err = run_cli(capsys, "resume", run_dir, "--epochs", "1", "--lr", "0.01")
    assert code == 3, err
    assert "The learning rate (0.01) is the usual cause" in err and "damaged" not in err
    finding = _diverged(run_dir)
    assert finding["action"]["continue"] is True
    assert "continue from the last good checkpoint (epoch 1)" in finding["fix"]


def test_a_batchnorm_epoch_whose_validation_loss_exploded_is_no_checkpoint_to_go_on_from(
        tmp_path, monkeypatch):
    from workbench.core.train.run import run_training

    # BatchNorm's running statistics may let a validation loss far above guessing through
    # (the run goes on), but when the run then diverges, that epoch is not a "good" one.
    _wreck(monkeypatch, train_from=1, eval_factor=1e4)
    exp = _experiment(tmp_path, preset="cnn-bn", type="Adam", lr=1e-3)
    outcome = run_training(exp, tmp_path / "run")
    assert outcome.status == "diverged" and outcome.epochs_done == 1
    (finding,) = [f for f in outcome.result.findings if f["kind"] == "diverged"]
    assert "Epoch 1, the last one kept, is no sound place to go on from" in finding["message"]
    assert finding["fix"].startswith("train again from the start at a learning rate of")
    assert finding["action"]["continue"] is False


def test_the_finders_rate_keeps_the_doctors_way_forward(monkeypatch):
    from workbench.core.train.doctor import suggest
    from workbench.core.train.doctor.fixes import diverged_fix
    from workbench.core.train.lr_find import LRFindResult

    fix, act = diverged_fix(0.01, 0, None, "SGD's usual rate")
    findings = [{"kind": "diverged", "epoch": 2, "severity": "error", "message": "m",
                 "fix": fix, "action": act}]  # epoch 1 kept, but not a sound one
    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", lambda experiment, **kw:
                        LRFindResult([1e-4, 0.02], [1, .5], [1, .5], 0.018, False, ""))
    lr, _ = suggest.lr_after_divergence(Experiment(), findings)
    assert lr == 0.018
    # Measured before: "continue from the last good checkpoint (epoch 1) at ... 0.018".
    assert findings[0]["fix"].startswith("train again from the start at a learning rate of "
                                         "0.018, the LR finder's rate")
    assert findings[0]["action"]["continue"] is False


def test_after_a_divergence_the_doctor_proposes_the_rate_the_advice_before_it_did():
    from workbench.core.train.doctor.fixes import lower_lr
    from workbench.core.train.optim import optimizer_lr
    from workbench.core.train.optim_advice import optimizer_advice

    # Measured before: Adagrad at 0.07 was told "Lower lr to about 0.01" before the run and
    # "use 0.007" after it.
    for optimizer, lr in [("SGD", 5.0), ("Adagrad", 0.07), ("Adam", 10.0), ("RMSprop", 0.5)]:
        view = SimpleNamespace(optimizer=optimizer, lr=lr,
                               default_lr=optimizer_lr(Component(optimizer, {})))
        advice = optimizer_advice(Component(optimizer, {"lr": lr}))
        assert advice is not None and "very likely diverge" in advice.message
        assert lower_lr(view) == pytest.approx(advice.suggested), optimizer
