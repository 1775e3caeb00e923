"""The Train tab's last run when its folder lets it down (walk-crash2 defects 2 and 3): a run
whose run.json is damaged is said to be, by the name the Runs tab lists it under, with what
Continue… does about it (not "(unknown)"); a Continue… that fails before its first batch (a
disk full) leaves the progress bar at the run's saved standing, not empty."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from qt_helpers import after_epoch, listed_run
from workbench.core.runs.store import RunStore
from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000
FOLDER = "2026-12-07_23-58-43-seed-cnn-1"


def _damaged_run(runs: Path) -> Path:
    """A run the Runs tab listed as "my tuned run", whose run.json a kill then cut short."""
    run_dir = listed_run(runs, FOLDER, "my tuned run")
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "last.pt").write_bytes(b"")  # (only looked for)
    RunStore(runs).refresh()
    (run_dir / "run.json").write_text('{"format_version": 1, "name": "my tu')
    return run_dir


def test_a_damaged_run_json_is_said_with_the_runs_name_and_what_continue_does(
        qtbot, tiny_experiment, workbench_home):
    run_dir = _damaged_run(workbench_home / "runs")
    panel = TrainPanel(tiny_experiment)
    qtbot.addWidget(panel)
    assert panel.restore_last_run(str(run_dir))
    text = panel.run_label.text()
    assert panel.run_label.level == "warning"
    assert text.startswith("Last run: my tuned run, 1 epoch. ")
    assert f"{run_dir / 'run.json'} is damaged (cut short or not valid JSON): Continue… " \
           "rewrites it, keeping the run's name, creation date and notes" in text
    assert "unknown" not in text and FOLDER not in text.split(". ")[0]
    assert panel.continue_button.isEnabled()


def test_a_damaged_run_json_without_an_index_is_named_from_its_folder(
        qtbot, tiny_experiment, tmp_path):
    run_dir = listed_run(tmp_path / "elsewhere", FOLDER, "gone")
    (run_dir / "run.json").write_text("{")
    panel = TrainPanel(tiny_experiment)
    qtbot.addWidget(panel)
    assert panel.restore_last_run(str(run_dir))
    assert panel.run_label.text().startswith("Last run: seed-cnn-1, 1 epoch. ")
    assert "restore it from a copy (the run has no checkpoint to continue from)" in \
        panel.run_label.text()


@pytest.fixture
def panel(qtbot, tiny_experiment, monkeypatch):
    tiny_experiment.training.epochs = 3
    p = TrainPanel(tiny_experiment)
    qtbot.addWidget(p)
    for where in ("control", "panel"):
        monkeypatch.setattr(f"workbench.qt.panels.train.{where}.show_error",
                            lambda parent, title, text: None)
    yield p
    p.shutdown()


def test_a_continue_failing_on_a_full_disk_keeps_the_runs_standing_on_the_bar(
        qtbot, panel, monkeypatch, tiny_experiment):
    after_epoch(monkeypatch, 1, lambda trainer: trainer.request_stop())
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    run_dir = done.args[0]["run_dir"]
    again = TrainPanel(tiny_experiment)  # the next day's start
    qtbot.addWidget(again)
    assert again.restore_last_run(run_dir)
    assert again.progress.text() == "Stopped after 1 of 3 epochs"

    def full(self, path):  # the first file a continued run writes
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("workbench.core.experiment.Experiment.save", full)
    again.ask_continue = lambda plan: plan
    with qtbot.waitSignal(again.training_errored, timeout=RUN_TIMEOUT_MS) as failed:
        again.continue_button.click()
    assert "No space left on device" in failed.args[0]
    # The run as it is saved now (its run.json records the failure), as a restart shows it.
    assert (again.progress.value(), again.progress.maximum(),
            again.progress.text()) == (1, 3, "Failed in epoch 2 of 3; 1 epoch kept")
    assert again.plots.point_counts()["epochs"] == 1 and again.continue_button.isEnabled()
    restarted = TrainPanel(tiny_experiment)
    qtbot.addWidget(restarted)
    assert restarted.restore_last_run(run_dir)
    assert restarted.progress.text() == again.progress.text()
    again.shutdown()
