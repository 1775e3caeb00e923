"""What the training doctor tells a learner (the learner-tester's findings): a divergence
caused by the network names the network, not the rate; no rate outside the optimizer's
bounds is ever proposed; the overfitting finding says truthfully what the saved model
holds; a run that trained no batch says so; settings and layers in the app's words; a
label-changing augmentation and a tiny validation split are named."""

from __future__ import annotations

import types

import pytest

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.callbacks.base import FitResult
from workbench.core.train.callbacks.doctor import ExplodingLoss, TrainingDoctor
from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor import suggest
from workbench.core.train.doctor.causes import Cause, batch_fix, label_cause
from workbench.core.train.doctor.classes import class_imbalance
from workbench.core.train.doctor.fixes import lower_lr, raised_lr
from workbench.core.train.doctor.findings import action

CONSTANT = Cause("constant-init", "layer 1 (Conv2d) starts from constant initialisation "
                 "(every weight the same), so the units of a layer learn as one",
                 "use a random initialisation for layer 1 (Conv2d) (the Model doctor on "
                 "the Model tab does it in one click)", action("Open the Model tab",
                                                               open_="model"))


def history(train_loss, val_loss, train_acc, val_acc):
    return [{"epoch": i + 1, "train_loss": t, "val_loss": v, "train_acc": ta, "val_acc": va}
            for i, (t, v, ta, va) in enumerate(zip(train_loss, val_loss, train_acc, val_acc))]


def view(hist, classes=("a", "b", "c"), **kw):
    kw.setdefault("chance", 1 / len(classes))
    kw.setdefault("lr", 1e-3)
    kw.setdefault("default_lr", 1e-3)
    kw.setdefault("optimizer", "Adam")
    return C.RunView(classes=list(classes), history=hist, **kw)


# -- 1: a divergence the network causes --------------------------------------------------
def test_the_exploded_loss_names_the_network_when_it_is_the_cause():
    e = ExplodingLoss(3)
    assert "The learning rate (1e-5) is far too large" in e.message(242.0, 1, 0, 1e-5)
    e.cause = CONSTANT.why
    text = e.message(242.0, 1, 0, 1e-3)
    assert "far too large" not in text and "learning rate" not in text
    assert text.endswith(f"The network itself is the cause: {CONSTANT.why}")


def _diverged_finding(v):
    doctor = TrainingDoctor()
    doctor.view = v
    trainer = types.SimpleNamespace(validate=True, epochs_done=0, run_dir=None,
                                    emit=lambda *a: None)
    result = types.SimpleNamespace(error_kind="diverged", error="training diverged: ...")
    doctor.on_fit_end(trainer, result)
    (f,) = doctor.findings
    return f


def test_the_diverged_finding_gives_the_networks_fix_not_a_rate():
    f = _diverged_finding(view([], causes=[CONSTANT]))
    assert f["fix"] == f"{CONSTANT.fix}, then train again"
    assert f["action"] == CONSTANT.action  # opens the Model tab: no "Train with lr ..."
    plain = _diverged_finding(view([]))  # no known cause: the rate, as before
    assert plain["action"]["set"] == {"optimizer.params.lr": 1e-4}
    assert plain["action"]["label"] == "Train with lr 0.0001"


class _Result:
    def __init__(self, lr):
        self.suggested_lr, self.reason = lr, ""


def test_no_sweep_when_the_network_is_the_cause(monkeypatch):
    def never(*a, **k):
        raise AssertionError("the sweep must not run")

    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", never)
    findings = [{"kind": "diverged", "epoch": 1, "fix": CONSTANT.fix,
                 "action": CONSTANT.action}]
    lr, text = suggest.lr_after_divergence(Experiment(), findings)
    assert lr is None and "network itself is the cause" in text
    assert findings[0]["fix"] == CONSTANT.fix


def test_a_sweep_suggestion_outside_the_optimizers_bounds_is_not_adopted(monkeypatch):
    monkeypatch.setattr("workbench.core.train.lr_find.find_lr",
                        lambda *a, **k: _Result(2.5e-7))
    act = action("Train with lr 1e-4", {"optimizer.params.lr": 1e-4})
    findings = [{"kind": "diverged", "epoch": 1, "fix": "start again", "action": act}]
    lr, text = suggest.lr_after_divergence(Experiment(), findings)
    assert lr is None and findings[0]["action"] == act  # the first proposal is kept
    assert "2.5e-7, is below the 1e-6 that Adam trains at" in text
    assert "not trustworthy" in text and "usual rate, 0.001" in text
    monkeypatch.setattr("workbench.core.train.lr_find.find_lr",
                        lambda *a, **k: _Result(3e-4))
    lr, text = suggest.lr_after_divergence(Experiment(), findings)
    assert lr == 3e-4 and findings[0]["action"]["label"] == "Train with lr 0.0003"


def test_proposed_rates_stay_within_the_optimizers_bounds():
    assert lower_lr(view([], lr=1e-6)) == 1e-6  # not 1e-7, which Adam calls very low
    assert raised_lr(view([], lr=0.04)) == 0.05  # not 0.4, which it calls very high
    assert raised_lr(view([], lr=0.5, optimizer="SGD", default_lr=0.01)) == 1.0
    flat = history([1.0] * 6, [1.0] * 6, [0.5] * 6, [0.5] * 6)
    f = C.underfitting(view(flat, lr=0.04))
    assert f.action["set"] == {"optimizer.params.lr": 0.05}


# -- 2: what the saved model holds --------------------------------------------------------
RISING = history([1.0, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1], [1.0, 0.8, 0.7, 0.8, 0.9, 1.0, 1.1],
                 [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99], [0.5, 0.6, 0.7, 0.65, 0.6, 0.6, 0.6])


def test_overfitting_says_truthfully_what_the_bundle_holds():
    off = C.overfitting(view(RISING)).message
    assert "keeps its best epoch's weights" not in off
    assert ("the saved model (bundle.pt) will hold the last epoch's weights, not these (they "
            "stay in checkpoints/best.pt); early stopping with its restore best weights "
            "option on saves the best epoch's weights as the model.") in off
    on = C.overfitting(view(RISING, early_stopping=True, restore_best=True)).message
    assert "if early stopping ends the run, the saved model (bundle.pt) gets that" in on


# -- 3: a run that trained no batch ---------------------------------------------------------
def test_a_run_whose_every_batch_was_skipped_says_it_is_untrained():
    skipped = [{"epoch": 1, "train_loss": None, "train_acc": None, "val_loss": 1.1,
                "val_acc": 0.33}]
    r = FitResult(skipped, ["a", "b"], None, False, Experiment(), weights_epoch=1)
    assert r.untrained and r.model_info()["untrained"] is True
    trained = [dict(skipped[0], train_loss=1.0, train_acc=0.5)]
    r = FitResult(trained, ["a", "b"], None, False, Experiment(), weights_epoch=1)
    assert not r.untrained and "untrained" not in r.model_info()


def test_one_minimum_batch_size_for_batchnorm():
    fix, _ = batch_fix()
    assert "or at least 8" in fix and "at least 2" not in fix


# -- 4: the app's words -----------------------------------------------------------------------
def test_the_imbalance_fix_uses_the_data_tabs_words():
    v = view(history([0.5] * 3, [0.5] * 3, [0.9] * 3, [0.9] * 3), classes=("a", "b"),
             chance=0.9, train_counts=[100, 5], val_counts=[20, 2],
             predicted=[[22, 0]] * 3)
    f = class_imbalance(v)
    assert f.action["label"] == "Use a class-weighted loss"
    assert f.fix.startswith("use a class-weighted loss, where an image of 'b' counts 20 "
                            "times one of 'a' (--set data.balance=weighted_loss), or draw "
                            "balanced batches with the weighted sampler (--set "
                            "data.balance=weighted_sampler)")


# -- 5, 6: a label-changing augmentation, a tiny validation split ---------------------------
AT_CHANCE = history([0.69] * 3, [0.69] * 3, [0.5] * 3, [0.5] * 3)


def test_not_learning_names_a_label_changing_augmentation_before_the_rate():
    exp = Experiment()
    exp.augment.transforms = [Component("RandomRotation", {"degrees": 180.0})]
    cause = label_cause(exp, ["6", "9"])
    assert cause is not None and label_cause(Experiment(), ["cat", "dog"]) is None
    f = C.not_learning(view(AT_CHANCE, classes=("6", "9"), label_change=cause))
    assert "The likely cause is the augmentation: RandomRotation rotates up to 180" \
        in f.message
    assert f.fix.startswith("limit rotation to 30°: the augmentation teaches the network "
                            "that one class is the other (--set 'augment.transforms=[")
    assert f.action["set"] == {"augment.transforms": [
        {"type": "RandomRotation", "params": {"degrees": 30.0}}]}
    plain = C.not_learning(view(AT_CHANCE, classes=("6", "9")))
    assert plain.action["open"] == "lr_finder"


@pytest.mark.parametrize("n, said", [(3, True), (100, False)])
def test_a_tiny_validation_split_gets_a_caveat(n, said):
    caveat = (f"With only 3 validation images, one image moves accuracy by 33 points: more "
              f"validation images (a larger validation share) would make this judgement "
              f"firmer.")
    counts = [n // 3 + (i < n % 3) for i in range(3)]
    f = C.not_learning(view(history([1.1] * 3, [1.1] * 3, [0.33] * 3, [0.33] * 3),
                            val_counts=counts))
    assert (caveat in f.message) is said
    f = C.overfitting(view(RISING, val_counts=counts))
    assert (caveat in f.message) is said


# -- end to end: a run that diverges from a constant initialisation; one that trains nothing
def _digits_exp(tmp_path, layers, **data):
    from helpers import make_digits

    exp = Experiment()
    exp.data.folder = make_digits(tmp_path / "d", per_class=6, size=16)
    exp.data.input_size, exp.data.channels = [16, 16], 1
    exp.data.mean, exp.data.std = [0.2], [0.3]
    for k, v in data.items():
        setattr(exp.data, k, v)
    exp.model.layers = layers
    exp.augment.transforms = []
    exp.training.epochs, exp.training.device = 2, "cpu"
    return exp


def test_a_run_diverging_from_a_constant_init_blames_the_init_not_the_rate(tmp_path):
    from workbench.core.train.run import run_training

    exp = _digits_exp(tmp_path, [
        Component("Conv2d", {"out_channels": 16}), Component("ReLU"),
        Component("Conv2d", {"out_channels": 32}), Component("ReLU"), Component("Flatten"),
        Component("Linear", {"out_features": 64}), Component("ReLU"), Component("Linear")])
    exp.init = Component("constant", {"val": 0.3})
    result = run_training(exp.validate(), tmp_path / "run").result
    assert result.error_kind == "diverged"
    assert "The network itself is the cause: the experiment's constant initialisation" \
        in result.error and "far too large" not in result.error
    (f,) = [f for f in result.findings if f["kind"] == "diverged"]
    assert f["action"]["set"] == {"init.type": "default"}
    assert "learning rate" not in f["fix"]


def test_a_run_that_would_skip_every_batch_is_refused_not_recorded_untrained(tmp_path):
    # It used to train every epoch on no batch and finish with an untrained bundle.
    from workbench.core.train.run import run_training

    exp = _digits_exp(tmp_path, [
        Component("Conv2d", {"out_channels": 4}), Component("BatchNorm2d"),
        Component("ReLU"), Component("Flatten"), Component("Linear")], batch_size=1)
    exp.training.epochs = 1
    outcome = run_training(exp.validate(), tmp_path / "run")
    assert outcome.status == "failed" and outcome.epochs_done == 0
    assert "every training batch would be skipped" in outcome.message
    # 50 training images: 16 makes 4 steps an epoch, where 32 would make 2.
    assert outcome.error.action["set"] == {"data.batch_size": 16}
    assert outcome.bundle_path is None and not (tmp_path / "run" / "bundle.pt").exists()
