"""Advice on the optimizer's settings before a run starts: a learning rate far outside what
the chosen optimizer trains at, or a weight decay far above the usual.

The registry (:mod:`workbench.core.train.optim`) refuses what cannot run (a negative rate,
momentum of 1); this module warns about what runs but will very likely fail: Adam at lr 10
diverges within a few batches, and at 1e-8 the weights barely move. Without it the learner
hears of it only from the training doctor, after the run. :func:`optimizer_advice` never
raises: a value the registry would refuse gets no advice (the refusal says it), and a
strange one (a string, ``None``) is simply not judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: Optimizers that divide each step by a running gradient size: every weight moves by
#: about ``lr`` on the first steps, so they train at 1e-5 to 1e-2 and diverge far above.
ADAPTIVE = frozenset({"Adam", "AdamW", "NAdam", "RAdam", "Adamax", "RMSprop", "Adagrad"})
#: Optimizers whose step is ``lr`` times the raw gradient.
SGD_LIKE = frozenset({"SGD"})

#: ``(lowest, highest)`` learning rate each family is left alone at, and the range it
#: usually trains at (said in the message).
_LR_BOUNDS = {"adaptive": (1e-6, 0.05), "sgd": (1e-6, 1.0)}
LR_USUAL = {"adaptive": (1e-5, 1e-2), "sgd": (1e-3, 0.1)}
#: An optimizer of no known family is left alone from its default lr / 1000 to x 100.
_UNKNOWN_SPAN = (1e-3, 100.0)

#: Weight decay from which a warning is given: an L2 penalty (added to the gradient) of
#: 0.1 is hundreds of times the usual 1e-4 to 5e-4; AdamW's decoupled decay usually runs at
#: 0.01 to 0.1, so only its maximum, 1, is flagged.
_L2_DECAY_LIMIT = 0.1
_DECOUPLED_DECAY_LIMIT = 1.0
_DECOUPLED = frozenset({"AdamW"})
_L2_SUGGESTED = 5e-4


@dataclass(frozen=True)
class OptimizerAdvice:
    """One warning about the optimizer's settings, with the value that fixes it.

    Attributes
    ----------
    severity
        Always ``"warning"``: the run may still start.
    param
        The optimizer parameter it is about (``"lr"`` or ``"weight_decay"``).
    value
        The value set now.
    suggested
        The value to use instead (the optimizer's default lr, or a usual value).
    message
        The whole advice: the value, the optimizer, what will happen and what to do.
    """

    severity: str
    param: str
    value: float
    suggested: float
    message: str

    @property
    def fix_label(self) -> str:
        """The one-click fix as a button says it: ``"Use lr 0.001"``."""
        return f"Use {self.param} {fmt(self.suggested)}"


def fmt(value: float) -> str:
    """A rate as a person writes it: ``10``, ``0.001``, ``1e-5`` (not ``1e-05``)."""
    text = f"{value:g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _number(value: Any) -> float | None:
    """``value`` as a finite, non-negative float, or None when it is anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


def family(name: str) -> str:
    """The learning-rate family of optimizer ``name``: ``"adaptive"``, ``"sgd"`` or
    ``"unknown"``."""
    return "adaptive" if name in ADAPTIVE else "sgd" if name in SGD_LIKE else "unknown"


def lr_bounds(name: str, default_lr: float) -> tuple[float, float]:
    """The ``(low, high)`` learning rates outside which optimizer ``name`` gets a warning."""
    kind = family(name)
    if kind in _LR_BOUNDS:
        return _LR_BOUNDS[kind]
    return default_lr * _UNKNOWN_SPAN[0], default_lr * _UNKNOWN_SPAN[1]


def _usual(name: str, default_lr: float) -> str:
    kind = family(name)
    if kind in LR_USUAL:
        low, high = LR_USUAL[kind]
        return f"it usually trains at {fmt(low)} to {fmt(high)}"
    return f"its usual rate is about {fmt(default_lr)}"


def _lr_advice(name: str, lr: float, default_lr: float) -> OptimizerAdvice | None:
    low, high = lr_bounds(name, default_lr)
    usual = _usual(name, default_lr)
    if lr == 0:
        text = (f"lr 0 never changes the weights: the {name} run would learn nothing. Set lr "
                f"to about {fmt(default_lr)} ({usual}).")
    elif lr > high:
        text = (f"lr {fmt(lr)} is very high for {name} ({usual}): training will very likely "
                f"diverge. Lower lr to about {fmt(default_lr)}.")
    elif lr < low:
        text = (f"lr {fmt(lr)} is very low for {name} ({usual}): the weights will barely "
                f"move in the epochs you have. Raise lr to about {fmt(default_lr)}.")
    else:
        return None
    return OptimizerAdvice("warning", "lr", lr, default_lr, text)


def _decay_advice(name: str, decay: float, default: float) -> OptimizerAdvice | None:
    if name in _DECOUPLED:
        if decay < _DECOUPLED_DECAY_LIMIT:
            return None
        text = (f"weight_decay {fmt(decay)} is very large for {name} (0.01 to 0.1 is usual): "
                f"it shrinks the weights faster than they learn. Lower weight_decay to about "
                f"{fmt(default)}.")
        return OptimizerAdvice("warning", "weight_decay", decay, default, text)
    if decay < _L2_DECAY_LIMIT:
        return None
    text = (f"weight_decay {fmt(decay)} is very large for {name}: as an L2 penalty it pulls "
            f"every weight towards zero harder than the data moves it (1e-4 to 5e-4 is usual, "
            f"0 turns it off). Lower weight_decay to about {fmt(_L2_SUGGESTED)}"
            + ("; for strong decay use AdamW instead." if name in ADAPTIVE else "."))
    return OptimizerAdvice("warning", "weight_decay", decay, _L2_SUGGESTED, text)


def optimizer_advice(spec: Any) -> OptimizerAdvice | None:
    """What to change in the optimizer ``spec`` before training, or None.

    Parameters
    ----------
    spec
        The experiment's ``optimizer``: a :class:`~workbench.core.registry.Component`
        naming an entry of :data:`~workbench.core.train.optim.OPTIMIZERS`.

    Returns
    -------
    OptimizerAdvice or None
        A learning rate far outside the optimizer's usual range is advised on first
        (above about 0.05 for Adam-like optimizers, 1 for SGD; below 1e-6 for both; an
        optimizer of no known family from its default lr x 100 and / 1000), then a weight
        decay far above the usual. None when nothing is worth saying, and for anything the
        registry would refuse or that is not a number: this never raises.
    """
    try:
        from workbench.core.train.optim import OPTIMIZERS

        name = getattr(spec, "type", None)
        params = getattr(spec, "params", None)
        if not isinstance(name, str) or name not in OPTIMIZERS:
            return None
        params = params if isinstance(params, dict) else {}
        entry = OPTIMIZERS.get(name)
        declared = {p.name: p for p in entry.params}
        checks = (("lr", _lr_advice), ("weight_decay", _decay_advice))
        for key, advise in checks:
            p = declared.get(key)
            default = _number(p.default) if p is not None else None
            value = _number(params.get(key, p.default)) if p is not None else None
            if value is None or default is None:
                continue
            if (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
                continue  # refused by the registry, in its own words
            advice = advise(name, value, default)
            if advice is not None:
                return advice
    except Exception:  # noqa: BLE001  (advice: never in the way of editing or a run)
        return None
    return None
