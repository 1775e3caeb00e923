"""The Runs table's columns have room to spare: a name such as "shapesA-seed-cnn-1" touched
the Name column's border (from a UI review)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from qt_helpers import listed_run, shown_runs_panel
from workbench.core.io import runs_dir
from workbench.qt.panels.runs.model import COLUMN
from workbench.qt.panels.runs.panel import COLUMN_PADDING, NAME_WIDTH, RunsPanel


def make_run(root: Path, folder: str, name: str, created: str) -> None:
    listed_run(root, folder, name, created=created, val_acc=0.429)


def listed_panel(qtbot) -> RunsPanel:
    return shown_runs_panel(qtbot, (1140, 600))


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
