"""Writes into a run folder that fail: which failures are the disk's (full, read-only, not
ours to write, a file where a folder should be) and how to say so.

``torch.save`` does not always raise the ``OSError`` of a failed write: once its zip writer
has started, a full disk comes out as torch's own ``RuntimeError`` from
``inline_container.cc`` ("unexpected pos ...", "PytorchStreamWriter failed writing file
...", "file write failed"), with the ``OSError`` only as its ``__context__``. Both are a
disk-write failure, never a bug.

The advice names what the user can change where the run is written: the app keeps every
run in its data directory's runs folder and has no setting for it (``WORKBENCH_HOME``, set
before it starts, moves it), while ``workbench train`` writes where ``--out`` says; a run
that goes on in its own folder (a resume) can only be given room there.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from workbench.core.io import runs_dir

#: Text of torch's RuntimeError when its file writer could not write.
_TORCH_WRITE_FAILURES = ("inline_container.cc", "PytorchStreamWriter failed writing",
                         "file write failed")
_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)
#: Below this much free space a write failure without an errno is taken for a full disk.
_NEARLY_FULL = 64 << 20
_ANOTHER_DISK = "a writable folder on another disk"


def write_failure(e: BaseException) -> OSError | None:
    """The ``OSError`` behind a failed write: ``e`` itself, the one torch's write-failure
    ``RuntimeError`` was raised from (or an ``OSError`` without an errno standing for it);
    None when ``e`` is no write failure (a bug, or another kind of error)."""
    if isinstance(e, OSError):
        return e
    if not isinstance(e, RuntimeError) or not any(s in str(e) for s in _TORCH_WRITE_FAILURES):
        return None
    cause: BaseException | None = e.__cause__ or e.__context__
    while cause is not None:
        if isinstance(cause, OSError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return OSError(None, "the file could not be written")


def _nearly_full(folder: Path) -> bool:
    for path in (folder, *folder.parents):
        try:
            return shutil.disk_usage(path).free < _NEARLY_FULL
        except OSError:
            continue  # not made yet: ask the folder it goes in
    return False


def file_in_the_way(path: str | Path) -> Path | None:
    """The file (not a folder) at ``path`` or at the nearest of its ancestors that exists:
    what a folder there cannot be made under ("Not a directory"); None when there is none."""
    for place in (Path(path), *Path(path).parents):
        if place.is_dir():
            return None
        if place.exists() or place.is_symlink():  # a file, or a link to nothing
            return place
    return None


def _elsewhere(folder: Path, instead: str) -> str:
    """How to write a new run to ``instead`` ("a folder on another disk"): for a run in the
    data directory's runs folder (the app's, tune trials'), by moving the data directory;
    for one written where ``--out`` said, with another ``--out``."""
    try:
        in_data_home = Path(folder).resolve().is_relative_to(runs_dir().resolve())
    except (OSError, RuntimeError):
        in_data_home = False
    if in_data_home:
        return f"start Workbench with WORKBENCH_HOME set to {instead}, where its runs then go"
    return f"train into {instead} (--out)"


def describe_write_failure(e: OSError, folder: Path, in_place: bool = False) -> tuple[str, str]:
    """``(what happened, what to do)`` for a write into ``folder`` that failed with ``e``,
    worded by its errno (out of space, read-only, not permitted, a file in the way, a name
    too long) and,
    without one, by the free space left there. ``in_place``: the run must stay in
    ``folder`` (a resumed run, its bundle), so only making room there helps; otherwise the
    advice also says how to write a new run elsewhere, as the run's front end can
    (:func:`_elsewhere`)."""
    what = e.strerror or str(e) or "the file could not be written"
    code = e.errno
    blocker = file_in_the_way(folder) if code in (errno.ENOTDIR, errno.EEXIST) else None
    if blocker is not None:
        return f"{blocker} is a file, not a folder", "move or rename that file"
    if code in _NO_SPACE or (code is None and _nearly_full(folder)):
        if code is None:
            what += " (the disk is full)"
        return what, "free some disk space" + (
            " there" if in_place else f", or {_elsewhere(folder, _ANOTHER_DISK)}")
    if code == errno.EROFS:
        return what, "the disk is mounted read-only: " + (
            "mount it writable" if in_place else _elsewhere(folder, "a writable folder"))
    if code in _NOT_WRITABLE:
        return what, "you may not write there: " + (
            "give yourself write permission on the run folder" if in_place else
            _elsewhere(folder, "a writable folder"))
    if code == errno.ENAMETOOLONG:  # the name, not the disk (a folder's name: 255 bytes)
        return f"{what} (a file or folder name holds at most 255 bytes)", (
            "move the run to a folder with a shorter path" if in_place else
            "use a shorter name, or " + _elsewhere(folder, "a folder with a shorter path"))
    return what, "check the disk" + (
        "" if in_place else f", or {_elsewhere(folder, _ANOTHER_DISK)}")


def folder_failure(folder: str | Path, e: OSError) -> str:
    """``cannot create the run folder FOLDER: WHY; WHAT TO DO`` for a ``mkdir`` of
    ``folder`` that failed with ``e``: a file in the way is named
    (:func:`file_in_the_way`), whichever error the system gave for it."""
    what, advice = describe_write_failure(e, Path(folder))
    return f"cannot create the run folder {folder}: {what}; {advice}"
