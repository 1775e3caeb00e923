"""The Runs tab: refused edits say why in its message line, the filter finds words on any
line of the notes, and the Notes column stays in sight at the default window size."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from qt_helpers import listed_run, shown_runs_panel
from workbench.core.io import runs_dir
from workbench.core.runs.store import read_run_info, update_run_info, write_run_info
from workbench.qt.panels.runs.model import COLUMN
from workbench.qt.panels.runs.panel import RunsPanel

TIMEOUT_MS = 20000


def make_run(root: Path, folder: str, name: str, notes: str = "") -> Path:
    return listed_run(root, folder, name, notes=notes)


@pytest.fixture
def root(workbench_home) -> Path:
    return runs_dir()


def listed_panel(qtbot, size=(900, 600)) -> RunsPanel:
    return shown_runs_panel(qtbot, size)


def names(panel: RunsPanel) -> list[str]:
    return sorted(panel.proxy.index(r, COLUMN["name"]).data()
                  for r in range(panel.proxy.rowCount()))


def rename_row(panel: RunsPanel, name: str, new: str) -> None:
    row = next(r for r in range(panel.proxy.rowCount())
               if panel.proxy.index(r, COLUMN["name"]).data() == name)
    panel.proxy.setData(panel.proxy.index(row, COLUMN["name"]), new,
                        Qt.ItemDataRole.EditRole)  # what the cell's editor commits


def test_renaming_to_a_taken_name_is_refused_in_the_message_line(qtbot, root):
    make_run(root, "2026-12-06_11-00-00-baseline", "baseline")
    wide = make_run(root, "2026-12-06_12-00-00-wide", "wide")
    panel = listed_panel(qtbot)
    rename_row(panel, "wide", "baseline")
    assert names(panel) == ["baseline", "wide"]
    assert read_run_info(wide)["name"] == "wide"
    assert panel.message.level == "error"
    assert "another run is already called baseline (2026-12-06_11-00-00-baseline): " \
           "choose another name" in panel.message.text()


def test_an_edit_that_succeeds_after_a_refused_one_says_so(qtbot, root):
    # From a user's day: "Cannot rename the run: … already called baseline" stayed on the
    # message line after the next rename and a notes edit had both succeeded.
    make_run(root, "2026-12-06_11-00-00-baseline", "baseline")
    wide = make_run(root, "2026-12-06_12-00-00-wide", "wide")
    panel = listed_panel(qtbot)
    renamed = []
    panel.run_renamed.connect(renamed.append)
    for refused, name, new in (("baseline", "wide", "wide-2"), ("  ", "wide-2", "wide")):
        rename_row(panel, name, refused)
        assert panel.message.level == "error" and "Cannot rename" in panel.message.text()
        rename_row(panel, name, new)
        assert panel.message.text() == f"Renamed the run to “{new}”."
        assert panel.message.level == "ok"
    assert renamed == [str(wide), str(wide)]  # not the refused ones: Predict, Evaluate follow
    rename_row(panel, "wide", "baseline")
    panel.select_paths([str(wide)])
    panel.ask_notes = lambda parent, name, notes: "lr too large"
    panel.edit_notes()
    assert read_run_info(wide)["notes"] == "lr too large"
    assert panel.message.text() == "Saved the notes of “wide”." and \
        panel.message.level == "ok"


def test_renaming_a_run_whose_run_json_is_damaged_changes_nothing(qtbot, root):
    a = make_run(root, "a", "alpha")
    panel = listed_panel(qtbot)
    (a / "run.json").write_text('{"name": "alpha", ')  # damaged after it was listed
    rename_row(panel, "alpha", "baseline")
    assert (a / "run.json").read_text() == '{"name": "alpha", '
    assert "a/run.json is not valid JSON" in panel.message.text()
    assert "nothing was changed" in panel.message.text()


def test_the_filter_finds_a_word_on_a_later_line_of_the_notes(qtbot, root):
    make_run(root, "a", "alpha", notes="first try\nlr 0.1 overshoots")
    make_run(root, "b", "beta", notes="fine")
    panel = listed_panel(qtbot)
    panel.filter_edit.setText("overshoots")
    assert names(panel) == ["alpha"]
    panel.filter_edit.setText("beta")  # names still match
    assert names(panel) == ["beta"]


def test_the_notes_column_stays_in_sight_at_the_default_window_size(qtbot, root):
    run = make_run(root, "a", "shapes-resnet18-pretrained-augmented-lr0.01-run-13",
                   notes="see")
    # A run with a backbone: its weights ("pretrained") took a column of their own, which
    # pushed the Notes column out of sight.
    update_run_info(run, backbone_weights="pretrained, loaded from /data/resnet18.pth",
                    feature_mode="cached, 2 augmented views", duration_s=11.0)
    make_run(root, "b", "birds-seed-cnn-1")
    panel = listed_panel(qtbot, size=(1078, 560))  # the tab's size in a 1100x706 window
    table = panel.table
    notes_left = table.columnViewportPosition(COLUMN["notes"])
    # In sight: the Name, Dataset and Preset columns give way (the Dataset column's and
    # the backbone run's Preset cell's text cut), the Dataset column still shown.
    assert 0 < notes_left <= table.viewport().width() - 100
    assert table.horizontalScrollBar().maximum() == 0
    dataset, preset = COLUMN["dataset"], COLUMN["preset"]
    assert table.columnWidth(dataset) >= table.horizontalHeader().sectionSizeHint(dataset)
    presets = {panel.proxy.index(r, preset).data() for r in range(2)}
    assert presets == {"seed-cnn · pretrained", "seed-cnn"}
    row = next(r for r in range(2) if panel.proxy.index(r, preset).data() != "seed-cnn")
    assert table.columnWidth(preset) < table.sizeHintForColumn(preset)  # cut: whole in its tip
    assert shown_tooltip(table, row, preset).startswith(
        "seed-cnn · pretrained\nBackbone weights: pretrained, loaded from /data/resnet18.pth")
    assert "pretrained (loaded from a weights file) or random" in panel.proxy.headerData(
        preset, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    panel.resize(1600, 560)  # room again: the name and the preset get their width back
    QApplication.processEvents()
    assert table.columnWidth(COLUMN["name"]) == 300
    assert table.columnWidth(preset) >= table.sizeHintForColumn(preset)  # not cut
    assert shown_tooltip(table, row, preset).startswith("Backbone weights: pretrained")


def shown_tooltip(table, row: int, column: int) -> str:
    """The tooltip a person hovering the cell sees."""
    centre = table.visualRect(table.model().index(row, column)).center()
    QApplication.sendEvent(table.viewport(), QHelpEvent(
        QEvent.Type.ToolTip, centre, table.viewport().mapToGlobal(centre)))
    return QToolTip.text()


def test_a_stopped_runs_status_tooltip_says_what_it_means(qtbot, root):
    d = make_run(root, "a", "alpha")
    info = read_run_info(d)
    info.update(status="stopped", message="stopped", epochs_done=1, epochs_planned=5)
    write_run_info(d, info)
    panel = listed_panel(qtbot)
    tip = panel.proxy.index(0, COLUMN["status"]).data(Qt.ItemDataRole.ToolTipRole)
    assert "after 1/5 epochs" in tip and "Continue in Train" in tip
    assert "stopped\n" not in tip + "\n"  # the bare word is not repeated


def test_a_copied_run_folder_is_told_apart_by_its_folder_until_one_is_renamed(qtbot, root):
    """Stop 31's note: two folders holding the same run name (a copied folder) read alike
    in the table, and alike in Evaluate's and Predict's choosers."""
    make_run(root, "2026-12-06_11-00-00-baseline", "baseline")
    make_run(root, "baseline copy", "baseline")
    make_run(root, "2026-12-06_12-00-00-wide", "wide")
    panel = listed_panel(qtbot, size=(1366, 600))
    assert names(panel) == ["baseline  (2026-12-06_11-00-00-baseline)",
                            "baseline  (baseline copy)", "wide"]
    row = next(r for r in range(panel.proxy.rowCount())
               if panel.proxy.index(r, COLUMN["name"]).data().endswith("(baseline copy)"))
    index = panel.proxy.index(row, COLUMN["name"])
    assert "Another run folder holds a run of this name" in index.data(
        Qt.ItemDataRole.ToolTipRole)
    assert index.data(Qt.ItemDataRole.EditRole) == "baseline"  # what the editor starts with
    # Renaming one parts them: both rows read as plain names again.
    panel.proxy.setData(index, "baseline copy", Qt.ItemDataRole.EditRole)
    qtbot.waitUntil(lambda: names(panel) == ["baseline", "baseline copy", "wide"],
                    timeout=TIMEOUT_MS)
