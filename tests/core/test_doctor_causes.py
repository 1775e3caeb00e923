"""The training doctor names what in the network or the run stops it learning (every
training batch skipped, a constant initialisation, an activation on the class scores)
instead of blaming the learning rate, whose fix could not help (learner-tester report)."""

from __future__ import annotations

from helpers import make_digits
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.causes import layer_name, model_causes, skipped_cause
from workbench.core.train.run import run_training

CLASSES = [str(i) for i in range(10)]
FLAT = [{"epoch": i + 1, "train_loss": 2.303, "val_loss": 2.303, "train_acc": 0.1,
         "val_acc": 0.1} for i in range(3)]


def _view(**kw):
    kw.setdefault("chance", 0.1)
    kw.setdefault("lr", 1e-3)
    kw.setdefault("default_lr", 1e-3)
    kw.setdefault("first_loss", 2.303)
    return C.RunView(classes=CLASSES, history=FLAT, **kw)


def _mlp(**init) -> Experiment:
    exp = Experiment()
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 32}),
                        Component("ReLU"), Component("Linear")]
    if init:
        exp.init = Component(**init)
    return exp


def _no_rate(findings):
    for f in findings:
        assert "optimizer.params.lr" not in ((f.get("action") or {}).get("set") or {}), f
        assert "learning rate" not in f["fix"], f


def test_a_constant_init_is_the_cause_not_the_rate():
    causes = model_causes(_mlp(type="zeros"), 10)
    assert [c.code for c in causes] == ["constant-init"]
    dead = {"1 (32 units)": (32, 32)}
    v = _view(causes=causes, dead=dead, weight_change=0.0,
              grads=[(["1", "3"], [0.0, 1.0], [1.0, 1.0])] * C.GRADIENT_SAMPLES,
              activations=frozenset({"ReLU", "Linear", "Flatten"}))
    found = [f.to_dict() for f in (C.not_learning(v), C.dead_units(v),
                                   C.vanishing_gradients(v))]
    for f in found:
        assert "zeros initialisation" in f["message"], f
        assert f["action"]["set"] == {"init.type": "default"}
        assert "step far too large" not in f["message"] and "ReLU activations" not in f["fix"]
    _no_rate(found)
    assert C.lr_too_low(v) is None  # the network's doing, not the rate's
    # The silent layer is named as the network's layers are, not as "32 of the 32 of 1
    # (32 units)".
    assert "all 32 units of the ReLU at layer 2" in found[1]["message"]
    assert layer_name("layer4.1.relu (64 units)") == "the ReLU layer4.1.relu"


def test_without_a_cause_the_rate_is_still_blamed_and_relu_is_advised_only_where_missing():
    v = _view(dead={"1 (32 units)": (30, 32)}, lr=0.5)  # far above the usual 0.001
    f = C.dead_units(v)
    assert "30 of the 32 units" in f.message and "step far too large" in f.message
    assert "optimizer.params.lr" in f.action["set"]
    g = [(["1", "3"], [0.0, 1.0], [1.0, 1.0])] * C.GRADIENT_SAMPLES
    assert "ReLU" not in C.vanishing_gradients(_view(grads=g,
                                                     activations=frozenset({"ReLU"}))).fix
    assert "ReLU" in C.vanishing_gradients(_view(grads=g,
                                                 activations=frozenset({"Sigmoid"}))).fix


def test_an_activation_on_the_class_scores_is_named_with_its_fix():
    exp = _mlp()
    exp.model.layers.append(Component("ReLU"))
    (cause,) = model_causes(exp, 10)
    assert cause.code == "activation-after-output" and "layer 5 (ReLU)" in cause.why
    v = _view(causes=[cause], dead={"4 (10 units)": (10, 10)}, weight_change=0.0)
    found = [C.not_learning(v).to_dict(), C.dead_units(v).to_dict()]
    for f in found:
        assert "remove layer 5 (ReLU) (--set 'model.layers=[" in f["fix"]
        assert f["action"]["label"] == "Remove layer 5 (ReLU)"  # the Model doctor's, here
    _no_rate(found)
    assert model_causes(_mlp(), 10) == []  # a sound network: the rate may be blamed


def test_every_batch_skipped_is_said_at_once_with_the_batch_size_fix():
    v = _view(weight_change=0.0, skipped=skipped_cause(1))
    v.history = [{"epoch": 1, "train_loss": None, "val_loss": 2.3, "train_acc": None,
                  "val_acc": 0.1}]
    f = C.not_learning(v)
    assert f is not None and f.epoch == 1 and "skipped" in f.message
    assert "BatchNorm" in f.message and f.action["set"] == {"data.batch_size": 32}


def test_a_run_with_batch_size_one_and_batchnorm_is_refused_with_the_batch_fix(tmp_path):
    # It used to train on no batch and leave the skipped batches to the training doctor:
    # the outcome is certain before the first batch, so the run is refused with the fix.
    exp = Experiment()
    exp.data.folder = make_digits(tmp_path / "d", per_class=4, size=8)
    exp.data.input_size, exp.data.channels, exp.data.batch_size = [8, 8], 1, 1
    exp.data.mean, exp.data.std = [0.2], [0.3]
    exp.model.layers = [Component("Conv2d", {"out_channels": 4}), Component("BatchNorm2d"),
                        Component("ReLU"), Component("Flatten"), Component("Linear")]
    exp.augment.transforms = []
    exp.training.epochs, exp.training.device = 2, "cpu"
    outcome = run_training(exp.validate(), tmp_path / "run")
    assert outcome.status == "failed" and outcome.result.findings == []
    assert "every training batch would be skipped" in outcome.message
    # 32 training images: 8 makes 4 steps an epoch, where 32 would make one.
    assert outcome.error.action["set"] == {"data.batch_size": 8}


def test_a_zero_initialised_run_names_the_init(tmp_path):
    exp = Experiment()
    exp.data.folder = make_digits(tmp_path / "d", per_class=6, size=8)
    exp.data.input_size, exp.data.channels = [8, 8], 1
    exp.data.mean, exp.data.std = [0.2], [0.3]
    exp.model.layers = _mlp().model.layers
    exp.init = Component("zeros")
    exp.augment.transforms = []
    exp.training.epochs, exp.training.device = 3, "cpu"
    outcome = run_training(exp.validate(), tmp_path / "run")
    findings = outcome.result.findings
    assert findings and all("zeros initialisation" in f["message"] for f in findings), \
        findings
    _no_rate(findings)


def test_dropout_that_lets_nothing_through_is_the_cause_not_the_rate():
    exp = _mlp()
    exp.model.layers.insert(2, Component("Dropout", {"p": 1.0}))
    (cause,) = model_causes(exp, 10)
    assert cause.code == "dropout-drops-everything" and cause.stops
    assert "layer 3 (Dropout)" in cause.why and "no gradient" in cause.why
    assert "set p of layer 3 (dropout) to 0.5" in cause.fix.lower()
    found = [C.not_learning(_view(causes=[cause], weight_change=0.0)).to_dict()]
    _no_rate(found)
    exp.model.layers[2].params["p"] = 0.9  # learns from scraps: named, after a stopping cause
    (cause,) = model_causes(exp, 10)
    assert cause.code == "dropout-too-high" and not cause.stops


def test_only_a_zero_constant_is_said_to_starve_the_layers_before_of_gradient():
    """Stop 30's note: a constant init of 0.5 was said to give the layers before "no
    gradient at all" (true of zeros only), and its title read "every weight the same"."""
    half = model_causes(_mlp(type="constant", params={"val": 0.5}), 10)[0]
    assert "every weight 0.5" in half.why and "learn as one" in half.why
    assert "no gradient" not in half.why and "from zeros" not in half.why
    for init in ({"type": "zeros"}, {"type": "constant", "params": {"val": 0.0}},
                 {"type": "normal", "params": {"mean": 0.0, "std": 0.0}}):
        why = model_causes(_mlp(**init), 10)[0].why
        assert "every weight 0)" in why and "get no gradient at all" in why, why
