"""Every registry in one place, and validating an Experiment against them.

The Experiment (:mod:`workbench.core.experiment`) is plain data and imports no registry;
this module imports every one (transforms, layers, init schemes, optimizers, losses,
schedulers, and the weight-tie rules) and owns :func:`validate`: the check that every
component of an Experiment names a registered entry with valid parameters.

Nothing this module imports may import the experiment module at run time (the registries
use :class:`~workbench.core.registry.Component` from :mod:`workbench.core.registry`, and
``Experiment`` only for type checking): ``Experiment.validate`` imports this module when
called, so that keeps the two free of an import cycle (tests/core/test_architecture.py).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from workbench.core.data.augment.common import per_channel_problem
from workbench.core.data.augment.transforms import TRANSFORMS
from workbench.core.errors import SpecError
from workbench.core.model.init import INITS, validate_layer_init
from workbench.core.model.layers import LAYERS
from workbench.core.model.ties import share_problem
from workbench.core.registry import Component, Registry
from workbench.core.train.optim import LOSSES, OPTIMIZERS
from workbench.core.train.schedules import SCHEDULERS

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

#: Every registry, by the singular noun its messages use.
REGISTRIES: dict[str, Registry] = {"transform": TRANSFORMS, "layer": LAYERS, "init": INITS,
                                   "optimizer": OPTIMIZERS, "loss": LOSSES,
                                   "scheduler": SCHEDULERS}


def validate(experiment: "Experiment") -> "Experiment":
    """Check ``experiment``'s registry names and parameters; fill every component's
    defaults in place.

    Returns
    -------
    Experiment
        ``experiment`` itself.

    Raises
    ------
    SpecError
        Naming the field: an unknown registry name, a bad parameter, a weight tie or a
        layer's own init that does not fit, mean/std lengths that fit neither 1 nor the
        channel count, or an unknown device.
    """
    for i, t in enumerate(experiment.augment.transforms):
        where = f"augment.transforms[{i}]"
        _check_component(t, TRANSFORMS, where)
        check = TRANSFORMS.get(t.type).meta.get("check")
        if check is not None:  # constraints across parameters, e.g. a range given high-low
            try:
                check(t.params)
            except SpecError as e:
                raise SpecError(f"{where}.params.{e.field.split('.')[-1]}", e.problem) \
                    from None
    layers = experiment.model.layers
    for i, layer in enumerate(layers):
        _check_component(layer, LAYERS, f"model.layers[{i}]", extras=True)
    for i, layer in enumerate(layers):  # after the loop above: ties look at later layers
        _check_layer_extras(layers, i)
    _check_component(experiment.init, INITS, "init")
    _check_component(experiment.optimizer, OPTIMIZERS, "optimizer")
    _check_component(experiment.loss, LOSSES, "loss")
    _check_component(experiment.scheduler, SCHEDULERS, "scheduler")
    d = experiment.data
    for name in ("mean", "std"):
        problem = per_channel_problem(getattr(d, name), d.channels)
        if problem:
            raise SpecError(f"data.{name}", problem)
    _declared(d, "balance").validate(d.balance, "data.balance")
    dev = experiment.training.device
    if not (dev in ("auto", "cpu", "cuda", "mps") or
            (dev.startswith("cuda:") and dev[5:].isdigit())):
        raise SpecError("training.device", f"{dev!r} is not a device; use auto, cpu, cuda, "
                                           f"cuda:N or mps")
    return experiment


def _declared(section: Any, name: str) -> Any:
    """The :class:`~workbench.core.registry.Param` a section's field is declared with (read
    off the dataclass, so this module needs no import of the experiment's)."""
    return next(f.metadata["param"] for f in dataclasses.fields(section) if f.name == name)


def _check_component(comp: Component, registry: Registry, where: str,
                     extras: bool = False) -> None:
    if not extras:
        for name in ("init", "share"):
            if getattr(comp, name, None) is not None:
                raise SpecError(f"{where}.{name}", "only layers have their own init or share: "
                                                   "remove it")
    entry = registry.get(comp.type, f"{where}.type")
    comp.params = entry.validate(comp.params, f"{where}.params")


def _check_layer_extras(layers: list[Component], i: int) -> None:
    """Check layer ``i``'s ``share`` and ``init`` (filling the init's defaults in place)."""
    layer, where = layers[i], f"model.layers[{i}]"
    if layer.share is not None:
        problem = share_problem(layers, i)
        if problem:
            raise SpecError(f"{where}.share", problem)
        if layer.init is not None:
            raise SpecError(f"{where}.init", f"layer {i + 1} ({layer.type}) uses layer "
                                             f"{layer.share + 1}'s weights, so it takes that "
                                             f"layer's initialisation: set init on layer "
                                             f"{layer.share + 1} instead, or remove the tie")
    if layer.init is not None:
        layer.init = validate_layer_init(layer.init, f"{where}.init")


__all__ = ["REGISTRIES", "TRANSFORMS", "LAYERS", "INITS", "OPTIMIZERS", "LOSSES", "SCHEDULERS",
           "validate"]
