"""Findings that stop being true as the run goes on, withdrawn: a run at chance for its
first epochs (``not_learning``) may still learn, slowly (a strongly imbalanced set: 41%
against the 38% of always answering the big class at epoch 3, 57% at epoch 8), and a
finding that says "the network has learned nothing yet" must not stand in run.json and on
the Doctor tab after that. Nor must "overfitting: the best validation loss was at epoch
11" once the validation loss has reached a new best (at epoch 19, as the plots beside it
say): a small validation split's loss may rise for a few epochs and fall lower still.

:func:`withdraw` marks such a finding, said at the current settings, with ``resolved``: why
it no longer holds (a sentence, kept in run.json beside the message). The training doctor
(:class:`~workbench.core.train.callbacks.doctor.TrainingDoctor`) asks after every epoch and
tells every callback again (``on_finding`` with the same kind, epoch and message, now
``resolved``): ``workbench train`` prints a ``withdrawn`` line, the app greys the finding.
A withdrawn overfitting finding no longer counts as said (:data:`SAID_AGAIN`): its check
may find it again later in the run, when the validation loss rises again after its new
best. (A run that learned after all and then falls back to chance has not "learned nothing
yet": that is not said again.)
"""

from __future__ import annotations

from typing import Any, Callable

from workbench.core.train.doctor.view import CHANCE_MARGIN, RunView, pct

#: Epochs in a row the accuracy must be clear of chance before "not learning" is
#: withdrawn: one good epoch may be noise on a small validation split.
RESOLVED_EPOCHS = 2


def _learning(v: RunView, _finding: dict[str, Any]) -> str:
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


#: A new best withdraws ``overfitting`` only when it is this share below the best the
#: finding named: measured on 40 epochs of digits, a 1.2% new best withdrew it at epoch 24
#: and the next rise said it again at 26, a finding that came and went.
NEW_BEST_MARGIN = 0.05


def _new_best(v: RunView, finding: dict[str, Any]) -> str:
    """Why ``overfitting`` no longer holds ("" while it does): the validation loss has
    gone clearly (:data:`NEW_BEST_MARGIN`) below the best it had when the finding was said
    (the epoch the finding names)."""
    said = int(finding.get("epoch") or 0)
    losses = [(int(m["epoch"]), float(m["val_loss"])) for m in v.recent
              if m.get("val_loss") is not None]
    before = [x for x in losses if x[0] <= said]
    if not before:
        return ""
    named = min(before, key=lambda x: x[1])
    better = next((x for x in losses
                   if x[0] > said and x[1] < named[1] * (1 - NEW_BEST_MARGIN)), None)
    if better is None:
        return ""
    digits = next((d for d in range(3, 7) if f"{better[1]:.{d}f}" != f"{named[1]:.{d}f}"), 7)
    return (f"the validation loss reached a new best at epoch {better[0]} "
            f"({better[1]:.{digits}f}, below the {named[1]:.{digits}f} of epoch {named[0]} it "
            f"named)")


#: For each kind of finding that can stop being true, why it no longer holds ("": it
#: does), from the run so far and the finding as it was said.
WITHDRAWN: dict[str, Callable[[RunView, dict[str, Any]], str]] = {
    "not_learning": _learning, "overfitting": _new_best}


#: Kinds whose check may say them again once withdrawn (the run may do it again later).
SAID_AGAIN = frozenset({"overfitting"})


def withdraw(v: RunView, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark each of ``findings`` (those said at the current settings) that no longer holds
    with ``resolved`` (in place); returns those marked now."""
    marked = []
    for f in findings:
        test = WITHDRAWN.get(str(f.get("kind")))
        if test is None or f.get("resolved"):
            continue
        why = test(v, f)
        if why:
            f["resolved"] = why
            marked.append(f)
    return marked
