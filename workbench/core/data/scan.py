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
from typing import Callable

from workbench.core.data.csvdata import scan_csv
from workbench.core.data.images import is_hidden, is_image_file
from workbench.core.data.index import DatasetIndex, ScanCancelled, verify_samples
from workbench.core.errors import DataError

#: Accepted names of the validation folder next to ``train/``, in order of preference.
VAL_FOLDER_NAMES = ("val", "valid", "validation")


def scan_folder(root: str | os.PathLike, verify: bool = False,
                progress: Callable[[int, int], None] | None = None,
                is_cancelled: Callable[[], bool] | None = None) -> DatasetIndex:
    """List a dataset folder's classes and image files into a :class:`~.index.DatasetIndex`.

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
        verify_samples(index, progress, is_cancelled)
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
