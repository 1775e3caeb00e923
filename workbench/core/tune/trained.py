"""What a trial trained, so its values are applied with the settings they were found with.

A study's trials search a few fields; every other setting (the optimizer when only its
learning rate is searched, the batch size, the schedule, the augmentation, the seeds) is the
experiment's as it was when the trial ran, and may differ from trial to trial (a study
continued after an edit) and from the experiment open now. An Adam rate written onto an
SGD experiment is about ten times too low. Each trial keeps the whole experiment it trained
(user attr :data:`TRAINED`; a trial of an older Workbench: its run's experiment.json,
:func:`trained_of`, read only for the trial applied or shown); :func:`trial_settings` gives
the experiment with the searched values only, the one the trial trained, and how they
differ, in the Runs tab's words (:func:`workbench.core.runs.unused.unused_settings`), what
was written first (:func:`differences`: "optimizer Adam (was SGD)"); :func:`epochs_note`
says when the trials trained fewer (or more) epochs than the experiment will.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterable

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

#: The trial's user attr holding the experiment it trained (as its JSON).
TRAINED = "trained"
#: Kept from the open experiment, never the trial's: its name, the dataset folder and the
#: images excluded from it (the user's curation, as Health left it; the study's mark says
#: when the trial searched another dataset), the epochs (:func:`epochs_note`), and how this
#: machine loads and trains it, which leaves the results as they are.
KEPT = ("name", "data.folder", "data.exclude", "data.num_workers", "data.cache",
        "data.cache_budget_mb", "training.epochs", "training.device")


def trained_of(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """The experiment (its JSON) that the trial with user attrs ``attrs`` (or a
    :func:`~.study.trial_dict`, which keeps it once read) trained: kept with the trial,
    else read from its run's experiment.json; None when neither is there."""
    kept = attrs.get(TRAINED)
    if isinstance(kept, dict):
        return kept
    run_dir = attrs.get("run_dir")
    if not run_dir:
        return None
    try:
        data = json.loads((Path(run_dir) / "experiment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if "number" in attrs:  # a trial_dict: read once
        attrs[TRAINED] = data
    return data


def as_trained(experiment: Experiment, trial: dict[str, Any],
               kept: Iterable[str] = ()) -> Experiment | None:
    """``experiment`` with every setting ``trial`` (a :func:`~.study.trial_dict`) trained,
    its searched values among them, but :data:`KEPT`'s, ``kept``'s (dotted paths the user
    typed, ``--set``; :func:`_keep`) and, when the trial's network had other layer types,
    the network. None when what it trained is unknown or unreadable."""
    trained = trained_of(trial)
    if trained is None:
        return None
    try:
        run = Experiment.from_dict(trained).to_dict()
        now = experiment.to_dict()
        if _types(run) != _types(now):  # another network (applied anyway): the open one
            run["model"] = now["model"]
        for path in (*KEPT, *kept):
            _keep(path, now, run)
        from workbench.core.tune.space import apply_params

        return apply_params(Experiment.from_dict(run), trial.get("params") or {})
    except (WorkbenchError, LookupError, TypeError):
        return None


def _keep(path: str, src: Any, dst: Any) -> None:
    """Copy the dotted ``path``'s value (``model.layers[3].params.p``) from ``src`` to
    ``dst``; for a component's type, or a parameter of a component of another type in
    ``dst`` (a momentum kept is an SGD's), the whole component."""
    from workbench.core.tune.paths import _split

    keys = _split(path, path)
    for key in keys[:-1]:
        if key == "params" and src.get("type") != dst.get("type"):
            break  # at the component, of another type in dst
        src, dst = src[key], dst[key]
    else:
        if not (keys[-1] == "type" and "params" in src):  # not a component's type
            dst[keys[-1]] = copy.deepcopy(src[keys[-1]])
            return
    dst.clear()
    dst.update(copy.deepcopy(src))


def trial_settings(experiment: Experiment, trial: dict[str, Any], kept: Iterable[str] = ()
                   ) -> tuple[Experiment, Experiment | None, list[str]]:
    """``(searched, trained, differences)``: ``experiment`` with ``trial``'s searched values
    (:func:`~.space.apply_params`, SpecError when they do not fit); with every setting the
    trial trained but ``kept``'s, those it did not search (:func:`as_trained`; None when
    unknown, or no other setting differs); and what it writes over ``searched``, one line
    per tab (``"Train tab: optimizer Adam (was SGD)"``: :func:`differences`)."""
    from workbench.core.tune.space import apply_params

    params = dict(trial.get("params") or {})
    searched = apply_params(experiment, params)
    trained = as_trained(experiment, trial, [p for p in kept if p not in params])
    lines = differences(trained, searched, params) if trained is not None else []
    return searched, (trained if lines else None), lines


def differences(written: Experiment, other: Experiment, params: Iterable[str] = (),
                before: str = "was") -> list[str]:
    """How ``written`` differs from ``other``, but in the paths ``params``, one line per
    tab, ``written``'s value first and ``other``'s after ``before``: ``"Train tab:
    optimizer Adam (was SGD)"``; ``before="the trial's"`` for the settings not written."""
    from workbench.core.runs.unused import unused_settings

    return [line.replace(" (the run's ", f" ({before} ")  # unused_settings' words
            for line in unused_settings(other, written, params)]


def trained_epochs(trial: dict[str, Any]) -> int | None:
    """The epochs ``trial`` was to train (its experiment's), None when unknown."""
    trained = trained_of(trial)
    epochs = (trained.get("training") or {}).get("epochs") if isinstance(trained, dict) \
        else None
    return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None


def epochs_note(experiment: Experiment, trial: dict[str, Any]) -> str:
    """``"trial 3 trained 2 epochs; the experiment trains 10"`` when they differ (Start then
    does not repeat the trial), else ``""``."""
    epochs = trained_epochs(trial)
    now = experiment.training.epochs
    if epochs is None or epochs == now:
        return ""
    return (f"trial {trial.get('number')} trained {epochs} epoch{'' if epochs == 1 else 's'}; "
            f"the experiment trains {now}")


def _types(exp: dict[str, Any]) -> list[Any]:
    return [layer.get("type") if isinstance(layer, dict) else layer
            for layer in (exp.get("model") or {}).get("layers") or []]


def trained_value(trial: dict[str, Any], path: str) -> Any:
    """The value of the dotted ``path`` (``optimizer.type``) in the experiment ``trial``
    trained; None when unknown (no such field, or what it trained is not known)."""
    from workbench.core.tune.paths import _split

    node: Any = trained_of(trial)
    try:
        for key in _split(path, path):
            node = node[key]
    except (WorkbenchError, LookupError, TypeError):
        return None
    return None if isinstance(node, (dict, list)) else node
