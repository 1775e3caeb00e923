"""The learning-rate finder dialog: a sweep off the GUI thread, its plot, picking and adopting
a rate, stopping, closing mid-sweep, and errors shown in the dialog."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from helpers import make_image_folder
from workbench.qt.panels.train.lr_finder import LRFinderDialog

SWEEP_TIMEOUT_MS = 60000


@pytest.fixture
def dialog(qtbot, tiny_experiment):
    d = LRFinderDialog(tiny_experiment)
    qtbot.addWidget(d)
    d.steps_spin.setValue(20)
    yield d
    d.shutdown()


def _sweep(qtbot, dialog):
    with qtbot.waitSignal(dialog.sweep_finished, timeout=SWEEP_TIMEOUT_MS) as blocker:
        dialog.start_button.click()
    return blocker.args[0]


def _long_sweep_started(qtbot, dialog):
    """Start a sweep that would take long (many steps, rates too low to diverge) and
    wait until it has measured a few points."""
    dialog.steps_spin.setValue(5000)
    dialog.end_spin.setValue(1e-4)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() >= 3, timeout=SWEEP_TIMEOUT_MS)


def test_sweep_plots_every_point_and_marks_the_suggestion(qtbot, dialog, tiny_experiment):
    before = tiny_experiment.to_dict()
    assert dialog.start_spin.value() == pytest.approx(1e-7)  # the defaults
    assert dialog.end_spin.value() == pytest.approx(10.0)
    assert not dialog.use_button.isEnabled()
    result = _sweep(qtbot, dialog)
    assert 5 <= len(result.lrs) <= 20
    xs, ys = dialog.plot.raw_curve.getData()
    assert len(xs) == len(result.lrs)
    assert list(ys) == pytest.approx(result.losses)
    sx, sy = dialog.plot.smooth_curve.getData()
    assert list(sy) == pytest.approx(result.smoothed)
    assert result.suggested_lr is not None  # the colour set learns: the loss falls
    assert dialog.plot.marker.isVisible()
    assert dialog.plot.marker_lr() == pytest.approx(result.suggested_lr, rel=1e-9)
    assert f"{result.suggested_lr:.3g}" in dialog.plot.marker.label.toPlainText()
    assert result.reason[1:] in dialog.reason_label.text()
    assert dialog.use_button.isEnabled() and dialog.start_button.isEnabled()
    assert tiny_experiment.to_dict() == before  # a sweep changes nothing


def test_use_this_value_sets_the_experiment_lr(qtbot, dialog, tiny_experiment):
    result = _sweep(qtbot, dialog)
    with qtbot.waitSignal(dialog.lr_chosen, timeout=1000) as blocker:
        dialog.use_button.click()
    lr = blocker.args[0]
    assert lr == pytest.approx(result.suggested_lr, rel=5e-3)  # 3 significant digits
    assert tiny_experiment.optimizer.params["lr"] == lr
    assert dialog.result() == LRFinderDialog.DialogCode.Accepted


def test_clicking_on_the_curve_picks_another_rate(qtbot, dialog, tiny_experiment):
    dialog.show()
    qtbot.waitExposed(dialog)
    result = _sweep(qtbot, dialog)
    target = result.lrs[2]
    assert target != result.suggested_lr
    vb = dialog.plot.getPlotItem().getViewBox()
    y = sum(vb.viewRange()[1]) / 2
    scene = vb.mapViewToScene(QPointF(math.log10(target), y))
    where = dialog.plot.mapFromScene(scene)
    with qtbot.waitSignal(dialog.plot.lr_picked, timeout=1000):
        QTest.mouseClick(dialog.plot.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert dialog.chosen_lr == target
    assert dialog.plot.marker_lr() == pytest.approx(target, rel=1e-9)  # the line moved
    assert "picked on the curve" in dialog.chosen_label.text()
    with qtbot.waitSignal(dialog.lr_chosen, timeout=1000) as blocker:
        dialog.use_button.click()
    assert blocker.args[0] == pytest.approx(target, rel=5e-3)
    assert tiny_experiment.optimizer.params["lr"] == blocker.args[0]


def test_stop_mid_sweep_shows_the_partial_curve(qtbot, dialog):
    _long_sweep_started(qtbot, dialog)
    assert dialog.is_running() and not dialog.start_button.isEnabled()
    with qtbot.waitSignal(dialog.sweep_finished, timeout=SWEEP_TIMEOUT_MS) as blocker:
        dialog.stop_button.click()
    result = blocker.args[0]
    assert result.stopped_early and 3 <= len(result.lrs) < 5000
    assert len(dialog.plot.raw_curve.getData()[0]) == len(result.lrs)
    assert "stopped" in dialog.reason_label.text()
    assert not dialog.is_running() and dialog.start_button.isEnabled()


@pytest.mark.parametrize("shown", [True, False])
def test_closing_mid_sweep_stops_it_and_waits(qtbot, dialog, shown):
    if shown:
        dialog.show()
        qtbot.waitExposed(dialog)
    _long_sweep_started(qtbot, dialog)
    with qtbot.assertNotEmitted(dialog.sweep_finished, wait=300):
        dialog.close()
    assert not dialog.is_running()
    assert dialog._done.is_set()  # the sweep's thread has left the core
    assert not dialog.isVisible()


def test_one_class_folder_shows_the_error_in_the_dialog(qtbot, tmp_path, dialog,
                                                        tiny_experiment):
    tiny_experiment.data.folder = make_image_folder(tmp_path / "one", classes=("red",),
                                                    per_class=4, size=16)
    with qtbot.waitSignal(dialog.sweep_errored, timeout=SWEEP_TIMEOUT_MS) as blocker:
        dialog.start_button.click()
    assert "single class" in blocker.args[0]
    assert dialog.reason_label.text() == blocker.args[0]
    assert dialog.last_result is None
    assert dialog.reason_label.level == "error"
    assert dialog.start_button.isEnabled() and not dialog.use_button.isEnabled()


def test_bad_sweep_settings_are_explained(qtbot, dialog):
    dialog.start_spin.setValue(0.1)
    dialog.end_spin.setValue(0.01)
    with qtbot.waitSignal(dialog.sweep_errored, timeout=SWEEP_TIMEOUT_MS) as blocker:
        dialog.start_button.click()
    assert "end_lr" in blocker.args[0] and "larger than start_lr" in blocker.args[0]


def test_the_lr_curve_and_calibration_legends_are_above_their_plots(qtbot):
    """A legend inside the LR finder's plot sat where the loss climbs at large rates."""
    import pyqtgraph as pg

    from workbench.qt.panels.evaluate.views import CalibrationPlot
    from workbench.qt.panels.train.lr_finder_plot import LRCurvePlot

    for plot, names in ((LRCurvePlot(), ("batch loss", "smoothed")),
                        (CalibrationPlot(), ("correct", "wrong"))):
        qtbot.addWidget(plot)
        assert not any(isinstance(i, pg.LegendItem) for i in plot.scene().items())
        assert all(name in plot.header.text() for name in names)


def test_the_calibration_legend_shows_the_bars_colours(qtbot):
    """Its swatches were black lines (the bars' outline pen) beside green and red bars."""
    from PySide6.QtGui import QColor

    from workbench.qt.panels.evaluate.views import CORRECT_COLOUR, WRONG_COLOUR, CalibrationPlot

    plot = CalibrationPlot()
    qtbot.addWidget(plot)
    text = plot.header.text()
    for name, colour in (("correct", CORRECT_COLOUR), ("wrong", WRONG_COLOUR)):
        swatch = f"<span style='color:{QColor(*colour).name()}'>■</span>&nbsp;{name}"
        assert swatch in text, (name, text)
    assert "━" not in text and QColor("black").name() not in text
