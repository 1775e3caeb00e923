"""How a dataset folder is laid out, as users have them: split folders (``train/``,
``val/``, ``test/``), wrapper folders left by unzipping, Hugging Face ``imagefolder``
metadata files, and class names that look like split names.

- :func:`find_splits`: ``train/`` (or ``training/``) with ``val/``, ``valid/``,
  ``validation/`` and/or ``test/``, ``testing/`` beside it, any case, each holding the
  class folders (or a metadata file). Kaggle's names (``training_set/``, ``test_set/``,
  ``train_data/``, ``trainset/``...) are parts too, and a part holding only a folder of
  its own name (``training_set/training_set/cat/...``) is read in that folder.
- :func:`unwrap`: a folder whose only entry is another folder that holds folders (and no
  images) is a wrapper (``my_data/my_data/train/...``): the scan goes down into it.
- :func:`find_metadata` / :func:`read_metadata`: a ``metadata.csv`` or ``metadata.jsonl``
  with ``file_name`` and a label column, as ``load_dataset("imagefolder")`` reads it.
- :func:`split_name_warning`: class folders named like splits in a layout that is not
  recognised (``train/`` with ``eval/`` beside it, say): the likely mistake, said.
- :func:`case_clash_warnings`: class names that differ only in case (``Dog/`` and
  ``dog/``), spaces at the ends or accent encoding are separate classes; likely one
  class spelled twice, said.
- :func:`link_warnings`: a class folder that is a link to the dataset folder (a class of
  every image) or to another class folder (the same images under two labels), said.
- :func:`nested_dataset_warning`: the folder chosen one level too high (``~/datasets``
  holding ``pets/train/cat/``, ``pets/val/cat/`` and ``photos/beach/``...): its "classes"
  may be datasets, whose own classes would be merged; said, with the folder to open.
"""

from __future__ import annotations

import csv
import json
import os

from workbench.core.data.images import is_hidden, is_image_file
from workbench.core.errors import DataError

#: Accepted names of each split's folder (any case), in order of preference.
SPLIT_FOLDERS = {
    "train": ("train", "training", "training_set", "train_set", "train_data",
              "training_data", "trainset", "trainingset"),
    "val": ("val", "valid", "validation", "validation_set", "val_set", "valid_set",
            "val_data", "validation_data", "valset", "validset"),
    "test": ("test", "testing", "test_set", "testing_set", "test_data", "testing_data",
             "testset"),
}
#: Class names that are more likely a dataset's parts than its classes.
SPLIT_LIKE_NAMES = frozenset({n for names in SPLIT_FOLDERS.values() for n in names}
                             | {"eval", "images", "data", "dataset"})
METADATA_FILES = ("metadata.csv", "metadata.jsonl")
#: Label columns tried in a metadata file, in order; else its only other column.
LABEL_COLUMNS = ("label", "labels", "class", "category", "target")


def _entries(folder: str) -> tuple[list[str], list[str]]:
    """(sub-folder names, file names) of ``folder``, hidden ones left out, sorted."""
    try:
        with os.scandir(folder) as it:
            entries = [e for e in it if not is_hidden(e.name)]
    except OSError as e:
        raise DataError(f"cannot read {folder}: {e.strerror or e}") from None
    dirs = sorted(e.name for e in entries if e.is_dir())
    files = sorted(e.name for e in entries if not e.is_dir())
    return dirs, files


def find_splits(root: str) -> dict[str, str | None] | None:
    """``{"train": dir, "val": dir or None, "test": dir or None}`` when ``root`` has a
    ``train/`` folder and a validation or test folder beside it, each holding class
    folders or a metadata file; else None."""
    dirs, _ = _entries(root)
    by_lower: dict[str, str] = {}
    for name in dirs:
        by_lower.setdefault(name.lower(), name)  # sorted: an exact lower-case name wins
    found: dict[str, str | None] = {}
    for split, names in SPLIT_FOLDERS.items():
        name = next((by_lower[n] for n in names if n in by_lower), None)
        path = _own_wrapper(os.path.join(root, name)) if name else None
        found[split] = path if path and _holds_dataset(path) else None
    if found["train"] is None or (found["val"] is None and found["test"] is None):
        return None
    return found


def _own_wrapper(folder: str) -> str:
    """``folder``, or the folder of its own name that is all it holds (Kaggle's
    ``training_set/training_set/``) when that one holds folders."""
    dirs, files = _entries(folder)
    if len(dirs) == 1 and dirs[0].lower() == os.path.basename(folder).lower() \
            and not any(is_image_file(f) or f in METADATA_FILES for f in files):
        inner = os.path.join(folder, dirs[0])
        if _entries(inner)[0]:
            return inner
    return folder


def _holds_dataset(folder: str) -> bool:
    dirs, files = _entries(folder)
    return bool(dirs) or any(f in METADATA_FILES for f in files)


def unwrap(root: str, archive: bool = False) -> tuple[str, list[str]]:
    """Go down through wrapper folders; returns ``(dataset folder, notes)``.

    A wrapper holds exactly one folder and no image or metadata file, and that folder holds
    a dataset: split folders or a metadata file, or class folders when it has the wrapper's
    own name (``my_data/my_data/``) or the wrapper is an unpacked ``archive``. A lone class
    folder with sub-folders (``cats/indoor/``, ``cats/outdoor/``) is not a wrapper.
    """
    notes: list[str] = []
    for _ in range(8):  # a few levels at most: deeper is not an unzip accident
        dirs, files = _entries(root)
        if len(dirs) != 1 or any(is_image_file(f) or f in METADATA_FILES for f in files):
            break
        inner = os.path.join(root, dirs[0])
        inner_dirs, inner_files = _entries(inner)
        same_name = dirs[0].lower() == os.path.basename(root.rstrip(os.sep)).lower()
        if not (find_splits(inner) or any(f in METADATA_FILES for f in inner_files)
                or (inner_dirs and (same_name or archive))):
            break
        notes.append(f"{root} holds only the folder {dirs[0]}/: read the dataset in {inner}")
        root, archive = inner, False
    return root, notes


def find_metadata(folder: str) -> str | None:
    """The Hugging Face metadata file of ``folder`` (``metadata.csv`` first), or None."""
    for name in METADATA_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def read_metadata(path: str) -> list[tuple[str, str]]:
    """``(image path, label)`` rows of a metadata file; ``file_name`` is relative to the
    file's folder (as in ``imagefolder``), the label is the first of
    :data:`LABEL_COLUMNS` the file has, else its only column besides ``file_name``.

    Raises
    ------
    DataError
        For an unreadable file, a missing ``file_name`` or label column, or a bad row,
        naming the file and the line.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            if path.endswith(".jsonl"):
                rows = []
                for n, line in enumerate(f, 1):
                    if line.strip():
                        try:
                            row = json.loads(line)
                        except ValueError as e:
                            raise DataError(f"{path} line {n} is not JSON: {e}") from None
                        if not isinstance(row, dict):
                            raise DataError(f"{path} line {n} is not a JSON object")
                        rows.append((n, row))
            else:
                rows = [(n + 2, row) for n, row in enumerate(csv.DictReader(f))]
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path} is not a readable CSV file: {e}") from None
    if not rows:
        return []
    columns = list(rows[0][1].keys())
    if "file_name" not in columns:
        raise DataError(f"{path} has no file_name column (it has {', '.join(columns)}): the "
                        f"Hugging Face imagefolder format names each image in file_name")
    label = next((c for c in LABEL_COLUMNS if c in columns), None)
    others = [c for c in columns if c != "file_name"]
    if label is None and len(others) == 1:
        label = others[0]
    if label is None:
        raise DataError(f"{path} has no label column: add one named label (it has "
                        f"{', '.join(columns)})")
    folder = os.path.dirname(os.path.abspath(path))
    out = []
    for n, row in rows:
        name, value = row.get("file_name"), row.get(label)
        if not name or value is None or str(value) == "":
            raise DataError(f"{path} line {n}: file_name and {label} must both be given")
        out.append((os.path.normpath(os.path.join(folder, str(name))), str(value)))
    return out


def split_name_warning(classes: list[str], recognised: bool) -> str | None:
    """A warning when class folders are named like dataset parts in a layout that is not
    recognised as split folders (None: nothing to say)."""
    if recognised:
        return None
    like = [c for c in classes if c.lower() in SPLIT_LIKE_NAMES]
    if not like:
        return None
    names = ", ".join(repr(c) for c in like)
    return (f"the class folder{'s' if len(like) > 1 else ''} {names} look{'' if len(like) > 1 else 's'} "
            f"like {'dataset parts' if len(like) > 1 else 'a dataset part'}, not classes: "
            f"a model trained on them would learn to tell the parts apart. Put the class "
            f"folders inside train/ (with val/ or test/ beside it), or choose the folder "
            f"that holds the classes")


def case_clash_warnings(classes: list[str]) -> list[str]:
    """One warning per group of class names that differ only in case (``Dog`` and
    ``dog``), in spaces at the start or end (``Russula`` and ``Russula ``) or in how their
    accents are encoded (NFC and NFD, :mod:`.class_names`): they are separate classes,
    though most likely one class spelled two ways, and the last two look identical."""
    from workbench.core.data.class_names import (look_alike_differences, look_alike_key,
                                                 shown)

    groups: dict[str, list[str]] = {}
    for c in classes:
        groups.setdefault(look_alike_key(c), []).append(str(c))
    out = []
    for names in groups.values():
        if len(names) < 2:
            continue
        differ = look_alike_differences(names)
        quoted = [repr(n) if differ == ["case"] else shown(n) for n in names]
        listed = ", ".join(quoted[:-1]) + " and " + quoted[-1]
        if differ == ["case"]:
            out.append(f"classes {listed} differ only in case: merge them if they are the "
                       f"same class")
            continue
        what = " and ".join(words for d, words in _DIFFERENCES.items() if d in differ)
        plain = next((n for n in names if n == n.strip() and shown(n) == repr(n)), None)
        others = [shown(n) for n in names if n != plain]
        merge = (f"move the images of {' and '.join(others)} into {plain!r}"
                 if plain is not None and "case" not in differ else "merge them")
        out.append(f"classes {listed} differ only in {what}: they look alike but are "
                   f"separate classes; if they are one, {merge}, else rename one so that "
                   f"the names differ")
    return out


#: How look-alike class names differ, as :func:`case_clash_warnings` says it.
_DIFFERENCES = {"case": "case", "spaces": "spaces at the start or end",
                "accents": "how their accents are encoded (NFC or NFD; a Mac often "
                           "writes NFD)"}


def link_warnings(folder: str, classes: list[str]) -> list[str]:
    """One warning per class folder of ``folder`` that is a symbolic link to ``folder``
    itself or to a folder above it (a class of every image of the dataset) or to another
    class folder (the same images under two labels). ImageFolder reads both as classes,
    so they stay classes; the warning says why the class is odd."""
    def real(path: str) -> str:
        return os.path.normcase(os.path.realpath(path))

    top = real(folder)
    reals = {c: real(os.path.join(folder, c)) for c in classes}
    out = []
    for c in classes:
        if not os.path.islink(os.path.join(folder, c)):
            continue
        target = reals[c]
        if top == target or top.startswith(target.rstrip(os.sep) + os.sep):
            what = "the dataset folder itself" if top == target else \
                f"a folder holding the dataset folder ({target})"
            out.append(f"class {c!r} is a link to {what}: it holds every image of the "
                       f"dataset again, under its own label; remove the link")
            continue
        twin = next((o for o in classes if o != c and reals[o] == target
                     and not os.path.islink(os.path.join(folder, o))), None)
        twin = twin or next((o for o in classes if o < c and reals[o] == target), None)
        if twin is not None:
            out.append(f"class {c!r} is a link to class {twin!r}: the same images under "
                       f"two labels; remove the link")
    return out


def nested_dataset_warning(folder: str, classes: list[str],
                           samples: list[tuple[str, int]]) -> str | None:
    """A warning when class folders of ``folder`` look like datasets of their own (the
    folder chosen one level too high), naming them and the folder to open; None when not.

    A class looks like a dataset when it holds split folders (``train/`` with ``val/`` or
    ``test/``, each of class folders), or, less surely, when none of its images
    (``samples``, as the scan listed them) lies in it directly and they lie in 2+
    sub-folders that are mostly its own (``cat/ dog/``, ``beach/ city/``). Sub-folders
    named alike under most classes with sub-folders (``indoor/``, ``outdoor/`` under each;
    ``train/``, ``val/`` of images) sort each class's images by something else, and a
    numbered or dated series (``2019/ 2020/``, ``batch1/ batch2/``, ``2019 summer/``) by
    date or batch: those are classes. Sub-folders alone cannot tell a folder of datasets
    from photos sorted into albums (``cat/birthday/``, ``dog/park/``) or coarse labels
    (``birds/sparrow/``, ``mammals/cat/``), which are far more common, so it is said only
    when a class holds split folders (then the classes of sub-folders beside it are named
    too), or when the only class looks like a dataset (one class cannot be trained; one
    class of sub-folders beside plain classes, ``cats/indoor/``, is a coarser label)."""
    own: set[int] = set()
    subs: dict[int, dict[str, None]] = {}  # label -> its sub-folders holding images
    tops = [os.path.join(folder, c) + os.sep for c in classes]
    for path, label in samples:
        rest = path[len(tops[label]):] if path.startswith(tops[label]) else ""
        first, sep, _ = rest.partition(os.sep)
        if sep:
            subs.setdefault(label, {})[first] = None
        elif first:
            own.add(label)
    under: dict[str, int] = {}  # sub-folder name -> how many classes have one of that name
    for names in subs.values():
        for name in {n.casefold() for n in names}:
            under[name] = under.get(name, 0) + 1
    datasets: list[tuple[str, str]] = []  # (class, what it holds: "classes cat/, dog/")
    split: list[str] = []  # the classes holding split folders of classes, quoted
    for label, c in enumerate(classes):
        names = list(subs.get(label, {}))
        if label in own or len(names) < 2:
            continue
        if any(n.lower() in SPLIT_LIKE_NAMES for n in names):
            try:
                parts = find_splits(os.path.join(folder, c))
            except DataError:
                parts = None
            if parts:
                datasets.append((c, "parts " + _folders([os.path.basename(p) for p in
                                                         parts.values() if p])))
                split.append(repr(c))
            continue
        numbered = len({"".join(ch for ch in n if not ch.isdigit()) for n in names}) == 1 \
            or all(n[:1].isdigit() for n in names)
        shared = sum(1 for n in names if 1 < under[n.casefold()] and
                     2 * under[n.casefold()] > len(subs))
        if not numbered and 2 * shared <= len(names):
            datasets.append((c, "classes " + _folders(names)))
    if not datasets or (not split and len(classes) > 1):
        return None
    c, holds = datasets[0]
    open_it = f"open {os.path.join(folder, c)} to train on its {holds}"
    if len(datasets) == 1:
        return (f"every image of the class {c!r} is in its sub-folders "
                f"{holds.partition(' ')[2]}: this looks like a dataset in a folder of its "
                f"own, not a class; {open_it}")
    names = _listed([repr(o) for o, _ in datasets])
    others = "; ".join(f"{os.path.join(folder, o)} for its {h}" for o, h in datasets[1:3])
    why = "" if len(split) == len(datasets) else \
        f" no image of their own, only sub-folders of images, and {_listed(split)} " \
        f"{'holds' if len(split) == 1 else 'hold'}"
    return (f"the classes {names} hold{why} train/ with val/ or test/ folders of classes, "
            f"as a dataset does: this may be a folder of datasets, and a model trained on "
            f"it would learn to tell the datasets apart. {open_it[0].upper()}{open_it[1:]} "
            f"(or {others}{f'; and {len(datasets) - 3} more' if len(datasets) > 3 else ''})"
            f"; if these are the classes you want to tell apart, ignore this")


def _listed(names: list[str]) -> str:
    """``"'a', 'b' and 'c'"``: the first four, then how many more."""
    if len(names) == 1:
        return names[0]
    return (", ".join(names[:-1]) + " and " + names[-1] if len(names) <= 4 else
            ", ".join(names[:4]) + f" and {len(names) - 4} more")


def _folders(names: list[str], limit: int = 4) -> str:
    """``"cat/, dog/"``: the first ``limit`` folder names, then how many more."""
    shown = ", ".join(f"{n}/" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
