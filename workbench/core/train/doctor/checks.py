"""The training doctor's checks: each a small function of a :class:`~.view.RunView` (what
the run has shown so far) returning a :class:`~.findings.RunFinding` or None; those on the
classes predicted are in :mod:`.classes`, those on the learning rate itself in :mod:`.rates`.

Every threshold is a named constant with the reason beside it. A check may be asked after
every epoch; the callback keeps the first finding of each kind and never asks that check
again while the run's settings stay the same
(:class:`~workbench.core.train.callbacks.doctor.TrainingDoctor`). The checks look at the end
of the history, so they need no state of their own and a resumed run is checked as an
uninterrupted one would be; one continued with other settings is judged on the epochs since
the change only (:attr:`~.view.RunView.since`). A cause in the network itself is named once,
by the first finding it explains (:meth:`~.view.RunView.said`): a zero init that silences
the ReLUs at epoch 1 is not said again when it leaves the run at chance at epoch 3.
"""

from __future__ import annotations

import math
from typing import Callable

from workbench.core.train.doctor.causes import grad_layer, layer_name, squashing, vanishing_fix
# The checks on the classes, and the view, are read from here too (CHECKS, the callback).
from workbench.core.train.doctor.classes import (NEVER_PREDICTED_EPOCHS,  # noqa: F401
                                                 class_imbalance, class_never_predicted,
                                                 ignored_classes, imbalance_cause,
                                                 imbalance_explains, small_training_set)
from workbench.core.train.doctor.findings import RunFinding, action
# The rate fixes live in .fixes; diverged_fix, lower_lr and proposed_lr are read from here.
from workbench.core.train.doctor.fixes import (_lr_fix, bounded, diverged_fix,  # noqa: F401
                                               lower_lr, proposed_lr, raised_lr)
# The checks on the rate itself, and their thresholds, live in .rates.
from workbench.core.train.doctor.rates import (LR_LOW_CHANGE, LR_LOW_DROP,  # noqa: F401
                                               lr_too_high, lr_too_low, silent_units_rate,
                                               usual_rate)
from workbench.core.train.doctor.view import (CHANCE_MARGIN, NOT_LEARNING_EPOCHS,  # noqa: F401
                                              RunView, pct)
from workbench.core.train.optim_advice import fmt

# -- thresholds ----------------------------------------------------------------------------
#: Training accuracy this far above the training batches' chance (always answering their
#: most common class; 1 in k on the weighted sampler's balanced batches:
#: :attr:`~.view.RunView.train_chance`) while validation stays at chance: the network
#: learns the training images by heart, not anything that carries over.
MEMORISING_MARGIN = 0.15
#: Epochs past the best validation loss, with it rising, before the run is called
#: overfitting: one or two worse epochs are noise.
OVERFIT_EPOCHS = 3
#: How far above its best the validation loss must be (relative): noise stays within a few %.
OVERFIT_RISE = 0.15
#: Or: training accuracy this much above validation accuracy, growing, and the validation
#: loss no better for OVERFIT_STALL epochs (on a small validation split the gap is noisy
#: while the validation loss still improves: measured, 40 points at epoch 5 of 40 on 20
#: images, with the best epoch yet to come).
OVERFIT_GAP = 0.25
OVERFIT_STALL = 2
#: Or, once the training set is fitted (training loss under OVERFIT_FIT of ln(classes)):
#: a validation loss OVERFIT_LOSS_RATIO times the training loss, at least OVERFIT_LOSS_GAP
#: above it, in each of the last OVERFIT_EPOCHS epochs, the gap wider than before them.
#: Measured: 60 real 8x8 digits for 40 epochs end at 0.03 against 0.18-0.23 (ratio 6-7,
#: still at 93% validation accuracy, the gap growing for 15 epochs); the healthy full digits
#: run ends at 0.03 against 0.10 (ratio 3, gap 0.07); on the demo, seed-cnn and cnn-bn have
#: single epochs that far apart (a validation spike), never three in a row.
OVERFIT_FIT = 0.1
OVERFIT_LOSS_RATIO = 4.0
OVERFIT_LOSS_GAP = 0.1
#: A validation loss within this share of its best is said to stay there, not to rise.
OVERFIT_FLAT = 0.05
#: Epochs before underfitting is judged, and the window whose losses must be flat.
UNDERFIT_EPOCHS = 5
UNDERFIT_WINDOW = 3
#: Flat: the training loss moved (either way) by less than this share over the window, and
#: no epoch in it was UNDERFIT_SWING above the lowest: a loss thrown from 0.25 back up to
#: 1.34 and 3.33 is a rate too high (lr_too_high), not a network too small.
UNDERFIT_FLAT = 0.03
UNDERFIT_SWING = 0.5
#: High: both losses at least this share of ln(classes), the loss of guessing (half of it
#: is still about 1 in 3 wrong on 10 classes).
UNDERFIT_HIGH = 0.5
#: A network that gets this share of the images right fits them, whatever its loss: a high,
#: flat loss then has another cause (a Softmax on the class scores floors it: loss_floor).
#: In any epoch of the window: one that fitted them and fell back is unstable, not too
#: small; and underfitting is withdrawn once the run gets there (:mod:`.resolved`).
UNDERFIT_FITTED = 0.9
#: A loss floor (a Softmax or a bounded activation on the class scores, which the model
#: doctor finds): the training loss within this share above the lowest it can reach
#: (:attr:`~.causes.Cause.floor`: 0.551 for 3 classes after a Softmax) and down by less
#: than UNDERFIT_FLAT in its last epoch. Floors under FLOOR_MIN do not matter (ReLU6 on 3
#: classes: 0.005).
FLOOR_NEAR = 0.1
FLOOR_MIN = 0.05
#: Silent ReLU units: a layer where this share never fires on 64 training samples (a
#: healthy layer: a few %; a dead one after too large a step: nearly all), and at least
#: this many units (a 4-unit layer is too small to judge).
DEAD_LAYER_SHARE = 0.9
DEAD_MIN_UNITS = 8
#: Or this share of all ReLU units in the network (a healthy seed-cnn on digits: 31%, with
#: 55% of its 128-unit hidden layer silent).
DEAD_SHARE = 0.75
#: Vanishing gradients: the first trainable layer's gradient, relative to its weights, is
#: below this share of the last layer's (a healthy network: within 1/30 to 30x), in
#: GRADIENT_SAMPLES samples in a row, while the loss is still above a tenth of guessing.
VANISHING_RATIO = 1e-4
#: Exploding gradients: the whole network's gradient norm above this (a healthy
#: cross-entropy network: 0.1 to 50) in GRADIENT_SAMPLES samples in a row.
EXPLODING_NORM = 1e3
GRADIENT_SAMPLES = 3


# -- the checks ----------------------------------------------------------------------------
def not_learning(v: RunView) -> RunFinding | None:
    if v.skipped is not None:  # nothing trained: said at once, whatever the accuracy
        c = v.skipped
        return RunFinding("not_learning", v.epoch, "warning",
                          f"The network cannot learn. {c.why}.", c.fix, c.action)
    acc, on_val = v.accuracy()
    if v.epochs_since < NOT_LEARNING_EPOCHS or len(acc) < NOT_LEARNING_EPOCHS:
        return None
    if not v.at_chance():
        return None
    split = "validation" if on_val else "training"
    what = (f"{v.after()} the {split} accuracy is {pct(acc[-1])}, no better "
            f"than always answering the most common class ({pct(v.chance)}): the network "
            f"has learned nothing yet.")
    train_acc = v.series("train_acc")
    losses = v.series("train_loss")
    fix, act = "", None
    if v.trainable == 0:
        why = "Every layer is frozen, so no weight can change"
        fix, act = "unfreeze the backbone (mode fine_tune) or add trainable layers after it", \
            action("Open the Model tab", open_="model")
    elif (cause := v.cause(stops=False)) is not None:
        if v.said(cause):
            return None  # a finding said it already, with its fix
        why, fix, act = f"{cause.lead}: {cause.why}", cause.fix, cause.action
    elif (change := v.label_change) is not None:  # before the rate: no rate learns that
        if v.said(change):
            return None
        why = f"The likely cause is the augmentation: {change.why}"
        fix, act = change.fix, change.action
    elif any(silent / n >= DEAD_LAYER_SHARE for silent, n in v.dead.values() if n):
        why = "Its ReLU units have gone silent (they output 0 for every image). " + \
            silent_units_rate(v).rstrip(".")
        fix, act = _lr_fix(lower_lr(v))
        if usual_rate(v):  # the initialisation first, as the sentence says
            fix = f"use LeakyReLU, or He (kaiming) initialisation; or {fix}"
    elif vanishing_gradients(v) is not None:
        why = ("Its first layers get almost no gradient (vanishing gradients): a deep stack "
               f"of {squashing(v.activations) or 'layers'} without normalisation passes next "
               "to nothing back")
        fix, act = vanishing_fix(v.activations), action("Open the Model tab", open_="model")
    elif v.weight_change is not None and v.weight_change < LR_LOW_CHANGE:
        why = (f"Its weights barely move ({v.weight_change:.1e} of their size in the last "
               f"epoch): the learning rate ({fmt(v.lr)}) is too small")
        fix, act = _lr_fix(raised_lr(v))
    elif on_val and train_acc and train_acc[-1] > v.train_chance + MEMORISING_MARGIN:
        small = small_training_set(v)  # first where it applies: the labels may be right
        why = (f"Yet the training accuracy is {pct(train_acc[-1])}: it learns the training "
               f"images by heart and nothing that carries over. "
               f"{small[0] + '. Else t' if small else 'T'}he labels may not match "
               f"the images (open a few of each class), or the validation images differ "
               f"from the training ones")
        fix = "check the labels: open a few images of each class folder"
        if small is not None:
            fix, act = f"{small[1]}; then {fix}", small[2]
    elif (ignored := ignored_classes(v, epochs=1)) is not None and \
            imbalance_explains(v, ignored[0]):
        # It answers the big class of an imbalanced set (at chance: the big class's share):
        # class_imbalance's, said once that has lasted IMBALANCE_EPOCHS. Not when the run
        # evens the classes out and ignores a class with images enough: not the imbalance.
        return None
    elif losses and v.lr > 10 * v.default_lr:
        why = (f"The learning rate ({fmt(v.lr)}) is far above the optimizer's usual "
               f"{fmt(v.default_lr)}: the steps overshoot")
        fix, act = _lr_fix(lower_lr(v))
    elif (unequal := imbalance_cause(v)) is not None:  # what it answers: the big class
        why, fix, act = unequal
    elif (small := small_training_set(v)) is not None:  # before the usual causes
        why = (f"{small[0]}. Else the usual causes: labels that do not match the images, "
               f"or a learning rate far too large or too small (the LR finder tells)")
        fix, act = f"{small[1]}; then check the labels and find a learning rate " \
            "(workbench lr-find)", small[2] or action("Find a learning rate", open_="lr_finder")
    else:
        why = ("The usual causes: labels that do not match the images (open a few of each "
               "class), a learning rate far too large or too small (the LR finder tells), or "
               "a network too small for the task")
        fix, act = "find a learning rate (workbench lr-find) and check the labels", \
            action("Find a learning rate", open_="lr_finder")
    caveat = v.small_val_caveat() if on_val else ""
    return RunFinding("not_learning", v.epoch, "warning", f"{what} {why}.{caveat}", fix, act)


def overfitting(v: RunView) -> RunFinding | None:
    val, train = v.series("val_loss"), v.series("train_loss")
    if len(val) < OVERFIT_EPOCHS + 1 or len(val) != len(train):
        return None
    best = min(range(len(val)), key=val.__getitem__)
    # The training loss fell since the best epoch, never back above it: a loss thrown up
    # meanwhile (1.24, 0.29, 6.33, 1.09) is a rate too high (lr_too_high), not this.
    rising = (len(val) - 1 - best >= OVERFIT_EPOCHS
              and val[-1] >= val[best] * (1 + OVERFIT_RISE) and train[-1] < train[best]
              and max(train[best:]) <= train[best] * (1 + OVERFIT_FLAT))
    tacc, vacc = v.series("train_acc"), v.series("val_acc")
    gaps = [t - a for t, a in zip(tacc, vacc)][-OVERFIT_EPOCHS:]
    widening = (len(gaps) == OVERFIT_EPOCHS and gaps[-1] >= OVERFIT_GAP
                and gaps[-1] > gaps[0] and len(val) - 1 - best >= OVERFIT_STALL)
    loss_gaps = [a - t for t, a in zip(train, val)]

    def far_apart(i: int) -> bool:
        return (train[i] <= OVERFIT_FIT * v.guess_loss and loss_gaps[i] >= OVERFIT_LOSS_GAP
                and val[i] >= OVERFIT_LOSS_RATIO * train[i])

    # Sustained: one noisy validation epoch (BatchNorm, a small split) is not enough.
    # And the validation loss no better for a while: measured, 45 phone photos fitted at
    # once (training loss 0.02) while the validation loss fell every epoch (0.99 to 0.20).
    apart = (all(far_apart(i) for i in range(-OVERFIT_EPOCHS, 0))
             and loss_gaps[-1] > loss_gaps[-1 - OVERFIT_EPOCHS]
             and len(val) - 1 - best >= OVERFIT_STALL)
    if not (rising or widening or apart) or not v.learned():
        return None  # at chance on its training images: it learns them no more than others
    if v.said(v.label_change):  # named (not_learning's), with its fix: not early stopping
        return None
    best_m = [m for m in v.recent if m.get("val_loss") is not None][best]
    best_epoch, best_acc = int(best_m["epoch"]), best_m.get("val_acc")
    # Its best epoch no better than chance (a tiny training set): early stopping would keep
    # a model that learned nothing (measured: 6 images a class kept epoch 2, at 26% of 25%).
    hollow = isinstance(best_acc, (int, float)) and not v.clear(float(best_acc))
    if rising:
        what = (f"the validation loss has risen for {len(val) - 1 - best} epochs, from "
                f"{val[best]:.3f} at epoch {best_epoch} to {val[-1]:.3f}, while the training "
                f"loss fell from {_loss(train[best])} to {_loss(train[-1])}")
    elif widening:
        what = (f"the training accuracy is {pct(tacc[-1])} but the validation accuracy "
                f"{pct(vacc[-1])}, and the gap is growing")
    else:  # a ratio to a loss near 0 means nothing: the values, and since when
        now = (f"it stays near {val[-1]:.3f}" if val[-1] <= val[best] * (1 + OVERFIT_FLAT)
               else f"it has risen from {val[best]:.3f} to {val[-1]:.3f}")
        accs = (f"; the training accuracy is {pct(tacc[-1])}, the validation accuracy "
                f"{pct(vacc[-1])}" if tacc and vacc else "")
        what = (f"the training loss is down to {_loss(train[-1])}, but the validation loss "
                f"has not improved since epoch {best_epoch}: {now}{accs}")
    remedies = []
    if not v.augmented:
        remedies.append("add random augmentation")
    remedies += ["add dropout or weight decay", "use more training images"]
    if hollow:  # not_learning's fix of a small training set; else more images first
        small = small_training_set(v)
        remedies = [small[1]] if small else ["use more training images"] + remedies[:-1]
        act = small[2] if small else \
            None if v.augmented else action("Open the Augment tab", open_="augment")
    elif not v.early_stopping:
        remedies.insert(0, "turn on early stopping (--set training.early_stopping=true)")
        act = action("Turn on early stopping", {"training.early_stopping": True})
    elif not v.augmented:
        act = action("Open the Augment tab", open_="augment")
    else:
        act = None
    if hollow:
        kept = (f"its validation accuracy, {pct(best_acc)}, is itself at chance (always "
                f"answering the most common class scores {pct(v.chance)}), so early stopping "
                f"would keep a model that has learned nothing")
    elif v.early_stopping and v.restore_best:
        kept = ("if early stopping ends the run, the saved model (bundle.pt) gets that "
                "epoch's weights; if the run trains every planned epoch, it holds the last "
                "epoch's (the best epoch's stay in checkpoints/best.pt)")
    else:
        kept = ("the saved model (bundle.pt) will hold the last epoch's weights, not these "
                "(they stay in checkpoints/best.pt); early stopping with its restore best "
                "weights option on saves the best epoch's weights as the model")
    message = (f"Overfitting: {what}. The network learns the training images rather than "
               f"what generalises. The best validation loss "
               f"{'since the settings changed' if v.since else 'so far'} was at epoch "
               f"{best_epoch}: {kept}.{v.small_val_caveat()}")
    fix = "; ".join(remedies)
    if (change := v.label_change) is not None:  # its fix first: it teaches contradictions
        message += f" The likely cause is the augmentation: {change.why}."
        fix, act = change.fix, change.action
    return RunFinding("overfitting", v.epoch, "warning", message, fix, act)


def underfitting(v: RunView) -> RunFinding | None:
    train, val = v.series("train_loss"), v.series("val_loss")
    if v.epoch < UNDERFIT_EPOCHS or len(train) < UNDERFIT_WINDOW + 1:
        return None
    if v.at_chance():
        return None  # not_learning's
    right = [x for a in (v.series("train_acc"), v.series("val_acc"))
             for x in a[-UNDERFIT_WINDOW - 1:]]
    if right and max(right) >= UNDERFIT_FITTED:
        return None  # it fits the images: a high loss is a floor's (loss_floor), not this
    window = train[-UNDERFIT_WINDOW - 1:]
    flat = abs(window[0] - window[-1]) < UNDERFIT_FLAT * window[0] and \
        max(window) <= (1 + UNDERFIT_SWING) * min(window)  # rising, or thrown up: not flat
    high = window[-1] >= UNDERFIT_HIGH * v.guess_loss and \
        (not val or val[-1] >= UNDERFIT_HIGH * v.guess_loss)
    if not (flat and high):
        return None
    message = (f"Underfitting: the training loss has stayed near {window[-1]:.3f} for "
               f"{UNDERFIT_WINDOW} epochs, over half of what guessing costs "
               f"({v.guess_loss:.3f}), and the validation loss too: the network does not fit "
               f"even the training images.")
    if (cause := v.cause(stops=False)) is not None:  # the network's doing, not its size
        if v.said(cause):
            return None
        return RunFinding("underfitting", v.epoch, "warning",
                          f"{message} {cause.lead}: {cause.why}.", cause.fix, cause.action)
    if (change := v.label_change) is not None:  # before a size or a rate: no rate learns that
        if v.said(change):
            return None
        return RunFinding("underfitting", v.epoch, "warning",
                          f"{message} The likely cause is the augmentation: {change.why}.",
                          change.fix, change.action)
    fix, act = _lr_fix(bounded(v, v.lr * 3), continue_=True)
    return RunFinding("underfitting", v.epoch, "warning", message,
                      f"a larger network (more channels or layers), or {fix}, or more "
                      f"epochs", act)


def loss_floor(v: RunView) -> RunFinding | None:
    cause = next((c for c in v.causes if c.floor is not None and c.floor >= FLOOR_MIN), None)
    losses = v.series("train_loss")
    if cause is None or cause.floor is None or v.said(cause) or len(losses) < 2:
        return None
    before, last = losses[-2], losses[-1]
    if before - last >= UNDERFIT_FLAT * before or last > cause.floor * (1 + FLOOR_NEAR):
        return None
    acc = v.series("train_acc")
    right = (f", though the network gets {pct(acc[-1])} of the training images right"
             if acc and acc[-1] >= UNDERFIT_FITTED else "")
    message = (f"The training loss has stopped at {last:.3f}{right}: it cannot go lower. "
               f"The network itself is the cause: {cause.why}. With the class scores so "
               f"bounded, the loss of {len(v.classes)} classes cannot fall below "
               f"{cause.floor:.3f}, however well the network learns: a larger network, a "
               f"higher rate or more epochs cannot change that.")
    return RunFinding("loss_floor", v.epoch, "warning", message, cause.fix, cause.action)


def dead_units(v: RunView) -> RunFinding | None:
    if not v.dead or v.epoch < 1:
        return None
    silent = sum(s for s, _ in v.dead.values())
    total = sum(n for _, n in v.dead.values())
    worst = max(v.dead.items(), key=lambda kv: kv[1][0] / max(1, kv[1][1]))
    name, (s, n) = worst
    layer_dead = n >= DEAD_MIN_UNITS and s / n >= DEAD_LAYER_SHARE
    if not (layer_dead or (total and silent / total >= DEAD_SHARE)):
        return None
    which = f"all {n}" if s == n else f"{s} of the {n}"
    message = (f"{pct(silent / max(1, total))} of the network's ReLU units never fire on a "
               f"batch of training images ({which} units of {layer_name(name)}): a silent ReLU "
               f"outputs 0 for every input, so it passes no gradient")
    # At a rate in its optimizer's usual range, what the network does otherwise (a dropout
    # of 0.95 silences the ReLUs before it at Adam's 0.001, where without it none go silent).
    usual = usual_rate(v)
    cause = v.cause() or (next((c for c in v.causes if c.code != "few-steps"), None)
                          if usual else None)
    if cause is not None:  # the network's own doing: a lower rate would not help
        if v.said(cause):
            return None
        if not cause.stops:
            return RunFinding("dead_units", v.epoch, "warning",
                              f"{message}. {cause.lead}: {cause.why}. The learning rate "
                              f"({fmt(v.lr)}) is {usual}: unlikely the cause.",
                              cause.fix, cause.action)
        return RunFinding("dead_units", v.epoch, "warning",
                          f"{message}. The network itself is the cause: {cause.why}. Its fix "
                          f"brings the units to life: training alone cannot.",
                          cause.fix, cause.action)
    message += f" and, dead, never recovers. {silent_units_rate(v)}"
    fix, act = _lr_fix(lower_lr(v))
    other = "use LeakyReLU, or He (kaiming) initialisation"
    return RunFinding("dead_units", v.epoch, "warning", message,
                      f"{other}; or {fix}" if usual else f"{fix}; or {other}", act)


def _in_a_row(v: RunView, test: Callable[[list[float], list[float]], bool]) -> bool:
    recent = v.grads[-GRADIENT_SAMPLES:]
    return len(recent) == GRADIENT_SAMPLES and all(test(g, w) for _, g, w in recent)


def vanishing_gradients(v: RunView) -> RunFinding | None:
    if not v.grads or len(v.grads[-1][1]) < 2:
        return None
    losses = v.series("train_loss")
    if losses and losses[-1] < 0.1 * v.guess_loss:
        return None  # a loss near 0 has small gradients everywhere, rightly

    def rel(g: float, w: float) -> float:
        return g / w if w > 0 else g

    def vanishing(g: list[float], w: list[float]) -> bool:
        last = rel(g[-1], w[-1])
        return last > 0 and rel(g[0], w[0]) < VANISHING_RATIO * last

    if not _in_a_row(v, vanishing):
        return None
    names, g, w = v.grads[-1]
    message = (f"Vanishing gradients: the first layer, {grad_layer(names[0])}, gets a "
               f"gradient {rel(g[0], w[0]) / max(1e-30, rel(g[-1], w[-1])):.1e} times that of "
               f"the last, {grad_layer(names[-1])}, relative to its weights: the early layers hardly "
               f"learn.")
    cause = v.cause()
    if cause is not None:  # the network's doing: say so, with its fix
        if v.said(cause):
            return None
        return RunFinding("vanishing_gradients", v.epoch, "warning",
                          f"{message} The network itself is the cause: {cause.why}.",
                          cause.fix, cause.action)
    squash = squashing(v.activations)
    message += f" {'Deep stacks of ' + squash + ', or n' if squash else 'N'}o normalisation, " \
        "do this."
    return RunFinding("vanishing_gradients", v.epoch, "warning", message,
                      vanishing_fix(v.activations), action("Open the Model tab", open_="model"))


def exploding_gradients(v: RunView) -> RunFinding | None:
    def exploding(g: list[float], w: list[float]) -> bool:
        return math.sqrt(sum(x * x for x in g)) > EXPLODING_NORM

    if not _in_a_row(v, exploding):
        return None
    names, g, _ = v.grads[-1]
    big = max(range(len(g)), key=g.__getitem__)
    message = (f"Exploding gradients: the gradient's norm is "
               f"{math.sqrt(sum(x * x for x in g)):.3g}, largest at {grad_layer(names[big])}, far above "
               f"a healthy network's 0.1-50: each step throws the weights about.")
    cause = v.cause()
    if cause is not None:  # the network's doing (a constant initialisation): not the rate
        if v.said(cause):
            return None
        return RunFinding("exploding_gradients", v.epoch, "warning",
                          f"{message} The network itself is the cause: {cause.why}.",
                          cause.fix, cause.action)
    fix, act = _lr_fix(lower_lr(v), continue_=True)
    return RunFinding("exploding_gradients", v.epoch, "warning", message,
                      f"{fix}, or clip the gradients (--set training.grad_clip=1.0)", act)


#: Every check on a live run, in the order they are asked (diverged is not one: the trainer
#: ends a diverged run itself, and the callback reports it).
CHECKS: tuple[Callable[[RunView], RunFinding | None], ...] = (
    not_learning, exploding_gradients, vanishing_gradients, dead_units, lr_too_low,
    lr_too_high, class_imbalance, class_never_predicted, overfitting, underfitting, loss_floor)


def _loss(x: float) -> str:
    """A loss for a person: ``"0.012"``, or under 0.001 its figures, ``"1.5e-04"`` (not
    ``"0.000"``, and not "under 0.001": "fell from 0.000 to under 0.001" read as a rise)."""
    return f"{x:.3f}" if x >= 0.001 else f"{x:.1e}"
