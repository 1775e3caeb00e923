"""Live training plots: smoothing, log scale, x axis, best epoch, hover, overlays, layer
norms, resumed runs, and bounded drawing cost with 100k batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.training import PLOT_INTERVAL_MS
from workbench.qt.plots.data import GrowableArray, NormHistory, ema

BPE = 4  # batches per epoch in the small examples


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


def _epoch(e: int, val: bool = True, **extra) -> dict:
    m = {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5 + e / 100,
         "val_loss": 1.2 / e if val else None, "val_acc": 0.4 + e / 100 if val else None,
         "lr": 0.1 / e, "seconds": 1.0}
    m.update(extra)
    return m


def _ema_loop(x, a):
    """The definition, point by point (NaN points left out of the average)."""
    raw, n, out = 0.0, 0, []
    for v in x:
        if math.isfinite(v):
            raw, n = a * raw + (1 - a) * v, n + 1
        out.append(raw / (1 - a ** n) if n else math.nan)
    return np.array(out)


def _draw(qtbot, plots, *shown):
    """Push the buffers into the curves, as the timer would, and wait until each point
    ``(plot, x, y)`` of ``shown`` is in view (ranges follow the data when the plots
    repaint)."""
    plots.update_curves()

    def in_view(plot, x, y):
        (x0, x1), (y0, y1) = plot.vb.viewRange()
        return x0 <= x <= x1 and y0 <= y <= y1

    for point in shown:
        qtbot.waitUntil(lambda: in_view(*point), timeout=WAIT_MS)


def _xs(curve):
    x, _ = curve.getData()
    return np.array([]) if x is None else x


@pytest.fixture
def noisy(qtbot, plots):
    """Two epochs of noisy per-batch losses and their epoch metrics."""
    rng = np.random.default_rng(0)
    losses = list(2.0 - 0.1 * np.arange(8) + rng.normal(0, 0.3, 8))
    plots.add_batches(list(range(1, 9)), losses, BPE)
    plots.add_epoch(_epoch(1))
    plots.add_epoch(_epoch(2))
    _draw(qtbot, plots, (plots.batch_plot, 2.0, losses[-1]), (plots.loss_plot, 2.0, 0.5),
          (plots.acc_plot, 2.0, 52))
    return np.array(losses)


# -- numbers behind the plots ----------------------------------------------------------------
@pytest.mark.parametrize("a", [0.001, 0.5, 0.9, 0.999])
def test_ema_matches_its_definition_in_one_go_and_in_pieces(a):
    rng = np.random.default_rng(1)
    x = rng.random(3000) * 3
    x[[0, 10, 500]] = np.nan  # a diverged batch is left out of the average
    x[20] = np.inf
    expected = _ema_loop(x, a)
    whole, _ = ema(x, a)
    first, state = ema(x[:1234], a)
    rest, _ = ema(x[1234:], a, state)
    np.testing.assert_allclose(whole, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([first, rest]), expected, rtol=1e-9, atol=1e-12)
    assert math.isnan(whole[0])  # nothing finite seen yet


def test_ema_of_zero_is_the_raw_values_and_the_start_is_not_pulled_to_zero():
    x = np.array([3.0, 3.0, 3.0])
    assert list(ema(x, 0.0)[0]) == [3.0, 3.0, 3.0]
    np.testing.assert_allclose(ema(x, 0.99)[0], x)  # debiased: a constant stays constant


def test_growable_array_keeps_earlier_views_valid():
    a = GrowableArray(capacity=2)
    a.append([1, 2])
    view = a.data
    a.append(np.arange(3, 100))
    assert list(view) == [1, 2] and len(a) == 99 and a.data[-1] == 99
    a.truncate(3)
    assert list(a.data) == [1, 2, 3]


def test_norm_history_stays_bounded_and_evenly_spaced():
    h = NormHistory(max_samples=64)
    for step in range(1, 10_001):
        h.add(step, ["1 Conv2d", "3 Linear"], [0.1, 0.0], [1.0, 2.0])
    assert 32 <= len(h) <= 64
    gaps = np.diff(h.steps)
    assert gaps.min() == gaps.max()  # still uniform after repeated halving
    assert h.steps[0] == 1 and h.steps[-1] > 9000  # covers the whole run
    h.add(10_001, ["other"], [1.0], [1.0])  # another network: starts afresh
    assert len(h) == 1 and h.names == ["other"]


# -- controls ---------------------------------------------------------------------------------
def test_smoothing_slider_changes_the_smoothed_curve_and_zero_shows_raw(plots, noisy):
    _, smooth_default = plots.batch_smooth_curve.getData()
    np.testing.assert_allclose(smooth_default, _ema_loop(noisy, 0.9))

    plots.controls.smoothing_slider.setValue(0)
    assert plots.controls.smoothing_label.text() == "raw"
    np.testing.assert_allclose(plots.batch_smooth_curve.getData()[1], noisy)

    plots.set_smoothing(0.5)
    assert plots.controls.smoothing_slider.value() == 500
    np.testing.assert_allclose(plots.batch_smooth_curve.getData()[1], _ema_loop(noisy, 0.5))

    # New batches extend the smoothed curve as if it had been smoothed in one go.
    plots.add_batches([9, 10], [5.0, 0.1], BPE)
    plots.update_curves()
    np.testing.assert_allclose(plots.batch_smooth_curve.getData()[1],
                               _ema_loop(list(noisy) + [5.0, 0.1], 0.5))


def test_log_axes_mark_one_two_and_five_times_powers_of_ten(plots):
    axis = plots.lr_plot.getAxis("left")
    assert axis.logMode  # learning rates span decades
    ticks = [v for _, values in axis.logTickValues(-3.5, -2.2, 300, []) for v in values]
    assert np.allclose(sorted(10 ** np.array(ticks)), [5e-4, 1e-3, 2e-3, 5e-3])


def test_log_toggle_puts_the_loss_plots_on_a_log_axis(plots, noisy):
    plots.controls.log_check.click()
    for plot in (plots.batch_plot, plots.loss_plot):
        assert plot.getAxis("left").logMode
    assert not plots.acc_plot.getAxis("left").logMode  # accuracy stays linear
    np.testing.assert_allclose(plots.batch_curve.getData()[1], np.log10(noisy))
    plots.set_log_scale(False)
    assert not plots.controls.log_check.isChecked()
    assert not plots.batch_plot.getAxis("left").logMode


def test_x_axis_switches_between_epochs_and_steps(plots, noisy):
    x, _ = plots.batch_curve.getData()
    np.testing.assert_allclose(x, np.arange(1, 9) / BPE)
    assert list(plots.train_loss_curve.getData()[0]) == [1, 2]

    plots.controls.x_combo.setCurrentText("steps")
    plots.add_norms(6, ["1 Conv2d"], [0.5], [2.0])
    plots.update_curves()
    np.testing.assert_allclose(plots.batch_curve.getData()[0], np.arange(1, 9))
    assert list(plots.train_loss_curve.getData()[0]) == [BPE, 2 * BPE]  # epoch ends
    assert list(plots.lr_curve.getData()[0]) == [BPE, 2 * BPE]
    assert list(plots.norms.curves[0].getData()[0]) == [6]
    assert plots.batch_plot.getAxis("bottom").labelText == "step"

    plots.set_x_axis("epochs")
    assert list(plots.norms.curves[0].getData()[0]) == [6 / BPE]
    assert plots.loss_plot.getAxis("bottom").labelText == "epoch"
    with pytest.raises(ValueError):
        plots.set_x_axis("hours")


def test_best_epoch_marker_sits_at_the_epoch_with_its_label(plots, noisy):
    epoch_plots = (plots.loss_plot, plots.acc_plot)
    assert not any(line.isVisible() for line in plots.best_lines)
    assert not any("best" in plots.headers[p].text() for p in epoch_plots)
    plots.set_best_epoch(2)
    plots.update_curves()
    for plot, line in zip(epoch_plots, plots.best_lines):
        assert line.isVisible() and line.value() == 2
        # Named in the plot's header, not by a label over the curves.
        assert "best: epoch 2" in plots.headers[plot].text()
    plots.set_x_axis("steps")
    assert all(line.value() == 2 * BPE for line in plots.best_lines)
    plots.set_best_epoch(None)
    plots.update_curves()
    assert not any(line.isVisible() for line in plots.best_lines)
    assert not any("best" in plots.headers[p].text() for p in epoch_plots)


def test_legends_sit_above_the_plots_and_name_every_curve(plots, noisy):
    """At a laptop's size the legends covered the curves and hid their own entries:
    each plot's legend is a header line above its data area, naming every curve."""
    plots.resize(1080, 420)  # the plots' share of the Train tab at 1100x780
    plots.set_best_epoch(2)
    plots.update_curves()
    expected = {plots.batch_plot: ["batch", "smoothed"],
                plots.loss_plot: ["train", "validation", "best: epoch 2"],
                plots.acc_plot: ["train", "validation", "best: epoch 2"]}
    QApplication.processEvents()
    for plot, names in expected.items():
        assert plot.legend.shown_texts() == names
        header, view = plots.headers[plot], plots.views[plot]
        assert header.isVisible() and all(n in header.text() for n in names)
        # The header lies wholly above the plot's widget, so it covers nothing in it.
        top_of_view = view.mapTo(plots, view.rect().topLeft()).y()
        bottom_of_header = header.mapTo(plots, header.rect().bottomLeft()).y()
        assert bottom_of_header < top_of_view
        assert not any(isinstance(item, pg.LegendItem) for item in plot.vb.childItems())
        assert header.heightForWidth(header.width()) <= header.height()  # not cut off
    assert "Loss per epoch" in plots.headers[plots.loss_plot].text()
    assert "Gradient norm per layer" in plots.headers[plots.norms_plot].text()


def test_each_plot_keeps_a_readable_height_when_squeezed(plots):
    plots.resize(1080, 100)  # less room than the plots need: they keep their minimum
    from workbench.qt.plots.header import MIN_PLOT_HEIGHT

    assert MIN_PLOT_HEIGHT >= 100  # axes and a few ticks; ~50 px was unreadable
    assert all(view.minimumHeight() >= MIN_PLOT_HEIGHT for view in plots.views.values())
    assert plots.minimumSizeHint().height() >= 2 * MIN_PLOT_HEIGHT
    QApplication.processEvents()
    assert all(view.height() >= MIN_PLOT_HEIGHT for view in plots.views.values())


# -- hover ------------------------------------------------------------------------------------
def _hover(plots, plot, x, y):
    """Hand the hover handler the scene position of data point (x, y) of ``plot``."""
    plots._on_mouse_moved(plot, plot.vb.mapViewToScene(QPointF(x, y)))


def test_hover_reads_out_the_nearest_epoch_and_marks_it(plots, noisy):
    _hover(plots, plots.loss_plot, 1.8, 0.8)
    text = plots.readout.text()
    assert text.startswith("epoch 2:")
    assert "train loss 0.5" in text and "validation loss 0.6" in text
    marker = plots.marks.rings[plots.loss_plot]
    assert list(marker.getData()[0]) == [2] and list(marker.getData()[1]) == [0.6]

    _hover(plots, plots.acc_plot, 1.2, 50)
    assert plots.readout.text() == ("epoch 1: train accuracy 51.0%, validation accuracy "
                                    "41.0%")
    assert len(_xs(marker)) == 0  # only the plot under the mouse has a marker
    assert list(_xs(plots.marks.rings[plots.acc_plot])) == [1]


def test_hover_through_a_mouse_move_event_reads_the_batch_plot(plots, noisy):
    plots.set_smoothing(0)
    widget = plots.views[plots.batch_plot]
    pos = widget.mapFromScene(plots.batch_plot.vb.mapViewToScene(QPointF(3 / BPE, noisy[2])))
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos),
                        QPointF(widget.viewport().mapToGlobal(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget.viewport(), event)
    assert plots.readout.text() == (f"step 3 (epoch 0.75): loss {noisy[2]:.4g}, "
                                    f"smoothed {noisy[2]:.4g}")


# -- overlays, norms, resumed runs --------------------------------------------------------------
def test_overlays_add_one_curve_set_per_run_and_clear(qtbot, plots, noisy):
    runs = [{"name": "run-a", "history": [_epoch(e) for e in (1, 2, 3)]},
            {"name": "run-b", "history": [_epoch(e, val=False) for e in (1, 2)]}]
    plots.set_overlays(runs)
    _draw(qtbot, plots, (plots.loss_plot, 3.0, 0.4))
    assert plots.point_counts()["overlay_runs"] == 2
    drawn = [c for curves in plots.overlays.curves for c in curves.values()]
    assert len(drawn) == 8  # train and validation, loss and accuracy, for each run
    assert all(c in plots.loss_plot.listDataItems() + plots.acc_plot.listDataItems()
               for c in drawn)
    legend = plots.loss_plot.legend.shown_texts()
    # Named once a run, with non-breaking hyphens (a wrapped header split "run-" / "a");
    # run-b: no validation, nothing named for it.
    assert [t.replace("\u2011", "-") for t in legend[-2:]] == ["run-a: train, val",
                                                                "run-b: train"]
    assert "run\u2011a&nbsp;" in plots.headers[plots.loss_plot].text()
    a, b = plots.overlays.curves
    assert list(a["val_loss"].getData()[0]) == [1, 2, 3]
    assert list(a["val_acc"].getData()[1]) == pytest.approx([41, 42, 43])
    assert len(_xs(b["val_loss"])) == 0  # run-b had no validation split
    assert a["val_loss"].opts["pen"].style() == Qt.PenStyle.DashLine
    assert a["val_loss"].opts["pen"].color() != b["train_loss"].opts["pen"].color()

    _hover(plots, plots.loss_plot, 1.0, 0.8)
    assert "run-a: train loss 1, validation loss 1.2" in plots.readout.text()

    plots.set_overlays([])
    left = plots.loss_plot.listDataItems() + plots.acc_plot.listDataItems()
    assert not any(c in left for c in drawn)
    assert plots.loss_plot.legend.shown_texts() == ["train", "validation"]


def test_norms_fill_lines_and_heatmap(qtbot, plots):
    names = ["1 Conv2d", "3 Conv2d", "5 Linear"]
    for step in (5, 10, 15):
        plots.add_norms(step, names, [1e-3, 0.0, float("nan") if step == 10 else 10.0],
                        [1.0, 2.0, 3.0])
    _draw(qtbot, plots, (plots.norms_plot, 15, 1))  # y: log10 of 10
    assert plots.point_counts()["norm_samples"] == 3
    assert len(plots.norms.curves) == 3 and plots.norms_plot.getAxis("left").logMode
    x, y = plots.norms.curves[0].getData()
    np.testing.assert_allclose(x, [5, 10, 15])  # no batches yet: steps per epoch unknown
    np.testing.assert_allclose(y, [-3, -3, -3])  # log10, on the log axis

    plots.controls.norms_mode_combo.setCurrentText("heatmap")
    _draw(qtbot, plots, (plots.norms_plot, 15, 2.5))
    assert plots.norms.image.isVisible() and not plots.norms.curves[0].isVisible()
    image = plots.norms.image.image
    assert image.shape == (3, 3)  # samples x layers
    first_layer = image[:, 2]  # drawn at the top: the layer axis is flipped
    np.testing.assert_allclose(first_layer, [-3, -3, -3])
    assert np.isnan(image[:, 1]).all()  # a zero norm has no colour
    # Hovering a cell names its layer.
    _hover(plots, plots.norms_plot, 10, 2.5)
    assert plots.readout.text() == "step 10 · layer 1 Conv2d: gradient norm 0.001"

    plots.set_norms_kind("weight")
    np.testing.assert_allclose(plots.norms.image.image[:, 2], [0, 0, 0])  # log10(1)


def test_load_history_then_add_epoch_continues_the_numbering(plots):
    plots.load_history([_epoch(1), _epoch(2), _epoch(3)], batches_per_epoch=BPE)
    plots.add_batches([13, 14], [0.4, 0.3], BPE)
    plots.add_epoch(_epoch(4))
    plots.update_curves()
    assert list(plots.train_loss_curve.getData()[0]) == [1, 2, 3, 4]
    assert list(plots.batch_curve.getData()[0]) == [13 / BPE, 14 / BPE]
    # Resuming again from the epoch-2 checkpoint replaces epochs 3 and 4.
    plots.add_batches([9], [0.5], BPE)
    plots.add_epoch(_epoch(3, train_loss=0.9))
    plots.update_curves()
    x, y = plots.train_loss_curve.getData()
    assert list(x) == [1, 2, 3] and y[-1] == 0.9
    assert list(plots.batch_curve.getData()[0]) == [9 / BPE]
    assert plots.point_counts()["epochs"] == 3


def test_clear_data_keeps_overlays_and_settings(qtbot, plots, noisy):
    plots.set_overlays([{"name": "old", "history": [_epoch(1)]}])
    plots.set_log_scale(True)
    plots.clear_data()
    assert plots.point_counts() == {"batches": 0, "epochs": 0, "norm_samples": 0,
                                    "norm_layers": 0, "overlay_runs": 1}
    # The plots empty over the next passes of the event loop, one at a time.
    qtbot.waitUntil(lambda: len(_xs(plots.train_loss_curve)) == 0, timeout=WAIT_MS)
    assert len(_xs(plots.batch_curve)) == 0
    assert list(_xs(plots.overlays.curves[0]["val_loss"])) == [1]
    assert plots.controls.log_check.isChecked()


# -- drawing cost -----------------------------------------------------------------------------
def test_redraws_at_most_20_hz_and_only_what_changed(plots, noisy, monkeypatch):
    assert PLOT_INTERVAL_MS >= 50
    calls = []
    monkeypatch.setattr(plots.batch_curve, "setData", lambda *a, **k: calls.append(a))
    plots.update_curves()
    assert calls == []  # nothing new: nothing redrawn
    plots.add_epoch(_epoch(3))
    plots.update_curves()
    assert calls == []  # an epoch does not redraw the batch curve
    plots.add_batches([9], [1.0], BPE)
    plots.update_curves()
    assert len(calls) == 1


def test_the_timer_redraws_one_changed_plot_per_event_loop_pass(qtbot, plots, noisy):
    plots.add_batches([9], [1.0], BPE)
    plots.add_epoch(_epoch(3))
    plots._redraw_next()  # what the timer calls
    assert len(_xs(plots.batch_curve)) == 9
    assert list(_xs(plots.train_loss_curve)) == [1, 2]  # not yet: the next pass
    qtbot.waitUntil(lambda: list(_xs(plots.lr_curve)) == [1, 2, 3], timeout=WAIT_MS)
    assert list(_xs(plots.train_acc_curve)) == [1, 2, 3]

    plots.add_norms(10, ["1 Conv2d"], [0.5], [2.0])
    plots._redraw_next()
    assert list(_xs(plots.norms.curves[0])) == [10 / BPE]
    plots.add_norms(20, ["1 Conv2d"], [0.5], [2.0])
    plots._redraw_next()  # norms were drawn just now: they wait (NORMS_REDRAW_S)
    assert list(_xs(plots.norms.curves[0])) == [10 / BPE]
    plots.stop()  # draws everything that is left
    assert list(_xs(plots.norms.curves[0])) == [10 / BPE, 20 / BPE]


def test_live_ranges_move_in_steps_and_leave_a_users_zoom_alone(qtbot, plots):
    vb = plots.batch_plot.vb
    plots.start()  # a run goes: its data grow
    plots.add_batches(list(range(1, 101)), [1.0 + (i % 7) / 10 for i in range(100)], 10)
    plots.update_curves()
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= 0.1 and 10 < x1 <= 13  # 10 epochs, and some room to grow
    assert y0 <= 1.0 and 1.6 <= y1 < 2.0
    plots.add_batches([101, 102], [1.1, 1.2], 10)
    plots.update_curves()
    assert vb.viewRange() == [[x0, x1], [y0, y1]]  # the axes need not be rebuilt
    plots.add_batches(list(range(103, 200)), [1.0] * 97, 10)
    plots.update_curves()
    assert vb.viewRange()[0][1] >= 19.9  # outgrown: a new range

    vb.sigRangeChangedManually.emit([True, True])  # the user zoomed or panned
    vb.setXRange(2, 4, padding=0)
    plots.add_batches(list(range(200, 400)), [1.0] * 200, 10)
    plots.update_curves()
    assert vb.viewRange()[0] == [2, 4]
    vb.enableAutoRange()  # the plot's auto-range button: follow the data again
    plots.add_batches([400], [1.0], 10)
    plots.update_curves()
    assert vb.viewRange()[0][1] >= 40

    plots.stop()  # no more data: a tight fit
    assert all(vb.autoRangeEnabled())


def test_100k_batches_are_downsampled_and_clipped_to_the_view(qtbot, plots):
    n, per_epoch = 100_000, 1000
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1)
    for i in range(0, n, 5000):  # in chunks, as a run sends them
        plots.add_batches(steps[i:i + 5000], rng.random(5000), per_epoch)
    _draw(qtbot, plots, (plots.batch_plot, 100.0, 0.5))
    assert plots.point_counts()["batches"] == n
    for curve in (plots.batch_curve, plots.batch_smooth_curve):
        assert curve.opts["autoDownsample"] and curve.opts["clipToView"]
    assert plots.batch_curve.opts["downsampleMethod"] == "peak"
    width = plots.batch_plot.vb.width()
    shown, _ = plots.batch_curve.getData()
    assert 0 < len(shown) <= 4 * width  # about one min/max pair per pixel column, not 100k

    plots.batch_plot.setXRange(10, 20, padding=0)  # zoom in: epochs 10..20
    shown, _ = plots.batch_curve.getData()
    assert shown.min() >= 9.9 and shown.max() <= 20.1
    assert len(shown) <= 4 * width

