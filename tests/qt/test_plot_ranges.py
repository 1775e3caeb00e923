"""A new run's plots start from an empty frame, not the last run's axes."""

from __future__ import annotations

WAIT_MS = 10000


def _epoch(e: int) -> dict:
    return {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5 + e / 200,
            "val_loss": 1.2 / e, "val_acc": 0.4 + e / 200, "lr": 0.1 / e, "seconds": 1.0}


def test_a_new_run_starts_from_an_empty_frame_not_the_last_runs_axes(qtbot, plots):
    # Measured in the app: after an 86-epoch run, a new run's loss and accuracy plots kept
    # their 0-86 x axis (and the norms plot its range) until the new run's first points.
    plots.add_batches(list(range(1, 801)), [1.0] * 800, 10)
    for e in range(1, 81):
        plots.add_epoch(_epoch(e))
    plots.add_norms(800, ["2 Linear"], [0.5], [3.0])
    plots.update_curves()
    qtbot.waitUntil(lambda: plots.loss_plot.vb.viewRange()[0][1] >= 80, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: plots.batch_plot.vb.viewRange()[0][1] >= 80, timeout=WAIT_MS)
    plots.clear_data()
    plots.update_curves()
    for plot in (plots.batch_plot, plots.loss_plot, plots.acc_plot, plots.norms_plot):
        (x0, x1), _ = plot.vb.viewRange()
        assert x1 < 2, plot.titleLabel.text
    (_, _), (y0, y1) = plots.acc_plot.vb.viewRange()
    assert y1 >= 99  # accuracy keeps its 0-100 % frame
