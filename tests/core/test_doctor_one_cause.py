"""The training doctor names a network's own cause once, with a fix a headless user can type
(learner-tester report, "classic mistakes" 2, 5, 8, 9): a Softmax before CrossEntropyLoss
floors the loss at 0.551 for 3 classes at 100% accuracy, which the doctor called
underfitting ("a larger network"); the CLI fixes for an output ReLU and a label-changing
flip pointed at GUI tabs; a zero init gave three findings with one cause and one button;
an overfitting finding quoted "50381 times as much" of a flat validation loss."""

from __future__ import annotations

import json
import math
import re
import shlex

import pytest

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.causes import label_cause, model_causes
from workbench.core.train.run import run_training

ABC = ["a", "b", "c"]


def history(train_loss, val_loss, train_acc, val_acc):
    return [{"epoch": i + 1, "train_loss": t, "val_loss": v, "train_acc": ta, "val_acc": va}
            for i, (t, v, ta, va) in enumerate(zip(train_loss, val_loss, train_acc, val_acc))]


def view(hist, **kw):
    kw.setdefault("chance", 1 / 3)
    kw.setdefault("lr", 1e-3)
    kw.setdefault("default_lr", 1e-3)
    return C.RunView(classes=list(kw.pop("classes", ABC)), history=hist, **kw)


def mlp(*tail: str) -> Experiment:
    exp = Experiment()
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("ReLU"), Component("Linear")] + [Component(t) for t in tail]
    return exp


# Measured (the tester's softmax.json, mlp on 3 colours): the loss floors at 0.5514, the
# least a Softmax on the class scores lets cross-entropy of 3 classes reach, at 100%.
FLOORED = history([0.98899, 0.56614, 0.5516, 0.55145, 0.55144],
                  [0.57665, 0.55175, 0.55145, 0.55144, 0.55144],
                  [0.479, 1.0, 1.0, 1.0, 1.0], [1.0] * 5)


def _set_value(fix: str) -> tuple[str, object]:
    """The ``--set PATH=VALUE`` of a fix text, read as a shell reads it."""
    words = shlex.split(re.search(r"\((--set .*)\)$", fix).group(1))
    assert words[0] == "--set" and len(words) == 2, words
    path, _, value = words[1].partition("=")
    return path, json.loads(value)


@pytest.mark.parametrize("tail, floor", [("Softmax", math.log1p(2 / math.e)),
                                         ("Sigmoid", math.log1p(2 / math.e)),
                                         ("Tanh", math.log1p(2 * math.exp(-2)))])
def test_a_softmax_on_the_class_scores_is_named_as_the_floor_of_the_loss(tail, floor):
    (cause,) = model_causes(mlp(tail), 3)
    assert cause.floor == pytest.approx(floor)
    floored = history([0.99, floor * 1.02, floor * 1.0003, floor * 1.00001, floor],
                      [floor] * 5, [0.479, 1.0, 1.0, 1.0, 1.0], [1.0] * 5)
    assert [c(view(floored[:2], causes=[cause])) for c in C.CHECKS] == [None] * len(C.CHECKS)
    for n in (3, 5):  # flat within a tenth of the floor: said, whatever the rest says
        found = [f for f in (c(view(floored[:n], causes=[cause])) for c in C.CHECKS) if f]
        assert [f.kind for f in found] == ["loss_floor"]
    (f,) = found
    assert f"stopped at {floor:.3f}, though the network gets 100% of the training images " \
           f"right: it cannot go lower" in f.message
    assert f"layer 5 ({tail})" in f.message and f"cannot fall below {floor:.3f}" in f.message
    assert "larger network" not in f.fix and "learning rate" not in f.fix
    # The Model doctor's fix, one click in the app and a --set a shell takes.
    assert f.action["label"] == f"Remove layer 5 ({tail})"
    layers = f.action["set"]["model.layers"]
    assert [layer["type"] for layer in layers] == ["Flatten", "Linear", "ReLU", "Linear"]
    assert _set_value(f.fix) == ("model.layers", layers)


def test_underfitting_is_not_said_of_a_network_that_gets_the_images_right():
    # Without a known cause (a label smoothing, say): the loss is flat and over half of
    # ln(3), but a network at 100% fits the training images; a larger one cannot help.
    assert C.underfitting(view(FLOORED)) is None
    unfit = history([0.9, 0.8, 0.79, 0.785, 0.783], [0.9] * 5, [0.5] * 5, [0.55] * 5)
    assert C.underfitting(view(unfit)).kind == "underfitting"


def test_the_command_line_fixes_are_set_options_not_tabs():
    (relu,) = model_causes(mlp("ReLU"), 3)
    assert "Model tab" not in relu.fix
    assert _set_value(relu.fix) == ("model.layers", relu.action["set"]["model.layers"])
    exp = mlp()
    exp.augment.transforms = [Component("RandomHorizontalFlip", {"p": 0.5}),
                              Component("RandomRotation", {"degrees": 10.0})]
    flip = label_cause(exp, ["left", "right"])
    assert "Augment tab" not in flip.fix and flip.fix.startswith("remove the flip: ")
    kept = [{"type": "RandomRotation", "params": {"degrees": 10.0}}]
    assert _set_value(flip.fix) == ("augment.transforms", kept)
    # The app's button removes the flip itself (it opened the Augment tab).
    assert flip.action == {"label": "Remove the flip", "set": {"augment.transforms": kept},
                           "continue": False, "open": ""}
    exp.augment.transforms = exp.augment.transforms[:1]
    assert "--set 'augment.transforms=[]'" in label_cause(exp, ["left", "right"]).fix


def test_one_cause_is_said_once_and_a_zero_init_does_not_call_its_units_lost(
        tiny_experiment, tmp_path):
    exp = tiny_experiment.copy()
    exp.init = Component("zeros")
    exp.training.epochs = 3
    findings = run_training(exp.validate(), tmp_path / "run").result.findings
    assert len(findings) == 1, [(f["kind"], f["epoch"]) for f in findings]
    (f,) = findings
    assert "zeros initialisation" in f["message"]
    assert f["action"]["set"] == {"init.type": "default"}


def test_a_cause_said_by_one_finding_is_not_repeated_by_the_next():
    exp = mlp()
    exp.init = Component("zeros")
    (zeros,) = model_causes(exp, 3)
    flat = history([1.0986] * 3, [1.0986] * 3, [0.33] * 3, [0.33] * 3)
    kw = dict(causes=[zeros], dead={"1 (16 units)": (16, 16)}, weight_change=0.0,
              grads=[(["1", "3"], [0.0, 1.0], [1.0, 1.0])] * C.GRADIENT_SAMPLES)
    dead = C.dead_units(view(flat, **kw))
    # A silent unit is dead for good after too large a step, not from a zero init: the
    # default initialisation makes it fire.
    assert "never recovers" not in dead.message
    assert "Its fix brings the units to life: training alone cannot." in dead.message
    assert "never recovers" in C.dead_units(view(flat, dead=kw["dead"])).message
    said = view(flat, messages=[dead.message], **kw)
    assert [c(said) for c in (C.not_learning, C.vanishing_gradients, C.dead_units,
                              C.exploding_gradients, C.underfitting)] == [None] * 5
    assert C.not_learning(view(flat, **kw)).action["set"] == {"init.type": "default"}


def test_overfitting_on_a_flat_validation_loss_says_the_values_not_a_ratio():
    # Measured (the tester's noise.json, 25 epochs): training loss 1e-5, validation 0.4288
    # against its best 0.4286 two epochs before, 4 of 6 validation images right throughout.
    train = [1.098, 0.963, 0.835, 0.716, 0.552, 0.358, 0.242, 0.133, 0.086, 0.038, 0.028,
             0.011, 0.0043, 0.0023, 0.0011, 4.1e-4, 1.8e-4, 1.4e-4, 1.2e-4, 5e-5, 3e-5, 2e-5,
             2e-5, 1e-5, 1e-5]
    val = [1.064, 1.019, 0.962, 0.898, 0.825, 0.750, 0.678, 0.615, 0.564, 0.526, 0.497,
           0.476, 0.461, 0.451, 0.443, 0.438, 0.4344, 0.4320, 0.4304, 0.4294, 0.4289,
           0.42867, 0.4286, 0.42865, 0.42882]
    tacc = [0.37, 0.8, 0.9, 0.97] + [1.0] * 21
    f = C.overfitting(view(history(train, val, tacc, [0.667] * 25), val_counts=[2, 2, 2]))
    assert "times as much" not in f.message and "growing" not in f.message
    assert f.message.startswith(
        "Overfitting: the training loss is down to 1.0e-05, but the validation loss has "
        "not improved since epoch 23: it stays near 0.429; the training accuracy is 100%, "
        "the validation accuracy 67%.")


def test_overfitting_says_two_small_training_losses_apart():
    # "fell from 0.000 to under 0.001" (walk-longrun, defect 3): 3.0e-04 to 1.5e-04.
    train = [0.9, 0.3, 0.05, 0.01, 0.003, 0.0009, 3e-4, 2.5e-4, 2e-4, 1.8e-4, 1.5e-4]
    val = [0.9, 0.5, 0.2, 0.1, 0.05, 0.02, 0.014, 0.0145, 0.015, 0.0158, 0.0165]
    f = C.overfitting(view(history(train, val, [1.0] * 11, [1.0] * 11), val_counts=[2, 2, 2]))
    assert "from 0.014 at epoch 7 to 0.017, while the training loss fell from 3.0e-04 to " \
        "1.5e-04" in f.message, f.message
