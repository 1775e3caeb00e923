"""The model doctor: each check fires on a bad network, stays quiet on a good one, and its
fix makes it go away."""

from __future__ import annotations

import dataclasses
import logging
import random

import pytest

from workbench.core.registry import Component as C
from workbench.core.experiment import Experiment
from workbench.core.model.builder import infer_shapes
from workbench.core.model.doctor import diagnose
from workbench.core.model.findings import Finding
from workbench.core.model.doctor_checks import CHECKS
from workbench.core.model.layers import LAYERS
from workbench.core.model.presets import list_presets, preset_layers
from workbench.core.train.optim import LOSSES

K = 10  # classes

# A small CNN with every habit right: Conv-BN-ReLU, pooling, global average pooling, dropout
# before the hidden Linear; layer 1 is the BatchNorm2d, 9 the hidden Linear, 11 the last.
GOOD = [("Conv2d", {"out_channels": 8}), ("BatchNorm2d", {}), ("ReLU", {}), ("MaxPool2d", {}),
        ("Conv2d", {"out_channels": 16}), ("ReLU", {}), ("AdaptiveAvgPool2d", {}),
        ("Flatten", {}), ("Dropout", {"p": 0.2}), ("Linear", {"out_features": 32}),
        ("ReLU", {}), ("Linear", {})]

def _exp(layers, batch_size: int = 16) -> Experiment:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.data.batch_size = batch_size
    exp.model.layers = [C(t, dict(p)) for t, p in layers]
    return exp


def _found(exp: Experiment, code: str, num_classes: int = K) -> list[Finding]:
    return [f for f in diagnose(exp, num_classes) if f.code == code]


def _needs(*types: str) -> None:
    missing = [t for t in types if t not in LAYERS]
    if missing:
        pytest.skip(f"layer type(s) {', '.join(missing)} not registered yet")


def _fix(exp: Experiment, finding: Finding) -> Experiment:
    """Apply the finding's fix to a copy, as the GUI does (snapshot, then edit)."""
    assert finding.fix is not None
    fixed = exp.copy()
    finding.fix.apply(fixed)
    return fixed


def test_good_network_and_every_preset_have_no_warnings():
    assert diagnose(_exp(GOOD), K) == []
    assert infer_shapes(_exp(GOOD).model.layers, (3, 16, 16), K).ok
    for name, _ in list_presets():
        exp = Experiment()
        exp.model.layers = preset_layers(name)
        # The resnet18 preset's frozen backbone is right with its weights file, and rightly
        # warned about without it (test_a_frozen_backbone_without_weights_...).
        warnings = [f for f in diagnose(exp, K) if f.severity == "warning"
                    and f.code != "frozen-random-backbone"]
        assert warnings == [], name


@pytest.mark.parametrize("kind, severity", [("Softmax", "warning"), ("LogSoftmax", "info")])
def test_softmax_before_cross_entropy(kind, severity):
    _needs(kind)
    code = "softmax-before-cross-entropy" if kind == "Softmax" \
        else "log-softmax-before-cross-entropy"
    exp = _exp(GOOD + [(kind, {})])
    [f] = _found(exp, code)
    assert (f.layer, f.severity) == (12, severity)
    assert f"layer 13 ({kind})" in f.title and "CrossEntropyLoss" in f.explanation
    assert f.fix.label == f"Remove layer 13 ({kind})"
    fixed = _fix(exp, f)
    assert [c.type for c in fixed.model.layers] == [t for t, _ in GOOD]
    assert _found(fixed, code) == []
    # Only a problem with cross-entropy, which applies log-softmax itself.
    others = [n for n in LOSSES.names() if n not in ("CrossEntropy", "CrossEntropyLoss")]
    if others:
        exp.loss = C(others[0])
        assert _found(exp, code) == []


def test_softmax_inside_the_network_is_not_the_output_softmax():
    _needs("Softmax")
    exp = _exp([("Flatten", {}), ("Linear", {"out_features": 32}), ("Softmax", {}),
                ("Linear", {})])
    assert _found(exp, "softmax-before-cross-entropy") == []


@pytest.mark.parametrize("kind", ["ReLU", "Sigmoid", "Tanh"])
def test_activation_on_the_class_scores(kind):
    exp = _exp(GOOD + [(kind, {})])
    [f] = _found(exp, "activation-after-output")
    assert f.layer == 12 and "layer 13" in f.title and "layer 12 (Linear)" in f.title
    assert f.fix.label == f"Remove layer 13 ({kind})"
    fixed = _fix(exp, f)
    assert len(fixed.model.layers) == len(GOOD)
    assert _found(fixed, "activation-after-output") == []
    # The ReLU between the hidden and the last Linear layer (index 10) is right.
    assert _found(_exp(GOOD), "activation-after-output") == []


def test_dropout_as_the_last_layer():
    exp = _exp(GOOD + [("Dropout", {"p": 0.5})])
    [f] = _found(exp, "dropout-at-end")
    assert f.layer == 12 and f.fix.label == "Remove layer 13 (Dropout)"
    assert _found(_fix(exp, f), "dropout-at-end") == []
    assert _found(_exp(GOOD), "dropout-at-end") == []  # dropout before the last Linear


def test_two_linear_layers_without_activation_get_a_relu_after_the_first():
    exp = _exp([("Flatten", {}), ("Linear", {"out_features": 32}), ("Dropout", {}),
                ("Linear", {})])
    [f] = _found(exp, "no-nonlinearity")
    assert f.layer == 1 and "layer 2 (Linear)" in f.title and "layer 4 (Linear)" in f.title
    assert f.fix.label == "Insert ReLU after layer 2 (Linear)"
    fixed = _fix(exp, f)
    assert [c.type for c in fixed.model.layers] == ["Flatten", "Linear", "ReLU", "Dropout",
                                                    "Linear"]
    assert _found(fixed, "no-nonlinearity") == []


def test_conv_batchnorm_conv_gets_its_relu_after_the_batchnorm():
    exp = _exp([("Conv2d", {}), ("BatchNorm2d", {}), ("Conv2d", {}), ("ReLU", {}),
                ("AdaptiveAvgPool2d", {}), ("Flatten", {}), ("Linear", {})])
    [f] = _found(exp, "no-nonlinearity")
    assert f.layer == 0 and f.fix.label == "Insert ReLU after layer 2 (BatchNorm2d)"
    fixed = _fix(exp, f)
    assert [c.type for c in fixed.model.layers][:4] == ["Conv2d", "BatchNorm2d", "ReLU",
                                                        "Conv2d"]
    assert _found(fixed, "no-nonlinearity") == []


def test_pooling_between_convolutions():
    conv = ("Conv2d", {})
    tail = [("ReLU", {}), ("Flatten", {}), ("Linear", {})]
    # Averaging is linear, so it does not separate two convolutions; max pooling does.
    assert len(_found(_exp([conv, ("AvgPool2d", {}), conv] + tail), "no-nonlinearity")) == 1
    assert _found(_exp([conv, ("MaxPool2d", {}), conv] + tail), "no-nonlinearity") == []


def test_zero_initialisation_of_the_experiment():
    exp = _exp(GOOD)
    exp.init = C("zeros")
    [f] = _found(exp, "constant-init")
    assert f.layer is None and "zeros" in f.title
    fixed = _fix(exp, f)
    assert fixed.init.type == "default"
    assert _found(fixed, "constant-init") == []
    # Constant in disguise.
    for init in (C("normal", {"mean": 0.1, "std": 0.0}), C("uniform", {"a": 0.2, "b": 0.2}),
                 C("xavier_uniform", {"gain": 0.0})):
        exp.init = init
        assert len(_found(exp, "constant-init")) == 1, init
    for init in (C("normal", {"std": 0.01}), C("kaiming_normal"), C("default")):
        exp.init = init
        assert _found(exp, "constant-init") == [], init


def test_zeros_are_fine_for_a_single_layer():
    # Logistic regression from zeros trains: each class's weights get their own gradient.
    exp = _exp([("Flatten", {}), ("Linear", {})])
    exp.init = C("zeros")
    assert _found(exp, "constant-init") == []


@pytest.fixture
def layer_init():
    if "init" not in {f.name for f in dataclasses.fields(C)}:
        pytest.skip("Component has no per-layer init yet")


@pytest.mark.parametrize("global_init", ["default", "zeros"])
def test_zero_initialisation_of_one_hidden_layer(layer_init, global_init):
    exp = _exp(GOOD)
    exp.init = C(global_init)
    exp.model.layers[9].init = {"weight": {"type": "zeros", "params": {}}}
    found = _found(exp, "constant-init")
    [f] = [f for f in found if f.layer == 9]
    assert "layer 10 (Linear)" in f.title
    fixed = _fix(exp, f)
    assert [g.layer for g in _found(fixed, "constant-init")] == \
        ([] if global_init == "default" else [None])
    # The layer's init is gone where the experiment's is random, "default" where it is not.
    assert fixed.model.layers[9].init == (None if global_init == "default" else
                                          {"weight": {"type": "default", "params": {}}})


def test_zero_initialised_output_layer_is_fine(layer_init):
    exp = _exp(GOOD)
    exp.model.layers[11].init = {"weight": {"type": "zeros", "params": {}}}
    assert _found(exp, "constant-init") == []


def test_output_size_pinned_to_another_number_of_classes():
    exp = _exp(GOOD[:-1] + [("Linear", {"out_features": 7})])
    [f] = _found(exp, "output-size")
    assert f.layer == 11 and "7 scores" in f.title and "10 classes" in f.title
    assert f.fix.label == "Set out_features of layer 12 (Linear) to auto"
    fixed = _fix(exp, f)
    assert fixed.model.layers[11].params["out_features"] is None
    assert _found(fixed, "output-size") == []
    assert infer_shapes(fixed.model.layers, (3, 16, 16), K).ok
    assert _found(exp, "output-size", num_classes=7) == []  # pinned to the right number


def test_missing_flatten_before_linear():
    exp = _exp([("Conv2d", {"out_channels": 4}), ("ReLU", {}), ("Linear", {})])
    [f] = _found(exp, "missing-flatten")
    assert f.layer == 2 and "layer 2 (ReLU)" in f.title and "4x16x16" in f.explanation
    assert f.fix.label == "Insert Flatten before layer 3 (Linear)"
    fixed = _fix(exp, f)
    assert [c.type for c in fixed.model.layers] == ["Conv2d", "ReLU", "Flatten", "Linear"]
    assert _found(fixed, "missing-flatten") == []
    assert infer_shapes(fixed.model.layers, (3, 16, 16), K).ok
    # Straight on the input image, too.
    [f] = _found(_exp([("Linear", {})]), "missing-flatten")
    assert f.layer == 0 and "the input" in f.title


def test_batchnorm_with_batches_of_one():
    exp = _exp(GOOD, batch_size=1)
    [f] = _found(exp, "batchnorm-batch-one")
    assert f.layer == 1 and "layer 2 (BatchNorm2d)" in f.title
    assert f.severity == "error"  # a run refuses it: it would skip every training batch
    fixed = _fix(exp, f)
    assert fixed.data.batch_size == 32
    assert _found(fixed, "batchnorm-batch-one") == []
    assert _found(_exp(GOOD, batch_size=2), "batchnorm-batch-one") == []
    no_bn = [layer for layer in GOOD if layer[0] != "BatchNorm2d"]
    assert _found(_exp(no_bn, batch_size=1), "batchnorm-batch-one") == []


def test_backbone_with_batchnorm_and_batches_of_one():
    _needs("Backbone")
    exp = _exp([("Backbone", {"arch": "resnet18", "weights": "random"}), ("Linear", {})],
               batch_size=1)
    [f] = _found(exp, "batchnorm-batch-one")
    assert f.layer == 0 and "layer 1 (Backbone)" in f.title
    exp.model.layers[0].params["arch"] = "vgg16"  # torchvision's vgg16 has no BatchNorm
    assert _found(exp, "batchnorm-batch-one") == []


def test_a_frozen_backbone_without_weights_is_a_warning_and_fine_tuning_fixes_it(
        tmp_path, monkeypatch):
    # From a user's day: the resnet18 preset on a machine without its weights file (auto
    # falls back to random weights where no file is named and torch's cache has none) got
    # "No problems found", though only its last layer could learn, on random features.
    _needs("Backbone")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty torch cache"))
    exp = _exp([("Backbone", {"arch": "resnet18", "weights": "auto", "weights_file": "",
                              "mode": "feature_extraction"}), ("Linear", {})])
    [f] = _found(exp, "frozen-random-backbone")
    assert f.layer == 0 and f.severity == "warning" and "layer 1 (Backbone)" in f.title
    assert "fine_tune" in f.explanation
    fixed = _fix(exp, f)
    assert fixed.model.layers[0].params["mode"] == "fine_tune"
    assert _found(fixed, "frozen-random-backbone") == []
    exp.model.layers[0].params.update(weights="random", weights_file="")
    assert len(_found(exp, "frozen-random-backbone")) == 1
    # With its weights file on this machine, freezing it is the point.
    present = tmp_path / "resnet18.pth"
    present.write_bytes(b"weights")
    exp.model.layers[0].params.update(weights="auto", weights_file=str(present))
    assert _found(exp, "frozen-random-backbone") == []


def test_one_linear_layer_holding_most_parameters():
    exp = Experiment()
    exp.model.layers = preset_layers("seed-cnn")  # 64x8x8 flattened into Linear(128)
    [f] = _found(exp, "dominant-layer")
    assert (f.layer, f.severity, f.fix) == (7, "info", None)
    assert "layer 8 (Linear)" in f.title and "96%" in f.title
    # Almost all is not all: a share of 99.7% is not rounded up to 100%.
    exp.model.layers[7].params["out_features"] = 4096
    [f] = _found(exp, "dominant-layer")
    assert "(99." in f.title and "100%" not in f.title, f.title
    exp.model.layers = preset_layers("seed-cnn")
    assert "64x8x8" in f.explanation and "pool" in f.explanation.lower()
    # Global average pooling before Flatten keeps the Linear layer small.
    exp.model.layers = preset_layers("cnn-bn")
    assert _found(exp, "dominant-layer") == []
    # A one-layer network, or a small one, says nothing.
    assert _found(_exp([("Flatten", {}), ("Linear", {})]), "dominant-layer") == []
    assert _found(_exp([("Flatten", {}), ("Linear", {"out_features": 8}), ("ReLU", {}),
                        ("Linear", {})]), "dominant-layer") == []


def test_findings_are_ordered_by_layer_then_severity():
    exp = _exp([("Flatten", {}), ("Linear", {"out_features": 256}), ("Linear", {}),
                ("ReLU", {})])
    exp.init = C("zeros")
    assert [(f.code, f.layer, f.severity) for f in diagnose(exp, K)] == [
        ("constant-init", None, "warning"),
        ("no-nonlinearity", 1, "warning"),
        ("dominant-layer", 1, "info"),
        ("activation-after-output", 3, "warning"),
    ]


def test_diagnose_reads_but_never_changes_the_experiment():
    exp = _exp(GOOD + [("ReLU", {}), ("Dropout", {})], batch_size=1)
    exp.init = C("zeros")
    before = exp.to_dict()
    findings = diagnose(exp, K)
    assert len(findings) >= 4
    assert exp.to_dict() == before


def _garbage_layer(rng: random.Random) -> C:
    kind = rng.choice(LAYERS.names() + ["NoSuchLayer", "", "Backbone"])
    params = rng.choice([{}, {}, None, [], {"out_features": rng.choice([0, 3, -1, "x", None])},
                         {"out_channels": rng.choice([1, 2.5, True])}, {"p": 2}, {"bogus": 1}])
    comp = C(kind, params)
    if rng.random() < 0.1:
        comp.type = rng.choice([None, 3])
    if rng.random() < 0.2 and hasattr(comp, "init"):
        comp.init = rng.choice([{"weight": "zeros"}, {"weight": {"type": "zeros"}},
                                {"weight": {"type": "normal", "params": {"std": 0}}}, 5])
    return comp


def test_diagnose_never_raises_whatever_the_layers(caplog):
    rng = random.Random(5)
    inits = [C("zeros"), C("normal", {"std": "x"}), C("nope"), C("uniform", {"a": 1, "b": 0}),
             C("default")]
    with caplog.at_level(logging.ERROR, logger="workbench.core.model.doctor"):
        for _ in range(300):
            exp = _exp([], batch_size=rng.choice([1, 2, 0]))
            exp.model.layers = [_garbage_layer(rng) for _ in range(rng.randint(0, 8))]
            exp.init = rng.choice(inits)
            exp.loss = rng.choice([C("CrossEntropy"), C("Unknown")])
            for f in diagnose(exp, rng.choice([1, 2, 10])):
                # An error only for what a run refuses: batches of one with BatchNorm.
                assert isinstance(f, Finding) and (f.severity in ("warning", "info") or
                                                   f.code == "batchnorm-batch-one")
                if f.fix is not None:
                    assert f.fix.label
                    f.fix.apply(exp.copy())  # a fix, too, must cope with any layer list
    # diagnose swallows a failing check; none may have failed.
    assert [r.getMessage() for r in caplog.records] == []


def test_every_check_is_listed_once():
    assert len(CHECKS) == len(set(CHECKS)) >= 9


def test_a_network_that_does_not_fit_is_the_doctors_first_finding():
    from workbench.core.model.doctor import misfit_finding

    layers = [C("Conv2d", {"out_channels": 4, "kernel_size": 40}), C("Flatten"), C("Linear")]
    summary = infer_shapes(layers, (3, 32, 32), 3)
    finding = misfit_finding(summary)
    assert (finding.code, finding.severity, finding.layer) == ("does-not-fit", "error", 0)
    assert finding.title == summary.error and "layer 1 fits" in finding.explanation
    assert misfit_finding(infer_shapes(layers[1:], (3, 32, 32), 3)) is None


def test_a_network_too_big_to_train_is_an_error_with_its_size_and_a_pooling_fix():
    # From a tester's day: the seed CNN at 4096x4096 has 8.6 billion parameters (128 GB to
    # train with Adam) and the doctor only said "dominant layer" (info).
    exp = Experiment()
    exp.model.layers = preset_layers("seed-cnn")
    exp.data.input_size = [4096, 4096]
    [f] = _found(exp, "network-too-big")
    assert (f.severity, f.layer) == ("error", 7)
    total = infer_shapes(exp.model.layers, (3, 4096, 4096), K).total_params  # 8.6e9
    assert "128.0 GB" in f.title and f"({total:,} parameters)" in f.title
    assert "AdaptiveAvgPool2d" in f.title and "smaller input size" in f.title
    assert "layer 8 (Linear)" in f.explanation and "data.input_size" in f.explanation
    assert f.fix.label == "Insert AdaptiveAvgPool2d(1) before layer 7 (Flatten)"
    fixed = _fix(exp, f)
    assert [c.type for c in fixed.model.layers[5:8]] == ["MaxPool2d", "AdaptiveAvgPool2d",
                                                         "Flatten"]
    summary = infer_shapes(fixed.model.layers, (3, 4096, 4096), K)
    assert summary.ok and summary.total_params < 100_000
    assert _found(fixed, "network-too-big") == []
    exp.data.input_size = [64, 64]
    assert _found(exp, "network-too-big") == []


def test_network_size_against_the_devices_memory(monkeypatch):
    from workbench.core.model import doctor_size

    exp = Experiment()
    exp.model.layers = preset_layers("seed-cnn")
    exp.data.input_size = [1024, 1024]  # 537M parameters: 8 GB with Adam, 6 GB with SGD
    exp.training.device = "cuda:0"
    asked = []

    def memory(gb):
        def device_memory(device):
            asked.append(device)
            return "the GPU cuda:0", gb * 2**30
        return device_memory

    monkeypatch.setattr(doctor_size, "device_memory", memory(6))
    [f] = _found(exp, "network-too-big")
    assert f.severity == "error" and "more than the 6.0 GB of the GPU cuda:0" in f.title
    assert "8.0 GB" in f.title and asked == ["cuda:0"]
    exp.optimizer = C("SGD", {"lr": 0.1, "momentum": 0.0})  # no optimizer state: 4.0 GB
    [f] = _found(exp, "network-too-big")
    assert f.severity == "warning" and "over half of the 6.0 GB" in f.title
    monkeypatch.setattr(doctor_size, "device_memory", memory(64))
    [f] = _found(exp, "network-too-big")  # fits, but 4 GB of weights is no classifier
    assert f.severity == "warning" and "4.0 GB" in f.title
    exp.data.input_size = [256, 256]
    asked.clear()
    assert _found(exp, "network-too-big") == [] and asked == []  # small: memory not asked
