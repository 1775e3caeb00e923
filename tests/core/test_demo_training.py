"""The promise of the README: the default experiment learns the built-in demo dataset."""

from __future__ import annotations

import math

import pytest

from workbench.core.experiment import Experiment
from workbench.core.model.presets import list_presets, preset_experiment
from workbench.core.train.trainer import Callback, Trainer


def test_default_experiment_reaches_90_percent_on_the_demo():
    exp = Experiment()  # folder "" means the built-in demo dataset
    exp.training.device = "cpu"
    result = Trainer(exp).fit()
    assert len(result.history) == exp.training.epochs
    assert len(result.classes) >= 3
    best = max(m["val_acc"] for m in result.history)
    assert result.history[-1]["val_acc"] >= 0.9, result.history
    assert best >= 0.9
    # The training doctor has nothing to warn about on a healthy run.
    assert [f for f in result.findings if f["severity"] != "info"] == []


@pytest.mark.parametrize("name", [n for n, _ in list_presets()])
def test_every_preset_loads_and_trains_on_the_demo(name, tmp_path, monkeypatch):
    # What a user gets from the preset menu: the network fits the demo data and trains an
    # epoch with finite losses. resnet18 has no weights file here (an empty torch hub
    # directory): it trains from random weights and says so.
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    exp = preset_experiment(name)
    exp.training.device = "cpu"
    exp.training.epochs = 1
    exp.data.batch_size = 64
    infos = []

    class Keep(Callback):
        def on_fit_start(self, trainer, info):
            infos.append(info)

    result = Trainer(exp, [Keep()]).fit()
    (epoch,) = result.history
    assert math.isfinite(epoch["train_loss"]) and math.isfinite(epoch["val_loss"])
    assert epoch["val_acc"] is not None
    assert [f for f in result.findings if f["severity"] != "info"] == []
    notes = " ".join(infos[0]["notes"])
    if name == "resnet18":
        assert "random" in notes and str(tmp_path / "hub") in notes
    else:
        assert notes == ""
