"""The Tune tab's Run cells read no run folder on the GUI thread: the study's lister reads
each trial's run.json and whether its folder is still there in its pool thread and passes
them in, so a refresh of a study of many trials on a network share does not stutter; a run
renamed or deleted on the Runs tab shows so once the study is listed again (review-qt,
item 4)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from workbench.core.runs import store
from workbench.core.runs.store import write_run_info
from workbench.qt.panels.tune.results import DELETED, TrialsView

TIMEOUT_MS = 60000
LR = "optimizer.params.lr"


def _run(parent: Path, name: str) -> Path:
    folder = parent / f"2026-12-07_08-10-59-{name}"
    folder.mkdir(parents=True)
    write_run_info(folder, {"name": name, "status": "completed"})
    return folder


def _run_cell(table, row: int) -> str:
    return table.item(row, table.columnCount() - 1).text()


def _gui_thread_reads(monkeypatch, runs_parent: Path) -> list:
    """The run.json reads and run-folder stats made on the GUI thread, as a list that grows."""
    reads: list = []
    main = threading.main_thread()
    read_info, is_dir = store.read_run_info, Path.is_dir

    def read(run_dir):
        if threading.current_thread() is main:
            reads.append(("run.json", str(run_dir)))
        return read_info(run_dir)

    def stat(path):
        if threading.current_thread() is main and str(path).startswith(str(runs_parent)):
            reads.append(("stat", str(path)))
        return is_dir(path)
    monkeypatch.setattr(store, "read_run_info", read)
    monkeypatch.setattr(Path, "is_dir", stat)
    return reads


def test_adding_trials_reads_no_run_folder_on_the_gui_thread(qtbot, tmp_path, monkeypatch):
    view = TrialsView("val_acc")
    qtbot.addWidget(view)
    runs = [_run(tmp_path, f"s-trial-{n}") for n in range(20)]
    reads = _gui_thread_reads(monkeypatch, tmp_path)
    view.reset(f"sqlite:///{tmp_path / 'x.db'}", "s", "val_acc", True, [LR])
    for n, run in enumerate(runs):  # a study's trials, one update each
        view.add_trials([{"number": n, "state": "complete", "value": 0.5,
                          "params": {LR: 0.001}, "run_dir": str(run)}])
    assert reads == []
    assert _run_cell(view.table, 3) == "s-trial-3"  # the folder's name until it is read


def test_a_run_renamed_or_deleted_shows_when_the_study_is_listed_again(
        qtbot, tune_panel, tmp_path, monkeypatch):
    optuna = pytest.importorskip("optuna")
    panel = tune_panel
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=url, study_name="shared", direction="maximize")
    study.set_user_attr("metric", "val_acc")
    renamed, deleted = _run(tmp_path / "runs", "shared-trial-0"), \
        _run(tmp_path / "runs", "shared-trial-1")
    for lr, run in ((0.001, renamed), (0.01, deleted)):
        study.add_trial(optuna.trial.create_trial(
            params={LR: lr}, value=0.5, user_attrs={"run_dir": str(run)},
            distributions={LR: optuna.distributions.FloatDistribution(1e-4, 0.1, log=True)}))
    reads = _gui_thread_reads(monkeypatch, tmp_path / "runs")
    panel.storage_edit.setText(url)
    panel.name_edit.setText("shared")
    table = panel.trials_table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=TIMEOUT_MS)
    assert [_run_cell(table, r) for r in range(2)] == ["shared-trial-0", "shared-trial-1"]
    write_run_info(renamed, {"name": "best-lr-candidate", "status": "completed"})
    shutil.rmtree(deleted)  # as the Runs tab renames and deletes them
    reads.clear()  # the writing just now: the test's, not the table's
    assert panel.follower.relist()  # as every 10 s while the tab is visible
    qtbot.waitUntil(lambda: _run_cell(table, 1) == DELETED, timeout=TIMEOUT_MS)
    assert _run_cell(table, 0) == "best-lr-candidate"
    assert reads == []
