"""What a run keeps of how it started: where its backbone's weights came from (pretrained,
loaded from a file, or random with no file found), how its features were made (cached,
cached views, computed every batch and why), what it noted and what its caller warned of.
run.json, the Runs record and ``workbench report`` say it afterwards, so a run on ImageNet
weights and one on random weights can be told apart. And one model has one name: a run's
experiment is named after the run (experiment.json, the bundle, ``training NAME``, the
exported code). Older run.json files, without these fields, read as before."""

from __future__ import annotations

import json

import pytest

from workbench.core.experiment import Experiment
from workbench.core.registry import Component as C
from workbench.core.runs.record import read_record
from workbench.core.runs.report import build_report
from workbench.core.runs.store import write_run_info
from workbench.core.train.callbacks.progress import ConsoleProgress
from workbench.core.train.run import run_training

WARNING = "layer 1 (Backbone) is frozen but has no pretrained weights"


@pytest.fixture
def transfer(tiny_experiment, tmp_path, monkeypatch):
    """A frozen resnet18 (weights auto: none on this machine) and a Linear head, one epoch
    at 32x32, with a random flip."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    exp = tiny_experiment
    exp.data.input_size = [32, 32]
    exp.augment.transforms = [C("RandomHorizontalFlip", {"p": 0.5})]
    exp.model.layers = [C("Backbone", {"arch": "resnet18", "weights": "auto",
                                       "mode": "feature_extraction"}), C("Linear")]
    exp.model.preset = "resnet18"
    exp.training.epochs = 1
    return exp.validate()


def _info(run_dir):
    return json.loads((run_dir / "run.json").read_text())


def test_random_weights_and_a_backbone_run_every_batch_are_kept_with_the_run(transfer,
                                                                           tmp_path):
    run_dir = tmp_path / "random-run"
    outcome = run_training(transfer, run_dir, name="random-run", warnings=[WARNING])
    assert outcome.status == "finished", outcome.error
    info = _info(run_dir)
    missing = tmp_path / "torch_home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert info["backbone_weights"] == f"random (no weights file at {missing})"
    assert info["feature_mode"] == "computed every batch (random augmentation)"
    assert any("no pretrained weights found" in n for n in info["start_notes"])
    assert info["start_warnings"] == [WARNING]
    record = read_record(run_dir)
    assert record.backbone_weights == info["backbone_weights"]
    assert record.feature_mode == "computed every batch (random augmentation)"
    report = build_report(run_dir)
    assert f"Backbone weights: random (no weights file at {missing})." in report
    assert "Backbone features: computed every batch (random augmentation)." in report
    assert f"Warning: {WARNING}" in report and "no pretrained weights found" in report


def test_pretrained_weights_and_cached_views_are_kept_with_the_run(transfer, tmp_path):
    import torch
    import torchvision

    weights = tmp_path / "my-resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    transfer.model.layers[0].params["weights_file"] = str(weights)
    transfer.training.feature_views = 2
    run_dir = tmp_path / "pretrained-run"
    assert run_training(transfer, run_dir, name="pretrained-run").status == "finished"
    info = _info(run_dir)
    assert info["backbone_weights"] == f"pretrained, loaded from {weights}"
    assert info["feature_mode"] == "cached, 2 augmented views"
    assert info["start_warnings"] == []
    report = build_report(run_dir)
    assert f"Backbone weights: pretrained, loaded from {weights}." in report
    assert "Backbone features: cached, 2 augmented views." in report


def test_a_run_json_from_before_reads_as_it_did(tmp_path, tiny_experiment):
    run_dir = tmp_path / "old"
    run_dir.mkdir()
    tiny_experiment.save(run_dir / "experiment.json")
    write_run_info(run_dir, {"name": "old", "status": "finished", "epochs_done": 1,
                             "epochs_planned": 1, "features": "cached, 2 views",
                             "notes": "", "findings": []})
    record = read_record(run_dir)
    assert record.backbone_weights == "" and record.problem == ""
    assert record.feature_mode == "cached, 2 augmented views"
    report = build_report(run_dir)
    assert "Backbone weights" not in report and "As the run started" not in report
    assert "Backbone features: cached, 2 augmented views." in report


def test_a_run_names_its_experiment_bundle_and_exported_code(tiny_experiment, tmp_path,
                                                             capsys):
    from workbench.core.bundle import load_bundle
    from workbench.core.model.codegen import network_code

    tiny_experiment.training.epochs = 1
    assert tiny_experiment.name == "experiment"  # the default, as the app's
    run_dir = tmp_path / "flowers"
    outcome = run_training(tiny_experiment, run_dir, [ConsoleProgress()], name="flowers")
    assert outcome.status == "finished"
    assert "training flowers: " in capsys.readouterr().out
    assert Experiment.load(run_dir / "experiment.json").name == "flowers"
    assert _info(run_dir)["experiment_name"] == "flowers" == _info(run_dir)["name"]
    bundle = load_bundle(run_dir / "bundle.pt")
    assert bundle.experiment.name == "flowers"
    assert "\n# Experiment: flowers\n" in network_code(bundle.experiment, len(bundle.classes))
    assert tiny_experiment.name == "experiment"  # the caller's is left as it was
