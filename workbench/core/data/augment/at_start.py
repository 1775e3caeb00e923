"""The Augment tab's label hints as a run says them when it starts.

A flip of left/right arrows (or of b/d letters) trains without an error and teaches the
network that one class is the other. The Augment tab says so
(:func:`~workbench.core.data.augment.hints.label_hints`, with a one-click fix); a learner
who never opened it should hear it as the run starts too: ``workbench train`` prints
:func:`starting_hint_warnings` as ``warning:`` lines with a paste-able ``--set``, and the
Train tab's run line names :func:`run_hints`' first hint with the button of
:func:`offered_fix`. The hints are judged from the class names and the dataset folder's
name, as the training doctor judges them (no image is read). A step that stops training
on the dataset's images (a RandomCrop larger than them: :func:`stopping_hints`, judged
from their typical size) is said the same way by ``train`` and ``check --experiment``
(whose ``--strict`` then fails), and keeps the Train tab's Start disabled. Torch-free
apart from the transform registry the hints look defaults up in.
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


def may_stop(experiment: Any) -> bool:
    """Whether a step of ``experiment``'s training list may stop training on an image too
    small for it: a RandomCrop without pad_if_needed, or padded by a reflection. Only then
    are the images' sizes worth reading for :func:`stopping_hints`."""
    from workbench.core.data.augment.hints import _spec

    try:
        steps = [_spec(t) for t in experiment.augment.transforms]
    except Exception:  # noqa: BLE001  (the Augment tab says what is wrong with the list)
        return False
    return any(name == "RandomCrop" and (not p.get("pad_if_needed") or p.get(
        "padding_mode") in ("reflect", "symmetric")) for name, p in steps)


def stopping_hints(experiment: Any, image_size: Sequence[int] | None) -> list[Hint]:
    """The Augment tab's hints on a step that stops training with an error on images of
    ``image_size`` (the dataset's typical (height, width),
    :func:`~.pipeline_hints.typical_image_size`): a RandomCrop larger than them, or padding
    them by a reflection wider than they are (:attr:`~.fixes.Hint.stops`). Empty when
    none, or with no size; never raises."""
    if not image_size or not may_stop(experiment):
        return []
    try:
        from workbench.core.data.augment.pipeline_hints import pipeline_hints

        data = experiment.data
        return [h for h in pipeline_hints(list(experiment.augment.transforms), image_size,
                                          data.input_size, data.mean, data.std,
                                          data.channels) if h.stops]
    except Exception:  # noqa: BLE001
        _log.exception("the pipeline hints failed on the experiment")
        return []


def index_stopping_hints(experiment: Any, index: Any) -> list[Hint]:
    """:func:`stopping_hints` on the typical size of the scanned dataset ``index``'s
    images, whose headers are read only when a step :func:`may_stop` training."""
    if index is None or not may_stop(experiment):
        return []
    from workbench.core.data.augment.pipeline_hints import typical_image_size

    return stopping_hints(experiment, typical_image_size(index))


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


def starting_hints(experiment: Any, classes: Sequence[str], index: Any = None) -> list[Hint]:
    """The hints a run starts with: those on a step that stops training on the images of
    the scanned dataset ``index`` (:func:`index_stopping_hints`; None: not judged; each
    :attr:`~.fixes.Hint.stops`), then the label hints (:func:`run_hints`)."""
    return index_stopping_hints(experiment, index) + run_hints(experiment, classes)


def hint_warnings(experiment: Any, hints: Sequence[Hint]) -> list[str]:
    """``hints`` as lines ``workbench train`` prints (``warning:``) before its first epoch,
    each fix with its ``--set 'augment.transforms=[...]'`` (shell-quoted); one option for
    all of them when there are several (two ``--set`` of the same list would override each
    other). Empty when there is no hint."""
    from workbench.core.overrides import set_option

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


def starting_hint_warnings(experiment: Any, classes: Sequence[str],
                           index: Any = None) -> list[str]:
    """:func:`starting_hints` as :func:`hint_warnings` words them. Empty when there is no
    hint."""
    return hint_warnings(experiment, starting_hints(experiment, classes, index))


__all__ = ["as_specs", "fixed_transforms", "hint_warnings", "index_stopping_hints", "may_stop",
           "offered_fix", "run_hints", "starting_hint_warnings", "starting_hints",
           "stopping_hints"]
