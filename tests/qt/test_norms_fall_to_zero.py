"""Walk-explain report #4: a run whose gradients fell to exactly 0 after epoch 1 (a ReLU
on the class scores) showed one dot per layer at epoch 1, the x axis 0.6..1.4 after a
restart, and no word that epochs 2-6 were 0 (a log axis has no place for 0): a learner read
"norms were measured once". The zeros are drawn at the floor, marked, and said."""

from __future__ import annotations

import math

import numpy as np
import pytest

NAMES = ["1 Conv2d", "4 Conv2d", "8 Linear", "11 Linear"]
GRADS = [0.1, 0.2, 0.3, 0.4]


def _run(plots, epochs=6, live=True):
    """``epochs`` epochs of 9 batches, a norm sample at each epoch's end: real gradients
    at epoch 1, exactly 0 from epoch 2; ``live``: as the run trains (else as a run shown
    from its folder after a restart)."""
    if live:
        plots.start()
    for epoch in range(1, epochs + 1):
        plots.add_batches(list(range(9 * epoch - 8, 9 * epoch + 1)), [1.0] * 9, 9)
        plots.add_norms(9 * epoch, NAMES, GRADS if epoch == 1 else [0.0] * 4, [1.0] * 4)
        plots.add_epoch({"epoch": epoch, "train_loss": 1.0, "train_acc": 0.5,
                         "val_loss": 1.0, "val_acc": 0.4, "lr": 0.1, "seconds": 1.0})
    plots.update_curves()


def test_gradients_that_fall_to_zero_are_drawn_at_the_floor_and_said(plots):
    _run(plots)
    floor = math.log10(0.1 / 10)  # a decade under the smallest norm drawn
    for curve, first in zip(plots.norms.curves, GRADS):
        x, y = curve.getData()
        np.testing.assert_allclose(x, [1, 2, 3, 4, 5, 6])
        np.testing.assert_allclose(y, [math.log10(first)] + [floor] * 5)
    x, y = plots.norms.zeros.getData()
    np.testing.assert_allclose(x, [2, 3, 4, 5, 6])
    assert y == pytest.approx([floor] * 5)
    legend = plots.norms_plot.legend.shown_texts()
    assert legend == NAMES + ["gradients 0 from epoch 2: no layer learns"]
    assert "▼" in plots.headers[plots.norms_plot].text()
    assert plots.norms.drawn_bounds[1][0] == pytest.approx(floor)  # the live range holds it
    assert plots.norms.readout(plots.norm_history, 3.0, floor)[0].endswith("gradient norm 0")


def test_the_x_axis_spans_the_run_after_a_restart(qtbot, plots):
    plots.clear_data()
    _run(plots, live=False)  # shown from its folder: fitted to what is drawn

    def spans_the_run():
        lo, hi = plots.norms_plot.vb.viewRange()[0]
        return lo <= 1 and hi >= 6
    qtbot.waitUntil(spans_the_run, timeout=5000)


def test_zeros_in_some_samples_only_are_marked_without_the_stuck_note(plots):
    for i, g in enumerate([GRADS, [0.1, 0.0, 0.3, 0.4], GRADS]):
        plots.add_norms(9 * (i + 1), NAMES, g, [1.0] * 4)
    plots.update_curves()
    np.testing.assert_allclose(plots.norms.zeros.getData()[0], [18])  # x is the step
    assert plots.norms_plot.legend.shown_texts()[-1] == "gradients 0 (at the floor)"
