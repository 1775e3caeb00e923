"""What is wrong with the data a run is given, said before it trains.

Two classic mistakes train without an error and give numbers that mean little:

- :func:`small_validation`: a validation split of a few images, where one image moves the
  accuracy by many points ("3 validation images: one image moves accuracy by 33 points"),
  the rule (:data:`SMALL_VAL`) the training doctor's caveat uses too
  (:meth:`workbench.core.train.doctor.view.RunView.small_val_caveat`);
  and its zero case, :func:`no_validation`: a validation share (or ``val/`` folder)
  that holds out no image at all (1 image a class), so the accuracy shown is the training
  accuracy and the best epoch follows the training loss;
- :func:`dataset_part`: the folder given is itself the ``test/`` (or ``val/``) part of a
  dataset with parts (its parent has ``train/`` beside it,
  :func:`~workbench.core.data.layouts.find_splits`), so the run trains on the images kept
  to measure the model.

:func:`data_warnings` gives both for a scanned dataset and an experiment's ``data``: what
``workbench train`` prints as ``warning:`` lines and the Data tab's message says.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

#: Fewer validation images than this make validation accuracy shaky: one image moves it
#: by more than 5 points.
SMALL_VAL = 20

_PART_WORDS = {"test": "test part", "val": "validation part"}


def is_small_validation(n: int) -> bool:
    """Whether ``n`` validation images are too few to trust their accuracy (0: none,
    nothing to trust or distrust)."""
    return 0 < n < SMALL_VAL


def one_image_moves(n: int) -> str:
    """``"one image moves accuracy by 33 points"`` for ``n`` (> 0) validation images."""
    return f"one image moves accuracy by {100 / n:.0f} points"


def small_validation(n: int, val_folder: str = "") -> str:
    """A sentence saying that ``n`` validation images are too few for their accuracy to
    mean much, with what to do; ``""`` when they are enough (or there are none).
    ``val_folder``: the dataset's own validation folder (``"val/"``) the images are, where
    more go; ``""``: they are a share held out of the training images."""
    if not is_small_validation(n):
        return ""
    more = (f"add images to {val_folder}" if val_folder else
            "add images, or hold out a larger validation share")
    return (f"only {n} validation image{'s' * (n != 1)}: {one_image_moves(n)}, so the "
            f"validation accuracy says little about how good the model is ({more}; "
            f"{SMALL_VAL} or more make it firmer)")


def no_validation(data: Any, train_counts: list[int], val_folder: str = "") -> str:
    """A sentence saying that a run asked to validate (a validation share above 0, or the
    dataset's own ``val_folder``, ``"val/"``) has no validation image, why, what the run
    measures instead and what to do; ``""`` when none was asked for (a share of 0).
    ``train_counts``: the training images of each class (what a share is held out of)."""
    share = float(getattr(data, "val_fraction", 0) or 0)
    if val_folder:
        why = f"{val_folder} holds no image of the training classes"
        more = f"add images to {val_folder}"
    elif share <= 0:
        return ""
    else:
        n = sum(train_counts)
        why = (f"the validation share {share:g} of {n} training image{'s' * (n != 1)} "
               f"holds out none")
        if getattr(data, "stratified", True) and train_counts and max(train_counts) < 2:
            why += " (each class has a single image, and a class's only image always trains)"
            more = "add images (a class of 2 or more holds one out)"
        else:
            more = "hold out a larger validation share, add images"
        more += ", or give the dataset a val/ folder beside train/"
    return (f"no validation images: {why}. The accuracy shown is then the training "
            f"accuracy, which says nothing about new images, and the best epoch and early "
            f"stopping follow the training loss (a val_* best-epoch metric is refused): "
            f"{more}")


@dataclass(frozen=True)
class DatasetPart:
    """A folder that is one part of a dataset with parts (see :func:`dataset_part`).

    Attributes
    ----------
    folder
        The folder as given (``split/test``).
    part
        ``"test"`` or ``"val"``.
    parent
        The dataset folder to give instead (``split``), written as ``folder`` is
        (relative where it is).
    parts
        The parent's parts: ``{"train": "train", "val": "val" or None, "test": ...}``,
        each by its folder's name.
    """

    folder: str
    part: str
    parent: str
    parts: dict[str, str | None]

    def text(self, give: Callable[[str], str] | None = None) -> str:
        """``"split/test is the test part of the dataset split (it has train/ beside
        it): ... Train on split instead: it trains on train/, validates on val/ and keeps
        test/ for evaluation"``. ``give``: what follows, saying how the parent is given
        where the text is read (``". Fix: ..., on the command line --data split"``)."""
        p = self.parts
        does = [f"trains on {p['train']}/"]
        if p.get("val"):
            does.append(f"validates on {p['val']}/")
        if p.get("test"):
            does.append(f"keeps {p['test']}/ for evaluation")
        uses = ", ".join(does[:-1]) + (" and " if len(does) > 1 else "") + does[-1]
        why = ("it is kept to measure the finished model on images it never saw" if
               self.part == "test" else
               "its images measure the model while it trains")
        return (f"{self.folder} is the {_PART_WORDS[self.part]} of the dataset "
                f"{self.parent} (it has {p['train']}/ beside it): {why}, so training on it "
                f"leaves nothing unseen to judge the model by. Train on {self.parent} "
                f"instead: it {uses}" + (give(self.parent) if give else ""))


def _same(a: str, b: str) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def dataset_part(folder: str) -> DatasetPart | None:
    """The dataset whose ``test/`` or ``val/`` part ``folder`` is, or None.

    ``folder`` counts as a part when its parent (or, for a part in a folder of its own
    name, Kaggle's ``test_set/test_set/``, its grandparent) has parts
    (:func:`~workbench.core.data.layouts.find_splits`: ``train/`` with ``val/`` or
    ``test/`` beside it) and ``folder`` is its test or validation part. A CSV file, a
    dataset without parts and a folder that cannot be read are none. Never raises.
    """
    from workbench.core.data.layouts import find_splits

    if not folder or not os.path.isdir(folder):
        return None
    given = os.path.normpath(folder)
    parent = given
    for _ in range(2):
        parent = os.path.dirname(parent) or (os.pardir if parent in ("", os.curdir)
                                             else os.curdir)
        try:
            splits = find_splits(parent)
        except Exception:  # noqa: BLE001  (a warning: never in the way of a run)
            splits = None
        if not splits:
            continue
        for part in ("test", "val"):
            path = splits.get(part)
            if path and (_same(path, given) or _same(os.path.dirname(path), given)):
                names = {k: _part_folder(parent, v) if v else None
                         for k, v in splits.items()}
                shown = os.path.abspath(parent) if parent in (os.curdir, os.pardir) \
                    else parent
                given_shown = os.path.abspath(folder) if given == os.curdir else folder
                return DatasetPart(given_shown, part, shown, names)
    return None


def _part_folder(parent: str, path: str) -> str:
    """A part's folder as a path under ``parent`` (``test_set/test_set`` for a part in a
    folder of its own name, else its name)."""
    rel = os.path.relpath(path, parent)
    return rel.replace(os.sep, "/")


def data_warnings(index: Any, data: Any, folder: str = "",
                  give: Callable[[str], str] | None = None) -> list[str]:
    """What is wrong with training on ``index`` (scanned from ``folder``, default its root)
    with an experiment's ``data``: the folder is a test or validation part
    (:func:`dataset_part`; ``give`` as for :meth:`DatasetPart.text`), and the validation
    split is small or, asked for, empty (:func:`small_validation`, :func:`no_validation`,
    counted as the run counts it: :func:`~workbench.core.data.usage.usable_split`).
    Sentences without a final full stop; empty when nothing is wrong. Never raises."""
    out = []
    part = dataset_part(folder or str(getattr(index, "root", "") or ""))
    if part is not None:
        out.append(part.text(give))
    try:
        from workbench.core.data.usage import usable_split

        use = usable_split(index, data)
    except Exception:  # noqa: BLE001  (a warning: never in the way of a run)
        use = None
    if use is not None:
        own = getattr(index, "val_samples", None) is not None and \
            bool(getattr(data, "use_folder_split", True))
        val_folder = index.part_name("val") if own else ""
        small = small_validation(len(use.val), val_folder) or ("" if use.val else no_validation(
            data, list(use.per_class(list(index.classes))[0].values()), val_folder))
        if small:
            out.append(small[:1].upper() + small[1:])
    return out


def dataset_warnings(index: Any, data: Any, folder: str = "",
                     give: Callable[[str], str] | None = None) -> list[str]:
    """The scanned dataset ``index``'s own warnings (class names differing only in case, a
    class folder linked to another) and :func:`data_warnings` of training on it with
    ``data`` (``folder``, ``give`` as there), each a sentence: what a run keeps in
    run.json's ``start_warnings``, whichever front end started it."""
    return [f"{w}." for w in [*(getattr(index, "warnings", None) or []),
                              *data_warnings(index, data, folder, give=give)]]


__all__ = ["SMALL_VAL", "DatasetPart", "data_warnings", "dataset_part", "dataset_warnings",
           "is_small_validation", "no_validation", "one_image_moves", "small_validation"]
