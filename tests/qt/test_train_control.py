"""Train panel run control: Pause/Resume, Stop then Continue, out-of-memory retry with half
the batch, divergence keeping its last good checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qt_helpers import after_epoch

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(train_panel):
    return train_panel(epochs=3)


def stop_after_epoch(monkeypatch, epoch: int) -> None:
    after_epoch(monkeypatch, epoch, lambda trainer: trainer.request_stop())


def test_pause_holds_the_run_and_resume_finishes_it(qtbot, panel):
    with qtbot.waitSignal(panel.run.paused, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        panel.pause_button.click()  # while the run sets up: it holds before its first batch
    assert panel.pause_button.text() == "Resume" and "Paused" in panel.status.text()
    assert panel.is_running()
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.pause_button.click()
    assert done.args[0]["status"] == "finished" and len(done.args[0]["history"]) == 3
    assert panel.pause_button.text() == "Pause" and not panel.pause_button.isEnabled()


def test_stop_then_continue_goes_on_with_the_epoch_numbering(qtbot, panel, monkeypatch):
    stop_after_epoch(monkeypatch, 1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as stopped:
        panel.start_button.click()
    summary = stopped.args[0]
    assert summary["status"] == "stopped" and len(summary["history"]) == 1
    run_dir = Path(summary["run_dir"])
    assert (run_dir / "checkpoints" / "last.pt").exists()
    assert panel.continue_button.isEnabled()

    plans = []
    panel.ask_continue = lambda plan: plans.append(plan) or plan  # accept what it offers
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as resumed:
        panel.continue_button.click()
    # A stopped run is offered to finish its planned epochs first.
    assert (plans[0].mode, plans[0].done, plans[0].planned) == ("finish", 1, 3)
    summary = resumed.args[0]
    assert summary["run_dir"] == str(run_dir)
    assert [m["epoch"] for m in summary["history"]] == [1, 2, 3]
    assert panel.plots.point_counts()["epochs"] == 3  # the plots went on, not afresh
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["resumed"]

    panel.ask_continue = lambda plan: plans.append(plan) or plan.choose("more", 2)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as more:
        panel.continue_button.click()
    assert plans[1].mode == "more" and not plans[1].can_finish  # all 3 were done
    assert [m["epoch"] for m in more.args[0]["history"]] == [1, 2, 3, 4, 5]


def test_n_more_on_a_stopped_run_means_n_more(qtbot, panel, monkeypatch):
    """"1 more" after epoch 1 of 3 trains epoch 2 only, not up to the planned 3."""
    stop_after_epoch(monkeypatch, 1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    panel.ask_continue = lambda plan: plan.choose("more", 1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as more:
        panel.continue_button.click()
    assert [m["epoch"] for m in more.args[0]["history"]] == [1, 2]
    assert more.args[0]["status"] == "finished"


def test_continue_keeps_the_runs_own_settings_not_the_forms(qtbot, panel, monkeypatch):
    """The form was changed (or reset) since: Continue shows and uses the run's learning
    rate; a new one only when the user picks it in the dialog."""
    run_lr = panel.experiment.optimizer.params["lr"]
    stop_after_epoch(monkeypatch, 1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as first:
        panel.start_button.click()
    run_dir = Path(first.args[0]["run_dir"])
    panel.experiment.optimizer.params["lr"] = run_lr * 7  # the form's value now
    panel.refresh()
    plans = []
    panel.ask_continue = lambda plan: plans.append(plan) or plan
    # The line as the run starts, read then (connected after the panel's own slot): a fast
    # run has gone on to "Epoch 2/3 done" by the time waitSignal returns.
    lines = []
    panel.run.fit_started.connect(lambda _info: lines.append(panel.status.text()))
    with qtbot.waitSignal(panel.run.fit_started, timeout=RUN_TIMEOUT_MS) as started:
        panel.continue_button.click()
    assert plans[0].lr == pytest.approx(run_lr)
    assert f"{run_lr:.3g}" in plans[0].settings_text()
    assert not any("learning rate changed" in n for n in started.args[0]["notes"])
    assert "Continuing" in lines[0] and "epochs 2–3" in lines[0]
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=RUN_TIMEOUT_MS)
    saved = json.loads((run_dir / "experiment.json").read_text())
    assert saved["optimizer"]["params"]["lr"] == pytest.approx(run_lr)

    # Chosen explicitly in the dialog: then it changes, and the run says so.
    panel.ask_continue = lambda plan: plan.choose("more", 1, lr=run_lr / 10)
    with qtbot.waitSignal(panel.run.fit_started, timeout=RUN_TIMEOUT_MS) as again:
        panel.continue_button.click()
    assert any("learning rate changed" in n for n in again.args[0]["notes"])
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=RUN_TIMEOUT_MS)


def test_cancelling_the_continue_dialog_changes_nothing(qtbot, panel, monkeypatch):
    stop_after_epoch(monkeypatch, 1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as first:
        panel.start_button.click()
    run_dir = Path(first.args[0]["run_dir"])
    before = (run_dir / "run.json").read_text()
    panel.ask_continue = lambda plan: None
    panel.continue_button.click()
    assert not panel.is_running()
    assert (run_dir / "run.json").read_text() == before


def test_a_stop_mid_epoch_saves_the_model_the_panel_reports(qtbot, panel, monkeypatch):
    """Stop in the middle of epoch 2: the Train status names epoch 1's numbers, and the
    bundle, evaluated on the validation split, gives exactly those."""
    from workbench.core.evaluate.evaluation import evaluate
    from workbench.core.train.trainer import Trainer

    real = Trainer.optimizer_step
    steps = []

    def stop_mid_epoch_2(self, loss, step=True, scale=1.0):
        real(self, loss, step, scale)
        steps.append(self.epochs_done)
        if steps.count(1) == 2:  # two batches into epoch 2: press Stop
            panel.run.stop()  # thread-safe: what the Stop button calls

    monkeypatch.setattr(Trainer, "optimizer_step", stop_mid_epoch_2)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    summary = done.args[0]
    assert summary["status"] == "stopped" and len(summary["history"]) == 1
    assert summary["model"]["epoch"] == 1
    reported = summary["history"][0]
    assert f"accuracy {100 * reported['val_acc']:.1f}%" in panel.status.text()
    assert "Model kept: epoch 1" in panel.status.text()
    # The progress bar shows the epoch kept, not the dropped batches of epoch 2.
    assert panel.progress.value() == panel.info["batches_per_epoch"]
    result = evaluate(summary["bundle"])
    assert result.accuracy == pytest.approx(reported["val_acc"])
    assert float(result.losses.mean()) == pytest.approx(reported["val_loss"], rel=1e-4)


def test_out_of_memory_offers_half_the_batch_size(qtbot, panel, monkeypatch):
    import torch

    from workbench.core.train.trainer import Trainer

    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    real = Trainer.forward_loss

    def hungry(self, x, target):
        if self.experiment.data.batch_size > 4:
            raise oom("CUDA out of memory. Tried to allocate 1.00 GiB")
        return real(self, x, target)

    monkeypatch.setattr(Trainer, "forward_loss", hungry)
    asked = []
    panel.ask = lambda title, text: asked.append(text) or True
    finished = []
    panel.training_finished.connect(finished.append)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert asked and "batch size 8" in asked[0] and "batch size 4?" in asked[0]
    assert panel.experiment.data.batch_size == 4
    qtbot.waitUntil(lambda: bool(finished), timeout=RUN_TIMEOUT_MS)  # the retry trains
    assert finished[0]["status"] == "finished"


def test_divergence_keeps_the_last_good_checkpoint_and_says_what_to_do(qtbot, panel,
                                                                       monkeypatch):
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def poisoned(self, x, target):
        logits, loss = real(self, x, target)
        return logits, (loss * float("nan") if self.epochs_done == 1 else loss)

    monkeypatch.setattr(Trainer, "forward_loss", poisoned)
    monkeypatch.setattr("workbench.qt.panels.train.panel.show_error", lambda *a: None)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as err:
        panel.start_button.click()
    message = err.args[0]
    assert "diverged" in message and "learning rate" in message
    assert "last good checkpoint" in message and "Continue" in message
    assert panel.continue_button.isEnabled()
    run_dir = Path(panel.last_run_dir)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "diverged"
    assert not (run_dir / "bundle.pt").exists()
    # Continue offers the training doctor's rate (the LR finder's, once its sweep is done),
    # not the rate that diverged.
    sweep = panel.findings.after_divergence
    qtbot.waitUntil(lambda: not sweep.is_running(), timeout=RUN_TIMEOUT_MS)
    info = json.loads((run_dir / "run.json").read_text())
    (proposal,) = [f["action"]["set"]["optimizer.params.lr"] for f in info["findings"]
                   if f["kind"] == "diverged"]
    plans = []
    panel.ask_continue = lambda plan: plans.append(plan)  # look, then cancel
    assert not panel.continue_run()
    assert plans[0].lr == pytest.approx(panel.experiment.optimizer.params["lr"])
    assert plans[0].new_lr == pytest.approx(proposal) and plans[0].new_lr < plans[0].lr


def test_continue_a_run_from_the_runs_tab(qtbot, panel, tiny_experiment, workbench_home):
    from workbench.core.io import runs_dir
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.trainer import Trainer
    from workbench.qt.panels.runs.panel import RunsPanel

    tiny_experiment.training.epochs = 2
    recorder = RunRecorder(parent=runs_dir())
    Trainer(tiny_experiment, [recorder]).fit()  # e.g. a run of yesterday, or from the CLI
    runs = RunsPanel()
    qtbot.addWidget(runs)
    with qtbot.waitSignal(runs.refreshed, timeout=20000):
        runs.refresh()
    runs.select_paths([str(recorder.run_dir)])
    assert runs.continue_button.isEnabled()
    runs.continue_requested.connect(panel.continue_run)
    panel.ask_continue = lambda plan: plan.choose("more", 1)  # a finished run: 1 more
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        runs.continue_button.click()
    assert [m["epoch"] for m in done.args[0]["history"]] == [1, 2, 3]
    assert done.args[0]["run_dir"] == str(recorder.run_dir)
    assert panel.plots.point_counts()["epochs"] == 3  # the earlier epochs were drawn too


def test_status_line_shows_speed_eta_device_and_memory():
    from workbench.qt.panels.train.status import Speed, progress_text

    speed = Speed()
    speed.update(10.0)  # batches a second
    info = {"epochs": 3, "batch_size": 32, "device": "cpu"}
    chunk = {"epoch": 2, "batch": 40, "num_batches": 100, "losses": [0.5],
             "memory": 512 * 2**20}
    text = progress_text(chunk, info, speed)
    # 60 batches left in this epoch and 100 in the last: 160 batches at 10 a second.
    assert text == "Epoch 2/3 · batch 40/100 · loss 0.5000 · 320 img/s · ETA 16 s · " \
                   "cpu · 512.0 MB"


def test_closing_while_paused_stops_the_run_and_keeps_its_epochs(qtbot, panel, monkeypatch):
    after_epoch(monkeypatch, 1, lambda trainer: trainer.pause())
    with qtbot.waitSignal(panel.run.paused, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    run_dir = Path(panel.last_run_dir)
    panel.shutdown()  # what closing the window does: it must not wait for a Resume
    assert not panel.is_running()
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "stopped" and info["epochs_done"] == 1
    assert (run_dir / "checkpoints" / "last.pt").exists()


def test_the_continue_dialog_shows_the_run_and_the_choice(qtbot, tmp_path):
    from workbench.core.runs.plan import ContinuePlan
    from workbench.qt.panels.train.continue_run import ContinueDialog

    plan = ContinuePlan(run_dir=str(tmp_path), name="digits-seed-cnn-3", status="stopped",
                        done=12, planned=60, optimizer="Adam", lr=0.000674,
                        scheduler="CosineAnnealingLR", last_lr=0.0005, mode="finish")
    dialog = ContinueDialog(plan)
    qtbot.addWidget(dialog)
    text = " ".join(label.text() for label in dialog.findChildren(type(dialog.outcome)))
    assert "digits-seed-cnn-3" in text and "12 of 60" in text
    assert "Adam" in text and "0.000674" in text and "CosineAnnealingLR" in text
    assert dialog.finish_radio.isChecked()
    assert dialog.finish_radio.text() == "Finish the planned epochs: 48 more, to epoch 60"
    assert dialog.plan().target == 60
    dialog.more_spin.setValue(6)  # typing a number chooses "N more"
    assert dialog.more_radio.isChecked() and dialog.plan().target == 18
    assert dialog.outcome.text().startswith("Trains epochs 13 to 18 (6 epochs)")
    assert "the run's own" in dialog.lr_note.text()
    dialog.lr_spin.setValue(0.0001)
    assert dialog.plan().lr_changed and "changed from the run's 0.000674" in \
        dialog.lr_note.text()
    # A finished run has nothing left to finish: only "N more".
    done = ContinuePlan(run_dir=str(tmp_path), name="r", status="finished", done=60,
                        planned=60, optimizer="SGD", lr=0.1, scheduler="none")
    other = ContinueDialog(done)
    qtbot.addWidget(other)
    assert not other.finish_radio.isEnabled() and other.more_radio.isChecked()
    assert other.plan().target == 65


def _recorded_run(experiment) -> Path:
    from workbench.core.io import runs_dir
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.trainer import Trainer

    recorder = RunRecorder(parent=runs_dir())
    Trainer(experiment, [recorder]).fit()  # e.g. a run of yesterday, or from the CLI
    return Path(recorder.run_dir)


def test_deleting_the_last_run_on_the_runs_tab_makes_the_train_tab_forget_it(
        qtbot, tiny_experiment, workbench_home):
    from workbench.qt.main_window import MainWindow

    run_dir = _recorded_run(tiny_experiment)
    window = MainWindow()
    qtbot.addWidget(window)
    train, runs = window.train_panel, window.runs_panel
    assert train.restore_last_run(str(run_dir))
    assert train.continue_button.isEnabled() and "Continue" in train.run_label.text()
    assert train.plots.point_counts()["epochs"] > 0  # its epochs are drawn
    with qtbot.waitSignal(runs.refreshed, timeout=20000):
        runs.refresh()
    runs.select_paths([str(run_dir)])
    runs.confirm = lambda *_: True
    runs.delete_button.click()
    assert not run_dir.exists()
    assert not train.continue_button.isEnabled() and not train.last_run_dir
    assert f"Last run {run_dir.name} was deleted" in train.run_label.text()
    assert train.plots.point_counts()["epochs"] == 0
    assert not train.continue_run()  # nothing to continue: no "Training failed" box


def test_continue_without_a_checkpoint_says_cannot_continue_not_training_failed(
        qtbot, panel, tiny_experiment, workbench_home, monkeypatch):
    run_dir = _recorded_run(tiny_experiment)
    for name in ("last.pt", "best.pt"):  # best.pt alone would stand in for last.pt
        (run_dir / "checkpoints" / name).unlink(missing_ok=True)
    boxes = []
    monkeypatch.setattr("workbench.qt.panels.train.control.show_error",
                        lambda parent, title, text: boxes.append(title))
    monkeypatch.setattr("workbench.qt.panels.train.panel.show_error",
                        lambda parent, title, text: boxes.append(title))
    assert not panel.continue_run(str(run_dir))
    assert boxes == ["Cannot continue"]
    assert panel.status.text().startswith("Cannot continue: ")
