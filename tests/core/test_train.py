"""The Trainer: a short fit learns, hooks fire in order, stop works, bad input is explained."""

from __future__ import annotations

import threading

import pytest
import torch

from workbench.core.errors import DataError, ShapeError, SpecError
from workbench.core.registry import Component
from workbench.core.train.optim import OPTIMIZERS, build_optimizer
from workbench.core.train.trainer import Callback, Trainer, TrainingDiverged


class Recorder(Callback):
    def __init__(self):
        self.events = []
        self.batch_losses = []
        self.epochs = []

    def on_fit_start(self, trainer, info):
        self.events.append("fit_start")
        self.info = info

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch_start {epoch}")

    def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
        assert isinstance(loss, float)
        self.batch_losses.append(loss)

    def on_epoch_end(self, trainer, epoch, metrics):
        self.events.append(f"epoch_end {epoch}")
        self.epochs.append(metrics)

    def on_fit_end(self, trainer, result):
        self.events.append("fit_end")
        self.result = result


def test_two_epoch_fit_lowers_the_loss(tiny_experiment):
    rec = Recorder()
    result = Trainer(tiny_experiment, [rec]).fit()
    assert rec.events == ["fit_start", "epoch_start 1", "epoch_end 1", "epoch_start 2",
                          "epoch_end 2", "fit_end"]
    assert not result.stopped
    assert len(result.history) == 2
    first, last = result.history
    assert last["train_loss"] < first["train_loss"]
    assert rec.batch_losses[-1] < rec.batch_losses[0]
    for m in result.history:
        assert set(m) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                          "val_bal_acc", "seconds", "lr"}
        assert all(isinstance(m[k], float) for k in ("train_loss", "train_acc", "val_loss",
                                                     "val_acc", "val_bal_acc"))
    assert rec.info["num_train"] + rec.info["num_val"] == 30
    assert rec.info["classes"] == ["blue", "green", "red"]
    assert result.classes == ["blue", "green", "red"]


def test_fit_is_reproducible_with_the_same_seed(tiny_experiment):
    a = Trainer(tiny_experiment).fit()
    b = Trainer(tiny_experiment).fit()
    assert [m["train_loss"] for m in a.history] == [m["train_loss"] for m in b.history]
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k])


def test_stop_flag_is_checked_every_batch(tiny_experiment):
    tiny_experiment.training.epochs = 50
    stop = threading.Event()

    class StopAfterThree(Recorder):
        def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
            super().on_batch_end(trainer, epoch, batch, num_batches, loss)
            if len(self.batch_losses) == 3:
                stop.set()

    rec = StopAfterThree()
    result = Trainer(tiny_experiment, [rec], stop_event=stop).fit()
    assert result.stopped
    assert len(rec.batch_losses) == 3  # no batch ran after the request
    assert rec.events[-1] == "fit_end"
    assert result.model is not None


def test_end_hooks_run_when_a_callback_raises(tiny_experiment):
    class Boom(Recorder):
        def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
            raise RuntimeError("callback failed")

    rec = Boom()
    with pytest.raises(RuntimeError, match="callback failed"):
        Trainer(tiny_experiment, [rec]).fit()
    assert rec.events[-1] == "fit_end"
    assert rec.result.error == "callback failed"


def test_misfit_network_is_reported_before_training(tiny_experiment):
    tiny_experiment.model.layers = [Component("Linear", {"out_features": 4})]
    with pytest.raises(ShapeError, match="Flatten"):
        Trainer(tiny_experiment).fit()


def test_single_class_folder_is_a_clear_error(tmp_path):
    from helpers import make_image_folder
    from workbench.core.experiment import Experiment

    exp = Experiment()
    exp.data.folder = make_image_folder(tmp_path / "one", classes=("red",))
    exp.training.device = "cpu"
    with pytest.raises(DataError, match="two"):
        Trainer(exp).fit()


def test_divergence_stops_with_an_explanation(tiny_experiment):
    tiny_experiment.optimizer = Component("SGD", {"lr": 10.0, "momentum": 0.9})
    tiny_experiment.init = Component("normal", {"mean": 0.0, "std": 10.0})
    tiny_experiment.training.epochs = 20
    with pytest.raises(TrainingDiverged, match="learning rate"):
        Trainer(tiny_experiment).fit()


def test_missing_cuda_is_a_clear_error(tiny_experiment, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    tiny_experiment.training.device = "cuda"
    with pytest.raises(SpecError, match="no usable CUDA"):
        Trainer(tiny_experiment).fit()


def test_unreadable_images_are_skipped_and_reported(tiny_experiment, tiny_folder):
    from pathlib import Path

    bad = Path(tiny_folder) / "red" / "red_999.png"
    bad.write_bytes(b"not really a png")
    skipped = []

    class Skips(Callback):
        def on_skipped(self, trainer, path, reason):
            skipped.append((path, reason))

    result = Trainer(tiny_experiment, [Skips()]).fit()
    assert len(result.history) == 2
    assert [Path(p).name for p, _ in skipped] == ["red_999.png"]
    assert skipped[0][1]


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_builds_and_steps(name):
    model = torch.nn.Linear(3, 2)
    before = model.weight.detach().clone()
    opt = build_optimizer(Component(name, {}), model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    assert not torch.equal(before, model.weight)


# -- issue 3: MixUp/CutMix and class imbalance in training ------------------------------
class _Spy(Callback):
    def on_fit_start(self, trainer, info):
        self.info = info
        self.trainer = trainer


@pytest.mark.parametrize("batch", ["MixUp", "CutMix"])
def test_fit_with_batch_mixing_uses_soft_targets(tiny_experiment, batch, monkeypatch):
    tiny_experiment.augment.transforms.append(Component(batch, {"alpha": 0.4}))
    seen = []
    import workbench.core.data.augment.mixing as batch_mod

    original = batch_mod.BatchAugment.__call__

    def spy(self, x, y, *a, **k):
        out = original(self, x, y, *a, **k)
        seen.append(out[1])
        return out

    monkeypatch.setattr(batch_mod.BatchAugment, "__call__", spy)
    rec = Recorder()
    result = Trainer(tiny_experiment, [rec]).fit()
    n_train_batches = len(rec.batch_losses)
    assert len(seen) == n_train_batches > 0  # training batches only, never validation
    for soft in seen:
        assert soft.shape[1] == 3 and torch.allclose(soft.sum(1), torch.ones(len(soft)))
    for m in result.history:
        assert 0.0 <= m["train_acc"] <= 1.0 and 0.0 <= m["val_acc"] <= 1.0


def _imbalanced(tiny_experiment, tmp_path, balance):
    from helpers import make_image_folder

    folder = make_image_folder(tmp_path / "imb", classes=("blue", "red"), per_class=4)
    from PIL import Image
    for i in range(16):  # red: 20 images, blue: 4
        Image.new("RGB", (12, 12), (200, 20, 20)).save(tmp_path / "imb" / "red" / f"x{i}.png")
    tiny_experiment.data.folder = folder
    tiny_experiment.data.val_fraction = 0.0
    tiny_experiment.data.balance = balance
    tiny_experiment.training.epochs = 1
    return tiny_experiment


def test_weighted_loss_uses_inverse_class_frequency(tiny_experiment, tmp_path):
    spy = _Spy()
    Trainer(_imbalanced(tiny_experiment, tmp_path, "weighted_loss"), [spy]).fit()
    w = spy.trainer.loss_fn.weight
    assert spy.info["balance"] == "weighted_loss"
    assert torch.allclose(w, torch.tensor([2 * 20 / 24, 2 * 4 / 24]), atol=1e-6)


def test_weighted_sampler_balances_batches(tiny_experiment, tmp_path):
    from torch.utils.data import WeightedRandomSampler

    spy = _Spy()
    Trainer(_imbalanced(tiny_experiment, tmp_path, "weighted_sampler"), [spy]).fit()
    loader = spy.trainer.train_loader
    assert isinstance(loader.sampler, WeightedRandomSampler)
    assert loader.sampler.replacement and loader.sampler.num_samples == 24
    assert spy.trainer.loss_fn.weight is None
    labels = [lab for _ in range(10) for _, y, _ in loader for lab in y.tolist()]
    assert 0.35 < sum(labels) / len(labels) < 0.65  # red is 83% of the folder


def test_balance_field_validates_and_old_files_load():
    from workbench.core.experiment import Experiment

    old = Experiment().to_dict()
    del old["data"]["balance"]
    assert old["format_version"] == 1
    assert Experiment.from_dict(old).data.balance == "none"
    new = Experiment().to_dict()
    new["data"]["balance"] = "weighted_sampler"
    assert Experiment.from_json(Experiment.from_dict(new).to_json()).data.balance == \
        "weighted_sampler"
    new["data"]["balance"] = "oversample"
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(new)
    assert info.value.field == "data.balance"


def test_bad_balance_set_in_code_is_caught_by_validate():
    from workbench.core.experiment import Experiment

    exp = Experiment()
    exp.data.balance = "oversample"
    with pytest.raises(SpecError, match="data.balance: 'oversample' is not one of none"):
        exp.validate()
