"""What the Continue dialog and the Runs tab say of a run (walk-tomorrow3 defects 3, 5, 6,
7): the dialog names a run whose run.json is damaged as the Train tab does, with its status
and that run.json is damaged (not its folder and "(unknown)"), and says how soon early
stopping may end a finish of the plan; the Runs tab's settings tooltip gives the input size
width first with the order named, and the learning rates a continuation at a typed rate
set, start by start."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from workbench.core.runs.plan import ContinuePlan
from workbench.core.runs.store import RunRecord
from workbench.qt.panels.runs.model import COLUMN, RunsTableModel
from workbench.qt.panels.train.continue_run import ContinueDialog


def _dialog(qtbot, plan) -> ContinueDialog:
    dialog = ContinueDialog(plan)
    qtbot.addWidget(dialog)
    return dialog


def test_the_dialog_names_a_damaged_run_as_read_back(qtbot, tiny_experiment):
    plan = ContinuePlan(run_dir="r", name="walk-seed-cnn-1", status="early_stopped", done=14,
                        planned=14, optimizer="Adam", lr=0.001, scheduler="none",
                        base=tiny_experiment, info_damaged=True)
    texts = [label.text() for label in _dialog(qtbot, plan).findChildren(QLabel)]
    assert "<b>walk-seed-cnn-1</b> (early stopped; run.json damaged): 14 of 14 planned " \
           "epochs done." in texts, texts


def test_finishing_says_how_soon_early_stopping_may_end_it(qtbot, tiny_experiment):
    t = tiny_experiment.training
    t.epochs, t.early_stopping, t.patience = 14, True, 3
    plan = ContinuePlan(run_dir="r", name="run", status="stopped", done=5, planned=14,
                        optimizer="Adam", lr=0.001, scheduler="none", base=tiny_experiment,
                        mode="finish", stopping={"bad_epochs": 2, "best": {
                            "metric": "val_loss", "value": 1.142, "epoch": 3}})
    text = _dialog(qtbot, plan).outcome.text()
    assert text == ("Trains epochs 6 to 14 (9 epochs). Early stopping goes on counting: 2 of "
                    "its 3 epochs without improvement are used (best val_loss 1.142 at epoch "
                    "3), so the run ends after epoch 6 unless it improves; \"Train more "
                    "epochs\" starts the count anew."), text


def test_the_runs_settings_tooltip_says_the_size_and_each_starts_rate(qtbot, tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({
        "name": "run", "earlier_start_notes": [{"from_epoch": 1, "notes": []}],
        "start_notes_from": 6,
        "start_notes": ["learning rate changed from 0.001 to 0.0005 on resuming"]}))
    model = RunsTableModel()
    model.set_records([RunRecord(path=str(tmp_path), name="run", scheduler="OneCycleLR",
                                 lr=0.0005, input_size=(80, 96))])
    tip = model.data(model.index(0, COLUMN["lr"]), Qt.ItemDataRole.ToolTipRole)
    assert tip == ("learning rate: 0.001, then 0.0005 from epoch 6\nscheduler: OneCycleLR, "
                   "input size: 96x80 (width x height)"), tip
    tip = model.data(model.index(0, COLUMN["optimizer"]), Qt.ItemDataRole.ToolTipRole)
    assert tip == "scheduler: OneCycleLR, input size: 96x80 (width x height)", tip
