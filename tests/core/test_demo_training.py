"""The promise of the README: the default experiment learns the built-in demo dataset."""

from __future__ import annotations

from workbench.core.experiment import Experiment
from workbench.core.train.trainer import Trainer


def test_default_experiment_reaches_90_percent_on_the_demo():
    exp = Experiment()  # folder "" means the built-in demo dataset
    exp.training.device = "cpu"
    result = Trainer(exp).fit()
    assert len(result.history) == exp.training.epochs
    assert len(result.classes) >= 3
    best = max(m["val_acc"] for m in result.history)
    assert result.history[-1]["val_acc"] >= 0.9, result.history
    assert best >= 0.9
