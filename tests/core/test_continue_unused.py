"""Continue… says, before the user accepts, what continuing will not use: the settings
the app's tabs hold now that differ from the run's own (grouped by tab, in the tabs'
words), and what changed in the dataset since the checkpoint. The tester added a Dropout
and set validation 0.4, then continued: the dialog said nothing, the run trained without
them, and the images added were said only once training had begun."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import make_image_folder
from workbench.core.registry import Component
from workbench.core.runs.plan import continue_plan, dataset_change
from workbench.core.runs.unused import unused_settings
from workbench.core.train.callbacks.base import Callback


class _StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, trainer, epoch, metrics):
        trainer.request_stop()


@pytest.fixture
def run_dir(tmp_path, tiny_experiment) -> Path:
    """A run stopped after epoch 1 of its 2, on a folder of its own."""
    from workbench.core.train.run import run_training

    tiny_experiment.data.folder = make_image_folder(tmp_path / "data", per_class=12, size=16)
    out = tmp_path / "run"
    outcome = run_training(tiny_experiment, out, [_StopAfterFirstEpoch()], name="run")
    assert outcome.status == "stopped" and outcome.epochs_done == 1
    return out


def test_the_plan_names_the_tabs_edits_continuing_does_not_use(run_dir, tiny_experiment):
    now = tiny_experiment.copy()
    assert continue_plan(run_dir, current=now).notes == []  # nothing edited: nothing said
    now.model.layers.insert(2, Component("Dropout", {"p": 0.3}))
    now.data.val_fraction = 0.4
    now.augment.transforms = []
    now.optimizer = Component("SGD", {"lr": 0.1})
    now.training.epochs = 50  # chosen in the dialog: not said
    now.optimizer.params["lr"] = 0.5  # nor the rate (the dialog's field)
    [note] = continue_plan(run_dir, current=now).notes
    assert note.startswith("the tabs differ from this run in these settings, which "
                           "continuing does not use (it keeps the run's own; Start training "
                           "trains a new run with them):\n")
    removed = tiny_experiment.augment.transforms[0].type
    assert note.splitlines()[1:] == [
        f"• Data tab: validation fraction 0.4 (the run's {tiny_experiment.data.val_fraction:g})",
        f"• Augment tab: the augmentation ({removed} removed)",
        "• Model tab: the network (Dropout added)",
        "• Train tab: optimizer SGD (the run's Adam)"]


def test_parameters_left_at_their_defaults_are_not_differences(tiny_experiment):
    run = tiny_experiment.copy().validate()  # a run's settings: every default filled in
    now = tiny_experiment.copy()
    now.optimizer = Component("Adam", {"lr": now.optimizer.params["lr"]})
    assert unused_settings(run, now) == []
    now.optimizer.params["weight_decay"] = 0.01
    now.data.input_size = [24, 24]
    now.training.early_stopping = True
    now.data.batch_size = 4
    h, w = run.data.input_size
    assert unused_settings(run, now) == [
        f"Data tab: input size 24 × 24 (the run's {h} × {w})",
        f"Train tab: batch size 4 (the run's {run.data.batch_size}), optimizer weight_decay "
        f"0.01 (the run's 0), early stopping on (the run's off)"]
    # A training doctor's fix that the continuation applies is not "not used".
    assert unused_settings(run, now, applied=["optimizer.params.weight_decay",
                                              "data.batch_size", "data.input_size"]) == [
        "Train tab: early stopping on (the run's off)"]


def test_the_learning_rate_is_named_as_the_continue_dialog_names_it(tiny_experiment):
    # UI review 2: "Train tab: optimizer lr 0.0003" in the list, "Learning rate:" under it.
    run = tiny_experiment.copy().validate()
    now = tiny_experiment.copy()
    now.optimizer.params["lr"] = 0.0003
    assert unused_settings(run, now) == [
        f"Train tab: learning rate 0.0003 (the run's {run.optimizer.params['lr']:g})"]


def test_what_changed_in_the_dataset_is_said_before_continuing(run_dir, tiny_experiment):
    folder = Path(tiny_experiment.data.folder)
    plan = continue_plan(run_dir)
    assert dataset_change(plan) == ""  # as it was at epoch 1
    for name in ("blue", "green", "red"):
        for i in range(4):
            shutil.copy(folder / name / f"{name}_000.png", folder / name / f"extra_{i}.png")
    note = dataset_change(plan)
    assert note.startswith("the dataset changed since epoch 1: 12 images added")
    # The very words the continued run says as it starts, by the one rule (SplitKeeper).
    from workbench.core.data.scan import scan_folder
    from workbench.core.train.callbacks.split_keeper import SplitKeeper
    from workbench.core.train.checkpoint import load_checkpoint

    keeper = SplitKeeper.for_run(scan_folder(str(folder)), plan.base.data,
                                 load_checkpoint(run_dir))
    assert keeper.note == note
