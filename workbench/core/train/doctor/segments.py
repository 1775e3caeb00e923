"""A run's segments for the training doctor: the epochs trained at one set of settings.

A run continued with another learning rate, class weighting or batch size (a doctor's fix
continued, ``workbench resume --lr``) starts a new segment where it resumes; continued with
its own settings (more epochs, another device), it stays one. The checks judge a trend only
within the current segment (:attr:`~.view.RunView.since`), and each kind of finding may be
said again in a new one (:class:`~workbench.core.train.callbacks.doctor.TrainingDoctor`).

:func:`learning_settings` is what counts: the Experiment without what says only how long,
where or how fast a run trains (:data:`NOT_SETTINGS`). The network and its initialisation
are left out too: a run resumes only with the network it was trained with, and the
checkpoint's weights replace any initialisation.
"""

from __future__ import annotations

from typing import Any

#: Dotted paths of the Experiment that do not change how the network learns.
NOT_SETTINGS = (
    "format_version", "name", "model", "init",
    "data.folder", "data.num_workers", "data.cache", "data.cache_budget_mb",
    "training.epochs", "training.device", "training.seed", "training.amp",
    "training.channels_last", "training.deterministic", "training.feature_cache",
    "training.feature_views", "training.monitor", "training.early_stopping",
    "training.patience", "training.min_delta", "training.restore_best")


def learning_settings(experiment: Any) -> dict[str, Any]:
    """``experiment``'s settings that shape learning, as plain values (checkpoint-safe),
    with every component's defaults filled in when they can be (so ``{"lr": 0.001}`` and
    Adam's full parameters compare equal)."""
    try:
        experiment = experiment.copy().validate()
    except Exception:  # noqa: BLE001  (a comparison must never fail a run: compare as is)
        pass
    flat = _flatten(experiment.to_dict())
    return {path: value for path, value in flat.items()
            if not any(path == p or path.startswith(p + ".") for p in NOT_SETTINGS)}


def changed_settings(then: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """The dotted paths whose values differ between two :func:`learning_settings`."""
    return sorted(p for p in set(then) | set(now) if then.get(p) != now.get(p))


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``{"optimizer.params.lr": 0.001}``; lists are kept whole."""
    flat: dict[str, Any] = {}
    for key, value in d.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat
