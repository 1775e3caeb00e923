"""The Train tab's plots when they have nothing to draw: "No data yet" instead of the ticks of
a made-up range; layer norms that are all 0 or NaN explained instead of a legend over an
empty plot; non-finite norms marked among finite ones; log axes labelled in one style."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.qt.plots.notes import NO_DATA
from workbench.qt.plots.style import LogFriendlyAxis, log_tick_strings

NAMES = ["1 Conv2d", "4 Conv2d", "8 Linear", "11 Linear"]
NAN, INF = math.nan, math.inf


def _epoch(e: int) -> dict:
    return {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5, "val_loss": 1.2 / e,
            "val_acc": 0.4, "lr": 0.1, "seconds": 1.0}


def _note(plots, plot) -> str | None:
    note = plots.norms.note if plot is plots.norms_plot else plots.notes[plot]
    if note.label.isVisible():
        assert note.text is not None
        return note.text
    return None


def _numbers_shown(plot) -> bool:
    return all(plot.getAxis(side).style["showValues"] for side in ("left", "bottom"))


def _add_norms(plots, grads, weights=None):
    for i, g in enumerate(grads):
        plots.add_norms(9 * (i + 1), NAMES, g, weights or [1.0] * len(NAMES))
    plots.update_curves()


def test_empty_plots_say_so_and_show_no_numbers_until_their_data_come(plots):
    """Before a run the plots showed ticks of a range made up for no data ("2, 5")."""
    for plot in plots.views:
        assert _note(plots, plot) == NO_DATA
        assert not _numbers_shown(plot)
    plots.add_batches([1, 2, 3, 4], [1.0, 0.9, 0.8, 0.7], 4)
    plots.add_epoch(_epoch(1))
    plots.update_curves()
    for plot in (plots.batch_plot, plots.loss_plot, plots.acc_plot, plots.lr_plot):
        assert _note(plots, plot) is None and _numbers_shown(plot)
    assert _note(plots, plots.norms_plot) == NO_DATA  # no layer norms sampled yet
    _add_norms(plots, [[0.1, 0.2, 0.3, 0.4]])
    assert _note(plots, plots.norms_plot) is None and _numbers_shown(plots.norms_plot)

    plots.clear_data()  # a new run
    assert all(_note(plots, plot) == NO_DATA for plot in plots.views)


def test_a_run_that_ended_before_any_data_says_so_not_yet(plots):
    """A run that diverged at batch 6 left the norms plot empty (sampled every 9 steps):
    "No data yet" would wait for data that will not come."""
    plots.start()
    plots.add_batches([1, 2, 3, 4, 5, 6], [1.0, 2.0, 1e9, 1e18, 1e30, NAN], 9)
    plots.stop()
    assert _note(plots, plots.batch_plot) is None
    assert _note(plots, plots.loss_plot) == "No epoch finished"
    assert _note(plots, plots.lr_plot) == "No epoch finished"
    assert "the run ended before the first sample" in _note(plots, plots.norms_plot)
    for plot in plots.views:  # a longer text is centred again (it hung near the top)
        label, view = plots.notes[plot].label, plot.vb.sceneBoundingRect()
        box = label.mapRectToScene(label.rect())
        assert abs(box.center().x() - view.center().x()) < 2
        assert abs(box.center().y() - view.center().y()) < 2
        # The label is its text's size (it kept the height of the text as wrapped at the
        # last text's width, and the text sat at its top).
        assert box.height() <= label.item.mapRectToScene(label.item.boundingRect()).height() + 2
    plots.clear_data()  # the next run
    assert all(_note(plots, plot) == NO_DATA for plot in plots.views)


def test_overlaid_runs_are_data_for_the_loss_and_accuracy_plots(plots):
    plots.set_overlays([{"name": "run-1", "history": [_epoch(1), _epoch(2)]}])
    assert _note(plots, plots.loss_plot) is None and _note(plots, plots.acc_plot) is None
    assert _note(plots, plots.lr_plot) == NO_DATA


def test_gradient_norms_all_zero_are_explained_not_drawn_under_a_legend(plots):
    """The reviewer saw a legend of four layers over an empty plot (every norm 0)."""
    _add_norms(plots, [[0.0] * 4, [0.0] * 4])
    note = _note(plots, plots.norms_plot)
    assert note is not None and "Every gradient norm is 0" in note
    header = plots.headers[plots.norms_plot]
    assert plots.norms_plot.legend.shown_texts() == []
    assert not any(name in header.text() for name in NAMES)
    assert "Gradient norm per layer" in header.text()
    # The weight norms of the same samples can be drawn: their legend is back.
    plots.set_norms_kind("weight")
    assert _note(plots, plots.norms_plot) is None
    assert plots.norms_plot.legend.shown_texts() == NAMES
    plots.set_norms_kind("grad")
    plots.set_norms_mode("heatmap")  # nothing to colour either
    assert "Every gradient norm is 0" in _note(plots, plots.norms_plot)


@pytest.mark.parametrize("value", [NAN, INF])
def test_gradient_norms_none_finite_say_the_run_diverged(plots, value):
    _add_norms(plots, [[value] * 4, [value, value, INF, NAN]])
    note = _note(plots, plots.norms_plot)
    assert note is not None and "No finite gradient norms" in note and "diverged" in note
    assert plots.norms_plot.legend.shown_texts() == []


def test_finite_norms_are_drawn_and_the_non_finite_samples_marked(plots):
    grads = [[0.1, 0.2, 0.3, 0.0], [0.2, 0.3, 0.4, 0.0], [NAN, INF, 5.0, 0.0]]
    _add_norms(plots, grads)
    assert _note(plots, plots.norms_plot) is None
    legend = plots.norms_plot.legend.shown_texts()
    assert legend == ["1 Conv2d", "4 Conv2d", "8 Linear", "11 Linear (no gradient)",
                      "gradients 0 (at the floor)", "not finite (NaN, inf)"]
    x, y = plots.norms.non_finite.getData()
    np.testing.assert_allclose(x, [27])  # the third sample (no batches: x is the step)
    assert plots.norms.non_finite.isVisible()
    assert "×" in plots.headers[plots.norms_plot].text()
    # At the top of the drawn values (log10 of the largest finite norm, 5).
    assert y[0] == pytest.approx(math.log10(5.0))


def test_a_later_finite_sample_restores_the_legend(plots):
    _add_norms(plots, [[NAN] * 4])
    assert plots.norms_plot.legend.shown_texts() == []
    plots.add_norms(100, NAMES, [0.5] * 4, [1.0] * 4)
    plots.update_curves()
    assert _note(plots, plots.norms_plot) is None
    assert plots.norms_plot.legend.shown_texts()[:4] == NAMES


def test_log_axes_label_every_tick_in_one_style():
    """The LR finder's axis read "10⁻⁷ … 0.0001 0.001 … 10¹"; the learning-rate plot "5, 10¹,
    2·10¹"."""
    assert log_tick_strings(np.log10([1e-7, 2e-5, 1e-4, 1.0, 10.0]), plain=False) == [
        "10⁻⁷", "2·10⁻⁵", "10⁻⁴", "10⁰", "10¹"]
    assert log_tick_strings(np.log10([0.001, 0.05, 1.0, 20.0]), plain=True) == [
        "0.001", "0.05", "1", "20"]
    axis = LogFriendlyAxis("bottom")
    axis.setLogMode(True)
    for (lo, hi), plain in (((-7, 1), False), ((0.5, 1.5), True), ((-3, 0), True),
                            ((-5, -2), False)):
        axis.setRange(lo, hi)
        labels = [s for _, values in axis.tickValues(lo, hi, 600)
                  for s in axis.tickStrings(values, 1.0, 1.0)]
        assert labels
        assert all(any(c in s for c in "⁻⁰¹²³⁴⁵⁶⁷⁸⁹") != plain for s in labels), labels


def test_norm_samples_sit_at_their_batches_and_share_the_batch_plots_x_range(plots):
    """A sample an epoch (9 batches) at the epoch's last batch sits at x = 1, 2, as the
    epochs' points; while the run goes the norms plot spans what the batch plot spans (its
    axis stopped near its last sample, the batch plot's ran on)."""
    plots.start()
    for epoch in (1, 2):
        steps = list(range(9 * epoch - 8, 9 * epoch + 1))
        plots.add_batches(steps, [1.0] * 9, 9)
        plots.add_norms(9 * epoch, NAMES, [0.1, 0.2, 0.3, 0.4], [1.0] * 4)
        plots.add_epoch(_epoch(epoch))
    plots.add_batches([19, 20, 21, 22, 23], [1.0] * 5, 9)  # into epoch 3
    plots.update_curves()
    np.testing.assert_allclose(plots.norms.curves[0].getData()[0], [1.0, 2.0])
    np.testing.assert_allclose(plots.train_loss_curve.getData()[0], [1.0, 2.0])
    norms_x = plots.norms_plot.vb.viewRange()[0]
    assert norms_x == plots.batch_plot.vb.viewRange()[0]
    assert norms_x[1] >= 23 / 9
    plots.add_batches(list(range(24, 60)), [1.0] * 36, 9)  # the batch plot outgrows its range
    plots.update_curves()
    assert plots.norms_plot.vb.viewRange()[0] == plots.batch_plot.vb.viewRange()[0]
    plots.stop()  # then each fits its own data
    assert all(plots.norms_plot.vb.autoRangeEnabled())


def test_a_single_norm_sample_is_drawn_as_dots_not_an_empty_plot(plots):
    """After a 1-epoch run the lines mode showed only its legend: one point draws no line."""
    _add_norms(plots, [[0.1, 0.2, 0.3, 0.0]])
    drawn = [c.scatter.isVisible() and len(c.scatter.data) == 1 for c in plots.norms.curves]
    assert drawn == [True, True, True, True]  # the 0 at the floor, named "(no gradient)"
    assert plots.norms.curves[3].getData()[1][0] == pytest.approx(math.log10(0.01))
    _add_norms(plots, [[0.1, 0.2, 0.3, 0.0], [0.2, 0.3, 0.4, 0.0]])  # lines from now on
    assert not any(c.scatter.isVisible() for c in plots.norms.curves)
