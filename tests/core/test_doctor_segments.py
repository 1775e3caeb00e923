"""A run continued with other settings (a doctor's fix: a new learning rate, class weights)
is judged by the training doctor on the epochs since the change only: underfitting used to
fire on the first resumed epoch from the flat losses of the epochs before the fix. A run
continued with its own settings is still judged on its whole history."""

from __future__ import annotations

import pytest

from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.segments import changed_settings, learning_settings

CLASSES = [str(i) for i in range(10)]


def history(train_loss, val_loss, train_acc, val_acc, first=1):
    return [{"epoch": first + i, "train_loss": t, "val_loss": v, "train_acc": ta,
             "val_acc": va} for i, (t, v, ta, va) in enumerate(zip(train_loss, val_loss,
                                                                   train_acc, val_acc))]


def view(hist, **kw):
    kw.setdefault("chance", 0.1)
    kw.setdefault("lr", 1e-3)
    kw.setdefault("default_lr", 1e-3)
    return C.RunView(classes=CLASSES, history=hist, **kw)


# Six flat, high epochs (underfitting at epoch 6), then the fix: lr x3 from epoch 7.
FLAT = history([1.9, 1.6, 1.55, 1.54, 1.53, 1.53], [1.9, 1.7, 1.65, 1.64, 1.64, 1.63],
               [0.3, 0.4, 0.42, 0.43, 0.43, 0.43], [0.3, 0.38, 0.4, 0.4, 0.41, 0.41])


def test_underfitting_judges_only_the_epochs_since_the_settings_changed():
    one_more = FLAT + history([1.52], [1.62], [0.43], [0.41], first=7)
    assert C.underfitting(view(one_more)) is not None  # one segment: the whole history
    # Resumed after epoch 6 with another rate: one epoch at it says nothing yet.
    assert C.underfitting(view(one_more, since=6)) is None
    # Four flat epochs at the new rate: underfitting again, from those epochs alone.
    still = FLAT + history([1.52, 1.52, 1.51, 1.51], [1.62] * 4, [0.43] * 4, [0.41] * 4,
                           first=7)
    f = C.underfitting(view(still, since=6))
    assert f is not None and f.epoch == 10 and "1.510" in f.message
    # Improving since the change: not underfitting, whatever came before.
    better = FLAT + history([1.3, 1.0, 0.8, 0.6], [1.3, 1.1, 0.9, 0.7], [0.5, 0.6, 0.7, 0.8],
                            [0.5, 0.6, 0.65, 0.7], first=7)
    assert C.underfitting(view(better, since=6)) is None


def test_the_other_trend_checks_respect_the_change_too():
    stuck = history([2.3] * 5, [2.3] * 5, [0.1] * 5, [0.1] * 5)
    resumed = stuck + history([2.1], [2.1], [0.12], [0.11], first=6)
    assert C.not_learning(view(resumed)) is not None
    assert C.not_learning(view(resumed, since=5)) is None  # one epoch at the new rate
    later = resumed + history([2.3, 2.3], [2.3, 2.3], [0.1, 0.1], [0.1, 0.1], first=7)
    f = C.not_learning(view(later, since=5))
    assert f is not None and f.message.startswith("After 3 epochs with the changed settings")
    # Overfitting: the best validation loss before the change does not make the first
    # epochs after it "rising".
    train = [2.0, 1.5, 1.0, 0.7, 0.5, 0.3, 0.2]
    val = [2.0, 1.6, 1.4, 1.5, 1.6, 1.7, 1.8]
    over = history(train, val, [None] * 7, [None] * 7)
    assert C.overfitting(view(over)) is not None
    assert C.overfitting(view(over, since=4)) is None
    # Too low a rate: measured from where the loss was when the settings changed.
    slow = history([2.31, 1.2, 1.19, 1.19], [2.3, 1.2, 1.2, 1.2], [0.1, 0.5, 0.5, 0.5],
                   [0.1, 0.5, 0.5, 0.5])
    assert C.lr_too_low(view(slow, first_loss=2.31, weight_change=1e-4)) is None
    f = C.lr_too_low(view(slow, since=2, first_loss=2.31, weight_change=1e-4, lr=1e-6))
    assert f is not None and "against 1.200 before the change" in f.message
    assert C.lr_too_low(view(slow[:3], since=2, first_loss=2.31, weight_change=1e-4)) is None


def test_what_counts_as_a_change_of_settings(tiny_experiment):
    base = learning_settings(tiny_experiment)
    more = tiny_experiment.copy()
    more.training.epochs, more.training.device, more.name = 9, "cpu", "renamed"
    assert changed_settings(base, learning_settings(more)) == []
    fixed = tiny_experiment.copy()
    fixed.optimizer.params["lr"] = 0.03
    fixed.data.balance = "weighted_loss"
    assert changed_settings(base, learning_settings(fixed)) == ["data.balance",
                                                                "optimizer.params.lr"]
    # The defaults filled in or not: the same settings.
    bare = tiny_experiment.copy()
    bare.optimizer.params = {"lr": tiny_experiment.optimizer.params["lr"]}
    assert changed_settings(base, learning_settings(bare)) == []


@pytest.fixture
def always(monkeypatch):
    """Every epoch, a check that always finds underfitting (and notes what it was shown)."""
    from workbench.core.train.callbacks import doctor
    from workbench.core.train.doctor.findings import RunFinding

    shown = []

    def underfitting(v):
        shown.append((v.epoch, v.since, [m["epoch"] for m in v.recent]))
        return RunFinding("underfitting", v.epoch, "warning", f"flat at epoch {v.epoch}")

    monkeypatch.setattr(doctor, "CHECKS", (underfitting,))
    return shown


def test_a_resume_with_other_settings_starts_a_new_segment(tiny_experiment, tmp_path, always):
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.checkpoint import load_checkpoint
    from workbench.core.train.trainer import Trainer

    run = tmp_path / "run"
    first = Trainer(tiny_experiment, [RunRecorder(run)]).fit()
    assert [f["epoch"] for f in first.findings] == [1]  # once: asked again at epoch 2
    same = tiny_experiment.copy()
    same.training.epochs = 3
    t = Trainer(same, [RunRecorder(run)], checkpoint=load_checkpoint(run))
    assert [f["epoch"] for f in t.fit().findings] == [1]  # its own settings: one segment
    assert t.doctor.since == 0
    changed = same.copy()
    changed.training.epochs = 4
    changed.optimizer.params["lr"] = 0.003
    always.clear()
    t = Trainer(changed, [RunRecorder(run)], checkpoint=load_checkpoint(run))
    result = t.fit()
    assert t.doctor.since == 3
    assert always == [(4, 3, [4])]  # only the epoch at the new rate is judged
    assert [f["epoch"] for f in result.findings] == [1, 4]  # said again at the new rate
    # Continued once more with those settings: still the segment from epoch 4.
    more = changed.copy()
    more.training.epochs = 5
    t = Trainer(more, [RunRecorder(run)], checkpoint=load_checkpoint(run))
    assert [f["epoch"] for f in t.fit().findings] == [1, 4] and t.doctor.since == 3
