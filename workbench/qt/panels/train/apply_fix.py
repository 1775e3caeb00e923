"""What a fix sets: :func:`apply_settings` writes a fix's dotted paths into the app's
current Experiment, through its change events, so every tab follows (the Doctor tab's fix
buttons, :mod:`workbench.qt.panels.train.fixes`; the start notes' and the run end's fixes)."""

from __future__ import annotations

import dataclasses
from typing import Any

from workbench.core.events import CurrentExperiment, Evented
from workbench.core.registry import Component

from workbench.qt.panels.train.finding_texts import settings_text


def _section_fields(settings: dict[str, Any]) -> dict[str, set[str | None]]:
    """The Experiment's sections each path changes, with the section's field (None: the
    path names the section itself)."""
    touched: dict[str, set[str | None]] = {}
    for path in settings:
        keys = [k.split("[", 1)[0] for k in path.split(".")]
        touched.setdefault(keys[0], set()).add(keys[1] if len(keys) > 1 else None)
    return touched


def apply_settings(current: CurrentExperiment, settings: dict[str, Any]) -> str:
    """Set each dotted path of ``settings`` in ``current``'s Experiment (the same object);
    returns the change in words.

    The values are checked first, on a copy (:func:`~workbench.core.tune.space.
    apply_params`); then each changed field is written into the current Experiment, whose
    sections announce it (``changed(section, field)``), so every view of it follows, as
    with an edit made on its own tab. Component parameters (``optimizer.params.lr``) are
    written into the component's own dict, which the forms show.

    Raises
    ------
    WorkbenchError
        (SpecError) for a path the Experiment does not have or a value it refuses.
    """
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()  # apply_params validates (the registries need torch)
    from workbench.core.tune.space import apply_params

    exp = current.experiment
    new = apply_params(exp, settings)
    for section, fields in _section_fields(settings).items():
        old, fresh = getattr(exp, section), getattr(new, section)
        if isinstance(old, Component):
            for f in dataclasses.fields(old):
                if f.name != "params":
                    setattr(old, f.name, getattr(fresh, f.name))
            old.params.clear()
            old.params.update(fresh.params)
            exp.announce(section)
        elif isinstance(old, Evented) and None not in fields:
            for name in fields:
                setattr(old, name, getattr(fresh, name))  # announced by the section
        else:
            setattr(exp, section, fresh)  # announced by the Experiment
    return settings_text(settings)
