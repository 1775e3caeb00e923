"""Findings that stop being true as the run goes on, withdrawn: a run at chance for its
first epochs (``not_learning``) may still learn, slowly (a strongly imbalanced set: 41%
against the 38% of always answering the big class at epoch 3, 57% at epoch 8), and a
finding that says "the network has learned nothing yet" must not stand in run.json and on
the Doctor tab after that. Nor must "overfitting: the best validation loss was at epoch
11" once the validation loss has reached a new best (at epoch 19, as the plots beside it
say): a small validation split's loss may rise for a few epochs and fall lower still. Nor
"the network ignores the small classes: it never predicted 'rare' or 'tiny'" once it
gets the 'rare' images right (learnt at epoch 6 of a strongly imbalanced run, the saved
model's epoch): the classes it still ignores are then said again, on their own; the same
for "the network never predicts 'cat'" of a balanced set. Nor
"underfitting: the network does not fit even the training images" once it gets 90% of them
right (a loss thrown up by a rate too high, that came down again).

:func:`withdraw` marks such a finding, said at the current settings, with ``resolved``: why
it no longer holds (a sentence, kept in run.json beside the message). The training doctor
(:class:`~workbench.core.train.callbacks.doctor.TrainingDoctor`) asks after every epoch and
tells every callback again (``on_finding`` with the same kind, epoch and message, now
``resolved``): ``workbench train`` prints a ``withdrawn`` line, the app greys the finding.
A withdrawn overfitting, class_imbalance or lr_too_high finding no longer counts as said
(:data:`SAID_AGAIN`): its check may find it again later in the run, when the validation
loss rises again after its new best, or for the small classes still ignored; a withdrawn
lr_too_high (a schedule brought the rate down and the run steadied) when the loss is
thrown up again. (A run
that learned after all and then falls back to chance has not "learned nothing yet": that
is not said again.)

"Clear of chance" is :data:`CHANCE_MARGIN` (points) above always answering the most common
class *and* :data:`RESOLVED_IMAGES` images above it, for :data:`RESOLVED_EPOCHS` epochs: on a
small validation split a few images are noise. A ``not_learning`` that blames a
label-changing augmentation (a flip of left/right arrows) is not withdrawn while that
augmentation is in the run's pipeline: no accuracy makes a flip that swaps the classes right.

A run continued with the setting a finding blamed changed (the one its fix sets, ``action``
``set``: ``workbench resume --lr 0.001``, the app's "Continue with lr 0.001") starts a new
segment (:mod:`.segments`), where the checks judge only the epochs since; the earlier
segment's finding is then withdrawn by :func:`withdraw_fixed`, once the run since meets its
kind's rule (:data:`CONTINUED`): ``resolved`` "fixed by continuing at lr 0.001: at epoch 6
the validation accuracy is 91% …", kept in run.json and told as above.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from workbench.core.train.doctor.checks import UNDERFIT_FITTED
from workbench.core.train.doctor.classes import (IMBALANCE_PREDICTED, SMALL_TRAINING_SET,
                                                 named_classes, quoted_names,
                                                 small_training_set)
from workbench.core.train.doctor.fixes import unsound
from workbench.core.train.doctor.rates import LR_LOW_DROP, thrown_up
# RESOLVED_IMAGES, the images above chance besides CHANCE_MARGIN, is the view's rule.
from workbench.core.train.doctor.view import (CHANCE_MARGIN, RESOLVED_IMAGES,  # noqa: F401
                                              RunView, pct)
from workbench.core.train.optim_advice import fmt

#: Epochs in a row the accuracy must be clear of chance before "not learning" is
#: withdrawn: one good epoch may be noise on a small validation split.
RESOLVED_EPOCHS = 2


def _learns(v: RunView, finding: dict[str, Any]) -> str:
    """The accuracy that shows the run learns, in words ("" while it does not): clear of
    chance (:meth:`~.view.RunView.clear`) in each of the last :data:`RESOLVED_EPOCHS` epochs, and no
    label-changing augmentation that ``finding`` blames still in the pipeline."""
    change = v.label_change
    if v.skipped is not None or (change is not None
                                 and change.why in str(finding.get("message") or "")):
        return ""
    acc, on_val = v.accuracy()
    recent = acc[-RESOLVED_EPOCHS:]
    if len(recent) < RESOLVED_EPOCHS or not v.clear(min(recent), on_val):
        return ""
    split = "validation" if on_val else "training"
    now, before = _pair(acc[-1], acc[-2])
    return (f"at epoch {v.epoch} the {split} accuracy is {now} ({before} the epoch before), "
            f"clear of the {pct(v.chance)} of always answering the most common class")


def _pair(a: float, b: float) -> tuple[str, str]:
    """Accuracies ``a`` and ``b`` in whole percents (:func:`~.view.pct`), or with one
    decimal where whole ones misstate the step between them by a point or more (30.5% and
    31.5% would read "30%" and "32%", a drop twice the real one)."""
    x, y = pct(a), pct(b)
    if abs((float(x[:-1]) - float(y[:-1])) - 100 * (a - b)) < 1 - 1e-9:
        return x, y
    return f"{100 * a:.1f}%", f"{100 * b:.1f}%"


def _learning(v: RunView, finding: dict[str, Any]) -> str:
    """Why ``not_learning`` no longer holds ("" while it does). One that named the small
    training set still names it while the set is small (:func:`~.classes.
    small_training_set`): a network a few points over chance on 6 images a class learns
    little, and more images remain the fix."""
    why = _learns(v, finding)
    if not why:
        return ""
    if "small training set" in str(finding.get("message") or "") and \
            small_training_set(v) is not None:
        return (f"{why}: the network learns after all, but the training set is still small "
                f"(under {SMALL_TRAINING_SET} images a class): more training images are what "
                f"helps most")
    return f"{why}: the network learns after all"


def _moving(v: RunView, _finding: dict[str, Any]) -> str:
    """Why ``lr_too_low`` (or ``lr_too_high``) no longer holds at a changed rate ("" while
    it does): the training loss is clearly (``LR_LOW_DROP``) below where the settings
    changed in each of the last :data:`RESOLVED_EPOCHS` epochs."""
    losses, start = v.series("train_loss")[-RESOLVED_EPOCHS:], v.start_loss
    if start is None or len(losses) < RESOLVED_EPOCHS or \
            max(losses) >= start * (1 - LR_LOW_DROP):
        return ""
    return (f"at epoch {v.epoch} the training loss is {losses[-1]:.3f}, down from "
            f"{start:.3f} before the change")


def _fitting(v: RunView, _finding: dict[str, Any]) -> str:
    """Why ``underfitting`` no longer holds ("" while it does): the last epoch's training or
    validation accuracy is :data:`~.checks.UNDERFIT_FITTED` or more, the bar above which
    it is not said."""
    for key, split in (("train_acc", "training"), ("val_acc", "validation")):
        acc = v.series(key)
        if acc and acc[-1] >= UNDERFIT_FITTED:
            return (f"at epoch {v.epoch} the {split} accuracy is {pct(acc[-1])}: the "
                    f"network fits the images after all")
    return ""


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


#: A class ``class_imbalance`` named as ignored is answered once the network gets at least
#: this share of its validation images right, in the last epoch (the one the saved model
#: usually holds): measured, the class of 20 images that a 320/80/20/5 run never predicted
#: for 5 epochs got all 5 of its validation images at epoch 6, its last. A stray answer or
#: two, right or wrong, is not that (an image of another class called 'tiny' is not 'tiny'
#: learnt), and the check says the finding again once the class is ignored for
#: IMBALANCE_EPOCHS epochs again.
ANSWERED_SHARE = 0.5


def right_at_least(v: RunView, i: int) -> int:
    """How many of class ``i``'s validation images the last epoch surely got right (0: none
    sure, or not known). The run keeps how often each class was predicted, not which
    answers were right: the epoch's right answers (its accuracy), less the most the other
    classes can have (each at most its predictions and its images), are class ``i``'s."""
    recent, val, acc = v.segment_predicted[-1:], v.val_counts, v.series("val_acc")[-1:]
    if not val or not recent or not acc or len(recent[-1]) != len(val):
        return 0
    now = recent[-1]
    right = round(acc[-1] * sum(now))  # the images judged: those its predictions count
    others = sum(min(p, n) for j, (p, n) in enumerate(zip(now, val)) if j != i)
    return max(0, min(right - others, now[i], val[i]))


def _answered(v: RunView, finding: dict[str, Any]) -> str:
    """Why ``class_imbalance`` no longer holds ("" while it does): in the last epoch the
    network gets at least :data:`ANSWERED_SHARE` of the validation images of a class it
    named as ignored right (:func:`right_at_least`). The classes it still ignores are
    named: its check says them again, on their own."""
    recent, val = v.segment_predicted[-1:], v.val_counts
    if not val or not recent or len(recent[-1]) != len(val):
        return ""
    now = recent[-1]
    named = named_classes(v, str(finding.get("message") or ""))
    right = {i: right_at_least(v, i) for i in named if val[i] > 0}
    answered = [i for i, r in right.items() if r and r >= ANSWERED_SHARE * val[i]]
    if not answered:
        return ""
    rest = [i for i in named if i not in answered and now[i] <= IMBALANCE_PREDICTED * val[i]]
    return _answers(v, answered, right, rest)


def _answers(v: RunView, answered: list[int], right: dict[int, int], rest: list[int]) -> str:
    """In words: the network answers the classes ``answered`` now (``right``: how many of
    each it surely got right) and still ignores ``rest``."""
    now, val = v.segment_predicted[-1], v.val_counts

    def said(i: int) -> str:
        name, p, r = v.classes[i], now[i], right[i]
        sure = "it is right" if p == 1 else \
            "all of them right" if r == p else f"at least {r} of them right"
        return (f"{name!r} for {p} validation image{'s' * (p != 1)}, {sure} "
                f"({val[i]} {'is' if val[i] == 1 else 'are'} {name!r})")

    still = f"; it still ignores {quoted_names(v, rest)}" if rest else ""
    return (f"at epoch {v.epoch} the network answers {' and '.join(map(said, answered))}: "
            f"it no longer ignores {quoted_names(v, answered, 'or')}{still}")


def _predicted(v: RunView, finding: dict[str, Any]) -> str:
    """Why ``class_never_predicted`` no longer holds ("" while it does): in the last epoch
    the network gets at least :data:`ANSWERED_SHARE` of the validation images of a class
    the finding named right, as :func:`_answered` for ``class_imbalance``; the classes it
    still never predicts are named, and its check says them again."""
    recent, val = v.segment_predicted[-1:], v.val_counts
    if not val or not recent or len(recent[-1]) != len(val):
        return ""
    now, message = recent[-1], str(finding.get("message") or "")
    named = [i for i, n in enumerate(val) if n > 0 and repr(v.classes[i]) in message]
    right = {i: right_at_least(v, i) for i in named}
    answered = [i for i, r in right.items() if r and r >= ANSWERED_SHARE * val[i]]
    if not answered:
        return ""
    return _answers(v, answered, right, [i for i in named if i not in answered and now[i] == 0])


def _steadied(v: RunView, finding: dict[str, Any]) -> str:
    """Why ``lr_too_high`` no longer holds at the same settings ("" while it does): in each
    of the last :data:`RESOLVED_EPOCHS` epochs since it was said, the training loss and
    accuracy are back where :func:`~.rates.lr_too_high` would not call them thrown up,
    against the best epoch before it was said (a OneCycleLR or step schedule lowered the
    rate, or the run found its feet)."""
    said = int(finding.get("epoch") or 0)
    epochs = [m for m in v.recent if isinstance(m.get("train_loss"), (int, float))
              and isinstance(m.get("train_acc"), (int, float))]
    before = [m for m in epochs if int(m["epoch"]) < said]
    after = [m for m in epochs if int(m["epoch"]) > said][-RESOLVED_EPOCHS:]
    if not before or len(after) < RESOLVED_EPOCHS:
        return ""
    best = min(before, key=lambda m: float(m["train_loss"]))
    low, then = float(best["train_loss"]), float(best["train_acc"])
    if any(any(thrown_up(float(m["train_loss"]), float(m["train_acc"]), low, then,
                         v.guess_loss)) for m in after):
        return ""
    last = after[-1]
    return (f"at epoch {last['epoch']} the training loss is {float(last['train_loss']):.3f} "
            f"and the training accuracy {pct(float(last['train_acc']))}, as before the jump "
            f"({low:.3f} and {pct(then)} at epoch {best['epoch']}): the run is steady again")


#: For each kind of finding that can stop being true, why it no longer holds ("": it
#: does), from the run so far and the finding as it was said.
WITHDRAWN: dict[str, Callable[[RunView, dict[str, Any]], str]] = {
    "not_learning": _learning, "overfitting": _new_best, "class_imbalance": _answered,
    "class_never_predicted": _predicted, "underfitting": _fitting, "lr_too_high": _steadied}


#: Kinds whose check may say them again once withdrawn (the run may do it again later;
#: class_imbalance and class_never_predicted say again the classes the network still
#: ignores, on their own; a rate that steadied may throw the loss up again).
SAID_AGAIN = frozenset({"overfitting", "class_imbalance", "class_never_predicted",
                        "lr_too_high"})


def _went_on(v: RunView, _finding: dict[str, Any]) -> str:
    """Why ``diverged`` no longer holds at a changed rate ("" while it does): the run since
    trained (a rate above 0, weights that moved: at lr 0 the kept epoch is the diverged
    one's weights again) and kept an epoch that is a sound place to go on from
    (:func:`~.fixes.unsound`; the trainer keeps none whose losses exploded)."""
    last = v.recent[-1] if v.recent else None
    if last is None or unsound(last, v.guess_loss, math.inf) or v.lr <= 0 or \
            (v.weight_change is not None and v.weight_change <= 0):
        return ""
    kept = f"epoch {last.get('epoch')} trained and was kept"
    loss = last.get("train_loss")
    if not isinstance(loss, (int, float)):
        return kept
    return (f"{kept}, at a training loss of {loss:.3f} (guessing every class equally: "
            f"{v.guess_loss:.2f})")


#: For each kind of finding an earlier segment said, why a continued segment that changed
#: the setting it blamed shows it fixed ("": it does not yet). A divergence counts as fixed
#: only once the run since kept a sound epoch: going on at the lower rate alone fixes
#: nothing (the app's "Continue with lr …" is shown as applied until then). A rate too high
#: for a stable run, as one too low, once the training loss falls clearly below where the
#: rate changed.
CONTINUED: dict[str, Callable[[RunView, dict[str, Any]], str]] = {
    "not_learning": _learns, "lr_too_low": _moving, "lr_too_high": _moving,
    "diverged": _went_on}


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


def continued_with(finding: dict[str, Any], then: dict[str, Any], now: dict[str, Any]) -> str:
    """How a run continued changed the settings ``finding``'s fix sets (its ``action``
    ``set``), in words ("at lr 0.001"), from ``then`` to ``now`` (each
    :func:`~.segments.learning_settings`); "" when it changed none of them."""
    action = finding.get("action") or {}
    sets = action.get("set") or {}
    paths = [p for p in sets if p in now and then.get(p) != now.get(p)]
    words: list[str] = []
    for p in paths:
        value = now[p]
        if p == "optimizer.params.lr" and isinstance(value, (int, float)):
            said = f"at lr {fmt(float(value))}"
        elif value == sets[p] and action.get("label"):  # its own fix: "Remove the flip"
            said = f"after “{action['label']}”"
        else:
            said = f"with {p} changed" if isinstance(value, (list, dict)) else \
                f"with {p} = {value}"
        words += [said] if said not in words else []
    return " and ".join(words)


def withdraw_fixed(v: RunView,
                   changed: list[tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
    """Mark each finding of ``changed`` (earlier segments' findings, each with how the run
    continued changed what it blamed: :func:`continued_with`) that the run at the current
    settings shows fixed (:data:`CONTINUED`) with ``resolved`` (in place): "fixed by
    continuing at lr 0.001: …"; returns those marked now."""
    marked = []
    for f, what in changed:
        test = CONTINUED.get(str(f.get("kind")))
        if test is None or f.get("resolved"):
            continue
        why = test(v, f)
        if why:
            f["resolved"] = f"fixed by continuing {what}: {why}"
            marked.append(f)
    return marked
