"""The model doctor: finds mistakes in a network that train badly rather than fail.

A network that does not fit together is reported by :func:`~.builder.infer_shapes`. The
mistakes here are quieter: the network builds and trains, but slowly, badly or not at all
(a Softmax before CrossEntropyLoss, two Linear layers with nothing between them, zero
initial weights...). :func:`diagnose` runs every check of :data:`~.doctor_checks.CHECKS`
and returns :class:`~.findings.Finding` objects a learner can read, most with a one-click
:class:`~.findings.Fix`. This module holds :func:`diagnose`; the checks live
in :mod:`.doctor_checks`, and what they share (the finding types, the context they read, the
layer-type name sets) in :mod:`.findings`.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from workbench.core.experiment import Experiment
from workbench.core.model.builder import NetworkSummary, infer_shapes
from workbench.core.model.doctor_checks import CHECKS
from workbench.core.model.findings import Check, Context, Finding, Fix
from workbench.core.overrides import set_options

_log = logging.getLogger(__name__)


def misfit_finding(summary: NetworkSummary | None) -> Finding | None:
    """The finding for ``summary``'s misfit (the builder's message names the layer and
    what to change), or None when every layer fits: the doctor's first row while a card
    is red, so the two never disagree."""
    error = getattr(summary, "error", None)
    if not error:
        return None
    layer = summary.error_index
    where = f"layer {layer + 1}" if isinstance(layer, int) else "the network"
    return Finding("does-not-fit", "error", layer, str(error),
                   f"The network cannot be built, so it cannot train, until {where} fits: "
                   f"its card is red and says the same. Change what the message says; "
                   f"Ctrl+Z undoes the edit that broke it.")


def _context(experiment: Experiment, num_classes: int,
             summary: NetworkSummary | None) -> Context:
    layers = getattr(getattr(experiment, "model", None), "layers", None)
    layers = list(layers) if isinstance(layers, (list, tuple)) else []
    types = [t if isinstance(t := getattr(c, "type", None), str) else "" for c in layers]
    if summary is None:
        try:
            data = experiment.data
            shape = (int(data.channels), *(int(n) for n in data.input_size))
            summary = infer_shapes(layers, shape, int(num_classes))
        except Exception:  # a malformed data section: the shape checks are skipped
            summary = None
    return Context(experiment, layers, types, num_classes, summary)


def _order(f: Finding) -> tuple[int, int]:
    return (-1 if f.layer is None else f.layer, 0 if f.severity == "warning" else 1)


def diagnose(experiment: Experiment, num_classes: int,
             summary: NetworkSummary | None = None,
             checks: Sequence[Check] | None = None) -> list[Finding]:
    """Look the experiment's network over for mistakes that make it train badly.

    Parameters
    ----------
    experiment
        The experiment; its layers, loss, init and batch size are read, never changed.
    num_classes
        Number of classes of the dataset.
    summary
        The network's :func:`~.builder.infer_shapes` summary, when the caller has one;
        computed here when ``None``.
    checks
        The checks to run; :data:`~.doctor_checks.CHECKS` when ``None``.

    Returns
    -------
    list[Finding]
        Network-wide findings first, then by layer; warnings before infos. Never raises,
        whatever the layer list holds: a check that fails is skipped (and logged).
    """
    if checks is None:
        checks = CHECKS
    ctx = _context(experiment, num_classes, summary)
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(check(ctx))
        except Exception:  # a lint must never stand between the learner and the network
            _log.exception("model doctor check %s failed", getattr(check, "__name__", check))
    return sorted(findings, key=_order)


def fix_settings(experiment: Experiment, fix: Fix) -> dict[str, Any]:
    """What ``fix`` changes in ``experiment``, as ``--set`` paths and values
    (``{"model.layers[0].params.mode": "fine_tune"}``): the fix applied to a copy, and the
    two compared. ``{}`` when it changes nothing or cannot be applied."""
    try:
        # Read back first, so that defaults filled in by reading (an optimizer's betas)
        # are not taken for the fix's changes.
        before = Experiment.from_dict(experiment.to_dict()).to_dict()
        copy = Experiment.from_dict(before)
        fix.apply(copy)
        after = copy.to_dict()
    except Exception:  # noqa: BLE001  (advice only: never in the way of a run)
        return {}
    out: dict[str, Any] = {}
    _diff(before, after, "", out)
    return out


def _diff(a: Any, b: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) - set(b) or a.get("type") != b.get("type"):  # a key gone; a new layer
            out[path] = b
            return
        for k in b:
            if k not in a or a[k] != b[k]:
                _diff(a.get(k), b[k], f"{path}.{k}" if path else str(k), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            any(isinstance(v, (dict, list)) for v in a + b):  # values (a mean): set whole
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                _diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out[path] = b


def starting_warnings(experiment: Experiment, num_classes: int) -> list[str]:
    """The Model doctor's warnings about ``experiment``'s network (severity "warning"), as
    lines a run says as it starts (``workbench train`` prints them as ``warning:``): the
    title, why, and the fix as ``--set`` options when it has one. None for a network the
    run refuses (an error: it does not fit, it is too big), whose refusal says it all."""
    return network_check(experiment, num_classes)[1]


def network_check(experiment: Experiment, num_classes: int) -> tuple[bool, list[str]]:
    """``(refused, warnings)``: whether a run refuses ``experiment``'s network (it does not
    fit, or the Model doctor finds an error: what is said before such a run is its refusal
    alone, so ``warnings`` is then empty), and :func:`starting_warnings`' lines, from one
    diagnosis."""
    summary = _context(experiment, num_classes, None).summary
    found = diagnose(experiment, num_classes, summary)
    if misfit_finding(summary) is not None or any(f.severity == "error" for f in found):
        return True, []  # the run refuses the network with that error itself: no advice
    lines, keys = [], []
    for f in found:
        if f.severity != "warning":
            continue
        sets = fix_settings(experiment, f.fix) if f.fix is not None else {}
        option = set_options(sets)  # shell-quoted: a layer list has spaces and quotes
        label = f.fix.label[:1].lower() + f.fix.label[1:] if option else ""
        fix = f" Fix: {label}, on the command line {option}." if option else ""
        lines.append(f"{f.title}. {f.explanation}{fix}")
        keys.extend(sets)
    if len(keys) > len(set(keys)):  # two fixes set one thing: pasted together, one is lost
        both = _all_fixes(experiment, num_classes)
        shared = ", ".join(sorted({k for k in keys if keys.count(k) > 1}))
        if both:
            lines.append(f"The fixes above each set {shared}, so pasting two of them keeps "
                         f"only the last. All of them at once: on the command line "
                         f"{set_options(both)}.")
    return False, lines


def _all_fixes(experiment: Experiment, num_classes: int, most: int = 8) -> dict[str, Any]:
    """The ``--set`` values of every warning's fix applied in turn, each to the network the
    last left (a removal renumbers the layers another fix names), as one edit."""
    try:
        copy = Experiment.from_dict(experiment.to_dict())
        for _ in range(most):
            fix = next((f.fix for f in diagnose(copy, num_classes)
                        if f.severity == "warning" and f.fix is not None
                        and fix_settings(copy, f.fix)), None)
            if fix is None:
                break
            fix.apply(copy)
        # Both read back, as fix_settings compares them: the fixes' changes, not defaults.
        before = Experiment.from_dict(experiment.to_dict()).to_dict()
        after = Experiment.from_dict(copy.to_dict()).to_dict()
        out: dict[str, Any] = {}
        _diff(before, after, "", out)
        return out
    except Exception:  # noqa: BLE001  (advice only: never in the way of a run)
        return {}


__all__ = ["diagnose", "misfit_finding", "fix_settings", "network_check",
           "starting_warnings"]
