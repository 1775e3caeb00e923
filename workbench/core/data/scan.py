"""Scanning a dataset folder: classes and image files, without decoding (unless asked).

Layouts recognised (:mod:`.layouts`):

``folders``
    ``root/<class>/**/<image>``: what ``torchvision.datasets.ImageFolder(root)`` reads,
    with the same class order and the same sample-to-label mapping, so a model trained
    here labels its outputs like one trained with plain PyTorch; but for hidden entries:
    ImageFolder makes a dot-named folder (``.ipynb_checkpoints``) a class and reads
    dot-named files, a scan skips both, and a note names the hidden folders of images
    (:func:`hidden_folders_note`), whose skipping shifts the labels after them.
``train_val``, ``train_test``, ``train_val_test``
    ``root/train/<class>/...`` (or ``training/``) with ``val/`` (``valid/``,
    ``validation/``) and/or ``test/`` (``testing/``) beside it, any case, or Kaggle's
    ``training_set/`` and ``test_set/`` (``train_data/``, ``trainset/``...; a part that
    holds only a folder of its own name is read in that folder): the classes
    come from ``train/``; the other parts are labelled by the same class list, a folder
    matched to a class by :func:`~.class_names.match_classes` (a test/ from a Mac's zip,
    its names in NFD, is train/'s classes, said in a note). ``val/`` is
    used for validation instead of a random split; without it validation is held out of
    train (seeded, stratified); ``test/`` is never trained on.
Hugging Face ``imagefolder`` metadata
    A ``metadata.csv`` or ``metadata.jsonl`` (``file_name`` and a label column) at the top
    or in each part's folder gives the labels; classes are the sorted labels, as
    ImageFolder would order folders of those names.
``csv``
    A ``.csv`` (or ``.tsv``) file of ``path,label`` rows (see :mod:`.csvdata`):
    ``scan_folder`` accepts it wherever a folder is accepted.

A ``.zip`` or ``.tar(.gz)`` of such a folder is unpacked once into the cache and scanned
there (:mod:`.archives`); a wrapper folder (``my_data/my_data/train/...``) is followed;
both are said in ``notes``. Class folders named like dataset parts in a layout that is not
recognised give a warning (``warnings``), never a silent train-versus-test model; so do
class folders that look like datasets of their own (a folder of datasets chosen). Images
lying at the top of the folder (or of ``train/``, ``val/``, ``test/``), in no class folder,
are used by no run: a note counts them and names one (:func:`~.left_out.loose_images_note`);
a folder of such images and no class folder is one to classify, not a dataset
(:func:`unsorted_images`). So are files in class folders that are no image by their name
(``IMG_0001``, ``photo.jpg.download``: :func:`~.left_out.left_out_note`).

Hidden entries (dotfiles and dot-folders such as ``.DS_Store`` or ``.ipynb_checkpoints``,
``Thumbs.db``) are ignored, and so are files plainly of other types (``.txt``,
:data:`~.left_out.NOT_IMAGES`); ``.gif``, ``.jfif`` and
``.jpe`` are accepted besides ``ImageFolder``'s extensions (see :data:`~.images.EXTRA_EXTENSIONS`). Phone photos in a
format this Pillow cannot read (HEIC without pillow-heif) are listed in ``unreadable``
with what to do, never ignored (:func:`~.images.unsupported_reason`).
"""

from __future__ import annotations

import os
from typing import Callable

from workbench.core.data.archives import SUFFIXES, is_archive, unpack
from workbench.core.data.class_names import match_classes, respelled_note, shown
from workbench.core.data.csvdata import scan_csv
from workbench.core.data.images import is_hidden, is_image_file, unsupported_reason
from workbench.core.data.index import DatasetIndex, ScanCancelled, Unreadable, verify_samples
from workbench.core.data.layouts import (SPLIT_FOLDERS, case_clash_warnings, find_metadata,
                                         find_splits, link_warnings, nested_dataset_warning,
                                         read_metadata, split_name_warning, unwrap)
from workbench.core.data.left_out import (is_left_out, left_out_note, loose_images,
                                          loose_images_note)
from workbench.core.errors import DataError

#: Accepted names of the validation folder next to ``train/``, in order of preference.
VAL_FOLDER_NAMES = SPLIT_FOLDERS["val"]
#: File name endings read as a CSV dataset file (:mod:`.csvdata`).
CSV_SUFFIXES = (".csv", ".tsv")
#: Dot-named folders of tools, never a class of images: :func:`hidden_folders_note` does
#: not look inside (a repository's .git can hold many thousand files).
_NOT_DATA = (".git", ".hg", ".svn", ".Trash")
#: Dot-named folders of thumbnails a tool keeps (a phone's ``DCIM/.thumbnails``): not looked
#: inside either, as renaming one to use it would make a class of thumbnails.
_CACHES = (".thumbnails", ".cache")
#: Jupyter's checkpoint copies: named when they hold images (ImageFolder's best-known
#: trap), but as copies to delete, never to rename into a class.
_CHECKPOINTS = ".ipynb_checkpoints"
#: The most files :func:`hidden_folders_note` looks at in one hidden folder ("1000+
#: images" past that): it runs on every scan.
HIDDEN_LOOKED_AT = 1000


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
        lower = root.lower()
        what = (" file" if lower.endswith(CSV_SUFFIXES) else "" if lower.endswith(SUFFIXES)
                else " folder")
        raise DataError(f"dataset{what} {root} does not exist: choose a folder with one "
                        f"sub-folder of images per class, a .csv file of path,label rows "
                        f"or an archive (.zip, .tar.gz) of such a folder")
    notes: list[str] = []
    if is_archive(root):
        root, note = unpack(root, progress)
        notes.append(note)
    elif os.path.isfile(root) and root.lower().endswith(CSV_SUFFIXES):
        return scan_csv(root, verify=verify, progress=progress, is_cancelled=is_cancelled)
    elif not os.path.isdir(root):
        raise DataError(f"{root} is a file, not a folder: choose the folder that holds one "
                        f"sub-folder of images per class, a .csv file of path,label rows, or "
                        f"a .zip or .tar(.gz) of such a folder")
    root, wrapped = unwrap(root, archive=bool(notes))
    notes += wrapped

    def check_cancel() -> None:
        if is_cancelled is not None and is_cancelled():
            raise ScanCancelled(f"the scan of {root} was cancelled")

    splits = find_splits(root)
    parts = {"train": splits["train"] if splits else root,
             "val": splits["val"] if splits else None,
             "test": splits["test"] if splits else None}
    meta = _metadata_parts(root, parts)
    if meta is not None:
        notes.append("labels read from the Hugging Face metadata file"
                     + ("s" if len(meta[1]) > 1 else "") + " " + ", ".join(meta[1]))
    listed = {part: _class_dirs(d) for part, d in parts.items() if d}  # each folder once
    total_dirs = sum(len(names) for names in listed.values())
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, max(total_dirs, done))

    classes: list[str] = []
    empty: list[str] = []
    samples: list[tuple[str, int]] = []
    missing: list[Unreadable] = []
    left: list[str] = []  # files of class folders that are no image by their name
    if meta is not None and meta[0]["train"]:
        rows = meta[0]["train"]
        classes = sorted({label for _, label in rows})
        label_of = {c: i for i, c in enumerate(classes)}
        samples, missing = _existing([(p, label_of[lb]) for p, lb in rows])
    else:
        for name in listed["train"]:
            check_cancel()
            files, odd = _image_files(os.path.join(parts["train"], name), left)
            missing += odd
            if files:
                samples.extend((f, len(classes)) for f in files)
                classes.append(name)
            else:
                empty.append(name)
            tick()

    held: dict[str, tuple[list[tuple[str, int]] | None, list[str]]] = {}
    respelled: dict[str, list[tuple[str, str]]] = {}
    for split in ("val", "test"):
        folder = parts[split]
        if folder is None:
            held[split] = (None, [])
            continue
        check_cancel()
        rows = meta[0][split] if meta is not None and meta[0][split] else None
        part, unmatched, lost, respelled[split] = _labelled_part(folder, listed[split],
                                                                 classes, rows, tick, left)
        held[split] = (part, unmatched)
        missing += lost

    if meta is None:  # (a metadata file labels the images wherever they lie)
        note = loose_images_note(root, [d for d in parts.values() if d])
        if note:
            notes.append(note)
        for note in (hidden_folders_note(root, [d for d in parts.values() if d]),
                     left_out_note(root, left)):
            notes += [note] if note else []
    index = DatasetIndex(root, classes, samples, missing, empty, held["val"][0],
                         held["val"][1], source="metadata" if meta is not None else "folder",
                         test_samples=held["test"][0], unmatched_test_classes=held["test"][1],
                         notes=notes)
    if splits:  # the parts' own names (training_set/, test_set/), for what is said
        index.part_folders = {part: os.path.relpath(d, root).replace(os.sep, "/")
                              for part, d in parts.items() if d}
    for split, pairs in respelled.items():  # a Mac's zip: the part's names in NFD
        if pairs:
            what = f"{index.part_name(split)} " + ("metadata label" if meta is not None
                                                   and meta[0][split] else "class folder")
            index.notes.append(respelled_note(pairs, what, f"{index.part_name('train')}'s",
                                              "read as"))
    warning = split_name_warning(classes, recognised=splits is not None)
    if warning:
        index.warnings.append(warning)
    index.warnings += case_clash_warnings(classes)
    if meta is None:  # class folders: one linked to the dataset or to another class
        index.warnings += link_warnings(parts["train"], classes)
    nested = None if meta is not None or splits else \
        nested_dataset_warning(root, classes, samples)  # a folder of datasets chosen?
    if nested:
        index.warnings.append(nested)
    if held["test"][1]:
        index.warnings.append(f"the test folder has class folder(s) "
                              f"{', '.join(shown(n) for n in held['test'][1])} that "
                              f"{index.part_name('train')} does not have: their images are "
                              f"left out")
    if verify:
        verify_samples(index, progress, is_cancelled)
    return index


def hidden_folders_note(root: str, folders: list[str]) -> str | None:
    """A note on the hidden (dot-named) folders directly in ``folders`` (the dataset folder
    and its parts' folders) that hold images: not classes, unlike in torchvision's
    ImageFolder, so their images are not used. None when there are none. Links and tools'
    folders (:data:`_NOT_DATA`, :data:`_CACHES`) are not looked in, and at most
    :data:`HIDDEN_LOOKED_AT` files of each folder; Jupyter's :data:`_CHECKPOINTS` are
    called copies, not to be renamed."""
    found = []
    for folder in dict.fromkeys(folders):
        try:
            with os.scandir(folder) as it:
                dirs = sorted(e.path for e in it if e.name.startswith(".")
                              and not e.name.startswith(_NOT_DATA)
                              and e.name.lower() not in _CACHES
                              and e.is_dir(follow_symlinks=False))
        except OSError:
            continue  # an unreadable part is said where it is listed
        found += [(d, n) for d in dirs if (n := _images_in(d))[0]]
    said = []
    for copies in (False, True):
        group = [(d, n) for d, n in found if (os.path.basename(d) == _CHECKPOINTS) == copies]
        if not group:
            continue
        many = len(group) > 1
        named = ", ".join(f"{os.path.relpath(d, root).replace(os.sep, '/')!r} "
                          f"({n}{'+' * more} image{'s' if n != 1 or more else ''})"
                          for d, (n, more) in group)
        them, their = ("them", "their") if many else ("it", "its")
        said.append(f"hidden folder{'s' * many} {named} "
                    f"{'are not classes' if many else 'is not a class'}, as {their} "
                    f"name{'s' * many} start{'' if many else 's'} with a dot: {their} images "
                    f"are not used (torchvision's ImageFolder would read {them} as "
                    f"{'classes' if many else 'a class'}); " + (
                        f"{'they hold' if many else 'it holds'} Jupyter's checkpoint "
                        f"copies: delete {them} before reading the folder with ImageFolder"
                        if copies else
                        f"rename {them} without the dot to use {them}"))
    return "; ".join(said) or None


def _images_in(folder: str) -> tuple[int, bool]:
    """The images under the hidden ``folder`` (as a scan of it would list them, links not
    followed), and whether files were left unlooked at past :data:`HIDDEN_LOOKED_AT`."""
    n = seen = 0
    for _dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not is_hidden(d)]
        for f in filenames:
            seen += 1
            if seen > HIDDEN_LOOKED_AT:
                return n, True
            n += not is_hidden(f) and is_image_file(f)
    return n, False


def unsorted_images(folder: str | os.PathLike) -> list[str]:
    """The image files of a folder the scan finds no dataset in (no class folder, no
    metadata file: :func:`scan_folder` would say it "has no class folders"), all lying
    at its top: a folder of images to classify, such as new photos dropped on the window.
    [] for a folder with class folders (a dataset, even one of loose images too), with a
    metadata file, with no image, or that cannot be read."""
    folder = os.path.expanduser(os.fspath(folder))
    try:
        if not os.path.isdir(folder) or find_metadata(folder) or _class_dirs(folder):
            return []
    except DataError:
        return []  # unreadable: the scan says so, with what to do
    return loose_images([folder])


def _metadata_parts(root: str, parts: dict[str, str | None]
                    ) -> tuple[dict[str, list[tuple[str, str]]], list[str]] | None:
    """Rows of the Hugging Face metadata files (at the top and in each part's folder), by
    part (a top-level file's rows go to the part whose folder holds the image), and the
    files read; None when there is none."""
    found = {s: find_metadata(d) for s, d in parts.items() if d and d != root}
    top = find_metadata(root)
    if top is None and not any(found.values()):
        return None
    out: dict[str, list[tuple[str, str]]] = {"train": [], "val": [], "test": []}
    files = []
    for split, path in found.items():
        if path:
            out[split] += read_metadata(path)
            files.append(path)
    if top is not None:
        files.append(top)
        for path, label in read_metadata(top):
            split = next((s for s, d in parts.items() if d and d != root
                          and path.startswith(d.rstrip(os.sep) + os.sep)), "train")
            out[split].append((path, label))
    return out, files


def _existing(samples: list[tuple[str, int]]) -> tuple[list[tuple[str, int]],
                                                       list[Unreadable]]:
    """The samples whose file exists, and the others as "file not found"."""
    kept, lost = [], []
    for path, label in samples:
        (kept if os.path.isfile(path) else lost).append((path, label))
    return kept, [Unreadable(p, "file not found (listed in the metadata file)") for p, _ in lost]


def _labelled_part(folder: str, names: list[str], classes: list[str],
                   rows: list[tuple[str, str]] | None, tick: Callable[[], None],
                   left: list[str]) -> tuple[list[tuple[str, int]], list[str], list[Unreadable],
                              list[tuple[str, str]]]:
    """A validation or test part (``folder``, its class folders ``names``) labelled by the
    training part's ``classes``, a name matched to a class by the rule an evaluation
    uses (:func:`~.class_names.match_classes`: accents encoded as NFD are the class): its
    samples, its classes unknown to training (left out), listed files that are missing,
    and the ``(name, class)`` pairs matched though spelled differently; the files of its
    classes' folders that are no image by their name are added to ``left``."""
    given = sorted({lb for _, lb in rows}) if rows is not None else names
    labels, respelled = match_classes(list(given), classes)
    label_of = {name: lb for name, lb in zip(given, labels) if lb is not None}
    unmatched: list[str] = []
    if rows is not None:
        unmatched = [lb for lb in given if lb not in label_of]
        kept, lost = _existing([(p, label_of[lb]) for p, lb in rows if lb in label_of])
        return kept, unmatched, lost, respelled
    part: list[tuple[str, int]] = []
    lost: list[Unreadable] = []
    empty: set[str] = set()
    for name in names:
        files, odd = _image_files(os.path.join(folder, name),
                                  left if name in label_of else [])
        if name in label_of:
            part.extend((f, label_of[name]) for f in files)
            lost += odd
        elif files:
            unmatched.append(name)
        if not files:
            empty.add(name)
        tick()
    return part, unmatched, lost, [(n, c) for n, c in respelled if n not in empty]


def _class_dirs(folder: str) -> list[str]:
    # torchvision's find_classes's rule, every entry that is a directory (symlinks
    # followed) sorted by name, but for hidden ones: find_classes makes a dot-named folder
    # a class, a scan skips it (hidden_folders_note names those holding images).
    try:
        with os.scandir(folder) as it:
            return sorted(e.name for e in it if not is_hidden(e.name) and e.is_dir())
    except PermissionError:
        raise DataError(f"cannot read {folder}: permission denied; check its "
                        f"permissions") from None
    except OSError as e:
        raise DataError(f"cannot read {folder}: {e.strerror or e}") from None


def _image_files(top: str, left: list[str]) -> tuple[list[str], list[Unreadable]]:
    """Image paths under ``top`` in ImageFolder's order: ``sorted(os.walk(top,
    followlinks=True))``, then sorted file names, filtered by extension; and the photos
    in a format this Pillow cannot read (HEIC without pillow-heif), as unreadable. The
    files that are no image by their name (:func:`~.left_out.is_left_out`) are added to
    ``left``."""
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
    images, odd = [], []
    for dirpath, filenames in walked:
        for f in sorted(filenames):
            if is_hidden(f):
                continue
            if is_image_file(f):
                images.append(os.path.join(dirpath, f))
            else:
                reason = unsupported_reason(f)
                if reason is not None:
                    odd.append(Unreadable(os.path.join(dirpath, f), reason))
                elif is_left_out(f):
                    left.append(os.path.join(dirpath, f))
    return images, odd
