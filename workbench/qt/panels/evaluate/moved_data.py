"""A model's own dataset where it is now: the folder open on the Data tab.

"Its validation split" and "its dataset's test part" are of the folder the model was
trained on (its bundle's ``data.folder``). Where that folder is gone (moved or renamed),
:func:`dataset_now` takes the dataset open on the Data tab in its place when it has the
model's classes, as ``workbench evaluate BUNDLE DIR --split val`` does (the run's split
record is matched there by relative path); else it says, in the app's words, what to do.
The Evaluate tab (:mod:`.panel`) and the Runs tab's Report…
(:mod:`workbench.qt.panels.runs.share`) both use it. Training continues on the same
folder the same way (:func:`workbench.core.runs.plan.choose_dataset`).
"""

from __future__ import annotations

import os
from typing import Any


def dataset_now(bundle: str, dataset: Any, again: str) -> tuple[str, str, str]:
    """``(folder, was, problem)`` for evaluating ``bundle`` on its own dataset's parts.

    ``dataset``: the scan open on the Data tab (a
    :class:`~workbench.core.data.index.DatasetIndex`, None before one); ``again``: what
    to press once it is open ("Evaluate"). ``("", "", "")``: the bundle's folder is there
    (or the demo dataset, or it cannot be told: the evaluation says). ``(root, was, "")``:
    the folder ``was`` is gone and ``dataset``, at ``root``, has the model's classes.
    ``("", was, problem)``: it is gone and nothing takes its place; ``problem`` says why
    and what to do.
    """
    from workbench.core.runs.classes import bundle_classes, bundle_data_folder, same_classes
    from workbench.qt.model_classes import class_list

    was = bundle_data_folder(bundle) if bundle else None
    if not was or os.path.exists(os.path.expanduser(was)):
        return "", "", ""
    gone = (f"the dataset folder the model was trained on, {was}, does not exist (moved, "
            f"renamed, or on a drive that is not connected)")
    remedy = f": open it where it is now on the Data tab, then press {again} again"
    classes = bundle_classes(bundle)
    root = str(getattr(dataset, "root", "") or "")
    if not root or not classes or not os.path.exists(root):
        return "", was, gone + remedy
    if not same_classes(classes, list(dataset.classes)):
        return "", was, (f"{gone}, and the dataset open on the Data tab, {root}, has other "
                         f"classes ({class_list(list(dataset.classes))}; the model knows "
                         f"{class_list(classes)}){remedy}")
    return root, was, ""


def moved_note(was: str, root: str, split: str) -> str:
    """The note of an evaluation of the parts of ``root``, the dataset open on the Data
    tab, in place of the model's own folder ``was`` that is gone (``split``: the part
    evaluated, ``"val"`` or ``"test"``)."""
    what = "its test part taken from" if split == "test" else "its validation split " \
                                                              "matched in"
    return (f"the dataset folder it was trained on, {was}, is missing: {what} {root}, "
            f"where the dataset is now (open on the Data tab, with the model's classes)")
