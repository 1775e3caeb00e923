"""The Runs table's columns have room to spare: a name such as "shapesA-seed-cnn-1" touched
the Name column's border (from a UI review)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QApplication

from workbench.core.io import runs_dir
from workbench.core.runs.store import write_run_info
from workbench.qt.panels.runs.model import COLUMN
from workbench.qt.panels.runs.panel import COLUMN_PADDING, NAME_WIDTH, RunsPanel


def make_run(root: Path, folder: str, name: str, created: str) -> None:
    d = root / folder
    d.mkdir(parents=True)
    epochs = [{"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 0.5,
               "val_acc": 0.429, "lr": 0.001, "seconds": 2.0}]
    (d / "metrics.json").write_text(json.dumps({"epochs": epochs}))
    (d / "experiment.json").write_text(json.dumps({
        "name": name, "optimizer": {"type": "Adam", "params": {"lr": 0.001}},
        "data": {"batch_size": 32}, "model": {"preset": "seed-cnn"},
        "training": {"epochs": 1}}))
    write_run_info(d, {"name": name, "created": created, "updated": created,
                       "status": "finished", "epochs_done": 1, "epochs_planned": 1,
                       "duration_s": 2.0, "notes": ""})


def listed_panel(qtbot) -> RunsPanel:
    panel = RunsPanel(runs_dir())
    qtbot.addWidget(panel)
    panel.resize(1140, 600)
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.refresh()
    QApplication.processEvents()
    return panel


def test_names_and_dates_have_room_to_spare(qtbot, workbench_home):
    root = runs_dir()
    make_run(root, "a", "shapesA-seed-cnn-1", "2026-12-06T23:02:12")
    make_run(root, "b", "shapesA-custom-1", "2026-12-06T23:02:25")
    panel = listed_panel(qtbot)
    table = panel.table
    for key in ("name", "created", "status", "optimizer", "preset"):
        column = COLUMN[key]
        assert table.columnWidth(column) >= table.sizeHintForColumn(column) + COLUMN_PADDING, key
    low, high = NAME_WIDTH
    assert low <= table.columnWidth(COLUMN["name"]) <= high


def test_a_long_name_is_capped(qtbot, workbench_home):
    make_run(runs_dir(), "a", "r1", "2026-12-06T23:02:12")
    make_run(runs_dir(), "b", "x" * 200, "2026-12-06T23:02:13")
    panel = listed_panel(qtbot)
    panel.resize(1600, 600)  # narrower, the Name column gives way to the Notes column
    QApplication.processEvents()
    assert panel.table.columnWidth(COLUMN["name"]) == NAME_WIDTH[1]


def test_a_short_name_gets_a_sensible_width(qtbot, workbench_home):
    make_run(runs_dir(), "a", "r1", "2026-12-06T23:02:12")
    panel = listed_panel(qtbot)
    assert panel.table.columnWidth(COLUMN["name"]) == NAME_WIDTH[0]
