"""The Train tab's ETA with cached backbone features: the epochs that compute them (the first
K of this session) run the backbone, the later ones only the layers after it, many times
faster. The later ones are timed at their own rate once one has run; before that the ETA
covers the feature epochs and says the rest is much faster (walk-transfer defect 4).

Measured before: at the end of epoch 1 of a 4-epoch resnet18 run with 2 views the status
said "ETA 41 s"; what was left took 11 s (epoch 2 at the backbone's speed, epochs 3-4 under
a second). The preset's 10 epochs gave 1.5-2 min for about 25 s of work.
"""

from __future__ import annotations

from workbench.qt.panels.train.status import Speed, progress_text

INFO = {"epochs": 10, "batch_size": 32, "device": "cpu", "features": "cached, 2 views",
        "start_epoch": 1}


def _status(speed: Speed, info: dict, epoch: int, batch: int, rate: float) -> str:
    """What the panel does with a chunk of batches: update the speed, then show the line."""
    speed.update(rate)
    return progress_text({"epoch": epoch, "batch": batch, "num_batches": 100,
                          "losses": [0.5]}, info, speed)


def test_before_a_cached_epoch_ran_the_eta_covers_the_feature_epochs_and_says_so():
    speed = Speed()
    text = _status(speed, INFO, 1, 40, 10.0)
    # 60 batches left in epoch 1 and 100 in epoch 2, at 10 a second; not 8 more epochs so.
    assert text == ("Epoch 1/10 · batch 40/100 · loss 0.5000 · 320 img/s · ETA 16 s to the "
                    "end of epoch 2; later epochs are much faster (features cached) · cpu")
    assert "ETA 10 s to the end of epoch 2;" in _status(speed, INFO, 2, 0, 10.0)
    # Epoch 2's last batch: only the cached epochs are left, their speed not yet measured.
    assert " · 320 img/s · later epochs are much faster (features cached) · cpu" in _status(
        speed, INFO, 2, 100, 10.0)


def test_later_epochs_are_counted_at_the_rate_measured_on_a_cached_one():
    speed = Speed()
    for epoch in (1, 2):
        _status(speed, INFO, epoch, 50, 10.0)
    text = _status(speed, INFO, 3, 50, 200.0)
    # 50 batches left in epoch 3 and 700 in epochs 4-10, at 200 a second: 3.75 s, not the
    # 75 s of 750 batches at the backbone's 10 a second; the speed is the cached epochs'.
    assert text == ("Epoch 3/10 · batch 50/100 · loss 0.5000 · 6,400 img/s · ETA 4 s · cpu")


def test_a_continued_run_computes_them_again_in_its_own_first_epochs():
    info = {**INFO, "start_epoch": 5, "epochs": 12}
    speed = Speed()
    assert "ETA 15 s to the end of epoch 6; later epochs are much faster" in _status(
        speed, info, 5, 50, 10.0)


def test_one_set_of_features_is_computed_in_the_first_epoch_only():
    info = {**INFO, "features": "cached"}
    speed = Speed()
    assert "ETA 6 s to the end of epoch 1;" in _status(speed, info, 1, 40, 10.0)
    assert " · ETA 9 s · " in _status(speed, info, 2, 0, 100.0)  # 900 batches at 100/s
    # A run of one epoch: nothing later to be faster.
    assert " · ETA 6 s · " in _status(Speed(), {**info, "epochs": 1}, 1, 40, 10.0)


def test_without_cached_features_every_epoch_counts_alike():
    info = {**INFO, "features": "off"}
    # 60 batches left in epoch 1 and 900 in epochs 2-10, at 10 a second.
    assert " · ETA 1 min 36 s · " in _status(Speed(), info, 1, 40, 10.0)
