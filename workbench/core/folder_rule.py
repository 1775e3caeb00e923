"""Where a relative ``data.folder`` points, one rule for every reader and writer.

In an experiment file it is relative to the file's own folder (as most tools' config files
are); ``--set data.folder=`` and ``--data`` are relative to the current folder. Runs and
bundles record it absolute, so every later command finds the data from any folder. A file
that names its dataset relatively keeps doing so when a command writes it back (``tune
--apply``, ``lr-find --write``, the app's File → Save; Save As too where that path still
names it from the new file's folder): it stays movable with its data.
"""

from __future__ import annotations

import json
from pathlib import Path


def resolve_folder(folder: str, file: str | Path) -> str:
    """``data.folder`` of the experiment file ``file``, absolute: a relative one is taken
    from the file's folder (a file whose folder exists only from the current folder, as
    such files were read before this rule, still reads). Empty (the demo dataset) and
    absolute values are returned as they are."""
    if not folder or Path(folder).is_absolute():
        return folder
    given = Path(folder).expanduser()
    beside = Path(file).resolve().parent / given
    return str((beside if beside.exists() or not given.exists() else given).resolve())


def folder_as_written(folder: str, file: str | Path, source: str | Path = "") -> str:
    """What to write as ``data.folder`` into the experiment file ``file``: the relative
    path ``file`` already holds when it names ``folder`` (read by :func:`resolve_folder`),
    else the one ``source`` (the file the experiment was read from: a Save As) holds when
    it names ``folder`` from ``file``'s folder too, else ``folder``."""
    old = _written(file)
    if old and resolve_folder(old, file) == folder:
        return old
    old = _written(source) if source else ""
    if old and str((Path(file).resolve().parent / Path(old).expanduser()).resolve()) == folder:
        return old
    return folder


def _written(file: str | Path) -> str:
    """The relative ``data.folder`` the experiment file ``file`` holds, else ``""``."""
    try:
        old = json.loads(Path(file).read_text(encoding="utf-8-sig"))["data"]["folder"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    return old if isinstance(old, str) and old and not Path(old).is_absolute() else ""
