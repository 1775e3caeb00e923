"""The learning-rate finder's plot before a sweep (the rates it will sweep, no made-up loss
axis) and its advice when no rate is suggested: fitted to the sweep's Start lr, without
command-line syntax in the app."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from workbench.qt.panels.train.lr_finder import LRFinderDialog
from workbench.qt.panels.train.lr_finder_plot import NO_SWEEP
from workbench.qt.panels.train.lr_finder_text import sweep_message

#: What the core says when the loss never fell (for the app and the command line alike).
NEVER_FELL = ("the sweep ran all 100 steps; the loss never fell during the sweep, so no rate "
              "is suggested: the network or the data may be at fault (see the Model doctor), "
              "or the sweep started too high (a lower Start lr in the app, workbench lr-find "
              "--start)")
CLI_WORDS = ("workbench", "lr-find", "--start", "--steps")


@pytest.fixture
def dialog(qtbot, tiny_experiment):
    d = LRFinderDialog(tiny_experiment)
    qtbot.addWidget(d)
    yield d
    d.shutdown()


def _result(n=100, suggested=None, reason=NEVER_FELL, diverged_lr=None, stopped=False):
    return SimpleNamespace(lrs=[1e-7] * n, losses=[1.0] * n, smoothed=[1.0] * n,
                           suggested_lr=suggested, reason=reason, diverged_lr=diverged_lr,
                           stopped_early=stopped)


def test_a_flat_sweep_from_the_smallest_rates_does_not_advise_a_lower_start():
    """With Start lr at 1e-07 the dialog advised "a lower Start lr in the app, workbench
    lr-find --start": the loss barely moves there, and the command line is not the app."""
    text = sweep_message(_result(), 1e-7, 1e-10)
    assert not any(word in text for word in CLI_WORDS)
    assert "lower Start lr would not help" in text and "1e-07" in text
    assert "Model doctor" in text
    assert text.startswith("The sweep ran all 100 steps; ") and text.endswith(".")
    # At the box's lowest value too.
    assert "would not help" in sweep_message(_result(), 1e-10, 1e-10)


def test_a_flat_sweep_from_a_high_start_advises_lowering_it():
    text = sweep_message(_result(), 1e-3, 1e-10)
    assert "Lower Start lr (now 0.001)" in text
    assert not any(word in text for word in CLI_WORDS)


def test_too_few_points_is_advised_by_how_the_sweep_ended():
    too_few = ("the loss diverged at lr 3 (smoothed loss above 4x its best), ending the "
               "sweep; too few points (3) for a suggestion: sweep more steps, or start at a "
               "lower rate (the sweep's Steps and Start lr in the app, --steps and --start "
               "of workbench lr-find)")
    diverged = sweep_message(_result(3, reason=too_few, diverged_lr=3.0), 1e-3, 1e-10)
    assert "lower Start lr (now 0.001) or raise Steps" in diverged
    assert diverged.startswith("The loss diverged at lr 3")
    lowest = sweep_message(_result(3, reason=too_few, diverged_lr=3.0), 1e-10, 1e-10)
    assert "raise Steps" in lowest and "lower Start lr" not in lowest
    stopped = sweep_message(_result(3, reason="the sweep was stopped after 3 steps; x",
                                    stopped=True), 1e-7, 1e-10)
    assert "more Steps and let it run to the end" in stopped
    for text in (diverged, lowest, stopped):
        assert not any(word in text for word in CLI_WORDS)


def test_a_suggestion_keeps_the_cores_account():
    reason = "the sweep ran all 100 steps; suggested 0.001, where the loss falls fastest"
    assert sweep_message(_result(suggested=1e-3, reason=reason), 1e-7) == reason[0].upper() \
        + reason[1:] + "."


def test_the_dialog_shows_the_advice_for_its_start_lr(qtbot, dialog):
    dialog._job = 7  # as if a sweep were running
    dialog.start_spin.setValue(1e-7)
    dialog._on_finished(7, _result())
    text = dialog.reason_label.text()
    assert "would not help" in text and not any(word in text for word in CLI_WORDS)


def test_before_a_sweep_the_plot_spans_its_rates_and_says_there_is_no_curve(qtbot, dialog):
    """It showed a bare "2 3 … 9" axis (one decade of nothing) and a loss axis of 0 to 1."""
    plot = dialog.plot
    assert plot.note.label.isVisible() and plot.note.text == NO_SWEEP
    left, bottom = plot.getPlotItem().getAxis("left"), plot.getPlotItem().getAxis("bottom")
    assert not left.style["showValues"] and bottom.style["showValues"]
    (x0, x1), _ = plot.getPlotItem().vb.viewRange()
    assert x0 <= math.log10(1e-7) < math.log10(10.0) <= x1 and x1 - x0 < 9
    dialog.start_spin.setValue(1e-5)
    (x0, _), _ = plot.getPlotItem().vb.viewRange()
    assert math.log10(1e-6) < x0 <= math.log10(1e-5)
    labels = [s for _, values in bottom.tickValues(x0, x1, 600)
              for s in bottom.tickStrings(values, 1.0, 1.0)]
    assert "10⁻⁴" in labels and "0.0001" not in labels  # one style: powers of ten
    plot.show_sweep([1e-5, 1e-4, 1e-3], [1.0, 0.8, 0.9], [1.0, 0.9, 0.9])
    assert not plot.note.label.isVisible() and left.style["showValues"]
    plot.clear_curves()
    assert plot.note.text == NO_SWEEP
