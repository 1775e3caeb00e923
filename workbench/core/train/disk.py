"""Writes into a run folder that fail: which failures are the disk's (full, read-only, not
ours to write) and how to say so.

``torch.save`` does not always raise the ``OSError`` of a failed write: once its zip writer
has started, a full disk comes out as torch's own ``RuntimeError`` from
``inline_container.cc`` ("unexpected pos ...", "PytorchStreamWriter failed writing file
...", "file write failed"), with the ``OSError`` only as its ``__context__``. Both are a
disk-write failure, never a bug.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

#: Text of torch's RuntimeError when its file writer could not write.
_TORCH_WRITE_FAILURES = ("inline_container.cc", "PytorchStreamWriter failed writing",
                         "file write failed")
_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)
#: Below this much free space a write failure without an errno is taken for a full disk.
_NEARLY_FULL = 64 << 20


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


def describe_write_failure(e: OSError, folder: Path) -> tuple[str, str]:
    """``(what happened, what to do)`` for a write into ``folder`` that failed with ``e``,
    worded by its errno (out of space, read-only, not permitted) and, without one, by the
    free space left there."""
    what = e.strerror or str(e) or "the file could not be written"
    code = e.errno
    if code in _NO_SPACE or (code is None and _nearly_full(folder)):
        if code is None:
            what += " (the disk is full)"
        return what, "free some disk space, or choose a writable runs folder on another disk"
    if code == errno.EROFS:
        return what, "the disk is mounted read-only: choose a writable runs folder"
    if code in _NOT_WRITABLE:
        return what, "you may not write there: choose a writable runs folder"
    return what, "check the disk, or choose another writable runs folder"
