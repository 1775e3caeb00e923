"""Small file helpers: atomic writes and the user's data directories."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, IO


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write(fileobj)`` so a reader sees the old or the new file.

    The data goes to a temporary file in the same folder, is flushed and fsynced, then
    renamed over ``path`` (atomic on POSIX and Windows). A crash mid-write leaves the
    previous file intact and at most a stray ``.tmp`` file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def data_home() -> Path:
    """Where Workbench keeps its data: ``$WORKBENCH_HOME``, else the XDG data directory."""
    env = os.environ.get("WORKBENCH_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "workbench"


def runs_dir() -> Path:
    """Default folder of training runs."""
    return data_home() / "runs"


def cache_home() -> Path:
    """Where Workbench keeps files it can rebuild (the decoded-image cache):
    ``$WORKBENCH_CACHE``, else ``$WORKBENCH_HOME/cache`` when that is set, else the XDG
    cache directory (``~/.cache/workbench``)."""
    env = os.environ.get("WORKBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    if os.environ.get("WORKBENCH_HOME"):
        return data_home() / "cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "workbench"
