"""The Continue dialog of a run continued for "N more" short of its schedule: it says the
schedule's length as the checkpoint keeps it ("over 40 epochs, at epoch 5"), not "over 5
epochs", and that another "N more" ends partway through it."""

from __future__ import annotations

import json

import torch

from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.core.runs.store import write_run_info


def _run_continued_short(tmp_path):
    """A run folder as `workbench resume RUN --epochs 2` left a run stopped at 3 of 40
    before the fix: its settings say 5 epochs, its checkpoint's schedule 40."""
    exp = Experiment(name="phones-second")
    exp.data.folder = str(tmp_path)
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    exp.optimizer = Component("AdamW", {"lr": 0.003})
    exp.scheduler = Component("CosineAnnealingLR", {})
    exp.training.epochs = 5
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    exp.validate().save(run / "experiment.json")
    torch.save({"kind": "workbench-checkpoint", "format_version": 1,
                "experiment": exp.to_dict(), "classes": ["cats", "dogs", "owls"], "epoch": 5,
                "schedule_epochs": 40}, run / "checkpoints" / "last.pt")
    epochs = [{"epoch": i, "val_acc": 0.4, "lr": 0.003} for i in range(1, 6)]
    (run / "metrics.json").write_text(json.dumps({"epochs": epochs}))
    write_run_info(run, {"name": "phones-second", "status": "finished", "epochs_done": 5,
                         "epochs_planned": 5})
    return run


def test_the_dialog_says_the_checkpoints_schedule(
        qtbot, tmp_path):
    from workbench.core.runs.plan import continue_plan
    from workbench.qt.panels.train.continue_run import ContinueDialog

    plan = continue_plan(_run_continued_short(tmp_path))
    dialog = ContinueDialog(plan)
    qtbot.addWidget(dialog)
    text = " ".join(label.text() for label in dialog.findChildren(type(dialog.outcome)))
    assert "CosineAnnealingLR schedule over 40 epochs, at epoch 5" in text
    assert "over 5 epochs" not in text
    dialog.more_spin.setValue(3)  # "N more", short of the schedule again
    outcome = dialog.outcome.text()
    assert outcome.startswith("Trains epochs 6 to 8 (3 epochs).")
    assert "schedule stays over 40 epochs: it ends partway through it" in outcome
    assert "planned for 5" not in outcome
    assert dialog.plan().target == 8


def test_past_the_schedules_end_the_dialog_says_which_rate_is_held(qtbot, tmp_path):
    """As the run does (walk-tomorrow2 defect 1): the rate of its last epoch, or the rate
    typed, held; not "it follows its own rule" (a cosine trained the first added epoch at
    0, then climbed back towards the peak)."""
    from workbench.core.runs.plan import ContinuePlan
    from workbench.qt.panels.train.continue_run import ContinueDialog

    plan = ContinuePlan(run_dir=str(tmp_path), name="r", status="finished", done=12,
                        planned=12, optimizer="Adam", lr=0.001, last_lr=0.00017,
                        scheduler="CosineAnnealingLR", schedule_epochs=12)
    dialog = ContinueDialog(plan)
    qtbot.addWidget(dialog)
    assert dialog.finish_radio.text() == "Finish the planned epochs (all 12 are done)"
    outcome = dialog.outcome.text()
    assert outcome == ("Trains epochs 13 to 17 (5 epochs). Its CosineAnnealingLR schedule "
                       "ended with epoch 12: the added epochs hold the learning rate of its "
                       "last epoch, 0.00017.")
    dialog.lr_spin.setValue(0.0005)
    assert dialog.outcome.text().endswith("ended with epoch 12: the added epochs train at the "
                                          "learning rate typed, 0.0005, held.")
    assert "has ended, so the added epochs train at this rate" in dialog.lr_note.text()


def test_a_schedule_that_ended_near_zero_asks_for_a_rate(qtbot, tmp_path):
    from workbench.core.runs.plan import ContinuePlan
    from workbench.qt.panels.train.continue_run import ContinueDialog

    plan = ContinuePlan(run_dir=str(tmp_path), name="r", status="finished", done=12,
                        planned=12, optimizer="SGD", lr=0.01, last_lr=4e-7,
                        scheduler="OneCycleLR", schedule_epochs=12)
    dialog = ContinueDialog(plan)
    qtbot.addWidget(dialog)
    assert dialog.outcome.text().endswith(
        "the added epochs hold the learning rate of its last epoch, 4e-07, too small to "
        "change the weights: to train on usefully, type a learning rate (a tenth of the "
        "run's, 0.001).")


def test_the_rate_advised_is_a_tenth_of_the_rate_typed(qtbot, tmp_path):
    # The dialog said a tenth of the run's rate (0.0001) where the run's own note, started
    # from it, said a tenth of the 0.0005 typed (5e-05) (walk-longrun, defect 4).
    from workbench.core.runs.plan import ContinuePlan

    plan = ContinuePlan(run_dir=str(tmp_path), name="r", status="stopped", done=70,
                        planned=160, optimizer="AdamW", lr=0.001, last_lr=2e-5,
                        scheduler="OneCycleLR", schedule_epochs=160, schedule_end=4e-5,
                        new_lr=0.0005, more=130)
    assert plan.schedule_note().endswith(
        "train to epoch 160 first, then continue with a learning rate (a tenth of the rate "
        "typed, 5e-05).")


def test_n_more_says_early_stopping_counts_afresh(qtbot, tmp_path):
    """walk-tomorrow2 defect 3: "3 more" stopped after 1, the patience used before the
    Continue carried over; the run now counts it afresh, and the dialog says so."""
    from workbench.core.runs.plan import continue_plan
    from workbench.qt.panels.train.continue_run import ContinueDialog

    run = _run_continued_short(tmp_path)
    experiment = json.loads((run / "experiment.json").read_text())
    experiment["training"].update(early_stopping=True, patience=4)
    (run / "experiment.json").write_text(json.dumps(experiment))
    plan = continue_plan(run)
    dialog = ContinueDialog(plan)
    qtbot.addWidget(dialog)
    dialog.more_spin.setValue(3)
    assert dialog.outcome.text().endswith(
        "Early stopping counts its patience (4 epochs) afresh from epoch 6, keeping the "
        "best epoch so far.")


def test_the_train_tabs_start_notes_give_the_rate_without_the_terminals_flag(qtbot):
    # The run's own note as it starts, after "Continue…" past a schedule that ended near
    # zero (the core's words, for the terminal too): the app says the rate, not "--lr".
    from workbench.qt.common import MessageLabel
    from workbench.qt.panels.train.status import show_start_notes

    label = MessageLabel("")
    qtbot.addWidget(label)
    show_start_notes(label, [
        "the ExponentialLR schedule ended with epoch 2 at a learning rate of 1e-05, too small "
        "to change the weights, and holds it up to epoch 4: to train on usefully, continue "
        "with a constant rate of 0.001, a tenth of the 0.01 the run was set to (--lr 0.001)"],
        ["a warning that names a flag (--set training.amp=true)"])
    assert "with a constant rate of 0.001, a tenth of the 0.01 the run was set to" in \
        label.text()
    assert "--lr" not in label.text() and "--set" not in label.text()
