"""Continuing a run stopped partway, to finish its planned epochs, counts early stopping's
patience on from the checkpoint (as the uninterrupted run would): the Continue plan and
``workbench resume``'s header say how many epochs without improvement are used already and
after which epoch the run ends unless it improves (walk-tomorrow3 defect 3: "Trains epochs
6 to 14 (9 epochs)" and "resuming ... epochs 6 to 14", then it trained one). A run whose
run.json is damaged is named and said as the Train tab says it, not by its folder and
"(unknown)" (defect 5).
"""

from __future__ import annotations

import json

import pytest

from helpers import run_cli as run, stop_after
from workbench.core.runs.plan import FINISH, MORE, continue_plan


@pytest.fixture
def stopped(tmp_path, tiny_experiment):
    """Patience 3 and a min_delta no epoch after the first improves by, 6 epochs planned,
    stopped after epoch 3: 2 of the 3 epochs without improvement are used."""
    from workbench.core.train.run import run_training

    t = tiny_experiment.training
    t.epochs, t.early_stopping, t.patience, t.min_delta = 6, True, 3, 0.5
    run_dir = tmp_path / "run"
    outcome = run_training(tiny_experiment.validate(), run_dir, [stop_after(3)],
                           name="phones-tuesday")
    assert outcome.status == "stopped" and outcome.epochs_done == 3
    return run_dir


def test_finishing_the_plan_says_how_soon_early_stopping_may_end_it(stopped):
    plan = continue_plan(stopped)
    assert (plan.mode, plan.target) == (FINISH, 6)
    note = plan.patience_note()
    assert note.startswith("Early stopping goes on counting: 2 of its 3 epochs without "
                           "improvement are used (best val_loss "), note
    assert "at epoch 1), so the run ends after epoch 4 unless it improves; " \
           "\"Train more epochs\" starts the count anew." in note, note
    # "N more" counts afresh, as the run does.
    assert "afresh from epoch 4" in plan.choose(MORE, 2).patience_note()


def test_resume_header_says_how_soon_early_stopping_may_end_it(capsys, stopped):
    code, out, err = run(capsys, "resume", stopped)
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("resuming "))
    assert ("epochs 4 to 6; early stopping goes on counting: 2 of its 3 epochs without "
            "improvement are used (best val_loss ") in header, header
    assert header.endswith("at epoch 1), so the run ends after epoch 4 unless it improves; "
                           "resume --epochs N starts the count anew"), header
    info = json.loads((stopped / "run.json").read_text())
    assert (info["status"], info["epochs_done"]) == ("early_stopped", 4)  # as it said


def test_a_damaged_run_json_keeps_the_runs_name_and_status_in_the_plan(stopped):
    path = stopped / "run.json"
    text = path.read_text()
    path.write_text(text[:text.find('"epochs_done"') + 5])  # cut short after "status"
    plan = continue_plan(stopped)
    assert (plan.name, plan.status) == ("phones-tuesday", "stopped")  # not "run", ""
    assert plan.info_damaged
    assert plan.summary().startswith("Continuing phones-tuesday: epochs 4–6")
