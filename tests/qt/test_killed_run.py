"""A run whose process was killed (SIGKILL, a power cut), reopened: the Train tab plots
the epochs it kept and says which model it has, and the Runs tab offers its last
checkpoint, with that checkpoint's epoch and validation accuracy, to Predict and Evaluate
(it wrote no bundle)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from helpers import stop_after
from workbench.core.io import runs_dir
from workbench.core.train.run import run_training
from workbench.qt.panels.runs.model import COLUMN

WAIT_MS = 30000




def _killed_run(experiment, done: int = 2, planned: int = 4) -> Path:
    """What a kill after epoch ``done`` leaves: checkpoints, no bundle, run.json
    "running" with its lock free."""
    exp = experiment.copy()
    exp.training.epochs = planned
    outcome = run_training(exp, None, [stop_after(done)], runs_parent=runs_dir())
    assert outcome.status == "stopped", outcome.error
    run = Path(outcome.run_dir)
    (run / "bundle.pt").unlink()
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    info.update(status="running", finished=None, bundle=None, message="")
    (run / "run.json").write_text(json.dumps(info), encoding="utf-8")
    return run


def test_the_train_tab_plots_only_the_epochs_the_run_kept(qtbot, train_panel,
                                                          tiny_experiment):
    run = _killed_run(tiny_experiment, done=2, planned=6)
    # A kill between metrics.json and the checkpoint (as an older Workbench wrote them):
    # epoch 3 in metrics.json, no checkpoint of it, run.json at 2.
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    metrics["epochs"].append(dict(metrics["epochs"][-1], epoch=3))
    metrics["batches"].append(dict(metrics["batches"][-1], epoch=3))
    (run / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    panel = train_panel()
    assert panel.restore_last_run(str(run))
    assert panel.plots.point_counts()["epochs"] == 2
    assert "(interrupted), 2 of 6 planned epochs." in panel.run_label.text()


def test_a_killed_runs_checkpoint_is_its_model_on_the_train_and_runs_tabs(
        qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow

    run = _killed_run(tiny_experiment, done=2)
    last = run / "checkpoints" / "last.pt"
    val_acc = json.loads((run / "metrics.json").read_text())["epochs"][1]["val_acc"]
    window = MainWindow()
    qtbot.addWidget(window)
    train, runs = window.train_panel, window.runs_panel
    assert train.restore_last_run(str(run))
    assert ("(interrupted), 2 of 4 planned epochs. It saved no bundle: its model is its "
            "checkpoint of epoch 2 (Runs tab: Open in Predict or Evaluate). Continue… "
            "trains it further from its last checkpoint and saves a bundle."
            ) in train.run_label.text()

    with qtbot.waitSignal(runs.refreshed, timeout=WAIT_MS):
        runs.refresh()
    runs.select_paths([str(run)])
    row = runs.proxy.mapFromSource(runs.model.index(runs.model.row_of(str(run)),
                                                    COLUMN["val_acc"]))
    assert row.data() == f"{val_acc * 100:.1f}"  # the checkpoint's epoch, not empty
    tip = row.data(Qt.ItemDataRole.ToolTipRole)
    assert "checkpoints/last.pt, which holds epoch 2's weights" in tip
    assert runs.predict_button.isEnabled() and runs.evaluate_button.isEnabled()
    assert "checkpoint of epoch 2" in runs.predict_button.toolTip()
    with qtbot.waitSignal(runs.open_bundle_requested, timeout=WAIT_MS) as opened:
        runs.predict_button.click()
    assert opened.args == [str(last)]
    with qtbot.waitSignal(runs.evaluate_requested, timeout=WAIT_MS) as evaluated:
        runs.evaluate_button.click()
    assert evaluated.args == [str(last)]
    assert window.evaluate_panel.bundle_path() == str(last)
