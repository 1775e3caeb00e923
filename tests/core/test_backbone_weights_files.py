"""Which weights file a Backbone is given, and what it is told: another network's file is
refused by name whichever library built the backbone (never "loaded" over random weights,
never "damaged" when it is whole), a Workbench run's bundle or checkpoint gives its
backbone's weights (a second, fine-tuning stage from a first, frozen one), a download cut
short is called so before training, and a weights_file named but missing stops training
whatever ``weights`` says. No file is downloaded: each is made here."""

from __future__ import annotations

import json

import pytest
import torch
import torchvision
from safetensors.torch import save_file

from workbench.core.errors import WorkbenchError
from workbench.core.model.backbone_weights import (backbone_notes, expects_pretrained,
                                                   frozen_without_weights,
                                                   load_backbone_weights, weights_file_problem)
from workbench.core.model.backbones import Backbone
from workbench.core.registry import Component as C
from workbench.core.train.run import run_training

TIMM_ARCH = "timm/mobilenetv3_large_100"


@pytest.fixture(autouse=True)
def _no_caches(tmp_path, monkeypatch):
    """Empty torchvision and Hugging Face caches, and no network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))


def _error(arch: str, path, weights: str = "pretrained") -> str:
    model = torch.nn.Sequential(Backbone(arch, weights=weights, weights_file=str(path)))
    with pytest.raises(WorkbenchError) as e:
        load_backbone_weights(model)
    return str(e.value)


@pytest.mark.parametrize("save", ["torch", "safetensors"])
def test_a_timm_backbone_given_another_networks_file_is_refused_by_name(tmp_path, save):
    # From a tester's day: torchvision's mobilenet_v3_small .pth given to
    # timm/mobilenetv3_large_100 trained on random weights, noted "pretrained weights
    # loaded"; resnet18's .safetensors was called "incomplete or damaged: delete it".
    state = torchvision.models.mobilenet_v3_small(weights=None).state_dict()
    path = tmp_path / f"mnv3.{'pth' if save == 'torch' else 'safetensors'}"
    torch.save(state, path) if save == "torch" else save_file(state, str(path))
    message = _error(TIMM_ARCH, path)
    assert f"{path} lacks 'conv_stem.weight' and " in message
    assert f"more: it is not {TIMM_ARCH} weights. Point weights_file at the {TIMM_ARCH} " \
           f"file (https://huggingface.co/timm/mobilenetv3_large_100" in message
    assert "damaged" not in message and "loaded" not in message
    # The same with weights auto: a file that is there is loaded, or refused.
    assert "it is not" in _error(TIMM_ARCH, path, weights="auto")


def test_timms_own_checkpoint_filter_is_applied_first(tmp_path):
    # A ViT pretrained at 384 px has a larger position table: timm's filter for the model
    # resamples it, as timm.create_model(pretrained=True) would.
    import timm

    full = timm.create_model("vit_tiny_patch16_384", pretrained=False)
    torch.save({"state_dict": full.state_dict()}, tmp_path / "vit384.pth")
    backbone = Backbone("timm/vit_tiny_patch16_224")
    backbone.load_pretrained(tmp_path / "vit384.pth")
    key = "blocks.0.attn.qkv.weight"
    assert torch.equal(backbone.net.state_dict()[key], full.state_dict()[key])
    assert backbone.net.pos_embed.shape[1] == 197 and backbone.weights_origin is None


def test_a_torchvision_backbone_given_a_timm_safetensors_file_is_not_called_damaged(
        tmp_path):
    import timm

    save_file(timm.create_model("efficientnet_b0", pretrained=False).state_dict(),
              str(tmp_path / "effb0.safetensors"))
    message = _error("efficientnet_b0", tmp_path / "effb0.safetensors")
    assert "lacks 'features.0.0.weight'" in message and "damaged" not in message


def test_a_file_without_batchnorm_counts_loads(tmp_path):
    # Files saved before PyTorch 0.4.1 have no num_batches_tracked: nothing is missing.
    net = torchvision.models.resnet18(weights=None)
    state = {k: v for k, v in net.state_dict().items() if "num_batches_tracked" not in k}
    torch.save(state, tmp_path / "old.pth")
    backbone = Backbone("resnet18")
    backbone.load_pretrained(tmp_path / "old.pth")
    assert torch.equal(backbone.net.conv1.weight, net.conv1.weight)


@pytest.fixture
def frozen_run(tiny_experiment, tmp_path):
    """A first stage: a frozen resnet18 (random weights: none on this machine) and a Linear
    head, one epoch at 32x32; its run folder."""
    exp = tiny_experiment
    exp.data.input_size = [32, 32]
    exp.model.layers = [C("Backbone", {"arch": "resnet18", "weights": "random",
                                       "mode": "feature_extraction"}), C("Linear")]
    exp.training.epochs = 1
    run_dir = tmp_path / "frozen"
    assert run_training(exp.validate(), run_dir, name="frozen").status == "finished"
    return exp, run_dir


def test_a_runs_bundle_or_checkpoint_gives_its_backbone_to_a_fine_tuning_run(frozen_run,
                                                                             tmp_path):
    exp, first = frozen_run
    saved = torch.load(first / "bundle.pt", weights_only=True)["state_dict"]
    for source, what in ((first / "bundle.pt", "run frozen's bundle (epoch 1)"),
                         (first / "checkpoints" / "last.pt",
                          "run frozen's checkpoint last.pt (epoch 1)")):
        backbone = Backbone("resnet18", weights="pretrained", weights_file=str(source))
        model = torch.nn.Sequential(backbone)
        (note,) = load_backbone_weights(model)
        assert note == (f"layer 1 (Backbone resnet18): the backbone weights of {what} loaded "
                        f"from {source} (the layers after it start afresh)")
        own = backbone.net.state_dict()
        assert all(torch.equal(own[k], saved[f"0.net.{k}"]) for k in own)
    # The second stage trains from it, and its run says where the backbone came from.
    exp.model.layers = [C("Backbone", {"arch": "resnet18", "mode": "fine_tune",
                                       "weights_file": str(first / "bundle.pt")}), C("Linear")]
    second = tmp_path / "fine"
    assert run_training(exp.validate(), second, name="fine").status == "finished"
    info = json.loads((second / "run.json").read_text())
    assert info["backbone_weights"] == (f"pretrained, loaded from {first / 'bundle.pt'} "
                                        f"(the backbone weights of run frozen's bundle "
                                        f"(epoch 1))")
    # A bundle of another backbone says which it holds.
    message = _error("resnet50", first / "bundle.pt")
    assert "is run frozen's bundle (epoch 1), whose network has no resnet50 Backbone layer " \
           "(its backbone is resnet18): it holds no resnet50 weights" in message


def _truncated(path, keep: float):
    data = path.read_bytes()
    cut = path.with_name("cut-" + path.name)
    cut.write_bytes(data[:int(len(data) * keep)])
    return cut


@pytest.mark.parametrize("save", ["torch", "safetensors"])
def test_a_download_cut_short_is_said_before_training(tmp_path, save):
    state = torchvision.models.resnet18(weights=None).state_dict()
    whole = tmp_path / f"resnet18.{'pth' if save == 'torch' else 'safetensors'}"
    torch.save(state, whole) if save == "torch" else save_file(state, str(whole))
    assert weights_file_problem(whole) is None
    for keep in (0.5, 0.999):
        cut = _truncated(whole, keep)
        assert weights_file_problem(cut) == "is incomplete (a download cut short?): its end " \
                                            "is missing"
        (note,) = backbone_notes([C("Backbone", {"weights_file": str(cut)})])
        assert note.startswith(f"layer 1 (Backbone resnet18): the weights file {cut} is "
                               f"incomplete (a download cut short?)")
        assert "Delete it and download it again from https://download.pytorch.org/models/" \
               "resnet18-f37072fd.pth" in note
        assert note.endswith("(training will stop on this)")


def test_a_weights_file_named_but_missing_stops_training_with_weights_auto(tmp_path):
    # From a tester's day: a typo'd weights_file with the preset's weights "auto" trained
    # a whole run on random features.
    typo = tmp_path / "resnt18.pth"
    params = {"arch": "resnet18", "weights": "auto", "weights_file": str(typo),
              "mode": "feature_extraction"}
    message = _error("resnet18", typo, weights="auto")
    assert message.startswith(f"layer 1 (Backbone resnet18): the weights file {typo} does "
                              f"not exist. Correct weights_file")
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    (note,) = backbone_notes([C("Backbone", params)])
    assert note == f"{message} (training will stop on this)"
    # Not "frozen on random weights, fine-tune it": fine-tuning would stop the same way.
    assert not frozen_without_weights(params) and expects_pretrained(params)
    # With no file named, auto still falls back to random weights, with a note.
    default = {**params, "weights_file": ""}
    assert frozen_without_weights(default) and not expects_pretrained(default)
    (note,) = load_backbone_weights(torch.nn.Sequential(Backbone("resnet18")))
    assert "training from random weights" in note


def test_the_model_doctor_lists_a_weights_file_training_will_stop_on(tmp_path):
    # From stop 36's left-alone list: the Backbone card and Start said it, the Model
    # doctor said "No problems found" over a network that could not start.
    from workbench.core.experiment import Experiment
    from workbench.core.model.doctor import diagnose

    exp = Experiment()
    exp.data.input_size = [32, 32]
    whole = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), whole)
    cut = _truncated(whole, 0.5)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for file, said in ((tmp_path / "resnt18.pth", "does not exist"),
                       (elsewhere / "resnt18.pth", "does not exist"),
                       (cut, "is incomplete (a download cut short?)"), (tmp_path, "folder")):
        exp.model.layers = [C("Backbone", {"arch": "resnet18", "weights": "auto",
                                           "weights_file": str(file),
                                           "mode": "feature_extraction"}), C("Linear")]
        [f] = [f for f in diagnose(exp, 3) if f.code == "backbone-weights-file"]
        assert (f.severity, f.layer) == ("error", 0)
        assert f.title == "layer 1 (Backbone)'s weights file stops training"
        assert f"the weights file {file} " in f.explanation and said in f.explanation
        fixed = exp.copy()
        f.fix.apply(fixed)
        params = fixed.model.layers[0].params
        if file == tmp_path / "resnt18.pth":
            # A typo beside the file it meant: the fix is that file, not random weights
            # (the one button offered trained a much worse model, silently).
            assert f.fix.label == "Use the weights file resnet18.pth"
            assert f"The fix points weights_file at {whole}" in f.explanation
            assert params["weights_file"] == str(whole)
            assert params["mode"] == "feature_extraction" and params["weights"] == "auto"
        else:  # nothing it could have meant: random weights, the label naming the cost
            assert f.fix.label == "Train from random weights (needs far more images)"
            assert "for when you have no weights file" in f.explanation
            assert params["weights"] == "random" and params["mode"] == "fine_tune"
        assert not [f for f in diagnose(fixed, 3) if f.severity == "error"]
    # A whole file, and auto with none named, train: nothing said here.
    for file in (whole, ""):
        exp.model.layers[0].params.update(weights="auto", weights_file=str(file),
                                          mode="feature_extraction")
        assert not [f for f in diagnose(exp, 3) if f.code == "backbone-weights-file"]


def test_the_file_a_missing_weights_file_meant_is_one_naming_its_arch(tmp_path):
    from workbench.core.model.backbone_weights import weights_file_near

    torch.save({}, tmp_path / "resnet34.pth")  # another network's: never offered for resnet18
    assert weights_file_near(tmp_path / "resnet18.pth", "resnet18") is None
    torch.save({}, tmp_path / "resnet18-f37072fd.pth")  # torchvision's cache names them so
    (tmp_path / "resnet18.txt").write_text("notes")
    assert weights_file_near(tmp_path / "resnet18.pth", "resnet18") == \
        tmp_path / "resnet18-f37072fd.pth"
    assert weights_file_near(tmp_path, "resnet18") == tmp_path / "resnet18-f37072fd.pth"
    torch.save({}, tmp_path / "birds.pth")  # a typo of a name that names no arch
    assert weights_file_near(tmp_path / "bird.pth", "efficientnet_b0") == tmp_path / "birds.pth"
    (tmp_path / "broken-resnet18.pth").write_bytes(b"not weights")  # not offered either
    assert weights_file_near(tmp_path / "broken-resnet18.pth.x", "resnet18") is None
    assert weights_file_near(tmp_path / "gone" / "resnet18.pth", "resnet18") is None
