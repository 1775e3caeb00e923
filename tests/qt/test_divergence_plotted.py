"""A diverged run's message names the batch that ended it ("exploded to 6.02e+08 at batch 4
of epoch 1"): that batch is on the Train tab's loss-per-batch plot, at that value, as it is
in the run's TensorBoard file (tests/core/test_training_doctor.py), and after a restart, from
metrics.json (tests/core/test_diverged_batches_kept.py)."""

from __future__ import annotations

import re

from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.qt.panels.train.panel import TrainPanel


def test_the_batch_the_divergence_names_is_the_last_one_plotted(qtbot, tiny_experiment,
                                                                  monkeypatch):
    exp = tiny_experiment
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    exp.optimizer = Component("Adam", {"lr": 10.0})
    monkeypatch.setattr("workbench.qt.panels.train.panel.show_error", lambda *a: None)
    panel = TrainPanel(exp)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.training_errored, timeout=120000) as err:
            panel.start_button.click()
        value, batch, epoch = re.search(r"exploded to (\S+) at batch (\d+) of epoch (\d+)",
                                        err.args[0]).groups()
        bpe = int(panel.info["batches_per_epoch"])
        series = panel.plots.batches
        assert series.steps.data[-1] == (int(epoch) - 1) * bpe + int(batch)
        assert f"{series.losses.data[-1]:.3g}" == value
        # Restarted: the last run shown from its folder ends at that batch, at that value.
        run_dir = str(panel.last_run_dir or panel.info["run_dir"])
        again = TrainPanel(exp)
        qtbot.addWidget(again)
        try:
            assert again.restore_last_run(run_dir)
            restored = again.plots.batches
            assert list(restored.steps.data) == list(series.steps.data)
            assert f"{restored.losses.data[-1]:.3g}" == value
        finally:
            again.shutdown()
    finally:
        panel.shutdown()
