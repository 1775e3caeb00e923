"""A learning rate far too large that does not explode the loss: the training loss is thrown
back up after the network had learned. The doctor must call it a rate too high and propose a
lower one, not "underfitting, the loss stayed near 3.3" with a button that triples the rate,
nor "overfitting while the training loss kept falling" when it rose 20 times (walk-tomorrow2,
defect 2: both histories below are the runs' saved metrics, rounded)."""

from __future__ import annotations

import pytest

from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.resolved import withdraw, withdraw_fixed

SHAPES = list("abcd")


def history(train_loss, val_loss, train_acc, val_acc, lr=None):
    lr = lr or [None] * len(train_loss)
    return [{"epoch": i + 1, "train_loss": t, "val_loss": vl, "train_acc": ta, "val_acc": va,
             "lr": r} for i, (t, vl, ta, va, r) in
            enumerate(zip(train_loss, val_loss, train_acc, val_acc, lr))]


def view(hist, **kw):
    kw.setdefault("chance", 0.25)
    kw.setdefault("lr", 0.003)
    kw.setdefault("default_lr", 0.01)
    kw.setdefault("optimizer", "SGD")
    kw.setdefault("epochs_planned", 12)
    return C.RunView(classes=SHAPES, history=hist, **kw)


# SGD (momentum 0.9), OneCycleLR from lr 0.003 (peak 0.03): 97% right at epoch 3, then
# thrown up; it came back down once the schedule lowered the rate.
ONE_CYCLE = history([1.379, 1.186, 0.252, 1.338, 3.334, 0.521, 0.148, 0.061],
                    [1.327, 0.677, 0.101, 3.194, 0.729, 0.180, 0.147, 0.067],
                    [0.283, 0.762, 0.971, 0.838, 0.471, 0.804, 0.963, 0.983],
                    [0.817, 0.883, 0.950, 0.483, 0.683, 0.933, 0.967, 0.983],
                    [0.0067, 0.019, 0.0287, 0.0297, 0.0276, 0.0238, 0.0062, 0.0044])
# SGD (momentum 0.9) at lr 0.05, no schedule.
LR_005 = history([1.242, 0.294, 6.334, 1.086], [0.732, 14.99, 1.112, 0.880],
                 [0.604, 0.954, 0.400, 0.492], [1.0, 0.35, 0.483, 0.633], [0.05] * 4)


def test_a_loss_thrown_up_after_the_network_learned_is_a_rate_too_high_not_underfitting():
    blown = view(ONE_CYCLE[:5])
    assert C.underfitting(blown) is None  # "stayed near 3.334": it rose 13 times
    f = C.lr_too_high(view(ONE_CYCLE[:4]))  # said at once, the epoch the loss jumped
    assert f.kind == "lr_too_high" and f.epoch == 4
    assert "too high" in f.message and "from 0.252 at epoch 3 to 1.338" in f.message
    assert "97% to 84%" in f.message and "the schedule took it to 0.03" in f.message
    # A lower rate, a third of the set one (the schedule's peak scales with it), never higher.
    assert f.action["set"] == {"optimizer.params.lr": pytest.approx(0.001)}
    assert f.action["continue"] and f.action["label"] == "Continue with lr 0.001"
    assert "--lr 0.001" in f.fix and "highest then 0.01" in f.fix and "LR finder" in f.fix
    # Nothing on any epoch proposes a rate above the one that blew up.
    for n in range(1, len(ONE_CYCLE) + 1):
        for check in C.CHECKS:
            g = check(view(ONE_CYCLE[:n]))
            rate = ((g and g.action) or {}).get("set", {}).get("optimizer.params.lr")
            assert g is None or g.kind != "underfitting", (n, g.message)
            assert rate is None or rate < 0.003, (n, check.__name__, rate)


def test_overfitting_is_not_said_while_the_training_loss_rose_and_its_text_is_true():
    assert C.overfitting(view(LR_005, lr=0.05)) is None  # "kept falling": 0.29 to 6.33
    f = C.lr_too_high(view(LR_005[:3], lr=0.05))
    assert f.epoch == 3 and "0.294 at epoch 2 to 6.334" in f.message
    assert "schedule" not in f.message + f.fix  # the rate the run trained at throughout
    assert f.action["set"]["optimizer.params.lr"] < 0.05
    # A real overfitting run says how the training loss went, in values.
    train = [2.0, 1.5, 1.0, 0.7, 0.5, 0.3, 0.2]
    val = [2.0, 1.6, 1.4, 1.5, 1.6, 1.7, 1.8]
    g = C.overfitting(C.RunView(classes=[str(i) for i in range(10)], chance=0.1, lr=1e-3,
                                default_lr=1e-3, history=history(train, val, [None] * 7,
                                                                 [None] * 7)))
    assert "while the training loss fell from 1.000 to 0.200" in g.message


def test_a_rising_loss_is_not_flat_and_a_fitted_epoch_in_the_window_is_not_underfitting():
    acc = [0.3, 0.4, 0.42, 0.43, 0.43, 0.43]
    rising = history([1.6, 1.55, 1.55, 1.6, 1.8, 2.0], [1.6] * 6, acc, acc)
    assert C.underfitting(view(rising)) is None
    # Back near where it was, after a swing down to a fitted epoch: not "stayed near".
    swung = history([1.6, 1.55, 1.3, 0.25, 1.34, 1.31], [1.6] * 6,
                    [0.3, 0.4, 0.6, 0.97, 0.5, 0.45], [0.3, 0.4, 0.6, 0.9, 0.5, 0.45])
    assert C.underfitting(view(swung)) is None
    # Still said on a high, flat loss.
    flat = history([1.4, 1.2, 1.15, 1.14, 1.13, 1.13], [1.3] * 6, acc, acc)
    assert C.underfitting(view(flat)) is not None


def test_no_rate_too_high_on_noise_or_a_loss_near_zero():
    acc = [0.5, 0.6, 0.7, 0.8, 0.85]
    noisy = history([1.2, 1.0, 0.8, 0.85, 0.82], [1.0] * 5, acc, acc)
    assert C.lr_too_high(view(noisy)) is None
    # A loss near 0 that triples in noise, the accuracy unchanged.
    tiny = history([0.3, 0.05, 0.01, 0.03], [0.1] * 4, [0.9, 0.99, 1.0, 0.99], [0.95] * 4)
    assert C.lr_too_high(view(tiny)) is None


def test_underfitting_is_withdrawn_once_the_accuracy_passes_its_bar():
    acc = [0.3, 0.4, 0.42, 0.43, 0.43, 0.43]
    flat = history([1.4, 1.2, 1.15, 1.14, 1.13, 1.13], [1.3] * 6, acc, acc)
    said = C.underfitting(view(flat)).to_dict()
    assert withdraw(view(flat), [said]) == [] and not said["resolved"]
    fitted = history([1.4, 1.2, 1.15, 1.14, 1.13, 1.13, 0.5, 0.2], [1.3] * 6 + [0.4, 0.2],
                     acc + [0.85, 0.95], acc + [0.8, 0.92])
    assert withdraw(view(fitted[:7]), [said]) == []  # 85%: not yet
    assert withdraw(view(fitted), [said]) == [said]
    assert said["resolved"] == ("at epoch 8 the training accuracy is 95%: the network fits "
                                "the images after all")


def test_a_rate_too_high_is_withdrawn_once_the_run_continued_lower_trains_steadily():
    said = C.lr_too_high(view(ONE_CYCLE[:5])).to_dict()
    lower = ONE_CYCLE[:5] + [{**e, "epoch": 6 + i} for i, e in enumerate(
        history([0.9, 0.3], [0.6, 0.3], [0.7, 0.9], [0.7, 0.9]))]
    assert withdraw_fixed(view(lower[:6], since=5, lr=0.001), [(said, "at lr 0.001")]) == []
    assert withdraw_fixed(view(lower, since=5, lr=0.001), [(said, "at lr 0.001")]) == [said]
    assert "down from 3.334 before the change" in said["resolved"]


def test_memorising_is_judged_against_the_training_batches_chance():
    # 900/100 training images on the weighted sampler's balanced batches: 1 in 2 of chance
    # there, though the validation split's majority is 90%.
    hist = history([0.6, 0.5, 0.45], [0.9, 0.9, 0.9], [0.7, 0.75, 0.8], [0.9, 0.9, 0.9])
    v = C.RunView(classes=["big", "small"], history=hist, chance=0.9, lr=1e-3,
                  default_lr=1e-3, train_counts=[900, 100], balanced="weighted_sampler")
    assert v.train_chance == 0.5
    f = C.not_learning(v)
    assert f is not None and "by heart" in f.message and "80%" in f.message


def test_a_rate_too_high_is_withdrawn_once_the_schedule_brought_the_run_back():
    # OneCycleLR lowered the rate and the run came back (epochs 7 and 8): the finding
    # stayed, with a live "Continue with lr 0.001", on a run that ended at 98%.
    said = C.lr_too_high(view(ONE_CYCLE[:4])).to_dict()
    assert withdraw(view(ONE_CYCLE[:6]), [said]) == []  # 0.521 and 80%: still thrown up
    assert withdraw(view(ONE_CYCLE[:7]), [said]) == []  # one steady epoch: not yet
    assert withdraw(view(ONE_CYCLE), [said]) == [said]
    assert said["resolved"] == ("at epoch 8 the training loss is 0.061 and the training "
                                "accuracy 98%, as before the jump (0.252 and 97% at epoch "
                                "3): the run is steady again")
    assert C.lr_too_high(view(ONE_CYCLE)) is None  # not said again at once
    again = ONE_CYCLE + history([1.9], [1.5], [0.5], [0.5])  # it may be thrown up again
    assert C.lr_too_high(view([{**e, "epoch": i + 1} for i, e in enumerate(again)])).epoch == 9


def test_a_rate_too_high_that_keeps_the_loss_up_is_not_withdrawn():
    said = C.lr_too_high(view(LR_005[:3], lr=0.05)).to_dict()
    more = LR_005 + [{**e, "epoch": 5 + i} for i, e in enumerate(
        history([0.9, 1.1], [0.9, 1.0], [0.55, 0.5], [0.6, 0.5]))]
    assert withdraw(view(more, lr=0.05), [said]) == [] and not said.get("resolved")
