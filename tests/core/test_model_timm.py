"""timm backbones: built without a head, never downloaded, trained, exported and bundled."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from helpers import make_image_folder, run_cli
from workbench.core.experiment import Experiment
from workbench.core.model.backbone_weights import (backbone_notes, backbone_preprocessing,
                                                   load_backbone_weights)
from workbench.core.model.backbones import TIMM, Backbone
from workbench.core.model.builder import infer_shapes
from workbench.core.registry import Component as C
from workbench.core.train.run import run_training

ARCH = "timm/mobilenetv3_large_100"


@pytest.fixture(autouse=True)
def _empty_caches(tmp_path, monkeypatch):
    # No weights anywhere, and no network: the Hugging Face cache is an empty folder.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))


def test_the_palette_lists_timm_models_with_sizes_and_shapes_are_known():
    assert set(TIMM) <= set(Backbone.HEADS)
    for arch, text in TIMM.items():
        assert "parameters" in text and "px" in text
        s = infer_shapes([C("Backbone", {"arch": arch, "weights": "random"}), C("Linear")],
                         (3, 64, 64), 3)
        assert s.ok, (arch, s.error)
        assert s.layers[0].output_shape == (Backbone.HEADS[arch][1],)
        assert s.layers[0].macs > 0
    pre = backbone_preprocessing("timm/vit_tiny_patch16_224")
    assert pre["input_size"] == [224, 224] and pre["mean"] == [0.5, 0.5, 0.5]


def test_weights_from_a_file_and_a_clear_note_without_one(tmp_path):
    import timm
    from safetensors.torch import save_file

    notes = backbone_notes([C("Backbone", {"arch": ARCH})])
    assert len(notes) == 1 and "no pretrained weights found" in notes[0]
    assert "huggingface.co/timm/mobilenetv3_large_100" in notes[0]
    # A checkpoint as timm publishes it, 1000-class head included.
    full = timm.create_model(ARCH[5:], pretrained=False)
    save_file(full.state_dict(), str(tmp_path / "w.safetensors"))
    model = torch.nn.Sequential(Backbone(ARCH, weights_file=str(tmp_path / "w.safetensors")))
    (note,) = load_backbone_weights(model)
    assert "loaded from" in note
    key = "conv_stem.weight"
    assert torch.equal(model[0].net.state_dict()[key], full.state_dict()[key])
    (tmp_path / "bad.safetensors").write_bytes(b"not weights")
    with pytest.raises(Exception, match="cannot be read"):
        Backbone(ARCH, weights_file=str(tmp_path / "bad.safetensors")).load_pretrained()


def test_a_timm_backbone_trains_exports_and_round_trips(capsys, tmp_path):
    exp = Experiment(name="timm")
    exp.data.folder = make_image_folder(tmp_path / "data", per_class=8, size=32)
    exp.data.input_size = [32, 32]
    exp.model.layers = [C("Backbone", {"arch": ARCH, "weights": "auto", "mode": "fine_tune"}),
                        C("Linear")]
    exp.model.preset = None
    exp.training.epochs = 1
    exp.training.device = "cpu"
    outcome = run_training(exp.validate(), tmp_path / "run")
    assert outcome.status == "finished", outcome.message
    bundle = outcome.bundle_path
    code, out, err = run_cli(capsys, "predict", bundle, tmp_path / "data" / "red" / "red_000.png",
                             "--json")
    assert code == 0, err
    code, _, err = run_cli(capsys, "export", bundle, "--code", tmp_path / "model.py",
                           "--onnx", tmp_path / "model.onnx")
    assert code == 0, err
    assert "warning" not in err
    script = f"""
import sys, torch
sys.path.insert(0, {str(tmp_path)!r})
from model import build_model
from workbench.core.bundle import load_bundle
b = load_bundle({str(bundle)!r})
m = build_model(); m.load_state_dict(b.state_dict); m.eval()
ref = b.build_model().eval()
x = torch.randn(2, 3, 32, 32)
print(float((m(x) - ref(x)).abs().max()))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip()) < 1e-5


def test_a_vit_at_a_size_that_is_not_a_multiple_of_its_patch_is_a_misfit(capsys, tmp_path):
    # From a tester's day: timm/vit_tiny_patch16_224 at 120x160 crashed the shape check
    # (an AssertionError from timm's patch embedding) and the CLI called it a bug.
    vit = "timm/vit_tiny_patch16_224"
    layers = [C("Backbone", {"arch": vit, "weights": "random"}), C("Linear")]
    s = infer_shapes(layers, (3, 120, 160), 4)
    assert not s.ok and s.error_index == 0
    assert s.error.startswith("layer 1 (Backbone)")
    assert vit in s.error and "multiples of 16" in s.error
    assert "data.input_size" in s.error and "128x160" in s.error
    assert infer_shapes(layers, (3, 128, 160), 4).ok
    exp = Experiment(name="vit")
    exp.data.folder = make_image_folder(tmp_path / "data", per_class=2, size=32)
    exp.model.layers = [C("Backbone", {"arch": ARCH}), C("Linear")]
    exp.save(tmp_path / "exp.json")
    code, _, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", tmp_path / "run",
                           "--set", f"model.layers[0].params.arch={vit}",
                           "--set", "data.input_size=[120,160]")
    assert code == 2
    assert "multiples of 16" in err and "128x160" in err
    assert "bug" not in err and len(err.strip().splitlines()) == 1
