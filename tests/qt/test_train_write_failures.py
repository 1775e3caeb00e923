"""The Train tab when a run's folder lets it down: a disk that fills while an epoch's
checkpoints are written gives one account of the epoch kept (the bar, the plots, and the
run shown again after a restart), and a Continue over a damaged run.json keeps the run's
name and notes and says where the damaged file was kept (walk-crash defects 6 and 2)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from qt_helpers import after_epoch
from workbench.core.runs.store import read_run_info, update_run_info
from workbench.qt.panels.train.continue_run import ContinueDialog
from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(train_panel, train_error_boxes):
    return train_panel(epochs=3)


def test_a_disk_full_at_best_pt_says_the_epoch_it_kept_and_plots_it(
        qtbot, panel, monkeypatch, tiny_experiment):
    import workbench.core.train.callbacks.checkpoints as checkpoints

    real = checkpoints.atomic_write

    def full(path, write):  # last.pt of epoch 1 is written; best.pt fills the disk
        if Path(path).name == "best.pt":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(checkpoints, "atomic_write", full)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as failed:
        panel.start_button.click()
    assert "epoch 1 is kept in" in failed.args[0]
    assert panel.progress.text() == "Failed after epoch 1 of 3; 1 epoch kept"
    assert panel.plots.point_counts()["epochs"] == 1  # not "No epoch finished"
    run_dir = panel.last_run_dir
    assert read_run_info(run_dir)["epochs_done"] == 1
    # The next start shows the same epoch.
    again = TrainPanel(tiny_experiment)
    qtbot.addWidget(again)
    try:
        assert again.restore_last_run(run_dir)
        assert again.plots.point_counts()["epochs"] == 1
    finally:
        again.shutdown()


def test_continue_over_a_damaged_run_json_keeps_its_name_and_says_where_it_is(
        qtbot, panel, monkeypatch):
    after_epoch(monkeypatch, 1, lambda trainer: trainer.request_stop())
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    run_dir = Path(done.args[0]["run_dir"])
    update_run_info(run_dir, name="holiday-model", notes="the beach photos")
    text = (run_dir / "run.json").read_text()
    (run_dir / "run.json").write_text(text[:text.index('"notes"') + 40])  # cut off

    def ask(plan):
        dialog = ContinueDialog(plan, panel)
        qtbot.addWidget(dialog)
        return dialog.plan()

    panel.ask_continue = ask
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.continue_button.click()
    info = read_run_info(run_dir)
    assert info["name"] == "holiday-model" and info["notes"] == "the beach photos"
    [copy] = run_dir.glob("run.json.damaged-*")
    shown = panel.notes_label.toolTip() or panel.notes_label.text()
    assert f"run.json was damaged (cut short, or not valid JSON): it is kept as it was in " \
           f"{copy}" in shown.replace("\n", " ")
