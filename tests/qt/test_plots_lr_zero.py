"""The learning-rate plot marks an epoch trained at a rate of 0 at its log axis' floor, with
a marker named in its header, rather than leaving it out (walk-tomorrow2 defect 1: a
schedule continued past its end trained epoch 7 at 0, and the plot had a gap there)."""

from __future__ import annotations

import numpy as np
import pytest


def _epoch(e: int, lr: float) -> dict:
    return {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5, "val_loss": 1.0 / e,
            "val_acc": 0.5, "lr": lr, "seconds": 1.0}


def test_an_epoch_at_lr_0_is_drawn_at_the_floor_with_its_own_marker(plots):
    for e, lr in enumerate([0.02, 0.01, 0.0025, 0.0, 0.005], start=1):
        plots.add_epoch(_epoch(e, lr))
    plots.update_curves()
    x, y = plots.lr_curve.getData()
    assert list(x) == [1, 2, 3, 4, 5]  # none left out
    assert np.all(np.isfinite(y)) and y[3] == min(y)  # (log10 of the rates: the floor)
    zx, _ = plots.lr.zeros.getData()
    assert list(zx) == [4]
    header = plots.headers[plots.lr_plot].text()
    assert "▼" in header and "lr 0 (at the floor)" in header
    text, ring = plots._readout_at(plots.lr_plot, 4.0, float(y[3]))
    assert text == "epoch 4: lr 0"
    assert ring == (4.0, pytest.approx(0.00025))  # ringed where it is drawn, not at 0


def test_without_an_epoch_at_0_there_is_no_marker(plots):
    for e, lr in enumerate([0.02, 0.01], start=1):
        plots.add_epoch(_epoch(e, lr))
    plots.update_curves()
    assert list(plots.lr_curve.getData()[0]) == [1, 2]
    assert plots.lr.zeros.getData()[0] is None or len(plots.lr.zeros.getData()[0]) == 0
    assert "lr 0" not in plots.headers[plots.lr_plot].text()
