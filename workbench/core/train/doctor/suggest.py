"""A learning rate for a run that diverged, from the LR finder when it can run.

The diverged finding proposes a rate at once (the optimizer's default, or a tenth of the
rate that diverged: :func:`~.checks.lower_lr`), and a way forward
(:func:`~.checks.diverged_fix`: from the last good checkpoint, or from the start when no
epoch was kept). ``workbench train`` then asks the LR
finder (:func:`~workbench.core.train.lr_find.find_lr`), the same sweep as ``workbench
lr-find``, and adopts its suggestion in the finding (run.json's too) when the sweep is
affordable: it is abandoned as soon as it would take longer than :data:`BUDGET_S`. The
suggestion is the sweep's own (:func:`~workbench.core.train.lr_find.suggest`): at most a
tenth of the rate where its loss was lowest, which is cautious enough after a divergence.

Two things keep it from proposing a rate that cannot help. When the diverged finding names
the network itself as the cause (a constant initialisation: its fix is not a rate), no
sweep is run: a sweep of a broken network measures the breakage. And a suggestion outside
the rates the optimizer trains at (:func:`~workbench.core.train.optim_advice.lr_bounds`,
where the app's own optimizer advice calls a rate very low or very high) is not adopted:
the sweep is then not trustworthy for this network, and the finding keeps its fix.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

from workbench.core.experiment import Experiment
from workbench.core.train.doctor.checks import diverged_fix
from workbench.core.train.optim_advice import fmt, lr_bounds

#: Seconds the sweep may take; projected from its first steps (the setup before them left
#: out), and given up beyond.
BUDGET_S = 60.0
#: Steps of the sweep (``workbench lr-find``'s default).
SWEEP_STEPS = 100
_JUDGE_AFTER = 3  # steps timed before the sweep's whole length is projected


def lr_after_divergence(experiment: Experiment, findings: list[dict[str, Any]],
                        run_dir: str | Path | None = None, index: Any = None,
                        budget_s: float = BUDGET_S,
                        stop_event: threading.Event | None = None,
                        finder: str = "workbench lr-find") -> tuple[float | None, str]:
    """Run the LR finder on ``experiment`` and put its suggestion in the ``diverged`` entry
    of ``findings`` (a run's, edited in place, and run.json's in ``run_dir``).

    Returns ``(suggested rate or None, a sentence for a person)``; never raises for what
    the sweep finds (a bad experiment is the run's own error, reported already). Setting
    ``stop_event`` (the app's, when a new run starts or the window closes) ends the sweep
    at its next batch, and then nothing is changed. ``finder`` names the LR finder as the
    front end offers it, for the messages that send the user there.
    """
    from workbench.core.errors import WorkbenchError
    from workbench.core.registry import Component
    from workbench.core.train.lr_find import find_lr
    from workbench.core.train.optim import optimizer_lr

    diverged = [f for f in findings if f.get("kind") == "diverged"]
    if diverged and not _sets_rate(diverged[-1]):
        return None, ("the network itself is the cause of the divergence, not the learning "
                      "rate: fix it first (the Doctor's finding says how); a learning-rate "
                      "sweep of this network would measure what is wrong with it")

    stop = stop_event or threading.Event()
    first: list[tuple[int, float]] = []  # (step, time) of the first step reported
    too_long = []

    def progress(step: int, num_steps: int, lr: float, smoothed: float) -> None:
        # Timed from the first step on: building the network and the data before it is
        # not a cost of each step (on a tiny dataset it is most of the time).
        now = time.perf_counter()
        if not first:
            first.append((step, now))
            return
        timed = step - first[0][0]
        projected = (now - first[0][1]) / timed * num_steps if timed > 0 else 0.0
        if timed >= _JUDGE_AFTER and projected > budget_s:
            too_long.append(projected)
            stop.set()

    try:
        result = find_lr(experiment, num_steps=SWEEP_STEPS, progress=progress,
                         stop_event=stop, index=index)
    except WorkbenchError as e:
        return None, f"the LR finder could not run ({e}): try it yourself ({finder})"
    if too_long:
        # Never "about 60 s" after "at most 60 s": a projection of 60.4 s reads as 61. (The
        # app's train.after_divergence reads this sentence: change both together.)
        seconds = max(round(too_long[0]), math.floor(budget_s) + 1)
        return None, (f"the LR finder would take about {seconds} s here, so it was "
                      f"not run: find a rate with it yourself ({finder})")
    if stop.is_set():
        return None, "the LR finder was stopped"
    if result.suggested_lr is None:
        return None, f"the LR finder has no suggestion: {result.reason}"
    lr = float(f"{result.suggested_lr:.2g}")
    name = str(experiment.optimizer.type)
    default = optimizer_lr(Component(name, {}))
    low, high = lr_bounds(name, default)
    if not low <= lr <= high:
        where = f"below the {fmt(low)}" if lr < low else f"above the {fmt(high)}"
        return None, (f"the LR finder's rate, {fmt(lr)}, is {where} that {name} trains at, so "
                      f"its sweep is not trustworthy for this network as it is: check the "
                      f"Model doctor on the Model tab, and start again at {name}'s usual rate, "
                      f"{fmt(default)}")
    for f in findings:
        if f.get("kind") == "diverged":
            # The same way forward as the doctor's first proposal: from the last good
            # checkpoint when it offered to continue (the epoch before the one that diverged
            # was kept, and is sound), else from the start.
            goes_on = bool((f.get("action") or {}).get("continue"))
            f["fix"], f["action"] = diverged_fix(
                lr, max(0, int(f.get("epoch") or 1) - 1) if goes_on else 0, run_dir,
                "the LR finder's rate for this network and data")
    if run_dir is not None and (Path(run_dir) / "run.json").is_file():
        from workbench.core.runs.store import update_run_info

        try:
            update_run_info(run_dir, findings=findings)
        except OSError:
            pass  # the suggestion is still printed; run.json keeps the first proposal
    return lr, f"the LR finder suggests a learning rate of {fmt(lr)} (--lr {fmt(lr)})"


def _sets_rate(finding: dict[str, Any]) -> bool:
    """Whether ``finding``'s fix is a learning rate (not the network's own fix)."""
    act = finding.get("action")
    return not isinstance(act, dict) or "optimizer.params.lr" in (act.get("set") or {})
