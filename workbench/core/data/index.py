"""What a scan found: the :class:`DatasetIndex` of a dataset (classes, samples, the files
left out and why), whether a classifier can be trained on it, and decoding its samples to
find the unreadable ones.

Made by :func:`~.scan.scan_folder` for a folder and :func:`~.csvdata.scan_csv` for a CSV file
of ``path,label`` rows.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

from workbench.core.data.images import ACCEPTED_EXTENSIONS, load_image
from workbench.core.data.layouts import SPLIT_FOLDERS
from workbench.core.errors import DataError, ImageDecodeError, WorkbenchError

_SPLIT_NAMES = {n for names in SPLIT_FOLDERS.values() for n in names}
_SHARE = 8  # files one thread of the verify pool checks in a row


class ScanCancelled(WorkbenchError):
    """The scan was stopped because ``is_cancelled()`` returned true."""


@dataclass
class Unreadable:
    """An image file that could not be decoded, and why (in words)."""

    path: str
    reason: str


@dataclass
class DatasetIndex:
    """The result of :func:`~.scan.scan_folder` (or :func:`~.csvdata.scan_csv`).

    Attributes
    ----------
    root
        The scanned folder, as given (with ``~`` expanded).
    classes
        Class names in label order (sorted, as ``ImageFolder``); folders without images
        are left out (see ``empty_classes``).
    samples
        ``(path, label)`` pairs in ``ImageFolder`` order; in the ``train_val`` layout, the
        training part only.
    unreadable
        Files left out because they failed to decode (only filled by ``verify=True``).
    empty_classes
        Class folders that hold no image file; they get no label.
    val_samples
        The validation part in the ``train_val`` layout, else ``None`` (then the
        validation set is split off ``samples``, see :func:`~.split.split_samples`).
    unmatched_val_classes
        ``train_val`` layout only: folders in the validation folder that hold images but
        match no class of ``train/``; their images are left out.
    source
        ``"folder"``, ``"csv"`` when ``root`` is a CSV file of ``path,label`` rows, or
        ``"metadata"`` when the labels come from Hugging Face ``metadata.csv``/``.jsonl``
        files.
    test_samples
        The test part (a ``test/`` folder), else ``None``: never trained on, used for early
        stopping, tuning or the best epoch; what ``evaluate`` measures by default.
    unmatched_test_classes
        Like ``unmatched_val_classes``, for the test folder.
    notes
        What the scan did that a user should know (a wrapper folder followed, an archive
        unpacked, labels read from a metadata file).
    warnings
        Likely mistakes in the layout (class folders named like dataset parts).
    dropped
        The training and validation samples the decode check (:func:`verify_samples`)
        took out as unreadable, with their labels: the split is made with them and then
        drops them (:func:`~.split.split_samples`), so it is the same whether or not the
        check ran (the app checks, a command-line run meets a damaged file as it goes).
    part_folders
        The folder of each part the folder has its own of (``"train"``, ``"val"``,
        ``"test"``), relative to ``root``: ``"training_set"`` for a Kaggle-style
        ``training_set/``; empty without parts (see :meth:`part_name`).
    verified
        Every sample was decoded (:func:`verify_samples`, ``scan_folder(verify=True)``):
        ``unreadable`` lists every damaged file, so :func:`check_class_files` has nothing
        to add.
    relatives
        Each path's :func:`~.split.relative_path`, kept once it was asked for (``root`` and
        ``source`` never change after a scan): made once per scan, not on every
        ``data.exclude`` edit. Not copied by ``dataclasses.replace``, not compared.
    """

    root: str
    classes: list[str]
    samples: list[tuple[str, int]]
    unreadable: list[Unreadable] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    val_samples: list[tuple[str, int]] | None = None
    unmatched_val_classes: list[str] = field(default_factory=list)
    source: str = "folder"
    test_samples: list[tuple[str, int]] | None = None
    unmatched_test_classes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dropped: list[tuple[str, int]] = field(default_factory=list)
    verified: bool = False
    part_folders: dict[str, str] = field(default_factory=dict)
    relatives: dict[str, str] = field(default_factory=dict, init=False, repr=False,
                                      compare=False)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def layout(self) -> str:
        """``"csv"`` for a CSV dataset; ``"train_val"``, ``"train_test"`` or
        ``"train_val_test"`` when the folder has its own parts; else ``"folders"``."""
        if self.source == "csv":
            return "csv"
        parts = [p for p, s in (("val", self.val_samples), ("test", self.test_samples))
                 if s is not None]
        return "_".join(["train", *parts]) if parts else "folders"

    def part_name(self, part: str) -> str:
        """The folder of ``part`` as a person finds it: ``"training_set/"`` (the part's
        own name), or ``"train/"`` where it is not known."""
        return f"{self.part_folders.get(part) or part}/"

    def split_counts(self) -> dict[str, int | None]:
        """Images in each part the folder has (``None``: no such part; without a val
        part, validation is split off train by the experiment's settings)."""
        return {"train": len(self.samples),
                "val": None if self.val_samples is None else len(self.val_samples),
                "test": None if self.test_samples is None else len(self.test_samples)}

    def counts(self) -> dict[str, int]:
        """Images per class (training and validation parts together), in label order."""
        counts = dict.fromkeys(self.classes, 0)
        for _, label in self.samples + (self.val_samples or []):
            counts[self.classes[label]] += 1
        return counts

    def train_counts(self) -> dict[str, int]:
        """Images per class in ``samples`` only (the part training can draw from)."""
        counts = dict.fromkeys(self.classes, 0)
        for _, label in self.samples:
            counts[self.classes[label]] += 1
        return counts

    def unreadable_classes(self) -> list[str]:
        """Classes with no readable image in the training part (every file of theirs that
        was decoded failed): training refuses them (:meth:`check_trainable`)."""
        return [c for c, n in self.train_counts().items() if n == 0]

    def to_json_dict(self) -> dict:
        """A JSON-ready summary (what ``workbench scan --json`` prints)."""
        return {
            "classes": list(self.classes),
            "counts": self.counts(),
            "unreadable": [{"path": u.path, "reason": u.reason} for u in self.unreadable],
            "empty_classes": list(self.empty_classes),
            "layout": self.layout,
            "unmatched_val_classes": list(self.unmatched_val_classes),
            "splits": self.split_counts(),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }

    def check_trainable(self) -> None:
        """Raise :class:`DataError` unless a classifier can be trained on this dataset.

        Needs at least two classes, each with at least one (readable) image in the
        training part, and no validation folder without a training counterpart.
        """
        root = self.root
        if self.source == "csv":
            _check_csv_trainable(self)
            return
        if not self.classes:
            if self.unreadable:  # e.g. every photo a HEIC one, without pillow-heif
                first = self.unreadable[0]
                n = len(self.unreadable)
                raise DataError(f"no usable images in {root}: {n:,} file"
                                f"{'s' if n != 1 else ''} cannot be read, e.g. "
                                f"{os.path.basename(first.path)}: {first.reason}")
            if self.empty_classes:
                raise DataError(f"no images in {root}: its sub-folders "
                                f"({listing(self.empty_classes)}) hold no image files; "
                                f"supported types are {' '.join(ACCEPTED_EXTENSIONS)}")
            raise DataError(f"{root} has no class folders: put each class's images in a "
                            f"sub-folder named after the class, e.g. "
                            f"{os.path.join(root, 'cats', '001.jpg')}")
        if self.layout == "folders" and set(self.classes) <= _SPLIT_NAMES:
            raise DataError(f"the class folders of {root} are named {listing(self.classes)}: "
                            f"these look like dataset splits, not classes. Choose the folder "
                            f"whose sub-folders are the classes (e.g. "
                            f"{os.path.join(root, 'train')}), or put the validation images "
                            f"in {os.path.join(root, 'val')} next to train/")
        if self.unmatched_val_classes:
            name = self.unmatched_val_classes[0]
            raise DataError(f"the validation folder of {root} has a class folder {name!r} "
                            f"that has no images in train/: add training images to "
                            f"train/{name} or remove that validation folder")
        if self.val_samples == []:
            bad = [u for u in self.unreadable if _part(u.path, root) in SPLIT_FOLDERS["val"]]
            if bad:  # all of them: a run would validate on nothing
                raise DataError(f"the validation folder of {root} has no readable image (all "
                                f"{len(bad)} of its files are unreadable, e.g. "
                                f"{os.path.basename(bad[0].path)}: {bad[0].reason}): replace "
                                f"them, or remove that folder to hold validation images out "
                                f"of train/")
        missing = self.unreadable_classes()
        if missing:
            c = missing[0]
            bad = sum(1 for u in self.unreadable if _in_class(u.path, root, c))
            why = f" (all {bad} of its files are unreadable)" if bad else ""
            raise DataError(f"class {c!r} in {root} has no usable training images{why}: add "
                            f"readable images to it or remove the folder")
        if len(self.classes) < 2:
            raise DataError(f"{root} has a single class ({self.classes[0]!r}); a classifier "
                            f"needs at least two: add another sub-folder of images")


def decode_workers(spare: int = 0) -> int:
    """How many threads decode images to check them: one per core this process may run
    on, less ``spare`` cores kept free (for a GUI thread), and at least one.

    Pillow lets go of the interpreter lock only while it decodes pixels; opening a file
    and reading its header run Python code that holds it. More threads than cores add no
    throughput (10,009 PNGs of 32 px on 2 cores: 2 threads check them as fast as 6) and
    make every other thread, a GUI's event loop first, wait longer for the lock.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores - max(0, spare))


def _check_file(path: str) -> str | None:
    try:
        # Readability only: a JPEG at 1/8 scale still has every byte of its data decoded
        # (only the inverse DCT is smaller), so damage is found as in a full decode.
        load_image(path, 3, min_side=1)
    except ImageDecodeError as e:
        return e.reason
    return None


def _check_files(paths: list[str]) -> list[str | None]:
    return [_check_file(p) for p in paths]


def unreadable_of(paths: list[str]) -> dict[str, str]:
    """``{path: reason}`` for the files of ``paths`` that do not decode (in a thread pool,
    as :func:`verify_samples` checks them); empty when every one reads."""
    workers = decode_workers()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wb-verify") as pool:
        return {p: r for p, r in zip(paths, pool.map(_check_file, paths)) if r is not None}


def _check_csv_trainable(index: DatasetIndex) -> None:
    root = index.root
    if not index.classes:
        raise DataError(f"{root} lists no images: add rows of path,label (one image per "
                        f"row, paths relative to the CSV file's folder)")
    missing = [c for c, n in index.train_counts().items() if n == 0]
    if missing:
        raise DataError(f"label {missing[0]!r} in {root} has no usable training images (its "
                        f"files are missing or unreadable): fix its rows or add images")
    if len(index.classes) < 2:
        raise DataError(f"{root} has a single label ({index.classes[0]!r}); a classifier "
                        f"needs at least two: add rows with another label")


def verify_samples(index: DatasetIndex, progress: Callable[[int, int], None] | None = None,
                   is_cancelled: Callable[[], bool] | None = None,
                   workers: int | Callable[[], int] | None = None) -> None:
    """Decode every sample of ``index`` and move the failures to ``index.unreadable``.

    What ``scan_folder(..., verify=True)`` does after listing; unreadable entries already
    in the index are kept (first). ``workers``: how many files are decoded at once
    (default :func:`decode_workers`), or a function asked before each batch of files (a
    GUI decodes fewer while something else needs the interpreter lock).
    """
    def check_cancel() -> None:
        if is_cancelled is not None and is_cancelled():
            raise ScanCancelled(f"the scan of {index.root} was cancelled")

    _verify(index, progress, check_cancel, workers)


def check_class_files(index: DatasetIndex) -> None:
    """Decode each class's training files in turn until one reads (and the validation
    part's, in the ``train_val`` layout), moving those that do not to ``index.unreadable``
    as :func:`verify_samples` does: the cheap check (one decode a class, unless its first
    files are damaged) after which :meth:`~DatasetIndex.check_trainable` refuses a class
    whose every file is unreadable, as it does after a full check. Nothing to do for a
    verified index.
    """
    if index.verified:
        return
    groups: dict[object, list[str]] = {}
    for path, label in index.samples:
        groups.setdefault(label, []).append(path)
    if index.val_samples:
        groups["val"] = [p for p, _ in index.val_samples]
    pending = {key: iter(paths) for key, paths in groups.items()}
    reasons: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=decode_workers(), thread_name_prefix="wb-verify") \
            as pool:
        while pending:  # one file of each group still unsettled per round
            batch = {key: next(it, None) for key, it in pending.items()}
            batch = {key: path for key, path in batch.items() if path is not None}
            for (key, path), reason in zip(batch.items(), pool.map(_check_file,
                                                                   batch.values())):
                if reason is None:
                    del pending[key]  # a readable file: the class has something to learn
                else:
                    reasons[path] = reason
            for key in set(pending) - set(batch):
                del pending[key]  # every file tried, none readable
    _drop(index, [p for paths in groups.values() for p in paths], reasons)


def _verify(index: DatasetIndex, progress: Callable[[int, int], None] | None,
            check_cancel: Callable[[], None],
            workers: int | Callable[[], int] | None = None) -> None:
    paths = [p for p, _ in index.samples] + [p for p, _ in (index.val_samples or [])] + \
        [p for p, _ in (index.test_samples or [])]
    total = len(paths)
    reasons: dict[str, str] = {}
    most = decode_workers()
    if workers is None:
        workers = most
    at_once = workers if callable(workers) else (lambda: workers)
    # Batches bound the number of pending futures (100k files), give natural points to
    # report progress and to notice a cancellation, and let ``workers`` change between.
    start = 0
    with ThreadPoolExecutor(max_workers=max(most, at_once()),
                            thread_name_prefix="wb-verify") as pool:
        while start < total:
            check_cancel()
            n = max(1, at_once())
            part = paths[start:start + n * _SHARE]
            shares = [part[i:i + _SHARE] for i in range(0, len(part), _SHARE)]  # n at most
            for share, found in zip(shares, pool.map(_check_files, shares)):
                reasons.update((p, r) for p, r in zip(share, found) if r is not None)
            start += len(part)
            if progress is not None:
                progress(start, total)
    index.verified = True
    _drop(index, paths, reasons)


def _drop(index: DatasetIndex, paths: list[str], reasons: dict[str, str]) -> None:
    """Move the ``paths`` that have a reason (in their order) to ``index.unreadable``."""
    if not reasons:
        return
    index.unreadable = index.unreadable + [Unreadable(p, reasons[p]) for p in paths
                                           if p in reasons]
    index.dropped = index.dropped + [s for s in list(index.samples) +
                                     list(index.val_samples or []) if s[0] in reasons]
    index.samples = [s for s in index.samples if s[0] not in reasons]
    if index.val_samples is not None:
        index.val_samples = [s for s in index.val_samples if s[0] not in reasons]
    if index.test_samples is not None:
        index.test_samples = [s for s in index.test_samples if s[0] not in reasons]


def _part(path: str, root: str) -> str:
    """The first folder of ``path`` under ``root``, lower case (``"val"`` for a file in
    ``root/Val/cat``)."""
    return os.path.relpath(path, root).split(os.sep)[0].lower()


def _in_class(path: str, root: str, cls: str) -> bool:
    rel = os.path.relpath(path, root).split(os.sep)
    return cls in rel[:2]


def listing(names: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` names, then how many more: "a, b, c and 4 more"."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
