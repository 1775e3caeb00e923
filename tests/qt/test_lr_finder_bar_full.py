"""A learning-rate sweep that ends early (the loss diverged) leaves the dialog's progress
bar full, not at the share of steps it took: a bar at 73% read as still running."""

from __future__ import annotations

import numpy as np

from workbench.core.registry import Component
from workbench.qt.panels.train.lr_finder import LRFinderDialog

SWEEP_TIMEOUT_MS = 60000


def test_a_sweep_that_diverges_early_fills_the_bar(qtbot, tmp_path, tiny_experiment):
    from PIL import Image

    # Random-noise classes: a net memorises them, then SGD at a huge rate blows up (the
    # colour set is too easy to ever diverge).
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (tmp_path / "noise" / c).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(
                tmp_path / "noise" / c / f"{i}.png")
    tiny_experiment.data.folder = str(tmp_path / "noise")
    tiny_experiment.optimizer = Component("SGD", {"lr": 0.01})
    dialog = LRFinderDialog(tiny_experiment)
    qtbot.addWidget(dialog)
    dialog.steps_spin.setValue(30)
    dialog.start_spin.setValue(0.001)
    dialog.end_spin.setValue(100.0)
    with qtbot.waitSignal(dialog.sweep_finished, timeout=SWEEP_TIMEOUT_MS) as blocker:
        dialog.start_button.click()
    result = blocker.args[0]
    assert result.stopped_early and len(result.lrs) < 30
    assert dialog.progress.maximum() > 0
    assert dialog.progress.value() == dialog.progress.maximum()
    dialog.shutdown()
