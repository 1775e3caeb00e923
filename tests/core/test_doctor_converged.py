"""The training doctor's lr_too_low is not said of a run that has converged: a training
loss near 0 cannot fall 5% further, whatever the rate (a converged run fine-tuned at a lower
rate)."""

from __future__ import annotations

import json

from helpers import run_cli
from workbench.core.train.doctor import checks as C

CLASSES = ["blue", "green", "red"]


def _view(losses, accuracy, **kw):
    history = [{"epoch": 9 + i, "train_loss": loss, "val_loss": loss, "train_acc": acc,
                "val_acc": acc} for i, (loss, acc) in enumerate(zip(losses, accuracy))]
    return C.RunView(classes=CLASSES, history=history, chance=1 / 3, lr=1e-4,
                     default_lr=1e-3, **kw)


def test_a_converged_run_at_a_ten_times_lower_rate_is_not_lr_too_low():
    # The walker's run: loss 0.0000 and 100% before and after `resume --lr 0.0001`.
    assert C.lr_too_low(_view([4e-5, 4e-5], [1.0, 1.0], first_loss=4e-5,
                              weight_change=3e-5)) is None
    # A loss near 0 alone (no accuracy measured) is converged too.
    assert C.lr_too_low(_view([0.004, 0.004], [None, None], first_loss=0.004,
                              weight_change=3e-5)) is None
    # A run still far from fitted is what the finding is for.
    stuck = C.lr_too_low(_view([1.09, 1.09], [0.34, 0.35], first_loss=1.1,
                               weight_change=3e-5))
    assert stuck is not None and stuck.kind == "lr_too_low"


def test_resuming_a_converged_run_at_a_much_lower_rate_says_no_finding(
        capsys, tmp_path, tiny_experiment):
    exp = tiny_experiment.copy()
    exp.optimizer.params["lr"] = 0.05
    exp.training.epochs = 8
    exp.save(tmp_path / "exp.json")
    run = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", run)
    assert code == 0, err
    assert "train_loss 0.0000  train_acc 100.0%" in out, out  # converged
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 2, "--lr", 0.0001)
    assert code == 0, err
    assert "lr_too_low" not in out + err
    kinds = [f["kind"] for f in json.loads((run / "run.json").read_text()).get("findings")
             or []]
    assert "lr_too_low" not in kinds
