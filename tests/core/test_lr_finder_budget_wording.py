"""After a divergence ``workbench train`` says "asking the LR finder for a rate (at most
60 s)..."; a sweep projected at 60.4 s is given up, and the next line must not say it
"would take about 60 s" (a learner reads that as a contradiction)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.core.experiment import Experiment
from workbench.core.train.doctor import suggest


@pytest.mark.parametrize("step_s, shown", [(0.604, "61"), (0.75, "75")])
def test_a_sweep_just_over_its_budget_is_said_to_take_more_than_it(monkeypatch, step_s, shown):
    clock = [0.0]
    monkeypatch.setattr(suggest, "time", SimpleNamespace(perf_counter=lambda: clock[0]))

    def find_lr(experiment, num_steps, progress, stop_event, index):
        for step in range(1, num_steps + 1):
            clock[0] += step_s
            progress(step, num_steps, 1e-3, 1.0)
            if stop_event.is_set():
                break
        return SimpleNamespace(suggested_lr=None, reason="stopped")

    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", find_lr)
    findings = [{"kind": "diverged", "epoch": 1, "fix": "use 0.001 (--lr 0.001)",
                 "action": None}]
    lr, text = suggest.lr_after_divergence(Experiment(), findings, budget_s=60.0)
    assert lr is None
    assert text == (f"the LR finder would take about {shown} s here, so it was not run: "
                    f"find a rate with it yourself (workbench lr-find)")
