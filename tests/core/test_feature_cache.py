"""A frozen backbone's features are computed once per image and reused every epoch, when
nothing random happens to an image before the backbone; the run says whether they were,
and switching the cache off trains the same weights (up to float rounding)."""

from __future__ import annotations

import json

import pytest
import torch

from helpers import frozen_backbone
from workbench.core.evaluate.evaluation import evaluate
from workbench.core.registry import Component as C
from workbench.core.runs.recorder import RunRecorder
from workbench.core.train.features import FeatureCache
from workbench.core.train.trainer import Callback, Trainer


class Seen(Callback):
    """What the run said at its start."""

    def __init__(self):
        self.info = {}

    def on_fit_start(self, trainer, info):
        self.info = info


@pytest.fixture
def transfer(tiny_experiment, tmp_path, monkeypatch):
    """A frozen resnet18 (random weights: nothing to download) and a Linear head, 3 epochs,
    no random augmentation; counts the images the backbone runs on."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    exp = frozen_backbone(tiny_experiment)
    exp.training.epochs = 3
    return exp


class CountBackbone(Callback):
    """Counts the images the backbone runs on (a forward hook, once the model exists)."""

    def __init__(self):
        self.images = []

    def on_fit_start(self, trainer, info):
        trainer.model[0].register_forward_hook(
            lambda module, args, out: self.images.append(len(args[0])))


def _fit(exp, *callbacks):
    seen, count = Seen(), CountBackbone()
    trainer = Trainer(exp, [seen, count, *callbacks])
    return trainer.fit(), trainer, seen.info, count.images


def test_the_backbone_runs_once_per_image_and_the_head_trains_on_its_features(transfer,
                                                                             tmp_path):
    result, trainer, info, counted = _fit(transfer, RunRecorder(tmp_path / "run"))
    images = info["num_train"] + info["num_val"]
    assert info["features"] == "cached"
    assert any("Backbone features cached" in n for n in info["notes"])
    assert sum(counted) == images == trainer.features.computed  # epoch 1 only, val included
    assert len(result.history) == 3
    assert json.loads((tmp_path / "run" / "run.json").read_text())["features"] == "cached"
    # The bundle is the whole network: evaluated from the images, it scores as reported.
    evaluated = evaluate(tmp_path / "run" / "bundle.pt")
    last = result.history[-1]
    assert evaluated.accuracy == pytest.approx(last["val_acc"], abs=1e-9)
    assert float(evaluated.losses.mean()) == pytest.approx(last["val_loss"], rel=1e-4)


def test_switched_off_the_backbone_runs_every_batch_and_the_weights_are_the_same(transfer):
    cached, _, _, _ = _fit(transfer.copy())
    transfer.training.feature_cache = "off"
    live, trainer, info, counted = _fit(transfer)
    assert info["features"] == "off" and trainer.features is None
    assert any("training.feature_cache is off" in n for n in info["notes"])
    assert sum(counted) == 3 * (info["num_train"] + info["num_val"])
    a, b = cached.model.state_dict(), live.model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)
    for m, n in zip(cached.history, live.history):
        assert m["val_acc"] == n["val_acc"]
        assert m["train_loss"] == pytest.approx(n["train_loss"], rel=1e-4)


def test_random_augmentation_keeps_the_backbone_running_and_says_why(transfer):
    transfer.augment.transforms = [C("RandomHorizontalFlip", {"p": 0.5})]
    _, trainer, info, counted = _fit(transfer)
    assert info["features"] == "off" and trainer.features is None
    [note] = [n for n in info["notes"] if "Backbone features" in n]
    assert "augmentation is random" in note and "training.feature_views" in note
    assert sum(counted) == 3 * (info["num_train"] + info["num_val"])


def test_with_random_augmentation_k_views_are_computed_then_cycled(transfer):
    transfer.augment.transforms = [C("ColorJitter", {"brightness": 0.5})]
    transfer.training.feature_views = 2
    transfer.training.epochs = 4
    result, trainer, info, counted = _fit(transfer)
    assert info["features"] == "cached, 2 views"
    assert any("2 augmented views" in n for n in info["notes"])
    # Epochs 1 and 2 compute a view each of every training image, validation once; epochs
    # 3 and 4 run no backbone at all.
    assert sum(counted) == 2 * info["num_train"] + info["num_val"] == trainer.features.computed
    assert len(result.history) == 4
    # The views differ: each is its own random draw of the augmentation.
    values, filled = trainer.features.values, trainer.features.filled
    assert filled.sum() == 2 * info["num_train"] + info["num_val"]
    both = filled[0] & filled[1]
    assert both.sum() == info["num_train"]
    assert not torch.equal(values[0][both], values[1][both])


def test_a_fine_tuned_backbone_is_not_cached_and_nothing_is_said(transfer):
    transfer.model.layers[0].params["mode"] = "fine_tune"
    _, trainer, info, _ = _fit(transfer)
    assert info["features"] == "" and trainer.features is None
    assert not any("Backbone features" in n for n in info["notes"])


def test_features_over_the_ram_budget_go_to_a_file_that_the_run_removes(transfer, tmp_path,
                                                                        monkeypatch):
    in_ram, _, _, _ = _fit(transfer.copy())
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    transfer.data.cache_budget_mb = 0  # nothing fits in RAM
    made = []
    real_init = FeatureCache.__init__

    def spy(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self.path)
    monkeypatch.setattr(FeatureCache, "__init__", spy)
    on_disk, trainer, info, counted = _fit(transfer)
    assert info["features"] == "cached"
    assert any("are kept in" in n and str(tmp_path / "cache") in n for n in info["notes"])
    assert sum(counted) == info["num_train"] + info["num_val"]
    [path] = made
    assert path is not None and path.parent == tmp_path / "cache" and not path.exists()
    for key, value in in_ram.model.state_dict().items():
        assert torch.equal(value, on_disk.model.state_dict()[key]), key


def test_when_no_file_can_hold_them_the_backbone_runs_every_batch(transfer, tmp_path,
                                                                  monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("WORKBENCH_CACHE", str(blocker))  # cannot make files in it
    transfer.data.cache_budget_mb = 0
    _, trainer, info, counted = _fit(transfer)
    assert info["features"] == "off" and trainer.features is None
    assert any("no file could hold them" in n for n in info["notes"])
    assert sum(counted) == 3 * (info["num_train"] + info["num_val"])
