"""The training doctor's checks, each both ways: it fires on the history of a bad run and
stays silent on a healthy one (histories shaped like the measured runs beside each test)."""

from __future__ import annotations

import math

import pytest
import torch

from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.findings import KINDS, RunFinding
from workbench.core.train.doctor.probes import DeadUnitProbe, relative_change

CLASSES = [str(i) for i in range(10)]


def history(train_loss, val_loss=None, train_acc=None, val_acc=None):
    n = len(train_loss)
    val_loss = val_loss or [None] * n
    train_acc = train_acc or [None] * n
    val_acc = val_acc or [None] * n
    return [{"epoch": i + 1, "train_loss": train_loss[i], "val_loss": val_loss[i],
             "train_acc": train_acc[i], "val_acc": val_acc[i]} for i in range(n)]


def view(hist, **kw):
    kw.setdefault("chance", 0.1)
    kw.setdefault("lr", 1e-3)
    kw.setdefault("default_lr", 1e-3)
    return C.RunView(classes=CLASSES, history=hist, **kw)


# The healthy digits run (seed-cnn, Adam 1e-3, 800 images), as measured.
HEALTHY = history([2.24, 1.68, 1.03, 0.63, 0.41, 0.25, 0.16, 0.12],
                  [2.00, 1.39, 0.94, 0.53, 0.36, 0.23, 0.18, 0.12],
                  [0.24, 0.47, 0.66, 0.83, 0.89, 0.95, 0.97, 0.98],
                  [0.44, 0.53, 0.68, 0.85, 0.89, 0.96, 0.97, 0.98])


def healthy_view(**kw):
    kw.setdefault("first_loss", 2.31)
    kw.setdefault("weight_change", 0.05)
    kw.setdefault("dead", {"1 (32 units)": (0, 32), "8 (128 units)": (70, 128)})
    kw.setdefault("grads", [(["1", "4", "8", "10"], [0.2, 0.5, 0.7, 1.0],
                             [3.0, 6.0, 9.0, 2.0])] * 3)
    kw.setdefault("predicted", [[20] * 10] * 3)
    kw.setdefault("val_counts", [20] * 10)
    kw.setdefault("epochs_planned", 8)
    return view(HEALTHY, **kw)


def test_a_healthy_run_gets_no_finding_from_any_check():
    v = healthy_view()
    assert [c.__name__ for c in C.CHECKS if c(v) is not None] == []
    assert {c.__name__ for c in C.CHECKS} | {"diverged"} == set(KINDS)


def test_not_learning_at_chance_and_why():
    shuffled = history([2.31, 2.30, 2.30], [2.30, 2.30, 2.30], [0.10, 0.13, 0.11],
                       [0.12, 0.10, 0.12])
    f = C.not_learning(view(shuffled))
    assert f.kind == "not_learning" and f.epoch == 3 and f.severity == "warning"
    assert "12%" in f.message and "labels" in f.message
    # Not yet after two epochs, and not once above chance.
    assert C.not_learning(view(shuffled[:2])) is None
    assert C.not_learning(healthy_view()) is None
    # The cause it names is the one that applies.
    assert "frozen" in C.not_learning(view(shuffled, trainable=0)).message
    slow = C.not_learning(view(shuffled, weight_change=1e-5, lr=1e-6))
    # Far below the optimizer's usual 1e-3: that rate (ten times, 1e-5, moves nothing either).
    assert "too small" in slow.message and slow.action["set"] == {"optimizer.params.lr": 1e-3}
    dead = C.not_learning(view(shuffled, dead={"8": (127, 128)}, lr=0.5))
    assert "silent" in dead.message and dead.action["set"]["optimizer.params.lr"] == 1e-3
    memorised = history([2.0, 1.0, 0.5], [2.4, 2.5, 2.7], [0.3, 0.6, 0.9], [0.1, 0.1, 0.1])
    assert "by heart" in C.not_learning(view(memorised)).message
    # Without validation the training accuracy is judged.
    assert C.not_learning(view(history([2.3] * 3, train_acc=[0.1] * 3))) is not None


def test_overfitting_when_the_validation_loss_climbs_while_training_falls():
    train = [2.0, 1.5, 1.0, 0.7, 0.5, 0.3, 0.2]
    val = [2.0, 1.6, 1.4, 1.5, 1.6, 1.7, 1.8]
    f = C.overfitting(view(history(train, val)))
    assert f.kind == "overfitting" and f.epoch == 7
    assert "epoch 3" in f.message and "best.pt" in f.message
    assert f.action["set"] == {"training.early_stopping": True}
    assert "augmentation" in f.fix
    # With early stopping on and augmentation already there, nothing to click.
    assert C.overfitting(view(history(train, val), early_stopping=True,
                              augmented=True)).action is None
    # A small wobble is not overfitting, nor is a validation loss still falling.
    slow = [2.0, 1.5, 1.2, 1.1, 1.05, 1.0, 0.98]  # the training set not fitted yet
    assert C.overfitting(view(history(slow, [2.0, 1.6, 1.4, 1.45, 1.42, 1.5, 1.5]))) is None
    assert C.overfitting(healthy_view()) is None


def test_overfitting_by_a_wide_growing_gap_only_once_the_validation_loss_stalls():
    tacc = [0.3, 0.5, 0.6, 0.75, 0.85, 0.95]
    vacc = [0.3, 0.35, 0.35, 0.4, 0.4, 0.4]
    improving = history([2.0, 1.8, 1.6, 1.4, 1.2, 1.0], [2.0, 1.9, 1.85, 1.8, 1.75, 1.7],
                        tacc, vacc)
    assert C.overfitting(view(improving)) is None  # the best epoch is still the last
    stalled = history([2.0, 1.8, 1.6, 1.4, 1.2, 1.0], [2.0, 1.9, 1.8, 1.7, 1.72, 1.75],
                      tacc, vacc)
    f = C.overfitting(view(stalled))
    assert f is not None and "gap" in f.message and "epoch 4" in f.message


def test_underfitting_when_both_losses_are_high_and_flat():
    flat = history([1.9, 1.6, 1.55, 1.54, 1.53, 1.53], [1.9, 1.7, 1.65, 1.64, 1.64, 1.63],
                   [0.3, 0.4, 0.42, 0.43, 0.43, 0.43], [0.3, 0.38, 0.4, 0.4, 0.41, 0.41])
    f = C.underfitting(view(flat))
    assert f.kind == "underfitting" and f.action["continue"]
    assert f.action["set"]["optimizer.params.lr"] == pytest.approx(3e-3)
    assert C.underfitting(view(flat[:4])) is None  # too early to judge
    assert C.underfitting(healthy_view()) is None
    low_and_flat = history([0.2] * 6, [0.25] * 6, [0.95] * 6, [0.93] * 6)
    assert C.underfitting(view(low_and_flat)) is None  # converged, not underfitting
    at_chance = history([2.3] * 6, [2.3] * 6, [0.1] * 6, [0.1] * 6)
    assert C.underfitting(view(at_chance)) is None  # not_learning's to say


def test_lr_too_low_when_neither_loss_nor_weights_move():
    still = history([2.313, 2.312], [2.31, 2.31], [0.1, 0.1], [0.1, 0.1])
    f = C.lr_too_low(view(still, lr=1e-6, first_loss=2.312, weight_change=3e-4))
    assert f.kind == "lr_too_low" and "1e-6" in f.message
    # Far below the optimizer's usual rate: that rate, not ten times 1e-6 (1e-5 moved
    # nothing either, and the finding is said once a run).
    assert f.action == {"label": "Continue with lr 0.001",
                        "set": {"optimizer.params.lr": 1e-3}, "continue": True, "open": ""}
    assert "--lr 0.001" in f.fix and "usual rate" in f.fix and "workbench lr-find" in f.fix
    sgd = C.lr_too_low(view(still, lr=1e-6, default_lr=0.01, first_loss=2.312,
                            weight_change=3e-4))
    assert sgd.action["set"] == {"optimizer.params.lr": 0.01}
    # Near the usual rate already: ten times it.
    near = C.lr_too_low(view(still, lr=2e-4, first_loss=2.312, weight_change=3e-4))
    assert near.action["set"] == {"optimizer.params.lr": pytest.approx(2e-3)}
    assert "usual rate" not in near.fix
    # The weights move (a real rate on a hard task), or the loss falls: not too low.
    assert C.lr_too_low(view(still, first_loss=2.312, weight_change=0.05)) is None
    assert C.lr_too_low(healthy_view(weight_change=1e-4)) is None
    assert C.lr_too_low(view(still, first_loss=2.312, weight_change=1e-5,
                             trainable=0)) is None  # frozen: not the rate's fault


def test_lr_too_low_judges_the_rate_the_schedule_gave_the_epochs():
    # A OneCycleLR run continued at 0.0005 while its schedule ran, which annealed it to
    # 2e-08: the finding blamed the 0.0005 and proposed 0.005, against the start note's
    # 5e-05 (walk-tomorrow3 defect 4).
    still = history([2.313, 2.312], [2.31, 2.31], [0.1, 0.1], [0.1, 0.1])
    kw = dict(lr=5e-4, first_loss=2.312, weight_change=3e-4)
    annealed = [dict(m, lr=lr) for m, lr in zip(still, [2e-6, 2e-8])]
    assert C.lr_too_low(view(annealed, **kw)) is None  # the schedule's end: its note's
    lowered = [dict(m, lr=lr) for m, lr in zip(still, [1.2e-4, 1e-4])]
    f = C.lr_too_low(view(lowered, **kw))
    assert f.message.startswith("The learning rate (0.0005; the schedule took it down to "
                                "0.00012) is too small")
    held = [dict(m, lr=5e-4) for m in still]  # at the set rate: the set rate is named
    assert C.lr_too_low(view(held, **kw)).message.startswith("The learning rate (0.0005) is")


def test_dead_units_by_layer_and_by_network():
    dead = C.dead_units(view(HEALTHY[:2], dead={"1 (32 units)": (30, 32), "4": (3, 64)},
                             lr=0.5))
    assert dead.kind == "dead_units" and "30 of the 32" in dead.message
    assert dead.action["set"] == {"optimizer.params.lr": 1e-3}
    spread = {"1": (25, 32), "4": (50, 64), "8": (100, 128)}  # 78% everywhere
    assert C.dead_units(view(HEALTHY[:2], dead=spread)) is not None
    assert C.dead_units(view(HEALTHY[:2], dead={"tiny": (4, 4), "big": (10, 128)})) is None
    assert C.dead_units(healthy_view()) is None


def test_gradient_checks_need_samples_in_a_row():
    names = ["1 Conv2d", "4 Conv2d", "8 Linear", "10 Linear"]
    vanishing = (names, [1e-9, 1e-5, 0.1, 1.0], [3.0, 6.0, 9.0, 2.0])
    v = view(HEALTHY[:3], grads=[vanishing] * 3)
    f = C.vanishing_gradients(v)
    assert f.kind == "vanishing_gradients" and "the first layer, layer 1 (Conv2d), gets" in f.message
    assert C.vanishing_gradients(view(HEALTHY[:3], grads=[vanishing] * 2)) is None
    # A loss near zero has small gradients everywhere, rightly.
    assert C.vanishing_gradients(view(history([0.01] * 3), grads=[vanishing] * 3)) is None
    exploding = (names, [10.0, 50.0, 3e3, 1e4], [3.0, 6.0, 9.0, 2.0])
    f = C.exploding_gradients(view(HEALTHY[:3], grads=[exploding] * 3, lr=0.5))
    assert f.kind == "exploding_gradients" and "largest at layer 10 (Linear)," in f.message
    assert "grad_clip" in f.fix
    assert C.exploding_gradients(view(HEALTHY[:3], grads=[exploding, vanishing,
                                                            exploding])) is None
    assert C.vanishing_gradients(healthy_view()) is None
    assert C.exploding_gradients(healthy_view()) is None


def test_class_never_predicted_only_late_enough_and_with_enough_images():
    preds = [[22, 20, 20, 20, 20, 0, 20, 20, 20, 38]] * 3
    f = C.class_never_predicted(healthy_view(predicted=preds))
    assert f.kind == "class_never_predicted" and "'5'" in f.message
    assert f.action["set"] == {"data.balance": "weighted_loss"}
    assert C.class_never_predicted(healthy_view(predicted=preds[:2])) is None
    assert C.class_never_predicted(view(HEALTHY[:4], predicted=preds,
                                        val_counts=[20] * 10)) is None  # too early
    few = [20] * 5 + [2] + [20] * 4  # two images of '5': missing both is often chance
    assert C.class_never_predicted(healthy_view(predicted=preds, val_counts=few)) is None


def test_class_never_predicted_is_withdrawn_once_it_answers_a_class_it_named():
    from workbench.core.train.callbacks.doctor import TrainingDoctor
    from workbench.core.train.doctor.resolved import withdraw

    never = [[25, 20, 20, 20, 20, 0, 20, 0, 20, 55]] * 3  # '5' and '7' called something else
    said = [C.class_never_predicted(healthy_view(predicted=never)).to_dict()]
    assert "'5' and '7'" in said[0]["message"]
    assert withdraw(healthy_view(predicted=never), said) == []  # still true: stays
    # The last epoch answers '5' (at least 16 of its 20 right at 88%); '7' is still never
    # predicted, and the finding says so, then is said again for '7' alone.
    hist = [dict(m) for m in HEALTHY]
    hist[-1]["val_acc"] = 0.88
    later = view(hist, predicted=never + [[22, 20, 20, 20, 20, 20, 20, 0, 20, 38]],
                 val_counts=[20] * 10, epochs_planned=8, first_loss=2.31)
    (f,) = withdraw(later, said)
    assert f["resolved"] == ("at epoch 8 the network answers '5' for 20 validation images, "
                             "at least 16 of them right (20 are '5'): it no longer ignores "
                             "'5'; it still ignores '7'")
    assert withdraw(later, said) == []  # once
    again = C.class_never_predicted(later)
    assert "'7'" in again.message and "'5'" not in again.message
    doctor = TrainingDoctor()
    doctor.findings = said
    assert doctor.fired == set()  # withdrawn: its check may say the rest again


def test_a_finding_is_plain_data_with_a_contracted_kind():
    f = RunFinding("overfitting", 4, "warning", "m", "f", {"label": "x", "set": {}})
    assert RunFinding.from_dict(f.to_dict()) == f
    assert f.line().startswith("doctor: overfitting at epoch 4 (warning): m")
    with pytest.raises(ValueError):
        RunFinding("overfit", 4, "warning", "m")


def test_the_probe_counts_relu_units_that_never_fire():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(),
                                torch.nn.Linear(16, 32), torch.nn.ReLU())
    with torch.no_grad():
        model[2].bias[:24] = -100.0  # 24 of the 32 second-layer units can never fire
    probe = DeadUnitProbe(model)
    probe.arm()
    for _ in range(2):
        model(torch.randn(32, 4))
        probe.count(32)
    assert probe.done
    probe.disarm()
    shares = probe.shares()
    silent, units = shares["3 (32 units)"]
    assert units == 32 and 24 <= silent <= 26  # the 24, and a healthy one or two by chance
    assert shares["1 (16 units)"][0] <= 2
    model(torch.randn(8, 4))  # disarmed: nothing counted
    assert probe.shares() == shares


def test_relative_change_of_the_trainable_weights():
    a = {"w": torch.ones(4), "frozen": torch.ones(4)}
    b = {"w": torch.ones(4) * 1.1, "frozen": torch.ones(4) * 5}
    assert relative_change(a, b, {"w"}) == pytest.approx(0.1)
    assert relative_change(None, b, {"w"}) is None
    assert math.isclose(relative_change(a, a, {"w"}) or 0.0, 0.0)


def test_overfitting_when_the_losses_grow_apart_once_the_training_set_is_fitted():
    # 60 real 8x8 digits for 40 epochs (measured): 93% validation accuracy, but the training
    # loss goes to 0.03 while the validation loss stays near 0.2.
    train = [0.6, 0.41, 0.28, 0.2, 0.135, 0.1, 0.073, 0.055, 0.042, 0.032, 0.027]
    val = [0.59, 0.42, 0.33, 0.26, 0.27, 0.26, 0.23, 0.2, 0.234, 0.206, 0.215]
    f = C.overfitting(view(history(train, val)))
    assert f is not None and ("the training loss is down to 0.027, but the validation loss "
                              "has not improved since epoch 8: it has risen from 0.200 to "
                              "0.215") in f.message
    assert "so far was at epoch 8" in f.message  # never stale: best.pt keeps the best
    # Healthy digits end at 0.03 against 0.10: apart by 3x, not 4, and 0.07, not 0.1.
    assert C.overfitting(view(history(train[:-1] + [0.034], val[:-1] + [0.104]))) is None
    # Not while the validation loss still improves, however far apart (measured: 45 phone
    # photos fitted at once, the validation loss falling every epoch from 0.99 to 0.20).
    fitted = [1.19, 0.08, 0.078, 0.025, 0.036, 0.023, 0.019, 0.017]
    falling = [0.99, 0.88, 0.74, 0.60, 0.46, 0.35, 0.26, 0.20]
    assert all(C.overfitting(view(history(fitted[:n], falling[:n]))) is None
               for n in range(4, 9))
    # Not while the training set is still being fitted (a loss above a tenth of ln(10)).
    unfitted = [1.0 - 0.02 * i for i in range(11)]
    assert C.overfitting(view(history(unfitted, [5.0] * 11))) is None
    assert C.overfitting(healthy_view()) is None
