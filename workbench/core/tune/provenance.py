"""Which experiment a study searched: a mark kept with the study, so its best trial is not
applied to another experiment unnoticed (another dataset or another network, where the same
field may mean something else, or not exist), and another experiment's trials are not added
to it (a pruner would judge them against trials they are not comparable with).

:func:`experiment_mark` is what a study records when it is created (the Optuna study's
``experiment`` user attribute); :func:`mark_differences` says, in words, how an experiment
differs from a recorded mark; :func:`claim` stamps a study or refuses it another experiment
(:class:`OtherExperimentError`). The searched fields themselves (a learning rate, a width)
are not part of the mark: applying the best trial changes exactly those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

#: The study's user attribute holding the mark.
ATTR = "experiment"


def experiment_mark(experiment: Any) -> dict[str, Any]:
    """``{"name", "data", "layers"}``: the experiment's name, its dataset folder (as given)
    and its network's layer types, in order."""
    folder = getattr(getattr(experiment, "data", None), "folder", "") or ""
    layers = list(getattr(getattr(experiment, "model", None), "layers", []) or [])
    return {"name": str(getattr(experiment, "name", "") or ""), "data": str(folder),
            "layers": [str(getattr(layer, "type", layer)) for layer in layers]}


def mark_differences(mark: Any, experiment: Any) -> list[str]:
    """How ``experiment`` differs from a study's ``mark`` (another dataset, another network),
    in words; empty when it is the same (or the mark is missing: a study from before marks
    were kept)."""
    if not isinstance(mark, dict):
        return []
    now = experiment_mark(experiment)
    out = []
    if mark.get("data") is not None and _folder(mark["data"]) != _folder(now["data"]):
        out.append(f"its dataset was {mark['data'] or '(none)'}, this one's is "
                   f"{now['data'] or '(none)'}")
    if isinstance(mark.get("layers"), list) and mark["layers"] != now["layers"]:
        out.append(f"its network had {len(mark['layers'])} layers "
                   f"({_short(mark['layers'])}), this one has {len(now['layers'])} "
                   f"({_short(now['layers'])})")
    return out


class OtherExperimentError(WorkbenchError):
    """Study ``study`` searched another experiment (named ``searched``, "" when unknown)
    than the one it is continued with: ``differences``, in words."""

    def __init__(self, study: str, searched: str, differences: list[str]):
        self.study, self.searched, self.differences = study, searched, list(differences)
        super().__init__(f"{searched_text(study, searched)}, not this one: "
                         f"{'; '.join(differences)}; their trials are not comparable: give "
                         f"another study name (--study, or the Tune tab's Study name)")


def searched_text(study: str, searched: str) -> str:
    """``study st1 searched experiment "seed-cnn"`` (or "another experiment")."""
    return (f"study {study} searched " + (f'experiment "{searched}"' if searched else
                                          "another experiment"))


def claim(study: Any, experiment: Any, other_experiment: bool = False) -> list[str]:
    """Mark the Optuna ``study`` as searching ``experiment`` when it has no mark yet (a new
    study, or one from before marks were kept); else how ``experiment`` differs from the
    one it searched (:func:`mark_differences`): :class:`OtherExperimentError` unless
    ``other_experiment``, which returns them."""
    mark = study.user_attrs.get(ATTR)
    if mark is None:
        study.set_user_attr(ATTR, experiment_mark(experiment))
        return []
    differences = mark_differences(mark, experiment)
    if differences and not other_experiment:
        raise OtherExperimentError(study.study_name, mark_name(mark), differences)
    return differences


def mark_name(mark: Any) -> str:
    """The searched experiment's name as a mark records it ("" when unknown)."""
    return str(mark.get("name") or "") if isinstance(mark, dict) else ""


def _folder(text: str) -> str:
    try:
        return str(Path(text).expanduser().resolve()) if text else ""
    except (OSError, RuntimeError):
        return text


def _short(layers: list[str], most: int = 6) -> str:
    shown = ", ".join(layers[:most])
    return shown + (", …" if len(layers) > most else "")
