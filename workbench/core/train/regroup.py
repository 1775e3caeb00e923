"""Continuing a run whose Backbone trains otherwise than its checkpoint's: the second stage
of transfer learning (the head trained on a frozen backbone, then the backbone unfrozen and
fine-tuned from there), or the way back, or another ``backbone_lr_scale``.

A Backbone's ``mode`` and ``backbone_lr_scale`` change what trains and at which rate, not
the network's shapes, and its ``weights``/``weights_file`` only where a new run's weights
come from (a continued run's are its checkpoint's): :data:`UNSHAPED`, which
:func:`~workbench.core.train.resume.check_resumable` leaves out of the network it compares.

The continued run's optimizer is built over the parameter groups a fresh run of its
experiment has (the backbone at lr × ``backbone_lr_scale``); :func:`regrouped` maps the
checkpoint's optimizer state onto them. Each parameter trained before keeps its state (the
head's Adam moments, its momentum), one trained only now starts fresh, and a group new to
the run (the backbone's) takes its settings and its schedule's progress from the
checkpoint's main group, at its own scale (:func:`regroup_schedule`). :func:`trainable_notes`
says what changed, as the run starts (and so in run.json's ``start_notes``), and
:func:`taken_from` lets the app's Continue… take the Model tab's Backbone mode.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from workbench.core.experiment import Experiment
from workbench.core.registry import Component

#: Per layer type, the settings that leave the network's shapes as they are: which of its
#: weights train, at which rate, and where a new run's first weights come from.
UNSHAPED = {"Backbone": ("mode", "backbone_lr_scale", "weights", "weights_file")}
#: Of those, the ones a continued run trains by (the others have nothing left to do).
TRAINING = ("mode", "backbone_lr_scale")


def network_of(layers: Iterable[Component]) -> list[dict[str, Any]]:
    """The layers as a checkpoint must match them: every setting but :data:`UNSHAPED`."""
    out = []
    for layer in layers:
        d = layer.to_dict()
        drop = UNSHAPED.get(layer.type, ())
        d["params"] = {k: v for k, v in (d.get("params") or {}).items() if k not in drop}
        out.append(d)
    return out


def training_of(layer: Component) -> tuple[bool, float] | None:
    """``(trained, lr_scale)`` of a layer with :data:`TRAINING` settings, as the Backbone
    built from it has them (``fine_tune``: trained, at ``backbone_lr_scale``;
    ``feature_extraction``: frozen); None for any other layer."""
    if layer.type not in UNSHAPED:
        return None
    params = _filled(layer)
    trained = params.get("mode") != "feature_extraction"
    return trained, float(params.get("backbone_lr_scale", 1.0)) if trained else 1.0


def trainable_notes(then: Sequence[Component], now: Sequence[Component]) -> list[str]:
    """What continuing with the layers ``now`` changes in what trains, from ``then`` (the
    checkpoint's): one note per layer whose :func:`training_of` differs; [] for none."""
    notes = []
    for i, (old, new) in enumerate(zip(then, now)):
        was, will = training_of(old), training_of(new)
        if was is None or will is None or was == will:
            continue
        name = f"the {new.type} (layer {i + 1})"
        if will[0] and not was[0]:
            notes.append(f"{name} is now trained too (mode fine_tune), at lr × {will[1]:g}; "
                         f"its optimizer state starts fresh (the other layers keep theirs), "
                         f"and its features are computed every batch")
        elif was[0] and not will[0]:
            notes.append(f"{name} is frozen now (mode feature_extraction): it keeps the "
                         f"weights it was trained to, and its optimizer state is dropped")
        else:
            notes.append(f"{name} now trains at lr × {will[1]:g} (backbone_lr_scale; it "
                         f"was × {was[1]:g})")
    return notes


def taken_from(run: Experiment, current: Experiment) -> tuple[Experiment, list[str]]:
    """``run`` (the settings a run continues with) with the :data:`TRAINING` settings of
    ``current``'s layers (the app's Model tab), where its layer at that place is the run's
    but for :data:`UNSHAPED`, and the note saying what that changes
    (:func:`trainable_notes`); ``(run, [])`` when nothing is taken."""
    exp = run.copy()
    taken = []
    for i, (old, new) in enumerate(zip(exp.model.layers, current.model.layers)):
        if old.type not in UNSHAPED or network_of([old]) != network_of([new]):
            continue
        was, will = _filled(old), _filled(new)
        for key in TRAINING:
            if key in will and was.get(key) != will[key]:
                old.params[key] = will[key]
                taken.append(f"{old.type} {key} {will[key]} (the run's {was.get(key)})")
    notes = trainable_notes(run.model.layers, exp.model.layers)
    if not taken:
        return run, []
    said = f": {'; '.join(notes)}" if notes else ""
    return exp, [f"the Model tab's {', '.join(taken)} is used{said}"]


def regrouped(model: Any, then: Sequence[Component], now: Sequence[Component],
              saved: dict[str, Any], optimizer: Any, rates: Sequence[str]
              ) -> tuple[dict[str, Any], list[tuple[int, float]] | None]:
    """The checkpoint's optimizer state ``saved``, built over ``model`` as the layers
    ``then`` train it, made to fit ``optimizer``, built over it as ``now`` train it.

    Returns ``(state, sources)``: ``saved`` itself and None when the groups are alike;
    else a state dict whose group ``j`` holds ``optimizer``'s parameters, each with its
    saved state where it had one, and the settings of saved group ``sources[j][0]`` with
    every rate in ``rates`` multiplied by ``sources[j][1]`` (1 for the group of the same
    name; a new group takes the main group's, at its own scale).

    Raises
    ------
    ValueError
        When ``saved`` does not hold the groups ``then`` builds (not this run's state).
    """
    from workbench.core.train.optim import parameter_groups

    if [training_of(c) for c in then] == [training_of(c) for c in now]:
        return saved, None  # the same groups: the state loads as it is
    old = parameter_groups(model, then, 1.0, [training_of(c) for c in then])
    new = parameter_groups(model, now, 1.0, [training_of(c) for c in now])
    groups = optimizer.param_groups
    if [g["name"] for g in new] != [g.get("name") for g in groups] or \
            any(len(a["params"]) != len(b["params"]) for a, b in zip(new, groups)):
        raise ValueError("the optimizer's groups are not the network's")
    if [(g["name"], [id(p) for p in g["params"]]) for g in old] == \
            [(g["name"], [id(p) for p in g["params"]]) for g in groups]:
        return saved, None
    kept = saved["param_groups"]
    if len(kept) != len(old) or any(len(a["params"]) != len(b["params"])
                                    for a, b in zip(old, kept)):
        raise ValueError(f"the saved optimizer has {len(kept)} parameter groups, not the "
                         f"{len(old)} its network trained")
    index = {id(p): i for a, b in zip(old, kept) for p, i in zip(a["params"], b["params"])}
    names = [g["name"] for g in old]
    main = names.index("network") if "network" in names else 0
    state: dict[int, Any] = {}
    out, sources, counted = [], [], 0
    for group, built in zip(groups, new):
        if built["name"] in names:  # the same group: its rates move as set (resume.py)
            source, scale = names.index(built["name"]), 1.0
        else:  # new: the main group's settings and progress, at this group's scale
            base = old[main]["lr"]
            source, scale = main, built["lr"] / base if base else 1.0
        settings = {k: v * scale if k in rates and _number(v) else v
                    for k, v in kept[source].items() if k != "params"}
        settings["name"] = group.get("name")
        settings["params"] = list(range(counted, counted + len(group["params"])))
        for n, p in zip(settings["params"], group["params"]):
            kept_state = saved["state"].get(index.get(id(p), -1))
            if kept_state is not None:  # else: trained only now, its state starts fresh
                state[n] = kept_state
        counted += len(group["params"])
        out.append(settings)
        sources.append((source, scale))
    return {"state": state, "param_groups": out}, sources


def regroup_schedule(schedulers: Iterable[Any], sources: list[tuple[int, float]],
                     count: int) -> None:
    """Give ``schedulers`` (loaded from a checkpoint of ``count`` groups) one entry a
    group in each list they keep per group, as :func:`regrouped`'s ``sources`` say: the
    rates scaled (``base_lrs``, the last rates), a floor (ReduceLROnPlateau's ``min_lrs``,
    the same for every group) as it is."""
    for scheduler in schedulers:
        for name in ("base_lrs", "_last_lr", "min_lrs"):
            values = getattr(scheduler, name, None)
            if isinstance(values, list) and len(values) == count:
                setattr(scheduler, name, [values[s] * (1.0 if name == "min_lrs" else k)
                                          for s, k in sources])


def _filled(layer: Component) -> dict[str, Any]:
    """``layer``'s settings with their defaults filled (as written when not valid)."""
    from workbench.core.model.layers import LAYERS

    try:
        return LAYERS.get(layer.type).validate(dict(layer.params))
    except Exception:  # noqa: BLE001  (an invalid layer is refused elsewhere)
        return dict(layer.params)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
