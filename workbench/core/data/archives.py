"""A ``.zip`` or ``.tar`` (``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``) of a dataset
folder opens as that dataset: it is unpacked once into the cache folder and scanned there.

Unpacked, not read from the archive: training reads every image every epoch (or decodes it
once into the decoded-image cache, which keys files by path and modification time), a
tar.gz cannot be read at random without decompressing it from the start, and the Data
tab's thumbnails, the Health view and "Reveal in file manager" all want real files. The
copy is kept under ``<cache>/archives/<name>-<key>``, the key made of the archive's path,
size and modification time, so a changed archive is unpacked afresh and an unchanged one
only once; unpacking a changed archive removes the copy of its earlier version.

No member may land outside the target: an absolute path, a ``..`` component, a link, or a
device file refuses the whole archive (zip-slip) before anything is written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable

from workbench.core.errors import DataError

SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_DONE = ".workbench-unpacked"


def is_archive(path: str | os.PathLike) -> bool:
    name = str(path).lower()
    return os.path.isfile(path) and name.endswith(SUFFIXES)


def _safe_name(name: str, archive: str) -> str:
    """The member's relative path, or DataError when it would leave the target."""
    name = name.replace("\\", "/")
    pure = PurePosixPath(name)
    if pure.is_absolute() or name.startswith("/") or (len(name) > 1 and name[1] == ":") \
            or ".." in pure.parts:
        raise DataError(f"{archive} has a member {name!r} that would be written outside the "
                        f"folder it is unpacked into; refused: unpack it yourself if you "
                        f"trust it")
    return str(pure)


def _members(archive: str) -> list[tuple[str, bool]]:
    """``(relative path, is a folder)`` of every member, each checked."""
    if archive.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            return [(_safe_name(i.filename, archive), i.is_dir()) for i in z.infolist()]
    with tarfile.open(archive) as t:
        out = []
        for m in t.getmembers():
            name = _safe_name(m.name, archive)
            if not (m.isfile() or m.isdir()):
                raise DataError(f"{archive} has a member {m.name!r} that is a link or a "
                                f"device, not a file; refused: unpack it yourself if you "
                                f"trust it")
            out.append((name, m.isdir()))
        return out


def _target(archive: str) -> Path:
    from workbench.core.filenames import name_bytes
    from workbench.core.io import cache_home

    st = os.stat(archive)
    key = hashlib.sha1(name_bytes(f"{os.path.abspath(archive)}|{st.st_size}|{st.st_mtime_ns}"))
    stem = Path(archive).name.split(".")[0] or "dataset"
    return cache_home() / "archives" / f"{stem}-{key.hexdigest()[:12]}"


def unpack(archive: str | os.PathLike,
           progress: Callable[[int, int], None] | None = None) -> tuple[str, str]:
    """Unpack ``archive`` into the cache (once); returns ``(folder, note)``.

    Raises
    ------
    DataError
        For a damaged archive, a member that would leave the target, or a cache folder
        that cannot be written, naming the file.
    """
    archive = os.fspath(archive)
    dest = _target(archive)
    _remove_stale(dest.parent)
    if (dest / _DONE).is_file():
        return str(dest), f"{archive} was unpacked before into {dest}"
    try:
        members = _members(archive)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
        raise DataError(f"cannot read the archive {archive}: {e}") from None
    partial = dest.with_name(dest.name + f".partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    files = [n for n, is_dir in members if not is_dir and not _is_mac_litter(n)]
    try:
        partial.mkdir(parents=True)
        if archive.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                infos = [m for m in z.infolist()
                         if not m.is_dir() and not _is_mac_litter(_safe_name(m.filename, archive))]
                for i, info in enumerate(infos):
                    _write(partial, _safe_name(info.filename, archive), z.open(info))
                    _tick(progress, i + 1, len(files))
        else:
            with tarfile.open(archive) as t:
                i = 0
                for m in t.getmembers():
                    if m.isfile() and not _is_mac_litter(_safe_name(m.name, archive)):
                        i += 1
                        _write(partial, _safe_name(m.name, archive), t.extractfile(m))
                        _tick(progress, i, len(files))
        (partial / _DONE).write_text(os.path.abspath(archive))
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(partial, dest)
        _remove_older(dest, os.path.abspath(archive))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        raise DataError(f"cannot unpack the archive {archive}: {e}") from None
    except OSError as e:
        raise DataError(f"cannot unpack {archive} into {dest.parent}: {e.strerror or e}; "
                        f"free some space there or set WORKBENCH_CACHE to another "
                        f"folder") from None
    finally:  # also on Ctrl+C (KeyboardInterrupt) or a cancelled scan: no half copy stays
        shutil.rmtree(partial, ignore_errors=True)
    return str(dest), f"unpacked {archive} ({len(files):,} files) into {dest}"


def _is_mac_litter(name: str) -> bool:
    """``__MACOSX/...`` and AppleDouble ``._photo.jpg`` members of a zip made on a Mac:
    resource forks, not images, and never part of the dataset."""
    parts = PurePosixPath(name).parts
    return (any(p.lower() == "__macosx" for p in parts)
            or bool(parts and parts[-1].startswith("._")))


def _remove_stale(folder: Path) -> None:
    """Delete the ``*.partial-PID`` folders of unpacks whose process is gone (killed, or
    the machine switched off, mid-unpack)."""
    try:
        others = list(folder.glob("*.partial-*"))
    except OSError:
        return
    for other in others:
        pid = other.name.rsplit(".partial-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(other, ignore_errors=True)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl+C there: leave the folder be
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process, or cannot tell: leave its folder alone
    return True


def _remove_older(dest: Path, archive: str) -> None:
    """Delete the copies of earlier versions of ``archive`` (same path, other size or
    date): only the newest is kept."""
    for other in dest.parent.iterdir():
        marker = other / _DONE
        try:
            if other != dest and marker.is_file() and marker.read_text() == archive:
                shutil.rmtree(other, ignore_errors=True)
        except OSError:
            continue


def _write(root: Path, name: str, src) -> None:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with src, open(target, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)


def _tick(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    if progress is not None and (done % 64 == 0 or done == total):
        progress(done, total)
