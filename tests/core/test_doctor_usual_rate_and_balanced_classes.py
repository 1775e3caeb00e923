"""The training doctor on a run whose rate is the optimizer's usual one (walk-explain report,
2, 3 and its first minor item): seed-cnn with a Dropout(p=0.95) at Adam's default 0.001 on
3 x 80 training images silenced 58 of 64 ReLUs, and the doctor called 0.001 "a step far too
large" with a "Use lr 0.0001" button, and offered a class-weighted loss, a no-op on equal
counts, for a class it never predicted; an imbalanced run's "training loss still falls (0.68
to 0.47)" quoted a loss shown nowhere (epoch 1's was 0.66)."""

from __future__ import annotations

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.causes import model_causes
from workbench.core.train.doctor.classes import imbalance_cause

CLASSES = ["circle", "square", "triangle"]
# The drop95 run, as measured: at chance for 3 epochs, then it learns a little.
HIST = [{"epoch": i + 1, "train_loss": loss, "val_loss": loss, "train_acc": acc,
         "val_acc": acc} for i, (loss, acc) in enumerate(
             [(1.10, 0.33), (1.09, 0.33), (1.08, 0.33), (1.02, 0.40), (0.98, 0.47),
              (0.95, 0.50)])]
# Ruined: the ReLU at layer 5 (index 4) silent, as measured (58 of its 64 units).
DEAD = {"4 (64 units)": (58, 64), "1 (32 units)": (10, 32), "9 (128 units)": (60, 128)}


def _drop95() -> Experiment:
    exp = Experiment()
    exp.data.input_size = [48, 48]
    conv = {"kernel_size": 3, "padding": 1}
    exp.model.layers = [
        Component("Conv2d", {"out_channels": 32, **conv}), Component("ReLU"),
        Component("MaxPool2d", {"kernel_size": 2}),
        Component("Conv2d", {"out_channels": 64, **conv}), Component("ReLU"),
        Component("MaxPool2d", {"kernel_size": 2}), Component("Flatten"),
        Component("Linear", {"out_features": 128}), Component("Dropout", {"p": 0.95}),
        Component("ReLU"), Component("Linear")]
    return exp


def _view(**kw):
    kw.setdefault("chance", 1 / 3)
    kw.setdefault("lr", 1e-3)
    kw.setdefault("default_lr", 1e-3)
    kw.setdefault("optimizer", "Adam")
    kw.setdefault("first_loss", 1.12)
    kw.setdefault("epochs_planned", 8)
    kw.setdefault("train_counts", [80, 80, 80])
    kw.setdefault("val_counts", [20, 20, 20])
    kw.setdefault("predicted", [[0, 30, 30]] * 6)  # 'circle' never predicted
    return C.RunView(classes=list(CLASSES), history=[dict(m) for m in HIST], **kw)


def test_dead_units_at_adams_usual_rate_name_the_dropout_not_the_rate():
    causes = model_causes(_drop95(), 3)
    assert [c.code for c in causes] == ["dropout-too-high"] and not causes[0].stops
    f = C.dead_units(_view(causes=causes, dead=DEAD))
    assert "58 of the 64 units of the ReLU at layer 5" in f.message
    assert "far too large" not in f.message and "far too large" not in f.fix
    assert "layer 9 (Dropout) drops 95%" in f.message
    assert "The learning rate (0.001) is within Adam's usual 1e-5 to 0.01" in f.message
    assert f.fix.startswith("set p of layer 9 (Dropout) to 0.5")
    assert "optimizer.params.lr" not in (f.action or {}).get("set", {})
    # Said already (not_learning at epoch 3 named it): one cause, one finding.
    assert C.dead_units(_view(causes=causes, dead=DEAD, messages=[f.message])) is None


def test_a_rate_in_its_usual_range_is_never_called_far_too_large():
    f = C.dead_units(_view(dead=DEAD))  # no cause known: a sound network
    assert "The learning rate (0.001) is within Adam's usual 1e-5 to 0.01, so it is " \
           "unlikely the cause: a bad initialisation is likelier" in f.message
    assert "far too large" not in f.message
    assert f.fix.startswith("use LeakyReLU, or He (kaiming) initialisation; or use a "
                            "learning rate of 0.0001")
    flat = [dict(m, train_acc=0.33, val_acc=0.33) for m in HIST[:3]]
    v = _view(dead=DEAD, train_counts=None)
    v.history = flat
    nl = C.not_learning(v)
    assert "gone silent" in nl.message and "far too large" not in nl.message
    assert nl.fix.startswith("use LeakyReLU, or He (kaiming) initialisation; or use a")
    # Above Adam's usual range, the step is what silences the units.
    high = C.dead_units(_view(dead=DEAD, lr=0.1))
    assert "A step far too large (the learning rate, 0.1)" in high.message
    assert high.action["set"] == {"optimizer.params.lr": 1e-3}
    # The dropout is not blamed for a rate far above the usual: the rate is.
    causes = model_causes(_drop95(), 3)
    assert "step far too large" in C.dead_units(_view(causes=causes, dead=DEAD,
                                                      lr=0.1)).message


def test_a_class_never_predicted_with_images_enough_gets_no_balancing_button():
    causes = model_causes(_drop95(), 3)
    f = C.class_never_predicted(_view(causes=causes))
    assert "The network never predicts 'circle'" in f.message
    assert "It has 80 training images, the largest class 80." in f.message
    assert "class-weighted" not in f.fix and "few training images" not in f.message
    assert "layer 9 (Dropout) drops 95%" in f.message
    assert f.action["set"] == {"model.layers[8].params.p": 0.5} or \
        f.action["label"].startswith("Set p of layer 9")
    # No cause known: it looks like another class; Evaluate's matrix shows which.
    g = C.class_never_predicted(_view())
    assert "not short of images" in g.message and "looks like another class" in g.message
    assert "Evaluate's confusion matrix" in g.fix and g.action is None
    # Already evened out: still no "add images of it" for a class as large as the largest.
    h = C.class_never_predicted(_view(balanced="weighted_loss"))
    assert "add images" not in h.fix and "class weights" not in h.fix
    # Clearly fewer images (at most half the largest): the class-weighted loss it is.
    few = C.class_never_predicted(_view(train_counts=[30, 80, 80]))
    assert few.action["set"] == {"data.balance": "weighted_loss"}
    assert "few training images" in few.message


def test_the_falling_loss_is_quoted_from_epochs_the_learner_can_see():
    # The imb run (192/40/8): epoch 1's training loss 0.66, the first batches' 0.68.
    hist = [{"epoch": i + 1, "train_loss": loss, "val_loss": loss, "train_acc": 0.8,
             "val_acc": 0.8} for i, loss in enumerate([0.659, 0.60, 0.55, 0.52, 0.50, 0.48,
                                                       0.47])]
    v = C.RunView(classes=list(CLASSES), history=hist, chance=0.8, lr=1e-3, default_lr=1e-3,
                  first_loss=0.68, train_counts=[192, 40, 8], val_counts=[48, 10, 2])
    why, _, _ = imbalance_cause(v)
    assert "Its training loss still falls (0.66 at epoch 1, 0.47 at epoch 7)" in why
    assert "0.68" not in why
    # After a change of settings: from the last epoch before it.
    v.since = 4
    why, _, _ = imbalance_cause(v)
    assert "(0.52 at epoch 4, 0.47 at epoch 7)" not in why  # 0.47 > 0.9 x 0.52: not falling
    v.history[-1]["train_loss"] = 0.40
    assert "(0.52 at epoch 4, 0.40 at epoch 7)" in imbalance_cause(v)[0]
