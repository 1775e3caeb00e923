"""The transfer-learning preset: it takes its backbone's preprocessing and keeps the feature
cache on, keeps its name when only where the weights come from changes, init says whether
the weights are on this machine, and the Model doctor warns of preprocessing its pretrained
weights were not trained with."""

from __future__ import annotations

import pytest
import torch

from helpers import run_cli as run
from workbench.core.experiment import Experiment
from workbench.core.model.doctor import diagnose, fix_settings, starting_warnings
from workbench.core.model.presets import network_label, preset_experiment, preset_layers

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


@pytest.fixture(autouse=True)
def torch_home(tmp_path, monkeypatch):
    """torchvision's cache in a fresh folder: no pretrained file is found there."""
    home = tmp_path / "torch"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


def test_the_resnet18_preset_takes_its_preprocessing_and_caches_its_features():
    exp = preset_experiment("resnet18")
    assert exp.data.input_size == [224, 224] and exp.data.channels == 3
    assert exp.data.mean == pytest.approx(IMAGENET_MEAN)
    assert exp.data.std == pytest.approx(IMAGENET_STD)
    # Its random flip would turn the feature cache off: two views keep it on.
    assert any(t.type == "RandomHorizontalFlip" for t in exp.augment.transforms)
    assert exp.training.feature_views == 2
    plain = preset_experiment("seed-cnn")  # no backbone: nothing else set
    assert plain.data.input_size == Experiment().data.input_size
    assert plain.training.feature_views == 0


def test_where_the_backbones_weights_come_from_keeps_the_presets_name():
    layers = preset_layers("resnet18")
    layers[0].params.update(weights_file="/somewhere/resnet18-f37072fd.pth",
                            weights="pretrained", mode="fine_tune", backbone_lr_scale=0.5)
    assert network_label("resnet18", layers) == "resnet18"
    layers[0].params["arch"] = "resnet50"  # another network
    assert network_label("resnet18", layers) == "custom"


def _with_weights(tmp_path) -> Experiment:
    path = tmp_path / "resnet18.pth"
    torch.save({}, path)  # the doctor only looks whether it is there
    exp = preset_experiment("resnet18")
    exp.model.layers[0].params["weights_file"] = str(path)
    return exp


def test_the_doctor_warns_of_preprocessing_the_pretrained_weights_do_not_expect(tmp_path):
    exp = _with_weights(tmp_path)
    assert not [f for f in diagnose(exp, 3) if f.code == "backbone-preprocessing"]
    exp.data.input_size, exp.data.mean, exp.data.std = [32, 32], [0.5] * 3, [0.5] * 3
    [f] = [f for f in diagnose(exp, 3) if f.code == "backbone-preprocessing"]
    assert f.severity == "warning" and "0.485" in f.title and "224x224" in f.title
    assert fix_settings(exp, f.fix) == {"data.input_size": [224, 224],
                                        "data.mean": IMAGENET_MEAN, "data.std": IMAGENET_STD}
    # The command line hears it too, with the fix as --set options.
    [line] = [w for w in starting_warnings(exp, 3) if "0.485" in w]
    assert "--set 'data.mean=[0.485, 0.456, 0.406]'" in line
    f.fix.apply(exp)
    assert not [f for f in diagnose(exp, 3) if f.code == "backbone-preprocessing"]
    # A smaller input chosen for speed, with the right normalisation: a note, not a warning.
    exp.data.input_size = [112, 112]
    [f] = [f for f in diagnose(exp, 3) if f.code == "backbone-preprocessing"]
    assert f.severity == "info"


def test_random_backbone_weights_have_no_preprocessing_to_match():
    exp = preset_experiment("resnet18")  # no weights file on this machine
    exp.data.mean = [0.5] * 3
    assert not [f for f in diagnose(exp, 3) if f.code == "backbone-preprocessing"]


def test_init_says_that_no_pretrained_weights_are_on_this_machine(capsys, torch_home):
    code, _, err = run(capsys, "init", "--preset", "resnet18")
    assert code == 0
    [line] = [n for n in err.splitlines() if "no pretrained weights found" in n]
    assert str(torch_home) in line and "https://download.pytorch.org/models/" in line
    assert "2 feature views" in err  # and says what the preset set
    code, _, err = run(capsys, "init", "--preset", "mlp")
    assert "pretrained" not in err
