"""What the Health view does to a dataset's files: move an image to another class folder,
and undo that. (Excluding an image is a setting, ``data.exclude``, not a file change.)

Moves stay inside the dataset: the image goes to the class folder beside its own (the
same split part, ``train/`` or ``val/``, in that layout), never over another file (a
numbered name is chosen instead), and the :class:`Move` it returns undoes it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import DataError


@dataclass(frozen=True)
class Move:
    """One image moved from ``source`` to ``target``."""

    source: str
    target: str


def _free(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(2, 10000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise DataError(f"cannot find a free name for {path.name} in {path.parent}")


def move_to_class(index, path: str, to_class: str) -> Move:
    """Move ``path`` (an image of ``index``) into the folder of class ``to_class``.

    Raises
    ------
    DataError
        For a CSV dataset (its labels are rows, not folders: exclude the image instead),
        an unknown class, a file that is gone, or one the system refuses to move, naming
        it and what to do.
    """
    if index.source == "csv":
        raise DataError(f"{index.root} is a CSV file: change the label of {path} in it, or "
                        f"exclude the image")
    if to_class not in index.classes:
        raise DataError(f"there is no class {to_class!r} in {index.root}")
    src = Path(path)
    if not src.is_file():
        raise DataError(f"{path} is no longer there: scan the folder again")
    part = src.parent.parent  # the folder holding the class folders (train/ in train_val)
    target = _free(part / to_class / src.name)
    try:
        target.parent.mkdir(exist_ok=True)
        shutil.move(str(src), str(target))
    except OSError as e:
        raise DataError(f"cannot move {path} to {target.parent}: {e.strerror or e}; check "
                        f"that the folder is writable") from None
    return Move(str(src), str(target))


def undo(move: Move) -> None:
    """Put the image back where :func:`move_to_class` found it."""
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
