"""Which runs are training now, and one writer at a time for run.json.

A run folder's ``.lock`` file is locked (an OS advisory lock) for as long as a process
trains into that folder. The operating system drops the lock when the process ends,
however it ends (a crash, SIGKILL, a power cut), so:

* :func:`is_live` tells a run that is training now (in this process or another) from one
  whose process died mid-run, which run.json alone cannot: it still says "running";
* a second process cannot train into the same folder (``workbench resume`` of a run that is
  still training elsewhere is refused);
* the Runs table shows a dead "running" run as "interrupted", and lets it be deleted.

The process that holds the lock writes into ``.lock`` its id and whether it is a Workbench
window or a command in a terminal (``{"pid": 12345, "by": "window"}``), so a refusal can
say where the run trains and how to stop it there (:func:`stop_it_text`).

:func:`editing_run_info` serialises the read-modify-write of run.json (the recorder's
epoch updates, a rename or notes from the Runs table, another process) through a second
lock file, ``.run.json.lock``, held only for the moment of the edit.

The locks are ``flock`` on POSIX (per open file, so two opens in one process exclude each
other too) and ``msvcrt.locking`` on Windows. Where neither works (some network file
systems), locking is skipped and callers fall back to the time run.json was last updated.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Iterator

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover  (Windows)
    fcntl = None  # type: ignore[assignment]
try:  # Windows
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]

LOCK_NAME = ".lock"
INFO_LOCK_NAME = ".run.json.lock"
#: How long an edit of run.json waits for another writer before going ahead unlocked.
EDIT_WAIT_S = 5.0


def _try_lock(f: IO[bytes]) -> bool | None:
    """Lock ``f`` exclusively without waiting: True (locked), False (held by someone
    else), None (this file system cannot lock)."""
    try:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        elif msvcrt is not None:  # pragma: no cover  (Windows)
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:  # pragma: no cover
            return None
        return True
    except BlockingIOError:
        return False
    except OSError:
        # Windows reports a held lock as a plain OSError; on POSIX this file system cannot
        # lock (ENOLCK, EOPNOTSUPP on some network file systems).
        return False if fcntl is None else None


def _unlock(f: IO[bytes]) -> None:
    try:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        elif msvcrt is not None:  # pragma: no cover  (Windows)
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
    except OSError:
        pass  # closing the file releases it anyway


class RunLock:
    """The lock a training process holds on its run folder (see the module doc)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_NAME
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> bool:
        """Lock the folder; False when another process (or another run in this one) holds
        it. A folder where no lock can be made (read-only, no locking) counts as free:
        nothing else would be possible there either."""
        if self._file is not None:
            return True
        try:
            f = open(self.path, "a+b")
        except OSError:
            return True
        state = _try_lock(f)
        if state is True:
            self._file = f
            _write_holder(f, {"pid": os.getpid(), "by": _by()})
        else:
            f.close()
        return state is not False

    def release(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            _write_holder(f, None)
            _unlock(f)
            f.close()


def _by() -> str:
    """"window" in the app's process (it has imported Qt's widgets), else "terminal" (a
    ``workbench`` command)."""
    return "window" if "PySide6.QtWidgets" in sys.modules else "terminal"


def _write_holder(f: IO[bytes], who: dict | None) -> None:
    """Write ``who`` into the lock file ``f`` (None: empty it); where that fails, the
    refusals say less (:func:`stop_it_text`)."""
    try:
        f.truncate(0)
        if who:
            f.write(json.dumps(who).encode())
        f.flush()
    except OSError:
        pass


def holder(run_dir: str | Path) -> dict:
    """What the process holding the lock of ``run_dir`` wrote into it: its ``pid`` (int)
    and ``by`` ("window" or "terminal"); ``{}`` where it is not known (a lock from before
    this was written, one just taken, a file that cannot be read)."""
    try:
        data = json.loads((Path(run_dir) / LOCK_NAME).read_bytes() or b"{}")
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return {}
    return {"pid": data["pid"], "by": data.get("by") if data.get("by") in (
        "window", "terminal") else ""}


def stop_it_text(run_dir: str | Path) -> str:
    """How to stop the run training into ``run_dir``, where it trains: "stop it in the
    other Workbench window that trains it (process 12345), with Stop on its Train or Tune
    tab", "… in the terminal that trains it (process 12345), with Ctrl-C", "… in this
    window, …", or, where the lock does not say (:func:`holder`), both ways."""
    found = holder(run_dir)
    pid, by = found.get("pid"), found.get("by")
    if pid == os.getpid() and _by() == "window":
        return "stop it in this window, with Stop on the Train or Tune tab"
    if by == "window":
        return f"stop it in the other Workbench window that trains it (process {pid}), " \
               f"with Stop on its Train or Tune tab"
    if by == "terminal":
        return f"stop it in the terminal that trains it (process {pid}), with Ctrl-C"
    return ("stop it where it trains: in another Workbench window, with Stop on its Train "
            "or Tune tab, or in a terminal, with Ctrl-C")


def is_live(run_dir: str | Path) -> bool | None:
    """True when a process is training into ``run_dir`` now, False when none is, None when
    it cannot be told (no lock file: a run from before locks, or a folder where it could
    not be made; or no locking on this file system)."""
    path = Path(run_dir) / LOCK_NAME
    try:
        f = open(path, "rb")
    except OSError:
        return None
    with f:
        state = _try_lock(f)
        if state is True:
            _unlock(f)
            return False
        return None if state is None else True


@contextlib.contextmanager
def editing_run_info(run_dir: str | Path) -> Iterator[None]:
    """Hold the run.json edit lock of ``run_dir`` for the duration of the block (waiting at
    most :data:`EDIT_WAIT_S` for another writer; after that, or where no lock can be made,
    the edit goes ahead unlocked rather than failing)."""
    try:
        f = open(Path(run_dir) / INFO_LOCK_NAME, "a+b")
    except OSError:
        yield
        return
    with f:
        deadline = time.monotonic() + EDIT_WAIT_S
        state = _try_lock(f)
        while state is False and time.monotonic() < deadline:
            time.sleep(0.01)
            state = _try_lock(f)
        try:
            yield
        finally:
            if state is True:
                _unlock(f)
