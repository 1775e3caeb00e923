"""A continued run's feature-cache note names the epochs that compute the backbone's
features in this session: they are not kept between sessions, so a continued run computes
them again in its own first epochs; the CLI, the Train tab (the start info's notes) and
run.json's start_notes say it alike (walk-transfer defect 5).

Measured before: a 2-view run continued for epochs 3 and 4 said "epochs 1-2 compute them,
later epochs cycle through them" while epochs 3 and 4 each ran the backbone again.
"""

from __future__ import annotations

import json

from helpers import run_cli
from test_feature_cache import CountBackbone, Seen, transfer  # noqa: F401  (the fixture)
from workbench.core.registry import Component as C
from workbench.core.train import trainer as trainer_module


def _train_then_continue(exp, tmp_path, capsys, monkeypatch):
    """Train ``exp`` for 2 epochs, continue it for 2 more; the first session's output, the
    continued one's, its start info, run.json, and the images its backbone ran on."""
    exp.training.epochs = 2
    exp.save(tmp_path / "e.json")
    run = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", tmp_path / "e.json", "--out", run)
    assert code == 0, err
    first = out
    seen, counted = Seen(), CountBackbone()
    real = trainer_module.Trainer.__init__

    def heard(self, *args, **kwargs):
        real(self, *args, **kwargs)
        self.callbacks += [seen, counted]
    monkeypatch.setattr(trainer_module.Trainer, "__init__", heard)
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 2)
    assert code == 0, err
    assert seen.info["start_epoch"] == 3
    return (first, out, seen.info, json.loads((run / "run.json").read_text()),
            counted.images)


def test_a_continued_run_with_views_says_its_own_epochs_compute_them_again(
        transfer, tmp_path, capsys, monkeypatch):  # noqa: F811
    transfer.augment.transforms = [C("ColorJitter", {"brightness": 0.5})]
    transfer.training.feature_views = 2
    first, out, info, saved, counted = _train_then_continue(transfer, tmp_path, capsys,
                                                            monkeypatch)
    assert ("note: Backbone features cached, 2 augmented views of each image "
            "(training.feature_views): epochs 1-2 compute them, later epochs cycle through "
            "them.") in first
    note = ("Backbone features cached, 2 augmented views of each image "
            "(training.feature_views); continuing: the cached features are not kept between "
            "sessions; epochs 3-4 compute the 2 augmented views again, later epochs cycle "
            "through them.")
    assert f"note: {note}" in out and "epochs 1-2" not in out
    assert note in info["notes"]  # what the Train tab shows
    assert note in saved["start_notes"]  # after the first session's own note
    # What the note says: epochs 3 and 4 ran the backbone on each training image again.
    assert sum(counted) == 2 * info["num_train"] + info["num_val"]


def test_a_continued_run_without_augmentation_names_its_first_epoch(
        transfer, tmp_path, capsys, monkeypatch):  # noqa: F811
    _, out, info, saved, counted = _train_then_continue(transfer, tmp_path, capsys,
                                                        monkeypatch)
    note = ("Backbone features cached (training.feature_cache); continuing: the cached "
            "features are not kept between sessions; the frozen backbone runs once per image "
            "again, in epoch 3; later epochs train the layers after it on its stored "
            "features.")
    assert f"note: {note}" in out and note in info["notes"] and note in saved["start_notes"]
    assert sum(counted) == info["num_train"] + info["num_val"]
