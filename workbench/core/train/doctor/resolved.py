"""Findings that stop being true as the run goes on, withdrawn: a run at chance for its
first epochs (``not_learning``) may still learn, slowly (a strongly imbalanced set: 41%
against the 38% of always answering the big class at epoch 3, 57% at epoch 8), and a
finding that says "the network has learned nothing yet" must not stand in run.json and on
the Doctor tab after that.

:func:`withdraw` marks such a finding, said at the current settings, with ``resolved``: why
it no longer holds (a sentence, kept in run.json beside the message). The training doctor
(:class:`~workbench.core.train.callbacks.doctor.TrainingDoctor`) asks after every epoch and
tells every callback again (``on_finding`` with the same kind, epoch and message, now
``resolved``): ``workbench train`` prints a ``withdrawn`` line, the app greys the finding.
"""

from __future__ import annotations

from typing import Any, Callable

from workbench.core.train.doctor.view import CHANCE_MARGIN, RunView, pct

#: Epochs in a row the accuracy must be clear of chance before "not learning" is
#: withdrawn: one good epoch may be noise on a small validation split.
RESOLVED_EPOCHS = 2


def _learning(v: RunView) -> str:
    """Why ``not_learning`` no longer holds ("" while it does)."""
    if v.skipped is not None:
        return ""
    acc, on_val = v.accuracy()
    recent = acc[-RESOLVED_EPOCHS:]
    if len(recent) < RESOLVED_EPOCHS or min(recent) <= v.chance + CHANCE_MARGIN:
        return ""
    split = "validation" if on_val else "training"
    return (f"at epoch {v.epoch} the {split} accuracy is {pct(acc[-1])} ({pct(acc[-2])} the "
            f"epoch before), clear of the {pct(v.chance)} of always answering the most common "
            f"class: the network learns after all")


#: For each kind of finding that can stop being true, why it no longer holds ("": it does).
WITHDRAWN: dict[str, Callable[[RunView], str]] = {"not_learning": _learning}


def withdraw(v: RunView, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark each of ``findings`` (those said at the current settings) that no longer holds
    with ``resolved`` (in place); returns those marked now."""
    marked = []
    for f in findings:
        test = WITHDRAWN.get(str(f.get("kind")))
        if test is None or f.get("resolved"):
            continue
        why = test(v)
        if why:
            f["resolved"] = why
            marked.append(f)
    return marked
