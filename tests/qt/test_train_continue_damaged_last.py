"""Continue… on a run whose checkpoints/last.pt was damaged (a power cut): the dialog says
it goes on from best.pt, and the run continues (walk-crash defect 5: the app showed a
message cut mid-sentence, in its dialog and its status line, and nothing continued)."""

from __future__ import annotations

import shutil
from pathlib import Path

RUN_TIMEOUT_MS = 120000


def test_continue_goes_on_from_best_pt_when_last_pt_is_damaged(qtbot, train_panel):
    panel = train_panel(epochs=2)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as first:
        panel.start_button.click()
    ckpts = Path(first.args[0]["run_dir"]) / "checkpoints"
    shutil.copyfile(ckpts / "last.pt", ckpts / "best.pt")  # best.pt of epoch 2
    (ckpts / "last.pt").write_bytes((ckpts / "last.pt").read_bytes()[:300])
    plans = []
    panel.ask_continue = lambda plan: plans.append(plan) or plan.choose("more", 1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as resumed:
        panel.continue_button.click()
    (plan,) = plans
    assert plan.done == 2
    assert plan.notes[0].endswith("; continuing from checkpoints/best.pt instead, which holds "
                                  "epoch 2, the last finished one")
    assert [m["epoch"] for m in resumed.args[0]["history"]] == [1, 2, 3]


def test_continue_is_offered_when_only_best_pt_is_left(qtbot, train_panel):
    # A resume goes on from best.pt when last.pt is gone, but the Train tab kept
    # Continue… greyed and its fix buttons said "kept no checkpoint" (they looked for
    # last.pt only).
    panel = train_panel(epochs=2)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as first:
        panel.start_button.click()
    ckpts = Path(first.args[0]["run_dir"]) / "checkpoints"
    shutil.copyfile(ckpts / "last.pt", ckpts / "best.pt")
    (ckpts / "last.pt").unlink()
    panel.last_run_dir = ""  # as after a restart
    assert panel.restore_last_run(first.args[0]["run_dir"])
    assert panel.continue_button.isEnabled()
    assert "Continue… trains it further from checkpoints/best.pt (epoch 2, its last.pt " \
           "is missing)" in panel.run_label.text()  # not "from its last checkpoint"
