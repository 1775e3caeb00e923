"""A new run's plots start from an empty frame, not the last run's axes; an ended run's
plots fit their data; the accuracy axis stays within 0 and 100 %."""

from __future__ import annotations

import numpy as np

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


def _batches(n: int, per_epoch: int = 10) -> tuple[list[int], list[float]]:
    return list(range(1, n + 1)), [2.0 / (1 + s / 20) for s in range(1, n + 1)]


def _fitted(plot, x: tuple[float, float], y: tuple[float, float] | None = None) -> bool:
    """``plot`` shows the data spanning ``x`` (and ``y``) with an even margin on either
    side (pyqtgraph's padding, a tenth of the span at most, and a pen's width): no room
    kept for the data to grow (a live range leaves 1 % before the data, 15 % after)."""
    got = plot.vb.viewRange()
    return all(_even(*shown, *data) for shown, data in zip(got, (x, y)) if data is not None)


def _even(lo: float, hi: float, data_lo: float, data_hi: float) -> bool:
    span = data_hi - data_lo
    before, after = data_lo - lo, hi - data_hi
    return 0 <= before <= 0.13 * span and 0 <= after <= 0.13 * span \
        and abs(after - before) <= 0.03 * span


def test_an_ended_runs_batch_and_norms_plots_fit_their_data(qtbot, plots):
    """While a run goes, the batch and norms plots leave room for their curves to grow;
    once it ends they fit the data, also when the run is drawn again (the Train tab
    reloads a stopped run from its folder) or an axis changes."""
    plots.start()
    steps, losses = _batches(95)
    plots.add_batches(steps, losses, 10)
    for step in (10, 50, 90):
        plots.add_norms(step, ["2 Linear"], [0.5 + step / 100], [3.0])
    plots.update_curves()
    batches_x, norms_x = (0.1, 9.5), (1.0, 9.0)
    qtbot.waitUntil(lambda: plots.batch_plot.vb.viewRange()[0][1] >= 10.5, timeout=WAIT_MS)
    assert not _fitted(plots.batch_plot, batches_x)  # room to grow, while it goes

    plots.stop()
    qtbot.waitUntil(lambda: _fitted(plots.batch_plot, batches_x, (min(losses), max(losses))),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _fitted(plots.norms_plot, norms_x), timeout=WAIT_MS)

    # The stopped run as its folder keeps it: the unfinished epoch's batches dropped.
    plots.clear_data()
    steps, losses = _batches(90)
    plots.add_batches(steps, losses, 10)
    for step in (10, 50, 90):
        plots.add_norms(step, ["2 Linear"], [0.5 + step / 100], [3.0])
    plots.update_curves()
    batches_x = (0.1, 9.0)
    qtbot.waitUntil(lambda: _fitted(plots.batch_plot, batches_x, (min(losses), max(losses))),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _fitted(plots.norms_plot, norms_x), timeout=WAIT_MS)
    plots.set_x_axis("steps")
    qtbot.waitUntil(lambda: _fitted(plots.batch_plot, (1, 90)), timeout=WAIT_MS)


def test_a_stopped_runs_batch_plot_fits_its_data(qtbot, train_panel, monkeypatch):
    """Stopped after epoch 1 of 3: the batch plot spans the kept epoch, not 15 % more."""
    from qt_helpers import after_epoch

    panel = train_panel(epochs=3)
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitExposed(panel)
    after_epoch(monkeypatch, 1, lambda trainer: trainer.request_stop())
    with qtbot.waitSignal(panel.training_finished, timeout=120000) as stopped:
        panel.start_button.click()
    assert stopped.args[0]["status"] == "stopped"
    plots = panel.plots
    x, y = plots.batch_curve.getData()
    assert len(x) and x.max() == 1.0  # the kept epoch's batches
    y = np.concatenate([y, plots.batch_smooth_curve.getData()[1]])
    qtbot.waitUntil(lambda: _fitted(plots.batch_plot, (x.min(), x.max()),
                                    (y.min(), y.max())), timeout=WAIT_MS)


def _accuracy_axis(plots) -> tuple[float, float, list[float]]:
    """The accuracy plot's y range and the values its axis labels."""
    (_, _), (y0, y1) = plots.acc_plot.vb.viewRange()
    axis = plots.acc_plot.getAxis("left")
    ticks = [v for _spacing, values in axis.tickValues(y0, y1, axis.height())
             for v in values]
    return y0, y1, ticks


def test_the_accuracy_axis_stays_within_0_and_100_percent(qtbot, plots):
    """A run stuck at 25 % (walk-firstday: the axis ran down to -20 %), and one whose
    curves touch 0 and 100 %: no label below 0 or above 100, the dots at 0 and 100 drawn,
    also after pyqtgraph's auto-range button."""
    flat = {"train_loss": 1.386, "train_acc": 0.25, "val_loss": 1.386, "val_acc": 0.25,
            "lr": 0.001, "seconds": 1.0}
    for e in range(1, 6):
        plots.add_epoch({"epoch": e, **flat})
    plots.update_curves()
    qtbot.waitUntil(lambda: plots.acc_plot.vb.viewRange()[0][1] >= 5, timeout=WAIT_MS)
    y0, y1, ticks = _accuracy_axis(plots)
    assert -5 < y0 < 25 < y1 <= 105 and ticks and min(ticks) >= 0 and max(ticks) <= 100
    plots.add_epoch({"epoch": 6, **flat, "train_acc": 1.0, "val_acc": 0.0})
    plots.update_curves()
    for _ in range(2):
        qtbot.waitUntil(lambda: plots.acc_plot.vb.viewRange()[0][1] >= 6, timeout=WAIT_MS)
        y0, y1, ticks = _accuracy_axis(plots)
        assert -5 < y0 < 0 and 100 < y1 < 105, (y0, y1)  # a dot's room either side
        assert min(ticks) == 0 and max(ticks) == 100
        plots.acc_plot.vb.autoRange()  # the "A" button
