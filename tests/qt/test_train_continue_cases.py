"""Continue… in the cases a run stopped today and continued tomorrow meets: its dataset
folder moved (the Data tab's folder replaces it when it has the run's classes), a resume
in another process meanwhile (the plots reload from disk, no gap), a new run closed before
its first epoch (the last run stays the one to continue), the progress bar of a restored
run, the batches of an epoch dropped by Stop, and a Continue the trainer refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import make_image_folder
from qt_helpers import after_epoch
from workbench.qt.closing import stop_training_question
from workbench.qt.panels.train.continue_run import ContinueDialog
from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(qtbot, tiny_experiment, monkeypatch):
    tiny_experiment.training.epochs = 3
    p = TrainPanel(tiny_experiment)
    qtbot.addWidget(p)
    shown = []
    for where in ("control", "panel"):
        monkeypatch.setattr(f"workbench.qt.panels.train.{where}.show_error",
                            lambda parent, title, text: shown.append((title, text)))
    p.shown_errors = shown
    yield p
    p.shutdown()


def _stopped_run(qtbot, panel, monkeypatch) -> Path:
    """Train ``panel``'s experiment and stop after epoch 1 of its 3."""
    after_epoch(monkeypatch, 1, lambda trainer: trainer.request_stop())
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    assert done.args[0]["status"] == "stopped"
    return Path(done.args[0]["run_dir"])


def _open_on_data_tab(panel, folder) -> None:
    """What the Data tab does once the user opened ``folder`` and its scan is done."""
    from workbench.core.data.scan import scan_folder

    panel.experiment.data.folder = str(folder)
    panel.set_dataset(scan_folder(str(folder)))


def test_a_moved_dataset_continues_on_the_data_tabs_folder_with_the_same_classes(
        qtbot, panel, monkeypatch, tmp_path, image_folder):
    run_dir = _stopped_run(qtbot, panel, monkeypatch)
    moved = tmp_path / "moved"
    shutil.move(str(image_folder), moved)
    _open_on_data_tab(panel, moved)
    said = []

    def ask(plan):
        dialog = ContinueDialog(plan, panel)
        qtbot.addWidget(dialog)
        said.append(dialog.notes_label.text())
        return dialog.plan()

    panel.ask_continue = ask
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as resumed:
        panel.continue_button.click()
    assert said == [f"The run's folder {image_folder} is missing; continuing on {moved} "
                    f"(same classes)."]
    assert [m["epoch"] for m in resumed.args[0]["history"]] == [1, 2, 3]
    saved = json.loads((run_dir / "experiment.json").read_text())
    assert saved["data"]["folder"] == str(moved)
    assert not panel.shown_errors


def test_a_moved_dataset_is_not_replaced_by_a_folder_of_other_classes(
        qtbot, panel, monkeypatch, tmp_path, image_folder):
    _stopped_run(qtbot, panel, monkeypatch)
    image_folder.rename(tmp_path / "elsewhere")
    other = make_image_folder(tmp_path / "other", classes=("blue", "green", "red", "teal"))
    _open_on_data_tab(panel, other)
    asked = []
    panel.ask_continue = lambda plan: asked.append(plan)
    assert not panel.continue_run()
    assert asked == [] and not panel.is_running()
    [(title, text)] = panel.shown_errors
    assert title == "Cannot continue"
    assert f"the run's dataset folder {image_folder} is missing, and the folder open on " \
           f"the Data tab, {other}, has other classes" in text and "'teal' is new" in text
    assert panel.continue_button.isEnabled()  # once the right folder is open


def test_continue_after_a_resume_elsewhere_plots_every_epoch(qtbot, panel, monkeypatch):
    from workbench.core.train.checkpoint import load_checkpoint
    from workbench.core.train.run import run_training

    run_dir = _stopped_run(qtbot, panel, monkeypatch)
    assert panel.plots.point_counts()["epochs"] == 1
    # `workbench resume RUN --epochs 1` in a terminal while the app shows the run.
    ckpt = load_checkpoint(run_dir)
    exp = ckpt.experiment.copy()
    exp.training.epochs = 2
    assert run_training(exp, run_dir, checkpoint=ckpt).epochs_done == 2
    plans, shown = [], []

    def ask(plan):
        plans.append(plan)  # what the tab shows behind the dialog: the run as it is now
        shown.append((panel.plots.point_counts()["epochs"], panel.run_label.text()))
        return plan.choose("more", 1)

    panel.ask_continue = ask
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as resumed:
        panel.continue_button.click()
    assert plans[0].done == 2
    assert shown[0][0] == 2 and "2 of 2 planned epochs" in shown[0][1]
    assert [m["epoch"] for m in resumed.args[0]["history"]] == [1, 2, 3]
    assert panel.plots.point_counts()["epochs"] == 3  # epoch 2 too: no gap


def test_a_new_run_that_keeps_nothing_leaves_the_last_run_to_continue(
        qtbot, panel, monkeypatch):
    from workbench.core.runs.store import read_run_info

    last = _stopped_run(qtbot, panel, monkeypatch)
    name = read_run_info(last)["name"]
    with qtbot.waitSignal(panel.run.paused, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        panel.pause_button.click()  # before its first batch: no epoch will have finished
    assert panel.last_run_dir == str(last)  # what the session keeps if the app quits now
    question = stop_training_question(panel)
    assert "No epoch has finished yet: quitting now keeps nothing of this run." in question
    assert f"The last run, “{name}”, stays as it was" in question
    assert "their checkpoint and a model are kept" not in question
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as stopped:
        panel.stop()
    assert stopped.args[0]["history"] == [] and not stopped.args[0]["run_dir"]
    assert panel.last_run_dir == str(last) and panel.continue_button.isEnabled()
    assert panel.run_label.text() == (f"Nothing was saved: no epoch was completed. "
                                      f"Continue… still goes on from the last run, {name}.")


def test_a_restored_run_shows_its_epochs_on_the_progress_bar(
        qtbot, panel, monkeypatch, tiny_experiment):
    run_dir = _stopped_run(qtbot, panel, monkeypatch)
    again = TrainPanel(tiny_experiment)  # the next start
    qtbot.addWidget(again)
    assert again.restore_last_run(str(run_dir))
    progress = again.progress
    assert (progress.value(), progress.maximum(), progress.format()) == \
        (1, 3, "Stopped after 1 of 3 epochs")
    assert progress.text() == "Stopped after 1 of 3 epochs"
    again.shutdown()


def test_stop_drops_the_batches_of_the_unfinished_epoch_from_the_plot(
        qtbot, panel, monkeypatch):
    from workbench.core.runs.batches import read_batches
    from workbench.core.runs.recorder import RunRecorder

    real = RunRecorder.on_batch_end

    def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
        real(self, trainer, epoch, batch, num_batches, loss)
        if epoch == 2 and batch == 2:  # half-way through epoch 2
            trainer.request_stop()

    monkeypatch.setattr(RunRecorder, "on_batch_end", on_batch_end)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    summary = done.args[0]
    assert summary["status"] == "stopped" and len(summary["history"]) == 1
    kept = sum(len(e["loss"]) for e in read_batches(summary["run_dir"]))
    assert kept > 0 and panel.plots.point_counts()["batches"] == kept
    assert panel.plots.point_counts()["epochs"] == 1


def test_a_continue_the_trainer_refuses_keeps_the_last_run_line(
        qtbot, panel, monkeypatch, tiny_experiment, image_folder):
    run_dir = _stopped_run(qtbot, panel, monkeypatch)
    again = TrainPanel(tiny_experiment)  # the next start, before the Data tab's scan
    qtbot.addWidget(again)
    assert again.restore_last_run(str(run_dir))
    line = again.run_label.text()
    assert "Continue… trains it further" in line
    make_image_folder(image_folder, classes=("teal",))  # a class added since
    again.ask_continue = lambda plan: plan
    with qtbot.waitSignal(again.training_errored, timeout=RUN_TIMEOUT_MS) as refused:
        again.continue_button.click()
    assert "classes changed since the checkpoint" in refused.args[0]
    assert again.run_label.text() == line  # the run is still there to continue
    assert again.last_run_dir == str(run_dir) and again.continue_button.isEnabled()
    again.shutdown()


def test_continue_before_torch_has_loaded_opens_once_it_has(
        qtbot, panel, monkeypatch, tiny_experiment):
    from workbench.qt import startup

    run_dir = _stopped_run(qtbot, panel, monkeypatch)
    loader = startup.TorchLoader()
    monkeypatch.setattr(startup, "_LOADER", loader)
    loader.defer()  # the app's start-up: torch is imported after the first paint
    again = TrainPanel(tiny_experiment)
    qtbot.addWidget(again)
    assert again.restore_last_run(str(run_dir)) and again.continue_button.isEnabled()
    asked = []
    again.ask_continue = lambda plan: asked.append(plan)  # (cancelled)
    assert not again.continue_run()
    assert asked == [] and "Continue… opens as soon as it has loaded" in again.status.text()
    assert loader.ensure_loaded()
    assert [plan.done for plan in asked] == [1]
    again.shutdown()
