"""What the Health view does to a dataset's files: move an image to another class folder,
and undo that. (Excluding an image is a setting, ``data.exclude``, not a file change.)

A folder dataset is ``<part>/<class>/**/<image>``, where the part is the dataset folder, or
its ``train/``, ``val/`` (or ``test/``) folder in that layout. A move takes the image to
``<part>/<to class>/<its name>``: out of any sub-folder of its class (``cats/indoor/x.png``
goes to ``dogs/x.png``, never to ``cats/indoor/dogs/``), never over another file (a
numbered name is chosen instead, and :attr:`Move.renamed` says so), and the :class:`Move`
it returns undoes it exactly, removing any folder it made. An exclusion of the image
follows it (:func:`followed`).

Datasets whose labels are not their folders are refused with what to do instead: a CSV
file, a Hugging Face ``metadata.csv`` (the row would still name the old path), and an
archive (the move would change only the copy unpacked into the cache).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import DataError

_INSTEAD = "exclude the image instead, or fix its label at the source"


@dataclass(frozen=True)
class Move:
    """One image moved from ``source`` to ``target``; ``created``: the folders the move
    made (the target's class folder in a part that had none), removed again by undo."""

    source: str
    target: str
    renamed: bool = False
    created: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created"] = list(self.created)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Move:
        return cls(str(d["source"]), str(d["target"]), bool(d.get("renamed", False)),
                   tuple(str(c) for c in d.get("created", ())))


def _free(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(2, 10000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise DataError(f"cannot find a free name for {path.name} in {path.parent}")


def archive_of(index: Any) -> str | None:
    """The archive ``index`` was unpacked from (its cache folder's record of it), or None
    for a dataset that is a folder of its own."""
    from workbench.core.data.archives import _DONE
    from workbench.core.io import cache_home

    store = os.path.abspath(cache_home() / "archives")
    root = os.path.abspath(index.root)
    try:
        inside = os.path.commonpath([store, root]) == store and root != store
    except ValueError:  # another drive (Windows)
        inside = False
    if not inside:
        return None
    top = Path(store) / os.path.relpath(root, store).split(os.sep)[0]
    try:
        return (top / _DONE).read_text().strip() or str(top)
    except OSError:
        return str(top)


def refusal(index: Any) -> str | None:
    """Why files of ``index`` cannot be moved to relabel them, or None when they can."""
    if index.source == "csv":
        return (f"the labels of this dataset come from the CSV file {index.root}: "
                f"{_INSTEAD} (change the image's row in the file)")
    if index.source == "metadata":
        return (f"the labels of {index.root} come from its metadata file (metadata.csv or "
                f".jsonl), not from folders: moving the file would leave its row naming the "
                f"old path; {_INSTEAD} (the image's row in the metadata file)")
    archive = archive_of(index)
    if archive is not None:
        return (f"this dataset is the copy of {archive} unpacked into the cache: a move "
                f"would change only that copy and be lost; {_INSTEAD} (in the archive)")
    return None


def part_of(index: Any, path: str) -> tuple[Path, str]:
    """``(part folder, class folder name)`` of ``path``, an image of ``index``: the folder
    holding the class folders (the dataset folder, or its train/val/test folder) and the
    first folder under it."""
    root = Path(index.root)
    rel = Path(os.path.relpath(path, root)).parts
    split = index.layout != "folders"  # the first folder under the root is a part
    depth = 3 if split else 2          # [part/]class/.../file
    if rel[:1] == ("..",) or len(rel) < depth:
        raise DataError(f"{path} is not in a class folder of {index.root}: scan the "
                        f"folder again")
    return (root / rel[0], rel[1]) if split else (root, rel[0])


def move_to_class(index: Any, path: str, to_class: str) -> Move:
    """Move ``path`` (an image of ``index``) into the folder of class ``to_class`` beside
    its own class folder.

    Raises
    ------
    DataError
        For a dataset whose labels are not its folders (:func:`refusal`), an unknown
        class, a file that is gone or outside the class folders, or one the system
        refuses to move, naming it and what to do.
    """
    why = refusal(index)
    if why:
        raise DataError(why)
    if to_class not in index.classes:
        raise DataError(f"there is no class {to_class!r} in {index.root}")
    src = Path(path)
    if not src.is_file():
        raise DataError(f"{path} is no longer there: scan the folder again")
    part, own = part_of(index, path)
    if own == to_class:
        raise DataError(f"{path} is in the folder of {to_class!r} already")
    folder = part / to_class
    wanted = folder / src.name
    target = _free(wanted)
    created = () if folder.is_dir() else (str(folder),)
    try:
        folder.mkdir(exist_ok=True)
        shutil.move(str(src), str(target))
    except OSError as e:
        for made in created:
            _remove_if_empty(made)
        raise DataError(f"cannot move {path} to {folder}: {e.strerror or e}; check "
                        f"that the folder is writable") from None
    return Move(str(src), str(target), target != wanted, created)


def followed(exclude: list[str], index: Any, source: str, target: str) -> list[str]:
    """``exclude`` (``data.exclude``) with the entries that name ``source``, an image of
    ``index`` that a move (or its undo) took to ``target``, naming ``target`` instead: an
    exclusion follows its file (else it would name nothing and the image train again)."""
    from workbench.core.data.split import relative_path

    was, now = relative_path(index, source), relative_path(index, target)
    out = [now if (e.replace("\\", "/") if os.path.isabs(e) else
                   e.replace("\\", "/").strip("/")) == was else e for e in exclude]
    return list(dict.fromkeys(out))


def _remove_if_empty(folder: str) -> None:
    try:
        os.rmdir(folder)
    except OSError:
        pass  # not empty (or gone): leave it


def undo(move: Move) -> None:
    """Put the image back where :func:`move_to_class` found it (under its own name), and
    remove the folders the move made when they are empty again."""
    src, dst = Path(move.source), Path(move.target)
    if not dst.is_file():
        raise DataError(f"{dst} is no longer there, so it cannot be moved back")
    if src.exists():
        raise DataError(f"{src} exists again: move {dst} back yourself")
    try:
        os.makedirs(src.parent, exist_ok=True)
        shutil.move(str(dst), str(src))
    except OSError as e:
        raise DataError(f"cannot move {dst} back to {src.parent}: {e.strerror or e}") from None
    for made in reversed(move.created):
        _remove_if_empty(made)
