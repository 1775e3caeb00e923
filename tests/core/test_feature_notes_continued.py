"""A continued run's feature-cache note names the epochs that compute the backbone's
features in this session: they are not kept between sessions, so a continued run computes
them again in its own first epochs; the CLI, the Train tab (the start info's notes) and
run.json's start_notes say it alike (walk-transfer defect 5).

Measured before: a 2-view run continued for epochs 3 and 4 said "epochs 1-2 compute them,
later epochs cycle through them" while epochs 3 and 4 each ran the backbone again. And the
note names only the epochs the session runs: continued for 1 epoch, it said "epochs 3-4
compute the 2 augmented views again" while only epoch 3 ran (review-core finding 8).
"""

from __future__ import annotations

import json

from helpers import run_cli
from test_feature_cache import CountBackbone, Seen, transfer  # noqa: F401  (the fixture)
from workbench.core.registry import Component as C
from workbench.core.train import trainer as trainer_module
from workbench.core.train.features import cached_note


def _train_then_continue(exp, tmp_path, capsys, monkeypatch, more=2):
    """Train ``exp`` for 2 epochs, continue it for ``more``; the first session's output, the
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
    code, out, err = run_cli(capsys, "resume", run, "--epochs", more)
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
    # Each session ends as its views are computed: no later epoch cycles through them.
    assert ("note: Backbone features cached, 2 augmented views of each image "
            "(training.feature_views): epochs 1-2 compute them.") in first
    note = ("Backbone features cached, 2 augmented views of each image "
            "(training.feature_views); continuing: the cached features are not kept between "
            "sessions; epochs 3-4 compute the 2 augmented views again.")
    assert f"note: {note}" in out and "epochs 1-2" not in out and "cycle" not in out
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


def test_a_run_continued_for_fewer_epochs_than_views_names_only_the_epochs_it_runs(
        transfer, tmp_path, capsys, monkeypatch):  # noqa: F811
    transfer.augment.transforms = [C("ColorJitter", {"brightness": 0.5})]
    transfer.training.feature_views = 2
    _, out, info, saved, counted = _train_then_continue(transfer, tmp_path, capsys,
                                                        monkeypatch, more=1)
    note = ("Backbone features cached, 2 augmented views of each image "
            "(training.feature_views); continuing: the cached features are not kept between "
            "sessions; epoch 3 computes 1 of the 2 augmented views again.")
    assert f"note: {note}" in out and "epochs 3-4" not in out and "epoch 4" not in out
    assert note in info["notes"] and note in saved["start_notes"]
    # What the note says: epoch 3 alone ran the backbone on each training image.
    assert sum(counted) == info["num_train"] + info["num_val"]


def test_a_run_shorter_than_its_views_says_only_its_own_epochs():
    assert cached_note(3, True, end=2) == (
        "Backbone features cached, 3 augmented views of each image (training.feature_views): "
        "epochs 1-2 compute 2 of them.")
    assert cached_note(2, True, end=2) == (
        "Backbone features cached, 2 augmented views of each image (training.feature_views): "
        "epochs 1-2 compute them.")  # no later epoch to cycle through them
    assert cached_note(2, True, start=5, end=9).endswith(
        "epochs 5-6 compute the 2 augmented views again, later epochs cycle through them.")
    assert cached_note(1, False, start=3, end=3).endswith(
        "the frozen backbone runs once per image again, in epoch 3.")
    assert cached_note(1, False, end=1) == (
        "Backbone features cached: the frozen backbone runs once per image, in the first "
        "epoch (training.feature_cache).")
