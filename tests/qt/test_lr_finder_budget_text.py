"""The Train tab reads the core's "the LR finder would take about N s here" sentence: the
number the core shows (never the budget itself: "about 61 s" after "a minute at most")
still reaches the app's own line."""

from __future__ import annotations

from types import SimpleNamespace

from workbench.core.experiment import Experiment
from workbench.core.train.doctor import suggest
from workbench.qt.panels.train.after_divergence import _not_proposed


def test_a_sweep_just_over_a_minute_reads_as_more_than_the_minute(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(suggest, "time", SimpleNamespace(perf_counter=lambda: clock[0]))

    def find_lr(experiment, num_steps, progress, stop_event, index):
        for step in range(1, num_steps + 1):
            clock[0] += 0.604  # 60.4 s for the sweep
            progress(step, num_steps, 1e-3, 1.0)
            if stop_event.is_set():
                break
        return SimpleNamespace(suggested_lr=None, reason="stopped")

    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", find_lr)
    findings = [{"kind": "diverged", "epoch": 1, "fix": "", "action": None}]
    _, text = suggest.lr_after_divergence(Experiment(), findings, finder="the button")
    assert _not_proposed(text) == (
        "The learning-rate finder stopped: it would take about 61 s here, more than the "
        "minute it is given: find a rate with it yourself (the button).")
