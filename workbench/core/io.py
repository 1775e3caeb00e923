"""Small file helpers: reading JSON documents, atomic writes, the user's data directories."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from .errors import SpecError


def read_text_file(path: Path, what: str) -> str:
    """The text of ``path``; a missing or unreadable file is a :class:`SpecError` that
    calls it ``what`` (e.g. "experiment file")."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("", f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError("", f"cannot read {what} {path}: {e}") from None


def parse_json(text: str, source: str, fix: str) -> Any:
    """``json.loads(text)``; bad JSON is a :class:`SpecError` naming ``source``, the line
    and column, and ending with ``fix`` (what the user can do)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError("", f"{source} is not valid JSON (line {e.lineno}, column {e.colno}: "
                            f"{e.msg}); {fix}") from None
    except RecursionError:
        raise SpecError("", f"{source} is nested too deeply to be read (thousands of levels "
                            f"of brackets); {fix}") from None


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


def remove_stray_temporaries(folder: Path, names: Iterable[str]) -> list[Path]:
    """Delete the temporary files :func:`atomic_write` left in ``folder`` for ``names``
    when its process was killed mid-write; returns those removed.

    Call it only when no other process writes those files (e.g. when a run resumes):
    a live writer's temporary file would be deleted under it.
    """
    removed = []
    for name in names:
        for tmp in Path(folder).glob(f".{glob.escape(name)}.*.tmp"):
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass  # a leftover that cannot be removed is harmless: it is never read
    return removed


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
