"""The validation split an evaluation measures, and what it says of it.

"Its validation split" is the split the bundle's run validated on, from the record of it
the bundle carries (or its run folder's ``split.json``): images added to the folder since
go by the record's rule and images removed are gone, as a resumed run has them
(:func:`~workbench.core.data.split_record.resumed_split`). When that changed the
validation images, :func:`validation_split` says so (as ``resume`` does,
:meth:`~workbench.core.data.split_change.SplitChange.note`): the scores are then of a set
the run never validated on, not quite comparable with its own.
"""

from __future__ import annotations

from typing import Any

Samples = list[tuple[str, int]]


def validation_split(index: Any, data: Any, bundle: Any) -> tuple[Samples, list[str]]:
    """``(the validation samples, notes)`` of ``bundle``'s run on ``index`` (``data``: its
    experiment's data section). Notes: the split was recomputed (no record of it), or the
    validation images changed since the run (:func:`change_note`)."""
    from workbench.core.data.split_record import (record_of_bundle, resumed_split,
                                                  split_of_bundle)

    record = record_of_bundle(bundle)
    if record is None:
        _, val, note = split_of_bundle(index, data, bundle)
        return val, [note] if note else []
    _, val, _, change = resumed_split(index, data, record)
    note = change_note(change)
    return val, [note] if note else []


def change_note(change: Any) -> str:
    """What an evaluation of the run's validation split says when the images in it are
    not those the run validated on (a
    :class:`~workbench.core.data.split_change.SplitChange`); "" when they are: a file that
    cannot be read is counted as there, so one is no change (the evaluation counts it
    unreadable)."""
    from workbench.core.data.split_change import images_text

    if not change.val_changed:
        return ""
    parts = []
    if change.added_val:
        parts.append(f"{images_text(change.added_val)} added to validation")
    if change.removed_val:
        parts.append(f"{images_text(change.removed_val)} of validation gone from the folder")
    what = ", ".join(parts) or "other images excluded"  # data.exclude: the count alone
    return (f"the dataset changed since the model was trained ({what}): its validation "
            f"split now holds {images_text(change.val_now)}, {change.kept_val:,} of the "
            f"{change.val_before:,} its run validated on, so these scores are not quite "
            f"comparable with the run's own")
