"""Small file helpers: reading JSON documents, atomic writes, the user's data directories."""

from __future__ import annotations

import errno
import glob
import io
import json
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from workbench.core.errors import SpecError


def read_text_file(path: Path, what: str) -> str:
    """The text of ``path``; a missing or unreadable file is a :class:`SpecError` that
    calls it ``what`` (e.g. "experiment file"). A leading UTF-8 byte order mark (older
    Notepad, PowerShell 5's ``Out-File -Encoding utf8``) is dropped."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
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
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        if not hasattr(sys, "get_int_max_str_digits"):  # a Python without that limit
            raise
        limit = sys.get_int_max_str_digits()
        digits, where = _long_integer(text, limit)
        raise SpecError("", f"{source} holds a number too long to read ({where}an integer "
                            f"of {digits:,} digits, over Python's limit of {limit:,}); "
                            f"{fix}") from None


class _LongInteger(Exception):
    pass


def _long_integer(text: str, limit: int) -> tuple[int, str]:
    """The digit count of the first integer in ``text`` over ``limit`` digits and
    ``"line L, column C: "`` where it starts (``""`` when it cannot be found)."""
    def parse_int(s: str) -> int:
        if len(s.lstrip("-")) > limit:
            raise _LongInteger(s)
        return 0

    try:
        json.loads(text, parse_int=parse_int)
    except _LongInteger as e:
        number = e.args[0]
    except ValueError:
        return 0, ""
    else:
        return 0, ""
    match = re.search(r"(?<![\d.\w])" + re.escape(number) + r"(?![\d.eE])", text)
    if match is None:
        return len(number.lstrip("-")), ""
    start = match.start()
    line = text.count("\n", 0, start) + 1
    column = start - text.rfind("\n", 0, start)
    return len(number.lstrip("-")), f"line {line}, column {column}: "


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write(fileobj)`` so a reader sees the old or the new file.

    For a regular file (or a new one) the data goes to a temporary file in the same
    folder, is flushed and fsynced, then renamed over the file (atomic on POSIX and
    Windows); a crash mid-write leaves the previous file intact and at most a stray
    ``.tmp`` file. A symlink is followed: its final target is written so, in the target's
    folder, and the link stays a link; a replaced file keeps its permission bits, and a
    new file gets those ``open(path, "w")`` would give it (0o666 less the umask).

    A stream is written directly, never replaced: a FIFO, a character device
    (``/dev/null``, a terminal), and ``/dev/stdout``, ``/dev/stderr`` or ``/dev/fd/N``
    (written to that open descriptor, after what was printed to it).

    Raises
    ------
    OSError
        With ``filename`` set to ``path``: ``IsADirectoryError`` for a folder, ``EINVAL``
        for a block device or socket, and whatever the write meets (``ENOSPC``...).
        :func:`write_error` words it for a person.
    """
    path = Path(path)
    fd = _inherited_fd(path)
    if fd is not None:
        _write_stream(path, write, fd=fd)
        return
    try:
        st = os.stat(path)  # follows symlinks: what is at the end of them
    except FileNotFoundError:
        st = None  # a new file, or a symlink to one: created at the link's final target
    if st is None or stat.S_ISREG(st.st_mode):
        real = Path(os.path.realpath(path))
        if st is not None and not _same_file(real, st):
            # A link that names no path (a /proc/PID/fd entry of a deleted file): write
            # through it.
            _write_stream(path, write, truncate=True)
            return
        _replace(real, write, None if st is None else stat.S_IMODE(st.st_mode))
    elif stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", os.fspath(path))
    elif stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
        _write_stream(path, write)
    else:
        kind = "a block device" if stat.S_ISBLK(st.st_mode) else "a socket"
        raise OSError(errno.EINVAL, f"it is {kind}, not a file, a pipe or a character "
                                    f"device", os.fspath(path))


def _make_temporary(path: Path) -> tuple[int, str]:
    """Create ``.NAME.XXXXXXXX.tmp`` beside ``path``, open for writing: ``(fd, its path)``.

    Made with mode 0o666, so the kernel applies the umask (and a folder's default ACL)
    exactly as for ``open(path, "w")``: a new file gets the permissions any other program
    would give it. :func:`tempfile.mkstemp` would make it 0o600, private to its owner. We
    never read or set the umask: ``os.umask`` can only be read by changing it, which races
    with other threads creating files.
    """
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", os.fspath(path))


def _replace(path: Path, write: Callable[[IO[bytes]], None], mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = _make_temporary(path)
    except OSError as e:  # a read-only folder: name the file asked for, not .NAME.XXXX.tmp
        raise _naming(e, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)  # the file replaced keeps its permissions
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and e.filename in (tmp, None):
            raise _naming(e, path) from None
        raise


def _naming(error: OSError, path: Path) -> OSError:
    """``error``'s errno and reason with ``filename`` the file the caller asked for: the
    temporary file is ours, and a message naming it would puzzle a user. (``OSError``
    picks the subclass from the errno: EACCES gives a ``PermissionError`` again.)"""
    return OSError(error.errno, error.strerror or str(error), os.fspath(path))


def _write_stream(path: Path, write: Callable[[IO[bytes]], None], fd: int | None = None,
                  truncate: bool = False) -> None:
    """``write`` into a buffer (writers may seek), then its bytes into the stream."""
    buf = io.BytesIO()
    write(buf)
    data = memoryview(buf.getvalue())
    try:
        if fd is not None:
            for stream in (sys.stdout, sys.stderr):  # what was printed comes first
                if stream is not None:
                    stream.flush()
            out = os.dup(fd)
        else:
            # No O_CREAT: a stream that vanished is an error, not a new file. A FIFO waits
            # here for its reader, as `echo > fifo` does.
            out = os.open(path, os.O_WRONLY | (os.O_TRUNC if truncate else 0)
                          | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
        try:
            while data:
                data = data[os.write(out, data):]
        finally:
            os.close(out)
    except OSError as e:  # os.write names no file: name the path the user gave
        raise OSError(e.errno, e.strerror, os.fspath(path)) from None


_FD_PATH = re.compile(r"/(?:dev/fd|proc/self/fd)/(\d+)")


def _inherited_fd(path: Path) -> int | None:
    """The open descriptor ``/dev/stdout``, ``/dev/stderr`` or ``/dev/fd/N`` names, or None
    (not such a path, not POSIX, or that descriptor is closed)."""
    if os.name != "posix":
        return None
    text = os.fspath(path)
    fd = {"/dev/stdout": 1, "/dev/stderr": 2}.get(text)
    match = _FD_PATH.fullmatch(text)
    if match:
        fd = int(match.group(1))
    if fd is None:
        return None
    try:
        os.fstat(fd)
    except OSError:
        return None
    return fd


def output_stream(path: str | os.PathLike) -> str | None:
    """What :func:`atomic_write` writes directly at ``path``: ``"fifo"``, ``"device"`` (a
    character device, or ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``), or None (a
    regular file, a new one, or something it refuses)."""
    if _inherited_fd(Path(path)) is not None:
        return "device"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return "fifo" if stat.S_ISFIFO(mode) else "device" if stat.S_ISCHR(mode) else None


def _same_file(path: Path, st: os.stat_result) -> bool:
    try:
        return os.path.samestat(os.stat(path), st)
    except OSError:
        return False


def write_error(path: str | os.PathLike, error: OSError, fix: str = "") -> str:
    """One line for a person: ``cannot write PATH: REASON; WHAT TO DO``.

    ``fix`` replaces the generic advice for errors a different place would avoid (e.g.
    "choose a writable folder for --csv").
    """
    code = error.errno
    reason = error.strerror or str(error) or type(error).__name__
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        advice = "free some disk space or choose another place"
    elif code == errno.EISDIR:
        advice = "give the name of a file to write"
    elif code == errno.EPIPE:
        reason, advice = "the program reading it closed the pipe", "keep the reader open"
    else:
        advice = fix or "choose a folder you can write to"
    return f"cannot write {os.fspath(path)}: {reason}; {advice}"


def cannot_write(path: str | os.PathLike, fix: str, folder: bool = False) -> str | None:
    """Why ``path`` cannot be written (:func:`write_error`'s line, ending with ``fix``), or
    None: checked before the work that makes it (``workbench`` commands' outputs, the
    Export dialog's files). A file (``folder``: a folder, created if needed) whose place is
    read-only, not a folder, or where no folder can be made. Nothing is created: a file is
    made and removed in the nearest folder that exists. ``-`` and streams (a FIFO, a
    device, ``/dev/stdout``) are written as they are and pass; the writer's own checks (a
    folder given for a file...) stay its own."""
    import tempfile

    if path == "-" or not path or output_stream(path) is not None:
        return None
    target = Path(os.path.realpath(path))
    place = target if folder else target.parent
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        if not place.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{place} is a file, not a folder")
        fd, probe = tempfile.mkstemp(dir=place, prefix=".workbench-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        return write_error(path, e, fix)
    return None


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


def file_stamp(path: str | os.PathLike) -> tuple[int, int, int] | None:
    """``(mtime_ns, size, inode)`` of the file at ``path`` (None when it cannot be read): a
    file saved again at the same path (:func:`atomic_write` makes a new inode) stamps
    differently, so what was loaded from it is loaded again."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 (atomically); a file name's undecodable bytes in it are
    written back as themselves (:mod:`workbench.core.filenames`)."""
    from workbench.core.filenames import encode_text

    data = encode_text(text)
    atomic_write(path, lambda f: f.write(data))


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
