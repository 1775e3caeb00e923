"""The training doctor's checks on the learning rate itself (the others are in
:mod:`.checks`, which lists them all in its ``CHECKS``): ``lr_too_low``, a rate too small to
move the loss, and ``lr_too_high``, a rate that throws the loss back up after the network
had learned (a rate large enough to make the loss explode ends the run as ``diverged``:
:class:`~workbench.core.train.callbacks.doctor.ExplodingLoss`). Each proposes a rate the
other way, never further the same way: the fixes are in :mod:`.fixes`.
"""

from __future__ import annotations

from workbench.core.train.doctor.findings import RunFinding
from workbench.core.train.doctor.fixes import _lr_fix, raised_lr, steadier_lr
from workbench.core.train.doctor.view import RunView, pct
from workbench.core.train.optim_advice import LR_USUAL, family, fmt

#: A learning rate too small to move the loss: after this many epochs the training loss is
#: within LR_LOW_DROP of the first batches' and the weights moved less than LR_LOW_CHANGE
#: (relative) in the last epoch. A healthy run moves its weights by 1-30% an epoch.
LR_LOW_EPOCHS = 2
LR_LOW_DROP = 0.05
LR_LOW_CHANGE = 1e-3
#: Not while the run has converged: a training loss under this share of guessing's
#: (:attr:`~.view.RunView.guess_loss`), or a training accuracy of LR_LOW_FITTED, has
#: nothing left to fall by (a converged run fine-tuned at a lower rate).
LR_LOW_CONVERGED = 0.02
LR_LOW_FITTED = 0.99
#: The epochs judged trained (by their recorded rates) under this share of the run's set
#: rate: a schedule took the rate down, and the finding names the rate it trained at.
LR_LOW_SCHEDULED = 0.5
#: A learning rate too high for the run to stay stable, though it learned: the last
#: epoch's training loss at least LR_HIGH_RISE times its lowest since the settings last
#: changed and LR_HIGH_GAP of ln(classes) above it (a loss near 0 doubles in noise), with
#: the training accuracy LR_HIGH_DROP (points) under that epoch's. A healthy run's training
#: loss does not rise from one epoch to the next by more than a few %. Measured (seed-cnn,
#: SGD with momentum 0.9, 4 shapes): OneCycleLR peaking at 0.03 threw it from 0.25 to 1.34,
#: then 3.33 (97% of the training images right, then 84% and 47%); lr 0.05 from 0.29 to
#: 6.33 (95%, then 40%).
LR_HIGH_RISE = 2.0
LR_HIGH_GAP = 0.25
LR_HIGH_DROP = 0.1


def thrown_up(loss: float, acc: float, low: float, then: float,
              guess_loss: float) -> tuple[bool, bool]:
    """Whether an epoch's training ``loss`` and accuracy ``acc`` are thrown back from the
    best epoch's (``low``, ``then``): the loss :data:`LR_HIGH_RISE` times and
    :data:`LR_HIGH_GAP` of ``guess_loss`` above it, and the accuracy :data:`LR_HIGH_DROP`
    under it, each. :func:`lr_too_high` says it when both are; the doctor withdraws it
    once neither is (:func:`~.resolved.withdraw`)."""
    return (loss >= LR_HIGH_RISE * low and loss - low >= LR_HIGH_GAP * guess_loss,
            acc <= then - LR_HIGH_DROP)


def lr_too_low(v: RunView) -> RunFinding | None:
    """The loss and the weights not moving at the rate the epochs trained at (their
    recorded ``lr``): proposes a higher rate (:func:`~.fixes.raised_lr`). Silent where a
    schedule took the rate near zero (:data:`~workbench.core.train.resume.NEAR_ZERO` of the
    set rate: its planned end, which the start note of a run continued past it covers with
    the rate to continue at), and naming the schedule's rate where it took it well down."""
    from workbench.core.train.resume import NEAR_ZERO

    losses = v.series("train_loss")
    start = v.start_loss  # the run's first batches', or where the settings changed
    if v.epochs_since < LR_LOW_EPOCHS or not losses or start is None or v.trainable == 0 \
            or v.cause() is not None:  # the network's doing: not_learning names it
        return None
    if v.weight_change is None or v.weight_change >= LR_LOW_CHANGE:
        return None
    if losses[-1] < start * (1 - LR_LOW_DROP):
        return None
    accuracy = v.series("train_acc")
    if min(start, losses[-1]) < LR_LOW_CONVERGED * v.guess_loss or (
            accuracy and accuracy[-1] >= LR_LOW_FITTED):
        return None  # converged: a loss near 0 cannot fall 5% further
    rates = [float(m["lr"]) for m in v.recent if isinstance(m.get("lr"), (int, float))]
    ran = max(rates, default=v.lr)  # the highest rate the epochs judged trained at
    if ran < NEAR_ZERO * v.lr:
        return None  # the schedule's end, not the set rate: its note says what to do
    rate = fmt(v.lr)
    if ran < LR_LOW_SCHEDULED * v.lr:
        rate += f"; the schedule took it down to {fmt(float(f'{ran:.2g}'))}"
    message = (f"The learning rate ({rate}) is too small to move the loss: "
               f"{v.after().lower()} the training loss is {losses[-1]:.3f}, against "
               f"{start:.3f} {'before the change' if v.since else 'at the start'}, and the "
               f"weights moved "
               f"{v.weight_change:.1e} of their size in the last epoch.")
    lr = raised_lr(v)
    fix, act = _lr_fix(lr, continue_=True)
    usual = ", the optimizer's usual rate" if lr == v.default_lr else ""
    return RunFinding("lr_too_low", v.epoch, "warning", message,
                      f"{fix}{usual}; or find one with the LR finder (workbench lr-find)", act)


def lr_too_high(v: RunView) -> RunFinding | None:
    """The training loss thrown well back up after the network had learned, its training
    accuracy down with it (see :data:`LR_HIGH_RISE`): each step overshoots. Proposes a
    lower rate (:func:`~.fixes.steadier_lr`) or the LR finder, never a higher one."""
    epochs = [m for m in v.recent
              if m.get("train_loss") is not None and m.get("train_acc") is not None]
    if len(epochs) < 2:
        return None
    losses = [float(m["train_loss"]) for m in epochs]
    best = min(range(len(epochs) - 1), key=losses.__getitem__)
    low, last = losses[best], losses[-1]
    then, now = float(epochs[best]["train_acc"]), float(epochs[-1]["train_acc"])
    if not all(thrown_up(last, now, low, then, v.guess_loss)):
        return None  # NaN included: the trainer ends that run as diverged
    rates = [float(m["lr"]) for m in epochs[best:] if isinstance(m.get("lr"), (int, float))]
    peak = float(f"{max(rates, default=v.lr):.2g}")
    scheduled = abs(peak - v.lr) > 0.05 * v.lr  # a schedule took the rate elsewhere
    rate = f"{fmt(v.lr)}; the schedule took it to {fmt(peak)}" if scheduled else fmt(v.lr)
    message = (f"The learning rate ({rate}) is too high for the run to stay stable: the "
               f"training loss jumped from {low:.3f} at epoch {epochs[best]['epoch']} to "
               f"{last:.3f}, and the training accuracy fell from {pct(then)} to {pct(now)}. "
               f"Its steps overshoot and undo what the network had learned: a higher rate, "
               f"a larger network or more epochs would not help.")
    lr = float(f"{steadier_lr(v):.2g}")  # a rate a person would type, as _lr_fix says it
    fix, act = _lr_fix(lr, continue_=True)
    scale = f", the schedule's highest then {fmt(float(f'{peak * lr / v.lr:.2g}'))}" \
        if scheduled else ""
    return RunFinding("lr_too_high", v.epoch, "warning", message,
                      f"{fix}{scale}; or find one with the LR finder (workbench lr-find)", act)


def usual_rate(v: RunView) -> str | None:
    """Where the run ``v``'s rate lies against what its optimizer usually trains at, as the
    advice before a run says it (:mod:`~workbench.core.train.optim_advice`): ``"within
    Adam's usual 1e-5 to 0.01"`` (or below it); for an optimizer of no known family,
    ``"not far above the optimizer's usual 0.001"`` up to ten times its default. None where
    the rate is above that, or nothing is known: only then may a finding call it far too
    large."""
    kind = family(v.optimizer)
    if kind in LR_USUAL:
        low, high = LR_USUAL[kind]
        where = "within" if v.lr >= low else "below"
        return f"{where} {v.optimizer}'s usual {fmt(low)} to {fmt(high)}" if v.lr <= high \
            else None
    if v.default_lr > 0 and v.lr <= 10 * v.default_lr:
        return f"not far above the optimizer's usual {fmt(v.default_lr)}"
    return None


def silent_units_rate(v: RunView) -> str:
    """What the learning rate has to do with ReLU units gone silent, as a sentence: a step
    far too large only where the rate is above its optimizer's usual range
    (:func:`usual_rate`); Adam's usual 0.001 is not called that."""
    usual = usual_rate(v)
    if usual is None:
        return f"A step far too large (the learning rate, {fmt(v.lr)}) or a bad " \
            "initialisation does this."
    still = "" if usual.startswith("below") else ", though a lower rate may still help"
    return (f"The learning rate ({fmt(v.lr)}) is {usual}, so it is unlikely the cause: a "
            f"bad initialisation is likelier{still}.")
