"""Scanning a dataset folder: classes and image files, without decoding (unless asked).

Two layouts are recognised:

``folders``
    ``root/<class>/**/<image>``: exactly what ``torchvision.datasets.ImageFolder(root)``
    reads, with the same class order and the same sample-to-label mapping, so a model
    trained here labels its outputs like one trained with plain PyTorch.
``train_val``
    ``root/train/<class>/...`` and ``root/val/<class>/...`` (``valid/`` and
    ``validation/`` are accepted too): the classes come from ``train/``; the ``val/``
    images are labelled by the same class list and used for validation instead of a
    random split.
``csv``
    A ``.csv`` file of ``path,label`` rows (see :mod:`.csvdata`): ``scan_folder`` accepts
    it wherever a folder is accepted.

Hidden entries (dotfiles and dot-folders such as ``.DS_Store`` or ``.ipynb_checkpoints``,
``Thumbs.db``) are ignored, and so are files of other types; ``.gif`` is accepted besides
``ImageFolder``'s extensions (see :data:`~.images.EXTRA_EXTENSIONS`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from workbench.core.errors import DataError, ImageDecodeError, WorkbenchError
from workbench.core.data.images import ACCEPTED_EXTENSIONS, is_hidden, is_image_file, load_image

#: Accepted names of the validation folder next to ``train/``, in order of preference.
VAL_FOLDER_NAMES = ("val", "valid", "validation")
_SPLIT_NAMES = {"train", "test", "val", "valid", "validation"}


class ScanCancelled(WorkbenchError):
    """The scan was stopped because ``is_cancelled()`` returned true."""


@dataclass
class Unreadable:
    """An image file that could not be decoded, and why (in words)."""

    path: str
    reason: str


@dataclass
class DatasetIndex:
    """The result of :func:`scan_folder`.

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
        ``"folder"``, or ``"csv"`` when ``root`` is a CSV file of ``path,label`` rows.
    """

    root: str
    classes: list[str]
    samples: list[tuple[str, int]]
    unreadable: list[Unreadable] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    val_samples: list[tuple[str, int]] | None = None
    unmatched_val_classes: list[str] = field(default_factory=list)
    source: str = "folder"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def layout(self) -> str:
        """``"csv"`` for a CSV dataset; ``"train_val"`` when the folder has its own
        validation part; else ``"folders"``."""
        if self.source == "csv":
            return "csv"
        return "folders" if self.val_samples is None else "train_val"

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

    def to_json_dict(self) -> dict:
        """A JSON-ready summary (what ``workbench scan --json`` prints)."""
        return {
            "classes": list(self.classes),
            "counts": self.counts(),
            "unreadable": [{"path": u.path, "reason": u.reason} for u in self.unreadable],
            "empty_classes": list(self.empty_classes),
            "layout": self.layout,
            "unmatched_val_classes": list(self.unmatched_val_classes),
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
            if self.empty_classes:
                raise DataError(f"no images in {root}: its sub-folders "
                                f"({_names(self.empty_classes)}) hold no image files; "
                                f"supported types are {' '.join(ACCEPTED_EXTENSIONS)}")
            raise DataError(f"{root} has no class folders: put each class's images in a "
                            f"sub-folder named after the class, e.g. "
                            f"{os.path.join(root, 'cats', '001.jpg')}")
        if self.layout == "folders" and set(self.classes) <= _SPLIT_NAMES:
            raise DataError(f"the class folders of {root} are named {_names(self.classes)}: "
                            f"these look like dataset splits, not classes. Choose the folder "
                            f"whose sub-folders are the classes (e.g. "
                            f"{os.path.join(root, 'train')}), or put the validation images "
                            f"in {os.path.join(root, 'val')} next to train/")
        if self.unmatched_val_classes:
            name = self.unmatched_val_classes[0]
            raise DataError(f"the validation folder of {root} has a class folder {name!r} "
                            f"that has no images in train/: add training images to "
                            f"train/{name} or remove that validation folder")
        train_counts = self.train_counts()
        missing = [c for c, n in train_counts.items() if n == 0]
        if missing:
            c = missing[0]
            bad = sum(1 for u in self.unreadable if _in_class(u.path, root, c))
            why = f" (all {bad} of its files are unreadable)" if bad else ""
            raise DataError(f"class {c!r} in {root} has no usable training images{why}: add "
                            f"readable images to it or remove the folder")
        if len(self.classes) < 2:
            raise DataError(f"{root} has a single class ({self.classes[0]!r}); a classifier "
                            f"needs at least two: add another sub-folder of images")


def scan_folder(root: str | os.PathLike, verify: bool = False,
                progress: Callable[[int, int], None] | None = None,
                is_cancelled: Callable[[], bool] | None = None) -> DatasetIndex:
    """List a dataset folder's classes and image files.

    Parameters
    ----------
    root
        The dataset folder (see the module docstring for the layouts), or a ``.csv`` file
        of ``path,label`` rows (see :func:`~.csvdata.scan_csv`).
    verify
        Also decode every image (in a thread pool) and move those that fail to
        ``unreadable`` with the reason. Without it nothing is decoded: listing 100k files
        takes about a second, and bad files are skipped later, at training time.
    progress
        Called as ``progress(done, total)``: first per class folder listed, then (with
        ``verify``) every few images decoded; ``total`` changes between the two phases.
    is_cancelled
        Polled between class folders and batches of decoded images; when it returns true
        the scan stops with :class:`ScanCancelled`.

    Raises
    ------
    DataError
        When ``root`` does not exist, is neither a folder nor a ``.csv`` file, or cannot be
        read; for a CSV file, also when a row is malformed.
    ScanCancelled
        When ``is_cancelled()`` returned true.
    """
    root = os.path.expanduser(os.fspath(root))
    if not os.path.exists(root):
        what = "file" if root.lower().endswith(".csv") else "folder"
        raise DataError(f"dataset {what} {root} does not exist: choose a folder with one "
                        f"sub-folder of images per class, or a .csv file of path,label rows")
    if os.path.isfile(root) and root.lower().endswith(".csv"):
        from workbench.core.data.csvdata import scan_csv

        return scan_csv(root, verify=verify, progress=progress, is_cancelled=is_cancelled)
    if not os.path.isdir(root):
        raise DataError(f"{root} is a file, not a folder: choose the folder that holds one "
                        f"sub-folder of images per class, or a .csv file of path,label rows")

    def check_cancel() -> None:
        if is_cancelled is not None and is_cancelled():
            raise ScanCancelled(f"the scan of {root} was cancelled")

    split = _find_split(root)
    train_root = split[0] if split else root
    train_dirs = _class_dirs(train_root)
    val_dirs = _class_dirs(split[1]) if split else []
    total_dirs = len(train_dirs) + len(val_dirs)

    classes: list[str] = []
    empty: list[str] = []
    samples: list[tuple[str, int]] = []
    done = 0
    for name in train_dirs:
        check_cancel()
        files = _image_files(os.path.join(train_root, name))
        if files:
            samples.extend((f, len(classes)) for f in files)
            classes.append(name)
        else:
            empty.append(name)
        done += 1
        if progress is not None:
            progress(done, total_dirs)

    val_samples: list[tuple[str, int]] | None = None
    unmatched: list[str] = []
    if split:
        val_samples = []
        label_of = {c: i for i, c in enumerate(classes)}
        for name in val_dirs:
            check_cancel()
            files = _image_files(os.path.join(split[1], name))
            if name in label_of:
                val_samples.extend((f, label_of[name]) for f in files)
            elif files:
                unmatched.append(name)
            done += 1
            if progress is not None:
                progress(done, total_dirs)

    index = DatasetIndex(root, classes, samples, [], empty, val_samples, unmatched)
    if verify:
        _verify(index, progress, check_cancel)
    return index


def _find_split(root: str) -> tuple[str, str] | None:
    """``(train_dir, val_dir)`` when ``root`` has the train/val layout, else None."""
    by_lower: dict[str, str] = {}
    for name in _class_dirs(root):
        by_lower.setdefault(name.lower(), name)  # sorted: an exact lower-case name wins
    if "train" not in by_lower:
        return None
    val = next((by_lower[v] for v in VAL_FOLDER_NAMES if v in by_lower), None)
    if val is None:
        return None
    train_dir, val_dir = os.path.join(root, by_lower["train"]), os.path.join(root, val)
    # Both must hold class folders; otherwise the folder is read like ImageFolder reads
    # it (and check_trainable explains that "train" and "val" are not classes).
    if _class_dirs(train_dir) and _class_dirs(val_dir):
        return train_dir, val_dir
    return None


def _class_dirs(folder: str) -> list[str]:
    # Same rule as torchvision's find_classes: every entry that is a directory (symlinks
    # followed), sorted by name.
    try:
        with os.scandir(folder) as it:
            return sorted(e.name for e in it if not is_hidden(e.name) and e.is_dir())
    except PermissionError:
        raise DataError(f"cannot read {folder}: permission denied; check its "
                        f"permissions") from None
    except OSError as e:
        raise DataError(f"cannot read {folder}: {e.strerror or e}") from None


def _image_files(top: str) -> list[str]:
    """Image paths under ``top`` in ImageFolder's order: ``sorted(os.walk(top,
    followlinks=True))``, then sorted file names, filtered by extension."""
    walked = []
    # Real paths of the symlinked folders followed on the way down to each folder: a
    # link back to one of them (or to a folder holding one) would walk in a circle.
    followed: dict[str, tuple[str, ...]] = {top: (os.path.realpath(top),)}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        # Prune a symlink to a folder that contains this one: following it would walk
        # the same files again and again (ImageFolder does, until the OS gives up).
        real = None
        chain = followed.pop(dirpath, ())
        keep = []
        for d in dirnames:
            child = os.path.join(dirpath, d)
            if is_hidden(d):
                continue
            sub_chain = chain
            if os.path.islink(child):
                real = real or os.path.realpath(dirpath)
                target = os.path.realpath(child)
                if any(r == target or r.startswith(target.rstrip(os.sep) + os.sep)
                       for r in (real, *chain)):
                    continue
                sub_chain = chain + (target,)
            followed[child] = sub_chain
            keep.append(d)
        dirnames[:] = keep
        walked.append((dirpath, filenames))
    walked.sort(key=lambda t: t[0])
    return [os.path.join(dirpath, f) for dirpath, filenames in walked
            for f in sorted(filenames) if is_image_file(f) and not is_hidden(f)]


def _check_file(path: str) -> str | None:
    try:
        load_image(path, 3)
    except ImageDecodeError as e:
        return e.reason
    return None


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
                   is_cancelled: Callable[[], bool] | None = None) -> None:
    """Decode every sample of ``index`` and move the failures to ``index.unreadable``.

    What ``scan_folder(..., verify=True)`` does after listing; unreadable entries already
    in the index are kept (first).
    """
    def check_cancel() -> None:
        if is_cancelled is not None and is_cancelled():
            raise ScanCancelled(f"the scan of {index.root} was cancelled")

    _verify(index, progress, check_cancel)


def _verify(index: DatasetIndex, progress: Callable[[int, int], None] | None,
            check_cancel: Callable[[], None]) -> None:
    paths = [p for p, _ in index.samples] + [p for p, _ in (index.val_samples or [])]
    total = len(paths)
    reasons: dict[str, str] = {}
    workers = min(32, (os.cpu_count() or 1) + 4)
    # Chunks bound the number of pending futures (100k files) and give natural points to
    # report progress and to notice a cancellation.
    chunk = workers * 8
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wb-verify") as pool:
        for start in range(0, total, chunk):
            check_cancel()
            part = paths[start:start + chunk]
            for path, reason in zip(part, pool.map(_check_file, part)):
                if reason is not None:
                    reasons[path] = reason
            if progress is not None:
                progress(min(start + chunk, total), total)
    if not reasons:
        return
    index.unreadable = index.unreadable + [Unreadable(p, reasons[p]) for p in paths
                                           if p in reasons]
    index.samples = [s for s in index.samples if s[0] not in reasons]
    if index.val_samples is not None:
        index.val_samples = [s for s in index.val_samples if s[0] not in reasons]


def _in_class(path: str, root: str, cls: str) -> bool:
    rel = os.path.relpath(path, root).split(os.sep)
    return cls in rel[:2]


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
