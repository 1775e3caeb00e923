"""The Tune tab's trials table as the runs are now: a run renamed on the Runs tab shows its
new name, a deleted one says "(deleted)" and double-clicking it says so instead of a
silent switch to the Runs tab; a field a trial did not search shows what it trained with,
greyed (walk-lrtune report, items 1 and 3)."""

from __future__ import annotations

import shutil

from workbench.core.runs.store import write_run_info
from workbench.qt.panels.tune.results import DELETED, UNSEARCHED_TIP, TrialsView, read_runs

LR, OPT, BATCH = "optimizer.params.lr", "optimizer.type", "data.batch_size"


def _run(tmp_path, name: str):
    folder = tmp_path / f"2026-12-07_08-10-59-{name}"
    folder.mkdir()
    write_run_info(folder, {"name": name, "experiment_name": name, "status": "completed"})
    return folder


def _trial(number, params, run_dir, trained=None):
    return {"number": number, "state": "complete", "value": 0.5, "params": params,
            "duration_s": 3.0, "run_dir": str(run_dir), "train_s": 2.0, "trained": trained}


def _cell(view, row, header):
    table = view.table
    col = next(c for c in range(table.columnCount())
               if table.horizontalHeaderItem(c).text() == header)
    return table.item(row, col)


def test_a_renamed_or_deleted_run_shows_as_it_is_now(qtbot, tmp_path):
    view = TrialsView("val_acc")
    qtbot.addWidget(view)
    renamed, deleted = _run(tmp_path, "lronly-trial-0"), _run(tmp_path, "lronly-trial-1")
    view.reset(f"sqlite:///{tmp_path / 'x.db'}", "lronly", "val_acc", True, [LR])
    view.add_trials([_trial(0, {LR: 0.003}, renamed), _trial(1, {LR: 0.01}, deleted)])
    write_run_info(renamed, {"name": "best-lr-candidate", "status": "completed"})
    shutil.rmtree(deleted)  # as the Runs tab deletes it
    missing, requested = [], []
    view.run_missing.connect(missing.append)
    view.run_requested.connect(requested.append)
    assert view.request_run(0) and requested == [str(renamed)]
    assert not view.request_run(1)
    assert requested == [str(renamed)]  # no silent switch to the Runs tab
    assert missing == [f"The run of trial 1 was deleted (its folder {deleted} is gone): it "
                       f"cannot be shown on the Runs tab"]
    assert _cell(view, 1, "Run").text() == DELETED  # the double-click found it gone
    view.set_runs(read_runs(view.trials.values()))  # as the study's lister reads them
    assert _cell(view, 0, "Run").text() == "best-lr-candidate"  # run.json's name
    assert _cell(view, 1, "Run").text() == DELETED
    assert "was deleted" in _cell(view, 1, "Run").toolTip()


def test_a_field_a_trial_did_not_search_shows_what_it_trained(qtbot, tmp_path,
                                                              tiny_experiment):
    view = TrialsView("val_acc")
    qtbot.addWidget(view)
    trained = tiny_experiment.copy()
    trained.data.batch_size = 32
    run = _run(tmp_path, "s-trial-1")
    # Trial 0 searched the optimizer and batch size; trial 1, of the same study continued
    # with only the learning rate ticked, trained Adam at batch 32.
    view.reset(f"sqlite:///{tmp_path / 'x.db'}", "s", "val_acc", True, [LR])
    view.add_trials([_trial(0, {LR: 0.003, OPT: "SGD", BATCH: 64}, run),
                     _trial(1, {LR: 0.01}, run, trained.to_dict())])
    assert _cell(view, 0, "optimizer.type").text() == "SGD"
    cell = _cell(view, 1, "optimizer.type")
    assert cell.text() == "Adam" and cell.toolTip() == UNSEARCHED_TIP
    assert cell.foreground().color() != _cell(view, 0, "optimizer.type").foreground().color()
    assert _cell(view, 1, "data.batch_size").text() == "32"
    assert _cell(view, 1, "optimizer.params.lr").text() == "0.01"  # searched: as it was
