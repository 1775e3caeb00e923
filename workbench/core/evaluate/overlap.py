"""Which of the images evaluated the model was trained on.

A model measured on images it learned from scores high whatever it would do on new ones:
:class:`TrainedOnNote` says how many of them there are (a note of the
:class:`~.evaluation.EvaluationResult`, worded once the images evaluated are known),
comparing paths with the split of the bundle's
run: the record of it the bundle carries (or its run folder's ``split.json``), or, for the
bundle's own dataset only, the split its experiment makes. Once the bundle's dataset is no
longer where it was trained (copied to another machine, moved), a folder holding the
recorded images is recognised by their paths relative to it; so is a copy of it while the
original is still there. A folder reached through a symbolic link is the folder it links to.
"""

from __future__ import annotations

import os
from typing import Any


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _same_folder(a: str, b: str) -> bool:
    """Whether the folders ``a`` and ``b`` are one, links followed (``link_data -> data``)."""
    def real(path: str) -> str:
        return os.path.normcase(os.path.realpath(os.path.expanduser(path)))
    return real(a) == real(b)


def _dataset_root(folder: str) -> str | None:
    """The folder a dataset's split record is relative to (None: not a plain folder)."""
    from workbench.core.data.layouts import unwrap

    folder = os.path.expanduser(folder)
    if folder.lower().endswith((".csv", ".tsv")) and os.path.isfile(folder):
        return os.path.dirname(os.path.abspath(folder))
    if not os.path.isdir(folder):
        return None
    try:
        return os.path.abspath(unwrap(folder)[0])
    except Exception:  # noqa: BLE001  (an unreadable folder: nothing to compare with)
        return None


def trained_set(bundle: Any, index: Any, folder: str | None) -> tuple[set[str], bool]:
    """``(the images the model trained on, as comparison keys, whether that is recomputed)``.

    ``folder`` is the dataset evaluated as given (None: the bundle's own); ``index`` its
    scan. Without a record of the run's split, only the bundle's own dataset is compared
    (with the split its experiment makes today); another folder then has none.
    """
    from workbench.core.data.split_record import record_of_bundle, split_of_bundle

    own_folder = bundle.experiment.data.folder
    same = folder is None or (bool(own_folder) and _same_folder(str(folder), own_folder))
    if same:
        train, _, note = split_of_bundle(index, bundle.experiment.data, bundle)
        trained = {_key(p) for p, _ in train}
        recomputed = bool(note)
    else:
        record = record_of_bundle(bundle)
        if record is None:
            return set(), False
        root = _dataset_root(own_folder) if own_folder else None
        # Is ``folder`` the dataset moved or copied (another machine), by its paths?
        trained = _moved_here(record, index)
        if root is not None:  # (or a part of the dataset where it was trained)
            trained |= {_key(os.path.join(root, r)) for r in record.train - record.missing}
        recomputed = False
    return trained, recomputed


def _moved_here(record: Any, index: Any) -> set[str]:
    """The keys of ``index``'s images the run of ``record`` trained on, matched by their
    paths relative to the dataset's folder, when ``index`` is the recorded dataset moved
    elsewhere: at least half of the images recorded are there, under the same class
    folders and names (an empty set otherwise, as for any other dataset)."""
    from workbench.core.data.split_record import relative_paths

    recorded = (record.train | record.val) - record.missing
    if index is None or not recorded:
        return set()
    paths = [p for part in (index.samples, index.val_samples, index.test_samples)
             for p, _ in (part or ())]
    rel = relative_paths(index, paths)
    if 2 * sum(1 for r in rel.values() if r in recorded) < len(recorded):
        return set()
    train = record.train - record.missing
    return {_key(p) for p, r in rel.items() if r in train}


def _note(n: int, total: int, recomputed: bool, has_test: bool) -> str:
    if not n:
        return ""
    share = f"all {total:,} of these images are" if n == total else \
        f"{n:,} of these {total:,} images are"
    how = (" (by the split its experiment makes: the bundle carries no record of its run's)"
           if recomputed else "")
    instead = "its validation split" + (" or its test part" if has_test else "")
    return (f"{share} images this model was trained on{how}: its accuracy on them says "
            f"little about new images; evaluate {instead} instead")


class TrainedOnNote:
    """The trained-on note of an evaluation, worded once the images evaluated are known
    (:func:`said_of`): a file that cannot be read is not one of them, so "55 of these 69
    images" would count files the model never measured."""

    def __init__(self, bundle: Any, index: Any, folder: str | None) -> None:
        self.trained, self.recomputed = trained_set(bundle, index, folder)
        self.has_test = bool(getattr(index, "test_samples", None))

    def text(self, paths: list[str]) -> str:
        """The note for the images ``paths`` evaluated ("" when none was trained on)."""
        n = sum(1 for p in paths if _key(p) in self.trained)
        return _note(n, len(paths), self.recomputed, self.has_test)


def said_of(notes: list[Any], paths: list[str]) -> list[str]:
    """``notes`` as an evaluation of the images ``paths`` says them: each
    :class:`TrainedOnNote` worded for those images (left out when it says nothing)."""
    out = [n.text(paths) if isinstance(n, TrainedOnNote) else n for n in notes]
    return [n for n in out if n]
