"""The learning-rate fixes of the training doctor's findings (:mod:`.checks`): a rate to
try after one too large or too small, and the way forward after a divergence, each as a fix
for a person and an action for the app's fix button (:func:`~.findings.action`), from the
last checkpoint only when its epoch is a sound one (:func:`unsound`).
"""

from __future__ import annotations

import math
from typing import Any

from workbench.core.train.doctor.findings import action
from workbench.core.train.optim_advice import fmt, lr_bounds
from workbench.core.train.resume_hint import resume_command


def proposed_lr(lr: float, default_lr: float = 0.0) -> float:
    """A learning rate to try after ``lr`` was too large: the optimizer's default
    (``default_lr``, 0: unknown) when ``lr`` is far above it, else a tenth."""
    if default_lr > 0 and lr > 10 * default_lr:
        return default_lr
    return float(f"{lr / 10:.2g}")


def bounded(v: Any, lr: float) -> float:
    """``lr`` kept within what the run ``v``'s optimizer trains at
    (:func:`~workbench.core.train.optim_advice.lr_bounds`, the bounds the optimizer advice
    warns outside of): a fix must never propose a rate the app itself calls very low or
    very high."""
    low, high = lr_bounds(str(getattr(v, "optimizer", "") or ""), v.default_lr)
    if v.default_lr <= 0 and not getattr(v, "optimizer", ""):
        return lr  # nothing known to bound it by
    return min(max(lr, low), high)


def lower_lr(v: Any) -> float:
    """:func:`proposed_lr` for the run ``v``, within its optimizer's bounds; for a rate the
    advice before the run calls very high (:func:`~workbench.core.train.optim_advice.
    optimizer_advice`), the rate that advice proposed, so the app says one rate before the
    run and after it."""
    advised = _advised_lr(v)
    return advised if advised is not None else bounded(v, proposed_lr(v.lr, v.default_lr))


#: What an unstable run's rate is divided by (:func:`steadier_lr`): it learned, so a step
#: back, not the tenth of a rate that learned nothing (:func:`proposed_lr`).
STEADIER_STEP = 3.0


def steadier_lr(v: Any) -> float:
    """A learning rate to try after ``v.lr`` made the run unstable, its loss thrown back up
    after it had learned (``lr_too_high``): the rate the advice before the run proposed where
    it calls ``v.lr`` very high (as :func:`lower_lr`), else a third of it
    (:data:`STEADIER_STEP`), within the optimizer's bounds and never above it."""
    advised = _advised_lr(v)
    if advised is not None:
        return advised
    return min(v.lr / STEADIER_STEP, bounded(v, v.lr / STEADIER_STEP))


def _advised_lr(v: Any) -> float | None:
    """The rate the advice before the run proposed for the run ``v``, where it calls its
    rate very high (:func:`~workbench.core.train.optim_advice.optimizer_advice`), or None."""
    from workbench.core.registry import Component
    from workbench.core.train.optim_advice import optimizer_advice

    advice = optimizer_advice(Component(str(getattr(v, "optimizer", "") or ""), {"lr": v.lr}))
    if advice is not None and advice.param == "lr" and advice.value > advice.suggested:
        return advice.suggested
    return None


def raised_lr(v: Any) -> float:
    """A learning rate to try after ``v.lr`` was too small to move anything: the
    optimizer's usual rate when ``v.lr`` is far below it (ten times 1e-6 on SGD, 1e-5, moves
    nothing either), else ten times ``v.lr``."""
    if v.default_lr > 0 and 10 * v.lr < v.default_lr:
        return v.default_lr
    return bounded(v, v.lr * 10)


#: An epoch whose mean training loss is over this many times the loss of guessing every
#: class equally (ln(classes)) is no sound place to go on from after a divergence, however
#: far under the exploded line it stayed. A healthy first epoch is at 1-2x (a badly
#: initialised network starts its first batches at 5-20x); measured: SGD at lr 0.8 on
#: seed-cnn, epoch 1 at 42x (57.7 against 1.39, validation 25.4 at 50%), then NaN in epoch
#: 2; continuing from epoch 1 at the LR finder's 0.0059 exploded again at batch 4.
SOUND_FACTOR = 5.0


def unsound(metrics: dict[str, Any] | None, guess: float, val_limit: float) -> str:
    """Why an epoch (its history entry) is no sound place to go on from, for a person
    (``"its training loss was 57.7, 42 times the 1.39 of guessing every class equally"``),
    or "": its training loss over :data:`SOUND_FACTOR` times ``guess`` (ln(classes)), or its
    validation loss over ``val_limit``; losses not measured are not held against it."""
    m = metrics or {}
    train, val = m.get("train_loss"), m.get("val_loss")
    if isinstance(train, (int, float)) and not train <= SOUND_FACTOR * guess:
        times = f"{train / guess:.0f} times" if math.isfinite(train) else "far over"
        return (f"its training loss was {train:.3g}, {times} the {guess:.2f} of guessing "
                f"every class equally")
    if isinstance(val, (int, float)) and not val <= val_limit:
        return (f"its validation loss was {val:.3g}, over {val_limit / guess:g} times the "
                f"loss of guessing")
    return ""


def diverged_fix(lr: float, epochs_done: int, run_dir: Any = None,
                 source: str = "") -> tuple[str, dict[str, Any]]:
    """The way forward after a run diverged, at the rate ``lr`` (``source``: where the
    rate comes from, for a person): from its last good checkpoint when an epoch was kept
    (``epochs_done``; ``run_dir``: the run folder, to name the command), else (0: none, or
    none sound) training again from the start. Returns the fix and its action."""
    lr = float(f"{lr:.2g}")  # a rate a person would type
    why = f", {source}" if source else ""
    if epochs_done:
        how = f"--lr {fmt(lr)}"
        if run_dir:  # a command to paste (quoted; torchrun's under torchrun)
            how = resume_command(run_dir, how)
        return (f"continue from the last good checkpoint (epoch {epochs_done}) at a learning "
                f"rate of {fmt(lr)}{why} ({how})",
                action(f"Continue with lr {fmt(lr)}", {"optimizer.params.lr": lr}, True))
    return (f"train again from the start at a learning rate of {fmt(lr)}{why} "
            f"(--lr {fmt(lr)})",
            action(f"Train with lr {fmt(lr)}", {"optimizer.params.lr": lr}))


def _lr_fix(lr: float, continue_: bool = False) -> tuple[str, dict[str, Any]]:
    lr = float(f"{lr:.2g}")  # a rate a person would type
    verb = "continue with" if continue_ else "use"
    return (f"{verb} a learning rate of {fmt(lr)} (--lr {fmt(lr)})",
            action(f"{'Continue' if continue_ else 'Train'} with lr {fmt(lr)}",
                   {"optimizer.params.lr": lr}, continue_))
