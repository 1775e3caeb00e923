"""The training doctor's texts as the app says them: the core writes its findings for the
command line too ("lower it (--lr 0.01)", "the LR finder (workbench lr-find)");
:func:`app_text` leaves out what a terminal user types (the app's buttons and tabs do it),
:func:`sentence` makes a fix written to follow "Fix: " a sentence of its own. Plain text,
no Qt (the Doctor tab's rows, :mod:`.findings`, and the line under the plots use them).
"""

from __future__ import annotations

import re

#: The command-line parts of the core's texts, and what the app says instead (in order).
_CLI = (
    # "the LR finder (workbench lr-find)": the app's finder is a button on the Train tab.
    (re.compile(r"\(workbench lr-find\)"), "(Find learning rate… on the Train tab)"),
    # "at a learning rate of 0.01 (workbench resume RUN --lr 0.01)": the rate is said
    # already, and the fix button continues the run (a run folder may hold parentheses).
    (re.compile(r"\s*\(workbench resume .*? --lr [^\s()]+\)"), ""),
    (re.compile(r"\s*\(--lr [^\s()]+\)"), ""),
    # "a class-weighted loss (--set data.balance=weighted_loss)": the words say it, the
    # button sets it; the experiment's names ("balance = weighted_loss") are a file's.
    (re.compile(r"\s*\(--set [^()]*\)"), ""),
    # "the loss's class weights (loss.params.class_weights)": a path in the experiment file
    (re.compile(r"\s*\((?:data|training|optimizer|scheduler|loss|model|init|augment)"
                r"(?:\.\w+)+\)"), ""),
    # Any other command: a terminal's, not the app's.
    (re.compile(r"\s*\((?:--|workbench )[^()]*\)"), ""),
)


def app_text(text: str) -> str:
    """``text`` (a finding's message or fix) as the app says it: without the commands and
    flags in parentheses that a terminal user types (the app's buttons and tabs do that),
    a setting named as the forms name it. The command line keeps them (this is the app's
    view only)."""
    for pattern, replacement in _CLI:
        text = pattern.sub(replacement, text)
    return text


def sentence(text: str) -> str:
    """``text`` as a sentence of its own: a capital first letter and a final full stop (the
    core's fixes are written to follow "Fix: ", its messages may end without one)."""
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."
