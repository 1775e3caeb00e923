"""The learning-rate fixes of the training doctor's findings (:mod:`.checks`): a rate to
try after one too large or too small, and the way forward after a divergence, each as a fix
for a person and an action for the app's fix button (:func:`~.findings.action`).
"""

from __future__ import annotations

from typing import Any

from workbench.core.train.doctor.findings import action


def proposed_lr(lr: float, default_lr: float = 0.0) -> float:
    """A learning rate to try after ``lr`` was too large: the optimizer's default
    (``default_lr``, 0: unknown) when ``lr`` is far above it, else a tenth."""
    if default_lr > 0 and lr > 10 * default_lr:
        return default_lr
    return float(f"{lr / 10:.2g}")


def lower_lr(v: Any) -> float:
    """:func:`proposed_lr` for the run ``v``."""
    return proposed_lr(v.lr, v.default_lr)


def raised_lr(v: Any) -> float:
    """A learning rate to try after ``v.lr`` was too small to move anything: the
    optimizer's usual rate when ``v.lr`` is far below it (ten times 1e-6 on SGD, 1e-5, moves
    nothing either), else ten times ``v.lr``."""
    if v.default_lr > 0 and 10 * v.lr < v.default_lr:
        return v.default_lr
    return v.lr * 10


def diverged_fix(lr: float, epochs_done: int, run_dir: Any = None,
                 source: str = "") -> tuple[str, dict[str, Any]]:
    """The way forward after a run diverged, at the rate ``lr`` (``source``: where the
    rate comes from, for a person): from its last good checkpoint when an epoch was kept
    (``epochs_done``; ``run_dir``: the run folder, to name the command), else from the
    start. Returns the fix and its action."""
    lr = float(f"{lr:.2g}")  # a rate a person would type
    why = f", {source}" if source else ""
    if epochs_done:
        how = f"workbench resume {run_dir} --lr {lr:g}" if run_dir else f"--lr {lr:g}"
        return (f"continue from the last good checkpoint (epoch {epochs_done}) at a learning "
                f"rate of {lr:g}{why} ({how})",
                action(f"Continue with lr {lr:g}", {"optimizer.params.lr": lr}, True))
    return (f"start again at a learning rate of {lr:g}{why} (--lr {lr:g})",
            action(f"Train with lr {lr:g}", {"optimizer.params.lr": lr}))


def _lr_fix(lr: float, continue_: bool = False) -> tuple[str, dict[str, Any]]:
    lr = float(f"{lr:.2g}")  # a rate a person would type
    verb = "continue with" if continue_ else "use"
    return (f"{verb} a learning rate of {lr:g} (--lr {lr:g})",
            action(f"{'Continue' if continue_ else 'Train'} with lr {lr:g}",
                   {"optimizer.params.lr": lr}, continue_))
