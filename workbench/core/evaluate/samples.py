"""Which images an evaluation measures (:func:`labelled_samples`), with their labels in the
bundle's class order: every image of a dataset, its validation split as training made it,
or its test part.

The test part is less the images ``data.exclude`` names: the bundle's run's and, given the
experiment open in the app (``current``), those excluded there since the model was
trained (a test/ copy of a training image found by the Health view after the run, which
says "Excluded … from evaluation on the test part": scoring it would count an image the
model may have learned from), with a note naming them. A test part left with no image to
evaluate (every image excluded, or a test/ of empty class folders) is evaluated as
``"auto"`` on the validation split instead, said in a note; asked for by name, it is
refused saying which.
"""

from __future__ import annotations

import os
from typing import Any

from workbench.core.errors import DataError

#: At most this many images excluded since training are named in a note (then "and N more").
SHOWN_NAMES = 3


def labelled_samples(bundle: Any, folder: str | os.PathLike | None = None,
                     split: str = "all", notes: list | None = None, current: Any = None
                     ) -> tuple[list[tuple[str, int]], str, str]:
    """The images to evaluate and their labels in the *bundle's* class order.

    Parameters
    ----------
    bundle
        The loaded bundle.
    folder
        A labelled dataset (folder or ``.csv``); ``None`` means the one the bundle was
        trained on (its experiment's ``data.folder``, or the demo dataset when empty).
    split
        ``"all"``: every image (every part of a ``train/`` + ``val/`` + ``test/`` folder);
        ``"val"``: the validation split exactly as training made it (same settings, same
        seed; from the record of the run's split the bundle carries, or its run folder's
        ``split.json``, so it stays the run's after images were added or removed, said in
        ``notes``; without either, recomputed, said too); ``"test"``: its ``test/`` part,
        less what ``data.exclude`` names; ``"auto"``: ``"test"`` where it has one with
        images to evaluate, else ``"val"`` (the module docstring).
    notes
        Gets the notes a user should hear (:func:`.overlap.said_of` words the last): a
        class folder matched to the model's class though its accents are encoded
        differently (:func:`.known_classes.model_labels`), among others.
    current
        The ``data`` section of the experiment open in the app: where its ``folder`` is
        the dataset evaluated, the test part also leaves out what its ``data.exclude``
        names (the module docstring). None: the bundle's exclusions only.

    Returns
    -------
    (samples, source, split)
        ``(path, label)`` pairs, the dataset path and the split evaluated (``"auto"``
        resolved).

    Raises
    ------
    DataError
        When the dataset is missing or has no images, when it has a class the model does
        not know (naming the model's classes spelled most like it), or when
        ``split="val"`` or ``"test"`` gives no images (saying why).
    """
    from workbench.core.data.scan import scan_folder
    from workbench.core.evaluate.known_classes import model_labels
    from workbench.core.evaluate.split_notes import validation_split

    exp = bundle.experiment
    own = folder is None
    if own:
        from workbench.core.data.demo import dataset_folder

        folder = dataset_folder(exp.data.folder)
    try:
        index = scan_folder(folder)
    except DataError as e:
        if own:
            raise DataError(f"{e} (it is the dataset the bundle was trained on; give the "
                            f"dataset to evaluate on instead)") from None
        raise
    remap = model_labels(index, bundle.classes, notes)  # accents encoded as a Mac does too
    said: list = []
    if split in ("auto", "test") and index.test_samples is not None:
        samples, why = _test_part(index, exp.data, current, said)
        if not samples and split == "test":
            todo = "include some again" if index.test_samples else "put images in it"
            raise DataError(f"{index.root} has no test image to evaluate ({why}): {todo}, "
                            f"or evaluate its validation split instead")
        if not samples:
            said = [f"{index.root} has no test image to evaluate ({why}): evaluated on its "
                    f"validation split instead"]
        split = "test" if samples else "val"
    elif split == "test":
        raise DataError(f"{index.root} has no test part (a test/ folder beside train/): "
                        f"evaluate its validation split instead")
    elif split == "auto":
        split = "val"
    if split == "val":
        # The split the run recorded (and kept on resumes), so images added to the folder
        # since do not move trained-on images into it; recomputed, said, without a record.
        samples, more = validation_split(index, exp.data, bundle)  # and what changed
        said += more
        if not samples and (index.samples or index.val_samples):
            raise DataError(f"the experiment holds out no validation images from "
                            f"{index.root} (data.val_fraction is 0): evaluate all of it, "
                            f"or give another dataset")
    elif split == "all":
        samples = list(index.samples) + list(index.val_samples or []) + \
            list(index.test_samples or [])
        if samples:  # images it learned from: said once evaluated
            from workbench.core.evaluate.overlap import TrainedOnNote

            said.append(TrainedOnNote(bundle, index, None if own else str(folder)))
    if notes is not None:
        notes += said
    if not samples:
        raise DataError(f"{index.root} holds no labelled images: give a folder with one "
                        f"sub-folder of images per class (named like the model's classes), "
                        f"or a .csv file of path,label rows")
    return [(p, remap[label]) for p, label in samples], index.root, split


def _test_part(index: Any, data: Any, current: Any, notes: list
               ) -> tuple[list[tuple[str, int]], str]:
    """The test part of ``index`` to evaluate (less what the bundle's ``data.exclude`` and,
    on the same folder, ``current``'s name), and why it is empty when it is ("" else)."""
    from workbench.core.data.split import relative_path
    from workbench.core.data.usage import excluded_images, test_part

    test = list(index.test_samples)
    if not test:
        return [], f"its {index.part_name('test')} folder holds no images"
    samples = test_part(index, data, notes) or []  # as run.json counts it
    since = [e for e in getattr(current, "exclude", None) or ()
             if e not in set(data.exclude or ())]
    folder = str(getattr(current, "folder", "") or "")
    if since and folder and _real(folder) == _real(index.root):
        drop = excluded_images(index, since)
        gone = [relative_path(index, p) for p, _ in samples if p in drop]
        samples = [s for s in samples if s[0] not in drop]
        if gone:
            n, more = len(gone), len(gone) - SHOWN_NAMES
            notes.append(f"{n} test image{'s' if n != 1 else ''} excluded (data.exclude) "
                         f"since the model was trained {'are' if n != 1 else 'is'} left out "
                         f"too: " + ", ".join(gone[:SHOWN_NAMES])
                         + (f" and {more} more" if more > 0 else ""))
    why = "" if samples else (f"data.exclude leaves out all {len(test)} of its "
                              f"{index.part_name('test')} images")
    return samples, why


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(os.path.expanduser(path)))
