"""The Augment tab's label hints as a run says them when it starts.

A flip of left/right arrows (or of b/d letters) trains without an error and teaches the
network that one class is the other. The Augment tab says so
(:func:`~workbench.core.data.augment.hints.label_hints`, with a one-click fix); a learner
who never opened it should hear it as the run starts too: ``workbench train`` prints
:func:`starting_hint_warnings` as ``warning:`` lines with a paste-able ``--set``, and the
Train tab's run line names :func:`run_hints`' first hint with the button of
:func:`offered_fix`. The hints are judged from the class names and the dataset folder's
name, as the training doctor judges them (no image is read). Torch-free apart from the
transform registry the hints look defaults up in.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from workbench.core.data.augment.fixes import Fix, Hint, apply_fix, offered_fixes

_log = logging.getLogger(__name__)


def run_hints(experiment: Any, classes: Sequence[str]) -> list[Hint]:
    """The label hints on ``experiment``'s training transforms for a dataset of
    ``classes`` (its folder's name counting too): the Augment tab's, without the class
    colours it reads from images. Empty when none; never raises (a hint never stops a
    run)."""
    if not classes:
        return []
    try:
        from workbench.core.data.augment.hints import label_hints

        return label_hints([str(c) for c in classes], list(experiment.augment.transforms),
                           folder=str(experiment.data.folder or ""))
    except Exception:  # noqa: BLE001
        _log.exception("the augmentation hints failed on the experiment")
        return []


def offered_fix(hints: Sequence[Hint]) -> Fix | None:
    """The first hint's one-click fix as the Augment tab's button offers it (every flip
    removed by one "Remove the flips"); None when it has none."""
    first = next((h.fix for h in hints if h.fix is not None), None)
    if first is None:
        return None
    key = first.key or first.label
    return next((f for f in offered_fixes(hints) if (f.key or f.label) == key), first)


def as_specs(transforms: Sequence[Any]) -> list[dict]:
    """``transforms`` (Components or ``{"type", "params"}`` dicts) as the experiment file
    writes them: the value of ``augment.transforms``."""
    out = []
    for t in transforms:
        if isinstance(t, dict):
            out.append({"type": t.get("type"), "params": dict(t.get("params") or {})})
        else:
            out.append({"type": t.type, "params": dict(t.params or {})})
    return out


def fixed_transforms(transforms: Sequence[Any], fixes: Sequence[Fix]) -> list[dict]:
    """``transforms`` with every one of ``fixes`` made (at once: their steps are numbered
    in ``transforms``, which a removal would renumber), as :func:`as_specs` writes them."""
    edits = tuple(sorted((e for f in fixes for e in f.edits), key=lambda e: e.index))
    return as_specs(apply_fix(list(transforms), Fix("", edits)))


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


def starting_hint_warnings(experiment: Any, classes: Sequence[str]) -> list[str]:
    """The label hints as lines ``workbench train`` prints (``warning:``) before its first
    epoch, each fix with its ``--set 'augment.transforms=[...]'`` (shell-quoted); one
    option for all of them when there are several (two ``--set`` of the same list would
    override each other). Empty when there is no hint."""
    from workbench.core.overrides import set_option

    hints = run_hints(experiment, classes)
    if not hints:
        return []
    fixes = offered_fixes(hints)
    texts = [h.text for h in hints]
    if not fixes:
        return texts
    option = set_option("augment.transforms",
                        fixed_transforms(list(experiment.augment.transforms), fixes))
    what = " and ".join(_lower(f.label) for f in fixes)
    if len(hints) == 1:
        return [f"{texts[0]} Fix: {what}, on the command line {option}."]
    return texts + [f"Fix for the {len(hints)} augmentation warnings above: {what}, "
                    f"on the command line {option}."]


__all__ = ["as_specs", "fixed_transforms", "offered_fix", "run_hints",
           "starting_hint_warnings"]
