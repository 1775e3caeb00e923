"""Runs panel: the history table, overlays of selected runs, and renaming, notes, deletion,
CSV export and "Open in Predict" through the UI."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from workbench.core.io import runs_dir
from workbench.core.runs.store import read_run_info, write_run_info
from workbench.qt.panels.runs.panel import NotesDialog, RunsPanel
from workbench.qt.panels.runs.model import COLUMN, format_duration

TIMEOUT_MS = 20000


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


def make_run(root: Path, folder: str, name: str, val_accs=(0.5, 0.75), created="2024-05-01",
             status="finished", bundle=False) -> Path:
    d = root / folder
    d.mkdir(parents=True)
    epochs = [{"epoch": i + 1, "train_loss": 1.0 / (i + 1), "train_acc": 0.5, "val_loss": 0.5,
               "val_acc": v, "lr": 0.001, "seconds": 2.0} for i, v in enumerate(val_accs)]
    (d / "metrics.json").write_text(json.dumps({"epochs": epochs}))
    (d / "experiment.json").write_text(json.dumps({
        "name": name, "optimizer": {"type": "SGD", "params": {"lr": 0.1}},
        "data": {"batch_size": 4}, "model": {"preset": "mlp"},
        "training": {"epochs": len(val_accs)}}))
    if bundle:
        (d / "bundle.pt").write_bytes(b"not really weights")
    write_run_info(d, {"name": name, "created": created, "updated": created, "status": status,
                       "epochs_done": len(val_accs), "epochs_planned": len(val_accs),
                       "duration_s": 192.0, "notes": ""})
    return d


@pytest.fixture
def root(workbench_home) -> Path:
    return runs_dir()


def listed_panel(qtbot, root: Path | None = None) -> RunsPanel:
    panel = RunsPanel(root)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=TIMEOUT_MS):
        panel.refresh()
    return panel


def cell(panel: RunsPanel, row: int, column: str) -> str:
    return panel.proxy.index(row, COLUMN[column]).data()


def click_row(qtbot, panel: RunsPanel, row: int, ctrl: bool = False) -> None:
    rect = panel.table.visualRect(panel.proxy.index(row, COLUMN["epochs"]))
    modifier = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_the_table_shows_a_finished_run(qtbot, tiny_experiment, root):
    from workbench.core.train.trainer import Trainer

    tiny_experiment.training.epochs = 1
    result = Trainer(tiny_experiment).fit()
    run = root / "2024-06-01_12-00-00-tiny"
    run.mkdir(parents=True)
    result.save_bundle(run / "bundle.pt")
    (run / "metrics.json").write_text(json.dumps({"epochs": result.history}))
    result.experiment.save(run / "experiment.json")
    now = datetime.now().isoformat(timespec="seconds")
    write_run_info(run, {"name": "tiny", "created": now, "updated": now, "finished": now,
                         "status": "finished", "epochs_done": 1, "epochs_planned": 1,
                         "duration_s": 192.4, "device": "cpu", "notes": ""})

    panel = listed_panel(qtbot)
    panel.show()
    assert panel.proxy.rowCount() == 1
    best = max(e["val_acc"] for e in result.history)
    assert cell(panel, 0, "name") == "tiny"
    assert cell(panel, 0, "created") == now[:16].replace("T", " ")
    assert cell(panel, 0, "status") == "finished"
    assert cell(panel, 0, "epochs") == "1/1"
    # The saved model's accuracy (1 epoch: the last is the best).
    assert cell(panel, 0, "val_acc") == f"{best * 100:.1f}"
    assert cell(panel, 0, "duration") == "3 min 12 s"
    assert (cell(panel, 0, "optimizer"), cell(panel, 0, "batch"),
            cell(panel, 0, "preset")) == (tiny_experiment.optimizer.type, "8", "mlp")
    assert "1 run in" in panel.message.text()

    assert not panel.predict_button.isEnabled()
    click_row(qtbot, panel, 0)
    assert panel.predict_button.isEnabled()
    with qtbot.waitSignal(panel.open_bundle_requested, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(panel.predict_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [str(run / "bundle.pt")]


def test_selecting_two_runs_overlays_both(qtbot, root):
    a = make_run(root, "a", "alpha", val_accs=(0.25, 0.5), created="2024-05-01T10:00:00")
    b = make_run(root, "b", "beta", val_accs=(0.5, 0.75, 1.0), created="2024-05-02T10:00:00")
    panel = listed_panel(qtbot)
    panel.show()
    assert [cell(panel, r, "name") for r in range(2)] == ["beta", "alpha"]  # newest first
    with qtbot.waitSignal(panel.overlay_requested, timeout=WAIT_MS) as one:
        click_row(qtbot, panel, 0)
    assert [o["name"] for o in one.args[0]] == ["beta"]
    with qtbot.waitSignal(panel.overlay_requested, timeout=WAIT_MS) as two:
        click_row(qtbot, panel, 1, ctrl=True)
    overlays = {o["name"]: o["history"] for o in two.args[0]}
    assert set(overlays) == {"alpha", "beta"}
    assert [e["val_acc"] for e in overlays["alpha"]] == [0.25, 0.5]
    assert [e["val_acc"] for e in overlays["beta"]] == [0.5, 0.75, 1.0]
    assert sorted(panel.selected_paths()) == [str(a), str(b)]
    # Several runs: no single bundle to open, no single name to edit.
    assert not panel.rename_button.isEnabled() and not panel.predict_button.isEnabled()
    assert panel.export_button.isEnabled() and panel.delete_button.isEnabled()


def test_rename_by_editing_the_name_cell(qtbot, root):
    a = make_run(root, "a", "alpha")
    panel = listed_panel(qtbot)
    panel.show()
    panel.activateWindow()
    click_row(qtbot, panel, 0)
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    editor = panel.table.findChild(QLineEdit)
    assert editor is not None and editor.text() == "alpha"
    editor.selectAll()
    qtbot.keyClicks(editor, "baseline")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: cell(panel, 0, "name") == "baseline", timeout=WAIT_MS)
    assert read_run_info(a)["name"] == "baseline"
    # The index has it too: another window lists the new name.
    assert listed_panel(qtbot).model.record(0).name == "baseline"


def test_a_listing_that_arrives_while_a_name_is_typed_does_not_lose_it(qtbot, root):
    a = make_run(root, "a", "alpha")
    panel = listed_panel(qtbot)
    panel.show()
    click_row(qtbot, panel, 0)
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    editor = panel.table.findChild(QLineEdit)
    make_run(root, "b", "beta")  # a run that finishes meanwhile
    with qtbot.waitSignal(panel._runner.finished, timeout=TIMEOUT_MS):
        panel.refresh()
    assert panel.table.findChild(QLineEdit) is editor  # still open, text kept
    editor.selectAll()
    qtbot.keyClicks(editor, "baseline")
    with qtbot.waitSignal(panel.refreshed, timeout=TIMEOUT_MS) as listed:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert listed.args == [2]  # the listing that waited is shown once the editor closed
    assert read_run_info(a)["name"] == "baseline"
    assert sorted(cell(panel, r, "name") for r in range(2)) == ["baseline", "beta"]


def test_an_empty_name_is_refused_with_a_message(qtbot, root):
    a = make_run(root, "a", "alpha")
    panel = listed_panel(qtbot)
    index = panel.proxy.index(0, COLUMN["name"])
    panel.proxy.setData(index, "   ", Qt.ItemDataRole.EditRole)  # what the editor commits
    assert cell(panel, 0, "name") == "alpha"
    assert read_run_info(a)["name"] == "alpha"
    boxes = [w for w in panel.findChildren(QMessageBox) if w.isVisible()]
    assert boxes and "cannot be empty" in boxes[0].text()


def test_notes_through_the_dialog(qtbot, root):
    a = make_run(root, "a", "alpha")
    panel = listed_panel(qtbot)
    panel.show()
    click_row(qtbot, panel, 0)
    seen = {}

    def fill_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, NotesDialog)
        seen["text"] = dialog.editor.toPlainText()
        dialog.editor.setPlainText("lr 0.1 overshoots\ntry 0.01")
        dialog.accept()

    QTimer.singleShot(0, fill_dialog)
    qtbot.mouseClick(panel.notes_button, Qt.MouseButton.LeftButton)
    assert seen["text"] == ""
    assert read_run_info(a)["notes"] == "lr 0.1 overshoots\ntry 0.01"
    assert cell(panel, 0, "notes") == "lr 0.1 overshoots"  # the first line in the table
    assert panel.proxy.index(0, COLUMN["notes"]).data(Qt.ItemDataRole.ToolTipRole) == \
        "lr 0.1 overshoots\ntry 0.01"

    panel.ask_notes = lambda parent, name, notes: None  # cancelled: nothing changes
    qtbot.mouseClick(panel.notes_button, Qt.MouseButton.LeftButton)
    assert read_run_info(a)["notes"] == "lr 0.1 overshoots\ntry 0.01"


def test_delete_asks_first_and_refuses_a_live_run(qtbot, root):
    a = make_run(root, "a", "alpha", created="2024-05-01T10:00:00")
    now = datetime.now().isoformat()
    live = make_run(root, "live", "live", created=now, status="running")
    panel = listed_panel(qtbot)
    panel.show()
    row_a = 1 if cell(panel, 0, "name") == "live" else 0
    click_row(qtbot, panel, row_a)
    questions = []
    panel.confirm = lambda parent, title, text: questions.append(text) or False
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert a.is_dir() and panel.proxy.rowCount() == 2
    assert "alpha" in questions[0]

    panel.confirm = lambda parent, title, text: True
    with qtbot.waitSignal(panel.overlay_requested, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [[]]  # the deleted run's curves go away
    assert not a.exists()
    assert [cell(panel, r, "name") for r in range(panel.proxy.rowCount())] == ["live"]

    click_row(qtbot, panel, 0)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert live.is_dir() and panel.proxy.rowCount() == 1
    assert panel.message.level == "warning"


def test_export_csv_of_the_selected_runs(qtbot, root, tmp_path):
    make_run(root, "a", "alpha", val_accs=(0.25, 0.5), created="2024-05-01T10:00:00")
    make_run(root, "b", "beta", val_accs=(0.75,), created="2024-05-02T10:00:00")
    panel = listed_panel(qtbot)
    panel.show()
    click_row(qtbot, panel, 0)
    click_row(qtbot, panel, 1, ctrl=True)
    out = tmp_path / "metrics.csv"
    suggested = []
    panel.ask_save_path = lambda parent, name: suggested.append(name) or str(out)
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert suggested[0].endswith("runs.csv")
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["run"], r["epoch"], r["val_acc"]) for r in rows] == [
        ("beta", "1", "0.75"), ("alpha", "1", "0.25"), ("alpha", "2", "0.5")]
    assert f"Exported 3 epoch rows to {out}" == panel.message.text()


def test_refresh_lists_500_runs_and_sorts_numbers_as_numbers(qtbot, root):
    root.mkdir(parents=True)
    for i in range(500):
        d = root / f"run{i:03d}"
        d.mkdir()
        acc = 1.0 if i == 7 else (i % 97) / 100
        (d / "metrics.json").write_text(json.dumps({"epochs": [{"epoch": 1, "val_acc": acc}]}))
        (d / "bundle.pt").touch()
        write_run_info(d, {"name": f"run {i}", "created": f"2024-01-01T00:{i // 60:02d}:"
                                                        f"{i % 60:02d}.{i:03d}",
                           "status": "finished"})
    panel = listed_panel(qtbot)
    assert panel.proxy.rowCount() == 500
    panel.table.sortByColumn(COLUMN["val_acc"], Qt.SortOrder.DescendingOrder)
    # 100.0 first: sorted as a number, not as text (where "96.0" > "100.0").
    assert [cell(panel, r, "val_acc") for r in range(2)] == ["100.0", "96.0"]

    make_run(root, "new", "newest")
    with qtbot.waitSignal(panel.refreshed, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [501]
    qtbot.keyClicks(panel.filter_edit, "newest")
    assert panel.proxy.rowCount() == 1 and cell(panel, 0, "name") == "newest"


def test_a_corrupt_run_is_listed_with_its_problem(qtbot, root):
    make_run(root, "good", "good")
    bad = make_run(root, "bad", "bad")
    (bad / "run.json").write_text("{ not json")
    panel = listed_panel(qtbot)
    names = {cell(panel, r, "name"): r for r in range(panel.proxy.rowCount())}
    assert set(names) == {"good", "bad"}
    status = panel.proxy.index(names["bad"], COLUMN["status"])
    assert "⚠" in status.data() and "run.json" in status.data(Qt.ItemDataRole.ToolTipRole)


def test_durations_read_like_a_person_would_say_them():
    assert [format_duration(s) for s in (None, 0.4, 45, 192.4, 3600, 7530)] == \
        ["", "0.4 s", "45 s", "3 min 12 s", "1 h 00 min", "2 h 05 min"]
    assert [format_duration(s) for s in (0, 0.2, 0.01, 0.96)] == ["0 s", "0.2 s", "< 0.1 s",
                                                                   "1 s"]


def test_the_main_window_wires_the_runs_tab(qtbot, monkeypatch, tiny_experiment, root,
                                            bundle_path):
    from workbench.qt.main_window import MainWindow
    from workbench.qt.plots.training import TrainingPlots

    overlaid = []
    # Whether or not the plots can overlay runs yet, the window must pass selections on.
    monkeypatch.setattr(TrainingPlots, "set_overlays",
                        lambda self, runs: overlaid.append(runs), raising=False)
    make_run(root, "a", "alpha")
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles.index("Train") < titles.index("Runs") < titles.index("Predict")

    runs = window.runs_panel
    with qtbot.waitSignal(runs.refreshed, timeout=TIMEOUT_MS):
        window.tabs.setCurrentWidget(runs)
        window.show()
    runs.select_paths([str(root / "a")])
    assert [o["name"] for o in overlaid[-1]] == ["alpha"]

    runs.open_bundle_requested.emit(bundle_path)
    assert window.predict_panel.bundle_path == bundle_path
    assert window.tabs.currentWidget() is window.predict_panel

    make_run(root, "b", "beta")  # a training run that ends refreshes the history
    with qtbot.waitSignal(runs.refreshed, timeout=TIMEOUT_MS) as blocker:
        window.train_panel.training_finished.emit({"stopped": False})
    assert blocker.args == [2]


def test_open_in_evaluate_from_the_runs_tab(qtbot, tmp_path, tiny_experiment, workbench_home):
    from workbench.core.io import runs_dir
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.trainer import Trainer
    from workbench.qt.main_window import MainWindow

    tiny_experiment.training.epochs = 1
    recorder = RunRecorder(parent=runs_dir())
    Trainer(tiny_experiment, [recorder]).fit()
    window = MainWindow()
    qtbot.addWidget(window)
    runs = window.runs_panel
    with qtbot.waitSignal(runs.refreshed, timeout=20000):
        runs.refresh()
    runs.select_paths([str(recorder.run_dir)])
    assert runs.evaluate_button.isEnabled()
    runs.evaluate_button.click()
    assert window.tabs.currentWidget() is window.evaluate_panel
    assert window.evaluate_panel.bundle_path() == str(recorder.bundle_path)
    window.close()


def test_a_run_whose_process_died_is_shown_interrupted_with_what_to_do(qtbot, root):
    make_run(root, "died", "died", created="2024-05-01T10:00:00", status="running")
    panel = listed_panel(qtbot)
    assert cell(panel, 0, "status") == "interrupted"
    index = panel.proxy.index(0, COLUMN["status"])
    assert "Continue in Train resumes it" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert index.data(Qt.ItemDataRole.ForegroundRole) is not None  # stands out


def test_short_numbers_are_never_cut(qtbot, root):
    # From a user's day: the columns were fitted to the first listing (lr 0.001); a later
    # run's 0.00091 then read "0.0…".
    make_run(root, "first", "first")
    panel = listed_panel(qtbot, root)
    panel.resize(1366, 500)
    panel.show()
    d = make_run(root, "slow", "slow", created="2024-05-02")
    exp = json.loads((d / "experiment.json").read_text())
    exp["optimizer"]["params"]["lr"] = 0.00091
    (d / "experiment.json").write_text(json.dumps(exp))
    with qtbot.waitSignal(panel.refreshed, timeout=TIMEOUT_MS):
        panel.refresh()
    assert "0.00091" in [cell(panel, row, "lr") for row in range(2)]
    column = COLUMN["lr"]
    qtbot.waitUntil(lambda: panel.table.columnWidth(column) >=
                    panel.table.sizeHintForColumn(column), timeout=TIMEOUT_MS)
