"""The Runs tab tells runs on imbalanced data apart (walker report walk-imbalance, defect 5):
a "Bal acc %" column gives the saved model's validation balanced accuracy (the number Tune
gives a trial of a val_bal_acc study; blank where the run did not record it), the cells'
tooltips say the class balance, and the Val acc % tooltip names the best epoch by the run's
own monitor, not the highest accuracy. At 1100 px the column makes way for Notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from qt_helpers import listed_run, shown_runs_panel
from workbench.core.io import runs_dir
from workbench.core.runs.store import update_run_info
from workbench.qt.panels.runs.model import COLUMN


def _imbalanced_run(root: Path, folder: str, name: str, balance: str, bal_acc: float | None,
                    best: dict) -> Path:
    run = listed_run(root, folder, name, created=f"2026-12-07T17:5{len(folder)}:00",
                     val_acc=0.991)
    experiment = json.loads((run / "experiment.json").read_text())
    experiment["data"].update(folder="/data/walk-imbalance", balance=balance)
    (run / "experiment.json").write_text(json.dumps(experiment))
    (run / "bundle.pt").write_bytes(b"weights")
    metrics = {"epoch": 6, "val_acc": 0.991, "val_loss": 0.0128}
    if bal_acc is not None:
        metrics["val_bal_acc"] = bal_acc
    update_run_info(run, epochs_done=6, epochs_planned=6, best=best,
                    bundle={"epoch": 6, "restored_best": False, "metrics": metrics})
    return run


@pytest.fixture
def runs(workbench_home) -> dict[str, Path]:
    root = runs_dir()
    return {
        "sampler": _imbalanced_run(root, "a", "walk-imbalance-seed-cnn-2", "weighted_sampler",
                                   0.75, {"metric": "val_bal_acc", "value": 1.0, "epoch": 3}),
        "none": _imbalanced_run(root, "bb", "walk-imbalance-seed-cnn-1", "none", 0.7469,
                                {"metric": "val_loss", "value": 0.11, "epoch": 6}),
        "old": listed_run(root, "ccc", "older-run", created="2026-12-06T10:00:00"),
    }


def _cells(panel, key: str, role=Qt.ItemDataRole.DisplayRole) -> dict[str, str]:
    return {panel.proxy.index(r, COLUMN["name"]).data():
            panel.proxy.index(r, COLUMN[key]).data(role) for r in range(panel.proxy.rowCount())}


def test_the_balanced_accuracy_column_and_the_tooltips(qtbot, runs):
    panel = shown_runs_panel(qtbot, (1344, 600))
    column = COLUMN["bal_acc"]
    assert panel.proxy.headerData(column, Qt.Orientation.Horizontal) == "Bal acc %"
    tip = panel.proxy.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "val_bal_acc" in tip and "Tune" in tip
    assert not panel.table.isColumnHidden(column)
    assert _cells(panel, "bal_acc") == {"walk-imbalance-seed-cnn-2": "75.0",
                                        "walk-imbalance-seed-cnn-1": "74.7", "older-run": ""}
    panel.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    assert list(_cells(panel, "bal_acc").values()) == ["75.0", "74.7", ""]
    # The class balance, beside the run's other settings and on the balanced accuracy.
    for key in ("preset", "bal_acc"):
        tips = _cells(panel, key, Qt.ItemDataRole.ToolTipRole)
        assert "class balance: the weighted sampler" in tips["walk-imbalance-seed-cnn-2"].lower()
        assert "class balance: none" in tips["walk-imbalance-seed-cnn-1"].lower()
        assert "class balance" not in (tips["older-run"] or "").lower()
    # "Best" is the run's monitor's best epoch, named; not the highest accuracy.
    tips = _cells(panel, "val_acc", Qt.ItemDataRole.ToolTipRole)
    sampler = tips["walk-imbalance-seed-cnn-2"]
    assert "holds epoch 6's weights" in sampler and "balanced accuracy 75.0%" in sampler
    assert "Best epoch by val_bal_acc (the run's monitor): epoch 3, 100.0%" in sampler
    assert "Best validation accuracy" not in sampler
    assert "the best by val_loss" in tips["walk-imbalance-seed-cnn-1"]
    assert "Best epoch" not in tips["walk-imbalance-seed-cnn-1"]


def test_at_1100_px_the_column_makes_way_for_the_notes(qtbot, runs):
    panel = shown_runs_panel(qtbot, (1100, 560))
    table, column = panel.table, COLUMN["bal_acc"]
    assert table.isColumnHidden(column)  # its figure stays in the Val acc % tooltip
    assert table.columnViewportPosition(COLUMN["notes"]) <= table.viewport().width() - 100
    panel.resize(1344, 560)  # the window maximised at 1366x768: room for it again
    QApplication.processEvents()
    assert not table.isColumnHidden(column)
    assert table.columnViewportPosition(COLUMN["notes"]) <= table.viewport().width() - 100
    assert table.columnWidth(column) >= table.horizontalHeader().sectionSizeHint(column)


def test_columns_fit_the_window_when_the_tab_is_first_shown(qtbot, runs):
    """Listed while the tab was hidden, as at start-up, the columns gave no way: at
    1100x706 the Notes column began out of sight."""
    from workbench.qt.panels.runs.panel import RunsPanel

    panel = RunsPanel(runs_dir())
    qtbot.addWidget(panel)
    panel.resize(1100, 560)
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.refresh()
    panel.show()
    qtbot.waitExposed(panel)
    QApplication.processEvents()
    table = panel.table
    assert table.columnViewportPosition(COLUMN["notes"]) <= table.viewport().width() - 100


def test_the_saved_models_description_names_the_monitor_or_says_highest():
    from workbench.core.runs.record import RunRecord
    from workbench.qt.panels.runs.model import model_description

    restored = RunRecord(path="/runs/r", name="r", has_bundle=True, model_file="bundle.pt",
                         model_epoch=3, model_restored_best=True, model_val_acc=0.9,
                         model_val_bal_acc=1.0, best_metric="val_bal_acc", best_epoch=3,
                         best_value=1.0)
    assert model_description(restored) == (
        "The saved model (bundle.pt) holds epoch 3's weights (the best epoch's by "
        "val_bal_acc, restored): validation accuracy 90.0%, balanced accuracy 100.0%.")
    # A run from before run.json named its best epoch: its highest accuracy, said as such.
    older = RunRecord(path="/runs/o", name="o", has_bundle=True, model_file="bundle.pt",
                      model_epoch=6, model_val_acc=0.9, best_val_acc=0.95)
    assert model_description(older).endswith(
        "validation accuracy 90.0%. Highest validation accuracy: 95.0% (another epoch).")


def test_a_torchrun_runs_batch_says_how_many_processes_took_it(qtbot, workbench_home):
    # Each of 2 processes took 32 images a step: an update saw 64 (walk-torchrun, 1).
    root = runs_dir()
    run = listed_run(root, "tr", "torchrun-run")
    listed_run(root, "one", "one-process-run")
    update_run_info(run, processes=[{"from_epoch": 1, "world_size": 2, "batch_size": 32,
                                     "per_update": 64}])
    resumed = listed_run(root, "re", "resumed-run")  # 2 x 16, then continued as 1 x 32
    update_run_info(resumed, processes=[
        {"from_epoch": 1, "world_size": 2, "batch_size": 16, "per_update": 32},
        {"from_epoch": 3, "world_size": 1, "batch_size": 32, "per_update": 32}])
    panel = shown_runs_panel(qtbot, (1344, 600))
    assert _cells(panel, "batch") == {"torchrun-run": "32 × 2", "one-process-run": "32",
                                      "resumed-run": "32"}  # as its last session trains
    tip = _cells(panel, "batch", Qt.ItemDataRole.ToolTipRole)["torchrun-run"]
    assert "on each of 2 processes (torchrun; its last session): 64 per update" in tip
