"""A diverged overlaid run does not flatten the others: it is clipped at the top of the loss
plot and named in its tooltip, and the epoch axis ticks whole epochs."""

from __future__ import annotations

import math

import numpy as np


def _run(name: str, peak: float, epochs: int = 3) -> dict:
    return {"name": name, "history": [
        {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5, "val_loss": peak / e,
         "val_acc": 0.5} for e in range(1, epochs + 1)]}


def _loss_top(plots) -> float:
    plots.loss_plot.vb.prepareForPaint()
    return plots.loss_plot.vb.viewRange()[1][1]


def test_a_run_far_above_the_others_is_clipped_and_named(plots):
    plots.set_overlays([_run("baseline", 1.2), _run("wide", 0.9), _run("lr-10", 4e6)])
    assert _loss_top(plots) < 5  # the others fill the plot, not 0 .. 4e6
    diverged = plots.overlays.curves[2]["val_loss"]
    assert diverged.yData.max() < 5  # drawn along the top edge
    tooltip = plots.headers[plots.loss_plot].toolTip()
    assert "lr-10 goes off the scale: use Log scale to see it" in tooltip
    assert "baseline goes off" not in tooltip and "wide goes off" not in tooltip
    assert "off the scale" not in plots.headers[plots.acc_plot].toolTip()
    # The hover read-out still gives the run's real value.
    assert "4e+06" in plots.overlays.readout(1, "loss")

    plots.set_log_scale(True)  # on a log axis it fits: drawn whole, not named
    plots.update_curves()
    assert diverged.yData.max() == 4e6
    assert "off the scale" not in plots.headers[plots.loss_plot].toolTip()


def test_a_run_with_a_non_finite_loss_is_clipped_too(plots):
    nan_run = _run("nan", 1.0)
    nan_run["history"][2]["val_loss"] = math.inf
    plots.set_overlays([_run("baseline", 1.2), nan_run])
    assert math.isfinite(_loss_top(plots)) and _loss_top(plots) < 5
    assert np.isfinite(plots.overlays.curves[1]["val_loss"].yData).all()
    assert "nan goes off the scale" in plots.headers[plots.loss_plot].toolTip()


def test_runs_of_like_losses_are_not_clipped(plots):
    plots.set_overlays([_run("a", 1.2), _run("b", 30.0)])
    assert plots.overlays.curves[1]["val_loss"].yData.max() == 30.0
    assert "off the scale" not in plots.headers[plots.loss_plot].toolTip()


def test_the_epoch_plots_tick_whole_epochs_only(plots):
    plots.set_overlays([_run("a", 1.2, epochs=3)])
    for plot in (plots.loss_plot, plots.acc_plot):
        plot.vb.prepareForPaint()
        axis = plot.getAxis("bottom")
        lo, hi = plot.vb.viewRange()[0]
        ticks = [v for _spacing, values in axis.tickValues(lo, hi, axis.width() or 300)
                 for v in values]
        assert ticks and all(float(v).is_integer() for v in ticks), ticks


def test_six_overlaid_runs_get_one_loss_legend_entry_named_in_the_tooltip(plots):
    """Six "name ┄┄ train ╌●╌ val" entries wrapped the header and left a "val" alone on a
    line: past three runs the loss plot says "6 overlaid runs", as the accuracy plot does."""
    from PySide6.QtWidgets import QApplication

    plots.resize(1078, 560)  # the plots' width in the window at 1100x706
    names = [f"shapes-seed-cnn-{i}" for i in range(6)]
    plots.set_overlays([_run(n, 1.0 + i / 10) for i, n in enumerate(names)])
    QApplication.processEvents()
    header = plots.headers[plots.loss_plot]
    assert header.legend.shown_texts()[-1] == "6 overlaid runs"
    assert not any("shapes" in t for t in header.legend.shown_texts())
    assert all(n in header.toolTip() for n in names)
    assert header.height() < 3 * header.fontMetrics().lineSpacing()
    plots.set_overlays([_run(n, 1.0) for n in names[:3]])  # three are still named
    assert [t.split(":")[0].replace("\u2011", "-") for t in header.legend.shown_texts()[2:]] \
        == names[:3]
