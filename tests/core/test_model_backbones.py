"""Pretrained backbones (transfer learning), with a fake torchvision cache: never a download.

Each test that needs "pretrained" weights saves a randomly initialised torchvision model's
state_dict where torchvision would have cached the real file, under a temporary TORCH_HOME.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest
import torch
import torchvision
from torch import nn

from workbench.core.errors import WorkbenchError
from workbench.core.registry import Component as C
from workbench.core.model.backbone_weights import (backbone_notes, backbone_preprocessing,
                                                   load_backbone_weights)
from workbench.core.model.backbones import Backbone
from workbench.core.model.builder import build_network, infer_shapes
from workbench.core.train.optim import build_optimizer, parameter_groups

FEATURES = {"resnet18": 512, "resnet50": 2048, "mobilenet_v3_small": 576,
            "efficientnet_b0": 1280, "vgg16": 25088}


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torchvision cache: $TORCH_HOME/hub/checkpoints."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # in case anything called set_dir
    return home


def cached_file(home, arch: str):
    """Where torchvision caches ``arch``'s default weights, with the file name of its URL."""
    url = torchvision.models.get_model_weights(arch).DEFAULT.url
    return home / "hub" / "checkpoints" / os.path.basename(urlparse(url).path)


def fake_weights(path, arch: str) -> dict[str, torch.Tensor]:
    """Save a random ``arch`` (with its 1000-class head) at ``path``; returns its state."""
    torch.manual_seed(123)
    state = torchvision.models.get_model(arch, weights=None).state_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


def net(arch="resnet18", **params):
    return build_network([C("Backbone", {"arch": arch, **params}), C("Linear")],
                         (3, 32, 32), 4)[0]


@pytest.mark.parametrize("arch", ["resnet18", "mobilenet_v3_small"])
def test_pretrained_weights_load_from_torchvision_cache(torch_home, arch):
    state = fake_weights(cached_file(torch_home, arch), arch)
    model = net(arch, weights="pretrained")
    notes = load_backbone_weights(model)
    assert notes == [f"layer 1 (Backbone {arch}): pretrained weights loaded from "
                     f"{cached_file(torch_home, arch)}"]
    own = model[0].net.state_dict()
    assert own, "the backbone has weights"
    head = "fc." if arch.startswith("resnet") else "classifier."
    for key, value in own.items():
        assert torch.equal(value, state[key]), key
    assert set(own) == {k for k in state if not k.startswith(head)}  # ImageNet head dropped


def test_weights_file_is_read_instead_of_the_cache(torch_home, tmp_path):
    state = fake_weights(tmp_path / "mine.pth", "resnet18")
    model = net(weights="auto", weights_file=str(tmp_path / "mine.pth"))
    assert "loaded from" in load_backbone_weights(model)[0]
    assert torch.equal(model[0].net.conv1.weight, state["conv1.weight"])


@pytest.mark.parametrize("arch", list(FEATURES))
def test_every_arch_gives_its_flat_features_at_a_small_input(arch):
    summary = infer_shapes([C("Backbone", {"arch": arch}), C("Linear")], (3, 32, 32), 4)
    assert summary.ok, summary.error
    assert summary.layers[0].output_shape == (FEATURES[arch],)
    assert summary.layers[1].params["in_features"] == FEATURES[arch]
    model = Backbone(arch, weights="random").eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, FEATURES[arch])  # the declared rule matches the real network
    assert summary.layers[0].num_params == sum(p.numel() for p in model.parameters())


def test_state_dict_keys_are_torchvisions_under_net():
    keys = net().state_dict()
    assert "0.net.conv1.weight" in keys and "0.net.layer4.1.bn2.running_mean" in keys
    assert not any(k.startswith("0.net.fc.") for k in keys)


def test_feature_extraction_freezes_the_backbone_and_keeps_its_batchnorm_in_eval():
    model = net(weights="random", mode="feature_extraction")
    backbone = model[0]
    assert not any(p.requires_grad for p in backbone.parameters())
    assert all(p.requires_grad for p in model[1].parameters())
    model.train()
    assert model[1].training
    bns = [m for m in backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    before = bns[0].running_mean.clone()
    model(torch.randn(4, 3, 32, 32) * 5 + 3).sum().backward()
    assert torch.equal(bns[0].running_mean, before)  # ImageNet statistics kept
    groups = parameter_groups(model, [C("Backbone"), C("Linear")], 0.01)
    assert [g["lr"] for g in groups] == [0.01]
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in model[1].parameters()}


def test_fine_tune_trains_the_backbone_at_a_scaled_learning_rate():
    layers = [C("Backbone", {"mode": "fine_tune", "backbone_lr_scale": 0.2}), C("Linear")]
    model = build_network(layers, (3, 32, 32), 4)[0]
    model.train()
    assert all(p.requires_grad for p in model.parameters())
    assert all(m.training for m in model[0].modules())
    groups = parameter_groups(model, layers, 0.01)
    assert [(g["name"], g["lr"]) for g in groups] == [("network", 0.01),
                                                      ("layer 1 (Backbone)", pytest.approx(0.002))]
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in model[0].parameters()}
    opt = build_optimizer(C("SGD", {"lr": 0.01}), groups)
    assert [g["lr"] for g in opt.param_groups] == [0.01, pytest.approx(0.002)]


def test_pretrained_missing_says_where_to_put_the_file(torch_home):
    model = net(weights="pretrained")
    with pytest.raises(WorkbenchError) as e:
        load_backbone_weights(model)
    msg = str(e.value)
    assert str(cached_file(torch_home, "resnet18")) in msg
    assert torchvision.models.ResNet18_Weights.DEFAULT.url in msg
    assert "'random'" in msg


def test_auto_missing_falls_back_to_random_weights_with_a_note(torch_home):
    layers = [C("Backbone", {"weights": "auto"}), C("Linear")]
    model = build_network(layers, (3, 32, 32), 4)[0]
    before = model[0].net.conv1.weight.clone()
    notes = load_backbone_weights(model)
    path = str(cached_file(torch_home, "resnet18"))
    assert len(notes) == 1 and path in notes[0] and "random weights" in notes[0]
    assert torch.equal(model[0].net.conv1.weight, before)
    # The same warning, before training, for the Model panel.
    assert backbone_notes(layers) == notes


def test_backbone_notes_before_training(torch_home):
    fake_weights(cached_file(torch_home, "mobilenet_v3_small"), "mobilenet_v3_small")
    notes = backbone_notes([C("Backbone", {"arch": "mobilenet_v3_small"}), C("Linear"),
                            C("Backbone", {"weights": "pretrained"}),
                            C("Backbone", {"weights": "random", "mode": "fine_tune"})])
    assert len(notes) == 2
    assert notes[0].startswith("layer 1 (Backbone mobilenet_v3_small): pretrained weights "
                               "will be loaded from")
    assert notes[1].startswith("layer 3 (Backbone resnet18): pretrained weights not found")
    assert notes[1].endswith("(training will stop on this)")


def test_frozen_random_backbone_is_worth_a_note():
    notes = load_backbone_weights(net(weights="random", mode="feature_extraction"))
    assert len(notes) == 1 and "fine_tune" in notes[0]
    assert load_backbone_weights(net(weights="random", mode="fine_tune")) == []


def test_a_foreign_or_broken_file_is_named(torch_home, tmp_path):
    fake_weights(tmp_path / "mobile.pth", "mobilenet_v3_small")
    model = net(weights="pretrained", weights_file=str(tmp_path / "mobile.pth"))
    with pytest.raises(WorkbenchError, match=r"mobile\.pth .*not resnet18 weights.*'random'"):
        load_backbone_weights(model)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    model = net(weights="auto", weights_file=str(tmp_path / "junk.pth"))
    with pytest.raises(WorkbenchError, match=r"junk\.pth cannot be read as PyTorch weights"):
        load_backbone_weights(model)


def test_misfits_name_the_fix():
    layers = [C("Backbone"), C("Linear")]
    gray = infer_shapes(layers, (1, 64, 64), 4)
    assert "expects RGB images (3 channels)" in gray.error
    assert "set data.channels to 3" in gray.error
    small = infer_shapes(layers, (3, 16, 64), 4)
    assert "16x64" in small.error and "at least 32x32" in small.error


def test_preprocessing_matches_the_pretrained_weights():
    pre = backbone_preprocessing("efficientnet_b0")
    assert pre["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert pre["std"] == pytest.approx([0.229, 0.224, 0.225])
    assert pre["input_size"] == [224, 224]
    with pytest.raises(WorkbenchError, match="resnet18"):
        backbone_preprocessing("alexnet")


def test_trainer_runs_two_epochs_with_a_backbone(tiny_experiment, torch_home):
    from workbench.core.train.trainer import Callback, Trainer

    exp = tiny_experiment
    exp.data.input_size = [32, 32]
    exp.model.layers = [C("Backbone", {"arch": "resnet18", "weights": "auto",
                                       "mode": "fine_tune", "backbone_lr_scale": 0.5}),
                        C("Linear")]
    seen = {}

    class Info(Callback):
        def on_fit_start(self, trainer, info):
            seen.update(info)

    trainer = Trainer(exp, [Info()])
    result = trainer.fit()
    assert [m["epoch"] for m in result.history] == [1, 2]
    assert all(m["train_loss"] == m["train_loss"] for m in result.history)  # not NaN
    assert len(seen["notes"]) == 1 and "training from random weights" in seen["notes"][0]
    assert [g["lr"] for g in trainer.optimizer.param_groups] == [0.01, 0.005]


def test_parameter_groups_list_a_tied_parameter_once_and_refuse_an_all_frozen_network():
    first, second = nn.Linear(4, 4), nn.Linear(4, 4)
    second.weight = first.weight  # a weight tie, as Component.share makes
    model = nn.Sequential(first, nn.ReLU(), second)
    groups = parameter_groups(model, None, 0.1)
    assert len(groups) == 1
    assert [id(p) for p in groups[0]["params"]] == [id(first.weight), id(first.bias),
                                                    id(second.bias)]
    model.requires_grad_(False)
    with pytest.raises(WorkbenchError, match="nothing to train"):
        parameter_groups(model, None, 0.1)


def test_any_error_of_a_backbone_forward_is_a_misfit_of_that_layer(monkeypatch):
    # Shape inference runs a backbone once on the meta device (to count multiply-adds):
    # whatever that raises must be the layer's misfit, never an exception of the panel.
    from workbench.core.model import backbones

    def refuse(self, x):
        raise AssertionError("Input height (72) should be divisible by 7")

    monkeypatch.setattr(Backbone, "forward", refuse)
    backbones.arch_counts.cache_clear()
    try:
        s = infer_shapes([C("Backbone", {"weights": "random"}), C("Linear")], (3, 72, 88), 4)
    finally:
        backbones.arch_counts.cache_clear()
    assert not s.ok and s.error_index == 0
    assert s.error.startswith("layer 1 (Backbone) cannot take an input of shape (3, 72, 88)")
    assert "divisible by 7" in s.error


def test_a_folder_or_a_file_that_cannot_be_weights_is_named_before_training(torch_home,
                                                                             tmp_path):
    # From a tester's day: a 7-byte file got "pretrained weights will be loaded from ...",
    # and a folder "not found at ..." though it exists.
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"garbage")
    folder = tmp_path / "weights"
    folder.mkdir()
    for weights in ("auto", "pretrained"):
        (note,) = backbone_notes([C("Backbone", {"weights": weights,
                                                 "weights_file": str(garbage)})])
        assert str(garbage) in note and "cannot be read as weights" in note
        assert "7 bytes" in note and "will be loaded" not in note
        assert note.endswith("(training will stop on this)")
        (note,) = backbone_notes([C("Backbone", {"weights": weights,
                                                 "weights_file": str(folder)})])
        assert f"{folder} is a folder: choose the .pth or .safetensors" in note
        assert "not found" not in note
    # Training says the same about the folder (a file is loaded, and says why it fails).
    with pytest.raises(WorkbenchError, match="is a folder"):
        load_backbone_weights(net(weights="auto", weights_file=str(folder)))
    # Files torch.save and safetensors write pass the quick look.
    fake_weights(tmp_path / "real.pth", "resnet18")
    (note,) = backbone_notes([C("Backbone", {"weights_file": str(tmp_path / "real.pth")})])
    assert "will be loaded from" in note
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "real.safetensors"))
    old = tmp_path / "old.pth"
    torch.save({"w": torch.zeros(2)}, old, _use_new_zipfile_serialization=False)
    from workbench.core.model.backbone_weights import weights_file_problem

    assert weights_file_problem(tmp_path / "real.safetensors") is None
    assert weights_file_problem(old) is None
    (tmp_path / "empty.pth").write_bytes(b"")
    assert "empty" in weights_file_problem(tmp_path / "empty.pth")
