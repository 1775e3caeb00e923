"""The training doctor's texts as the app says them: the core writes its findings for the
command line too ("lower it (--lr 0.01)", "the LR finder (workbench lr-find)");
:func:`app_text` leaves out what a terminal user types (the app's buttons and tabs do it),
:func:`sentence` makes a fix written to follow "Fix: " a sentence of its own. Plain text,
no Qt (the Doctor tab's rows, :mod:`.findings`, and the line under the plots use them).
:func:`settings_text` says the settings a fix set, :func:`done_text` a fix made on the Model
or Augment tab's list ("Removed layer 11 (Softmax) on the Model tab"), not the list itself.
"""

from __future__ import annotations

import re
from typing import Any

#: The command-line parts of the core's texts, and what the app says instead (in order).
_CLI = (
    # "the LR finder (workbench lr-find)": the app's finder is a button on the Train tab.
    (re.compile(r"\(workbench lr-find\)"), "(Find learning rate… on the Train tab)"),
    # "at a learning rate of 0.01 (workbench resume RUN --lr 0.01)": the rate is said
    # already, and the fix button continues the run (a run folder may hold parentheses).
    # (Under torchrun: "(torchrun --nproc-per-node 2 -m workbench resume RUN --lr 0.01)".)
    (re.compile(r"\s*\((?:torchrun [^()]*?-m )?workbench resume .*? --lr [^\s()]+\)"), ""),
    (re.compile(r"\s*\(--lr [^\s()]+\)"), ""),
    # "a class-weighted loss (--set data.balance=weighted_loss)": the words say it, the
    # button sets it; the experiment's names ("balance = weighted_loss") are a file's.
    (re.compile(r"\s*\(--set [^()]*\)"), ""),
    # "the loss's class weights (loss.params.class_weights)": a path in the experiment file
    (re.compile(r"\s*\((?:data|training|optimizer|scheduler|loss|model|init|augment)"
                r"(?:\.\w+)+\)"), ""),
    # Any other command: a terminal's, not the app's.
    (re.compile(r"\s*\((?:--|workbench |torchrun )[^()]*\)"), ""),
)


def app_text(text: str) -> str:
    """``text`` (a finding's message or fix) as the app says it: without the commands and
    flags in parentheses that a terminal user types (the app's buttons and tabs do that),
    a setting named as the forms name it. The command line keeps them (this is the app's
    view only)."""
    for pattern, replacement in _CLI:
        text = pattern.sub(replacement, text)
    return text


#: Where the app shows a setting the core's texts name by its path in the experiment file
#: ("Set training.feature_views to K"): the control's label, its tab and its sub-tab.
SETTING_PLACES = {
    **{f"training.{name}": (name, "Train → Device & run") for name in (
        "amp", "channels_last", "seed", "deterministic", "grad_clip", "accumulate",
        "feature_cache", "feature_views", "monitor", "early_stopping", "patience",
        "min_delta", "restore_best")},
    **{f"data.{name}": (name, "Data → Settings") for name in (
        "input_size", "channels", "mean", "std", "batch_size", "cache_budget_mb")},
}
_PATHS = "|".join(re.escape(p) for p in SETTING_PLACES)
_PLACE = re.compile(rf"\(({_PATHS})\)|\b({_PATHS})\b")


def name_settings(text: str) -> str:
    """``text`` with the settings it names by their experiment path ("training.feature_views",
    also in parentheses) named as the app shows them, the control's label and where it is:
    ``feature_views (Train → Device & run)``, in parentheses ``(feature_views on Train →
    Device & run)``."""
    def place(m: re.Match) -> str:
        if m.group(1):  # "(training.feature_views)": "(feature_views on Train → ...)"
            return "({} on {})".format(*SETTING_PLACES[m.group(1)])
        return "{} ({})".format(*SETTING_PLACES[m.group(2)])

    return _PLACE.sub(place, text)


def sentence(text: str) -> str:
    """``text`` as a sentence of its own: a capital first letter and a final full stop (the
    core's fixes are written to follow "Fix: ", its messages may end without one)."""
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _value_text(value: Any) -> str:
    from workbench.core.train.optim_advice import fmt

    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return fmt(value)  # 1e-6, as the optimizer's advice writes it
    if isinstance(value, list):  # a layer or transform list: its types, in order
        return ", ".join(str(v.get("type") if isinstance(v, dict) else getattr(v, "type", v))
                         for v in value) or "none"
    return str(value)


#: Settings a learner knows by the forms' words, not the experiment file's names.
_WORDS = {("data.balance", "weighted_loss"): "a class-weighted loss",
          ("data.balance", "weighted_sampler"): "the weighted sampler",
          ("data.balance", "none"): "no class balancing",
          ("training.early_stopping", True): "early stopping on",
          ("training.early_stopping", False): "early stopping off",
          ("init.type", "default"): "the default initialisation"}


def settings_text(settings: dict[str, Any]) -> str:
    """``{"optimizer.params.lr": 0.001}`` in words: ``lr = 0.001``; a setting the forms
    name in words is said so (``data.balance = weighted_loss``: "a class-weighted loss")."""
    return ", ".join(_WORDS.get((path, v)) if isinstance(v, (str, bool)) and (path, v) in
                     _WORDS else f"{path.rsplit('.', 1)[-1]} = {_value_text(v)}"
                     for path, v in settings.items())


#: A fix's verb, as said once it is done ("Remove layer 11" -> "Removed layer 11").
_DONE = {"Remove": "Removed", "Insert": "Inserted", "Set": "Set", "Limit": "Limited",
         "Lower": "Lowered"}


def done_text(label: str, tab: str) -> tuple[str, str]:
    """A fix button's ``label`` once done on ``tab`` (the Model or Augment tab's list:
    a list of types reads like code), and what the next run trains: ``("Removed layer 11
    (Softmax) on the Model tab", "without it")``."""
    verb, _, rest = label.partition(" ")
    done = f"{_DONE[verb]} {rest} on the {tab} tab" if verb in _DONE and rest else \
        f"Done on the {tab} tab: {label[:1].lower()}{label[1:]}"
    without = "without them" if label.endswith("s") else "without it"
    return done, (without if verb == "Remove" else "with this change")
