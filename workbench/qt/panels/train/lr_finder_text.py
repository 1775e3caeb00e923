"""What the learning-rate finder dialog says when a sweep ends, in the app's words.

The core's reason (:attr:`~workbench.core.train.lr_find.LRFindResult.reason`) is written for
the app and the command line alike: without a suggestion it advised "a lower Start lr in
the app, workbench lr-find --start", even with Start lr already at 1e-07, where the loss
barely moves and a lower rate cannot help. :func:`sweep_message` keeps the core's account
of how the sweep ended and of a suggestion, and words the advice without one from the
dialog's settings, without command-line syntax.
"""

from __future__ import annotations

from typing import Any

#: A sweep starting at or below this rate starts where training barely moves the loss: if
#: the loss never fell, a lower start would not change that.
LOW_START_LR = 1e-6
#: The fewest points the core suggests a rate from
#: (:func:`workbench.core.train.lr_find.suggest`).
MIN_POINTS = 5


def sweep_message(result: Any, start_lr: float, lowest_start_lr: float = 0.0) -> str:
    """The sentence(s) shown under the curve when a sweep ends.

    Parameters
    ----------
    result
        The sweep's :class:`~workbench.core.train.lr_find.LRFindResult`.
    start_lr
        The sweep's first rate (the dialog's Start lr).
    lowest_start_lr
        The lowest Start lr the dialog accepts.
    """
    ending, _, why = str(result.reason).partition("; ")
    if result.suggested_lr is None:
        why = no_suggestion_advice(result, start_lr, lowest_start_lr)
    text = f"{ending}; {why}" if why else ending
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def no_suggestion_advice(result: Any, start_lr: float, lowest_start_lr: float = 0.0) -> str:
    """Why no rate is suggested and what to do, from how the sweep went and its Start lr."""
    n = len(result.smoothed)
    at_lowest = start_lr <= lowest_start_lr * (1 + 1e-6)
    if n < MIN_POINTS:
        if result.diverged_lr is None:  # stopped, or a sweep of very few Steps
            return (f"too few points ({n}) for a suggestion: sweep again with more Steps"
                    + (" and let it run to the end" if result.stopped_early else ""))
        if at_lowest:
            return (f"the loss blew up after only {n} steps, too few for a suggestion: raise "
                    f"Steps, so that the rate climbs more slowly")
        return (f"the loss blew up after only {n} steps, too few for a suggestion: lower "
                f"Start lr (now {start_lr:.3g}) or raise Steps")
    if at_lowest or start_lr <= LOW_START_LR:
        return (f"the loss did not fall at any rate, not even the smallest ({start_lr:.3g}), "
                f"so no rate is suggested. A lower Start lr would not help: the network or "
                f"the data are more likely at fault (see the Model doctor on the Model tab, "
                f"and Health on the Data tab)")
    return (f"the loss never fell during the sweep, so no rate is suggested: it may have "
            f"started too high. Lower Start lr (now {start_lr:.3g}) and sweep again; if the "
            f"loss still does not fall, the network or the data may be at fault (see the "
            f"Model doctor on the Model tab)")
