"""The Runs tab says which dataset each run trained on (walker report walk-projects,
defect 2): a Dataset column with the dataset's short name as run names use it, its folder
in the tooltip, matched by the filter and sortable; runs whose experiment.json does not
say (older run folders) show it blank. The Notes column stays in sight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from qt_helpers import listed_run, shown_runs_panel
from workbench.core.io import runs_dir
from workbench.qt.panels.runs.model import COLUMN
from workbench.qt.panels.runs.columns import DATASET_WIDTH, NAME_WIDTH
from workbench.qt.panels.runs.panel import RunsPanel


def make_run(root: Path, folder: str, name: str, data_folder: str | None) -> Path:
    run = listed_run(root, folder, name, created=f"2026-12-06T11:00:0{len(folder) % 10}")
    if data_folder is not None:
        exp = json.loads((run / "experiment.json").read_text())
        exp["data"]["folder"] = data_folder
        (run / "experiment.json").write_text(json.dumps(exp))
    return run


@pytest.fixture
def root(workbench_home) -> Path:
    return runs_dir()


def listed_panel(qtbot, size=(1344, 600)) -> RunsPanel:
    return shown_runs_panel(qtbot, size)


def shown(panel: RunsPanel) -> list[tuple[str, str]]:
    return [(panel.proxy.index(r, COLUMN["name"]).data(),
             panel.proxy.index(r, COLUMN["dataset"]).data())
            for r in range(panel.proxy.rowCount())]


def test_the_dataset_column_names_each_runs_dataset(qtbot, root):
    make_run(root, "a", "shapes-baseline", "/data/projects/shapesA")
    make_run(root, "bb", "colours-mlp-1", "/data/projects/coloursB/train")
    make_run(root, "ccc", "demo-seed-cnn-1", "")  # the built-in demo dataset
    make_run(root, "dddd", "old-run", None)  # experiment.json without a data folder
    panel = listed_panel(qtbot)
    column = COLUMN["dataset"]
    assert panel.proxy.headerData(column, Qt.Orientation.Horizontal) == "Dataset"
    assert dict(shown(panel)) == {"shapes-baseline": "shapesA", "colours-mlp-1": "coloursB",
                                  "demo-seed-cnn-1": "demo", "old-run": ""}
    tips = {panel.proxy.index(r, COLUMN["name"]).data():
            panel.proxy.index(r, column).data(Qt.ItemDataRole.ToolTipRole)
            for r in range(panel.proxy.rowCount())}
    assert tips["colours-mlp-1"] == "/data/projects/coloursB/train"
    assert "demo" in tips["demo-seed-cnn-1"] and tips["old-run"] is None
    panel.table.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    assert [d for _n, d in shown(panel)] == ["", "coloursB", "demo", "shapesA"]
    panel.filter_edit.setText("shapesa")  # the filter matches the dataset too
    assert shown(panel) == [("shapes-baseline", "shapesA")]


def test_the_dataset_column_leaves_the_notes_column_in_sight(qtbot, root):
    make_run(root, "a", "shapes-resnet18-pretrained-augmented-lr0.01-run-13",
             "/data/" + "a-very-long-dataset-folder-name-" * 3)
    make_run(root, "bb", "birds-seed-cnn-1", "/data/birds")
    # The tab maximised at 1366x768, and in the 1100x706 window the app opens at there.
    for size in ((1344, 560), (1100, 560)):
        panel = listed_panel(qtbot, size)
        table = panel.table
        notes_left = table.columnViewportPosition(COLUMN["notes"])
        assert 0 < notes_left <= table.viewport().width() - 100, size
        dataset = COLUMN["dataset"]
        least = table.horizontalHeader().sectionSizeHint(dataset)
        assert least <= table.columnWidth(dataset) <= DATASET_WIDTH, size
        assert table.columnWidth(COLUMN["name"]) >= NAME_WIDTH[0]
    assert table.columnWidth(dataset) == least  # the long name gave way: cut, whole in its tip
    panel.resize(1344, 560)  # room again: the dataset gets its width back
    QApplication.processEvents()
    assert table.columnWidth(dataset) == DATASET_WIDTH


def test_columns_sized_by_hand_keep_their_width(qtbot, root):
    make_run(root, "a", "shapes-resnet18-pretrained-augmented-lr0.01-run-13", "/data/birds")
    panel = listed_panel(qtbot)
    table, header = panel.table, panel.table.horizontalHeader()
    for key in ("dataset", "preset"):  # as the user drags their borders
        header.resizeSection(COLUMN[key], 240)
    panel.resize(1100, 560)  # the window follows no more: the user's widths stay
    QApplication.processEvents()
    assert [table.columnWidth(COLUMN[key]) for key in ("dataset", "preset")] == [240, 240]
