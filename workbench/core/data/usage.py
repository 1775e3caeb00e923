"""What an experiment uses of a scanned dataset, counted once for everyone who shows it.

:func:`data_use` gives the images a run trains and validates on (the experiment's split,
or the one a resumed run kept: :func:`trainer_split`, less the images ``data.exclude``
names and the files found unreadable), the size of the
test part (:func:`test_part`: less the images ``data.exclude`` names, as evaluation
measures it), and how many images were left out and why. The Data tab's table and total line,
the run's console header (:mod:`workbench.core.train.callbacks.progress`) and its run.json
(:mod:`workbench.core.runs.recorder`) all count with it, so they agree.

:func:`unmatched_excludes` names the ``data.exclude`` entries that match no image (a typo,
a file moved, or exclusions made for another dataset): they exclude nothing.
:func:`excluded_images` names the images the entries match, in every part.

:func:`unvalidated_note` (:func:`validation_note` for an experiment's split) names the
classes that have no image held out for validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

Samples = list[tuple[str, int]]


@dataclass(frozen=True)
class DataUse:
    """The images an experiment's run uses of a dataset (see :func:`data_use`).

    Attributes
    ----------
    train, val
        ``(path, label)`` of the images trained and validated on.
    test
        Images in the dataset's test part (never trained on) that evaluation measures
        (:func:`test_part`), or None without one.
    excluded
        Images that ``data.exclude`` leaves out (of training, validation and the test
        part: :func:`excluded_images`).
    unreadable
        Files left out because they cannot be read (found by a decoding scan, or met and
        skipped by the run).
    excluded_test
        Those of :attr:`excluded` in the test part (left out of evaluation, not training).
    """

    train: Samples
    val: Samples
    test: int | None
    excluded: int
    unreadable: int
    excluded_test: int = 0

    def per_class(self, classes: list[str]) -> tuple[dict[str, int], dict[str, int]]:
        """Images per class in training and in validation (every class named, 0 if none)."""
        train, val = dict.fromkeys(classes, 0), dict.fromkeys(classes, 0)
        for counts, samples in ((train, self.train), (val, self.val)):
            for _, label in samples:
                counts[classes[label]] += 1
        return train, val

    def to_json(self) -> dict[str, int | None]:
        """The counts as run.json records them under ``"data"`` (``"excluded_test"`` with
        a test part only)."""
        return {"train": len(self.train), "val": len(self.val), "test": self.test,
                "excluded": self.excluded, "unreadable": self.unreadable,
                **({"excluded_test": self.excluded_test} if self.test is not None else {})}

    def describe(self) -> str:
        """``"177 for training, 42 for validation; left out: 5 excluded, 3 unreadable"``
        (an excluded test/ image: ``"1 excluded from test/"``)."""
        return describe_counts(self.to_json())


def describe_counts(counts: dict[str, Any]) -> str:
    """A run.json ``"data"`` entry (:meth:`DataUse.to_json`) in words, as the training
    header says it; ``""`` for an entry without counts (a run from before they were kept)."""
    if not isinstance(counts, dict) or "train" not in counts:
        return ""
    val = counts.get("val")
    text = f"{counts['train']:,} for training, {f'{val:,}' if val else 'none'} for validation"
    test = counts.get("excluded_test") or 0  # left out of evaluation, not of training
    out = {"excluded": (counts.get("excluded") or 0) - test, "excluded from test/": test,
           "unreadable": counts.get("unreadable") or 0}
    left = [f"{n:,} {what}" for what, n in out.items() if n]
    if left:
        text += "; left out: " + ", ".join(left)
    if counts.get("test"):
        text += f"; {counts['test']:,} in test/, never trained on"
    return text


def excluded_images(index: Any, exclude: list[str]) -> set[str]:
    """The images of ``index`` that the ``data.exclude`` entries ``exclude`` name: of its
    training and validation parts (:func:`~workbench.core.data.split.excluded_paths`, which
    the split drops) and of its test part (which :func:`test_part` drops)."""
    from workbench.core.data.split import excluded_paths

    if not exclude:
        return set()
    return excluded_paths(index, list(exclude), list(index.samples) +
                          list(index.val_samples or []) +
                          list(getattr(index, "test_samples", None) or []))


def test_part(index: Any, data: Any, notes: list | None = None,
              drop: set[str] | None = None) -> Samples | None:
    """The test part of ``index`` that a model of an experiment whose ``data`` section is
    ``data`` is measured on (``evaluate --split test``, ``report``, the Evaluate tab): its
    ``test_samples`` less the images ``data.exclude`` names (a copy of a training image
    excluded there); None without a test part. ``notes`` gets a note saying how many
    were left out, if any. ``drop``: :func:`excluded_images` of ``data.exclude``, when the
    caller has it already."""
    test = getattr(index, "test_samples", None)
    if test is None:
        return None
    if drop is None:
        drop = excluded_images(index, list(getattr(data, "exclude", None) or []))
    kept = [s for s in test if s[0] not in drop]
    if notes is not None and len(kept) < len(test):
        notes.append(f"the experiment's data.exclude leaves out {len(test) - len(kept)} of "
                     f"the test part's {len(test)} images")
    return kept


def data_use(index: Any, data: Any, skipped: Iterable[str] = (),
             split: tuple[Samples, Samples] | None = None) -> DataUse:
    """What a run of an experiment whose ``data`` section is ``data`` uses of ``index``.

    ``skipped``: paths the run met and could not decode (a scan that did not decode every
    file does not know them): they leave their side and count as unreadable.
    ``split``: the run's own ``(train, val)`` when it has one already (a resumed run keeps
    the split its folder recorded, which a fresh split of a changed folder is not); None:
    the split ``data`` makes of ``index`` today.

    Raises
    ------
    SpecError
        When ``data``'s split settings are invalid (:func:`~.split.split_for`).
    """
    from workbench.core.data.split import split_for

    train, val = split_for(index, data) if split is None else (list(split[0]),
                                                                list(split[1]))
    drop = excluded_images(index, list(getattr(data, "exclude", None) or []))
    unreadable = len(getattr(index, "unreadable", None) or [])  # the scan found
    gone = set(skipped)
    if gone:
        n = len(train) + len(val)
        train = [s for s in train if s[0] not in gone]
        val = [s for s in val if s[0] not in gone]
        unreadable += n - len(train) - len(val)
    test = test_part(index, data, drop=drop)
    return DataUse(train, val, None if test is None else len(test), len(drop), unreadable,
                   len(index.test_samples) - len(test) if test is not None else 0)


def run_counts(index: Any, data: Any, skipped: Iterable[str] = (),
               split: tuple[Samples, Samples] | None = None) -> dict[str, Any] | None:
    """:func:`data_use` as run.json records it (:meth:`DataUse.to_json`); None without a
    dataset (``index`` None) or with split settings the run itself refuses (it says so).
    ``split``: the run's own, as for :func:`data_use` (see :func:`trainer_split`)."""
    from workbench.core.errors import WorkbenchError

    if index is None:
        return None
    try:
        return data_use(index, data, skipped, split).to_json()
    except WorkbenchError:
        return None


def trainer_split(trainer: Any) -> tuple[Samples, Samples] | None:
    """The ``(train, val)`` a trainer's run trains and validates on: a resumed run's is the
    one its folder recorded (kept by its split keeper,
    :mod:`workbench.core.train.callbacks.split_keeper`), not a fresh split of the folder as
    it is now; None before it has one."""
    keeper = getattr(trainer, "split_keeper", None)
    if keeper is None:
        return None
    return list(keeper.train), list(keeper.val)


def unvalidated_note(classes: list[str], train: Samples, val: Samples) -> str | None:
    """A note naming the classes that have training images but none held out for
    validation (a class of one image: a single image always trains), so their validation
    accuracy is not measured; None when every class is validated, or when the run has no
    validation at all (nothing is measured then, and that is no class's doing)."""
    if not val:
        return None
    seen = {label for _, label in val}
    counts: dict[int, int] = {}
    for _, label in train:
        counts[label] = counts.get(label, 0) + 1
    missing = [label for label in sorted(counts) if label not in seen]
    if not missing:
        return None
    if len(missing) == 1:
        name, n = classes[missing[0]], counts[missing[0]]
        if n == 1:
            return (f"class {name!r} has 1 image: a single image always trains, so none is "
                    f"held out for validation and its validation accuracy is not measured")
        return (f"class {name!r} has no image held out for validation (all {n:,} of its "
                f"images train), so its validation accuracy is not measured")
    shown = ", ".join(f"{classes[c]!r} ({counts[c]:,} image{'s' if counts[c] != 1 else ''})"
                      for c in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    why = " (a class of 1 image always trains)" if any(counts[c] == 1 for c in missing) \
        else ""
    return (f"{len(missing)} classes have no image held out for validation: {shown}{more}"
            f"{why}, so their validation accuracy is not measured")


def usable_split(index: Any, data: Any) -> DataUse | None:
    """:func:`data_use` of ``index`` by an experiment's ``data``, or None without a
    dataset of classes or for split settings the run itself refuses (it says so): what the
    Data tab's counts and :func:`validation_note` are made from."""
    from workbench.core.errors import WorkbenchError

    if index is None or not index.classes:
        return None
    try:
        return data_use(index, data)
    except WorkbenchError:
        return None


def validation_note(index: Any, data: Any) -> str | None:
    """:func:`unvalidated_note` for the split an experiment's ``data`` makes of ``index``
    (what ``check``, ``scan`` and the Data tab say); None without a usable split."""
    use = usable_split(index, data)
    return unvalidated_note(list(index.classes), use.train, use.val) if use else None


def unmatched_excludes(index: Any, exclude: list[str]) -> list[str]:
    """The ``data.exclude`` entries that name no image of ``index`` (its training,
    validation and test parts, unreadable files included): a typo, a file moved or renamed since,
    or an entry made for another dataset. Matched as
    :func:`~workbench.core.data.split.excluded_paths` matches them (relative to the
    dataset folder, forward slashes)."""
    from workbench.core.data.split import exclude_entry, relative_paths_of

    if not exclude:  # nothing to look for
        return []
    samples = list(index.samples) + list(index.val_samples or []) + \
        list(getattr(index, "test_samples", None) or []) + \
        list(getattr(index, "dropped", None) or [])
    known = set(relative_paths_of(index, [p for p, _ in samples] +
                                  [u.path for u in index.unreadable]))
    return [entry for entry in exclude if exclude_entry(entry) not in known]
