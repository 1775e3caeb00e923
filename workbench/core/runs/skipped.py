"""The images a run skipped because they could not be read (deleted or moved since the
scan, truncated, not an image), as run.json keeps them and as they are said.

run.json's ``"skipped"``: ``{"count": N, "files": [[path, reason], ...]}``, the files in
the order the run met them, each path relative to the dataset folder (absolute when
outside it), at most :data:`KEPT` of them (a run over a broken folder of 10,000 files
does not write megabytes), ``count`` all of them. A resumed run's entry is the earlier
one's files, then its own new ones (:func:`skipped_entry`). Written by
:class:`~workbench.core.runs.recorder.RunRecorder`; said by the Train tab
(:mod:`workbench.qt.panels.train.skipped`) and ``workbench report``
(:mod:`workbench.core.runs.report`) with :func:`skipped_text`. Reads JSON only (no torch).
"""

from __future__ import annotations

import os
from typing import Any, Iterable

#: How many skipped files run.json names; ``count`` counts them all.
KEPT = 100
#: How many skipped files a sentence names; the others are counted ("and 4 more").
SHOWN = 3


def shown_path(path: str, folder: str = "") -> str:
    """``path`` relative to the dataset ``folder`` when it is inside it, else as it is."""
    path = str(path)
    if folder and os.path.isabs(path) and path.startswith(os.path.abspath(folder) + os.sep):
        return os.path.relpath(path, folder)
    return path


def skipped_text(skipped: Iterable[tuple[str, str]], folder: str = "",
                 total: int = 0) -> str:
    """"1 unreadable image was skipped: cats/a.jpg (file not found (moved or deleted?))."
    for ``skipped`` ``(path, reason)`` pairs; paths relative to the dataset ``folder``.
    ``total``: how many were skipped when ``skipped`` names only some (run.json keeps
    :data:`KEPT`). "" when none was skipped."""
    seen = dict(skipped)  # a file skipped in every epoch is named once
    n = max(len(seen), int(total or 0))
    if not n:
        return ""
    names = [f"{shown_path(path, folder)} ({reason})" if reason else shown_path(path, folder)
             for path, reason in list(seen.items())[:SHOWN]]
    shown = len(names)
    more = f" and {n - shown:,} more" if n > shown else ""
    verb = "image was" if n == 1 else "images were"
    return f"{n:,} unreadable {verb} skipped: {', '.join(names)}{more}."


def saved_skipped(info: Any) -> tuple[list[tuple[str, str]], int]:
    """``(files, count)`` of run.json ``info``'s ``"skipped"`` entry: the ``(path,
    reason)`` pairs kept and how many were skipped in all; ``([], 0)`` for a run that
    skipped none (or from before they were kept, or an entry that is not one)."""
    entry = info.get("skipped") if isinstance(info, dict) else None
    if not isinstance(entry, dict):
        return [], 0
    kept = entry.get("files")
    files = []
    for item in kept if isinstance(kept, list) else []:
        if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str) \
                and item[0]:
            files.append((item[0], str(item[1] or "")))
    count = entry.get("count")
    count = count if isinstance(count, int) and not isinstance(count, bool) else 0
    return files, max(count, len(dict(files)))


def skipped_entry(skipped: Iterable[tuple[str, str]], folder: str = "",
                  earlier: Any = None) -> dict[str, Any] | None:
    """run.json's ``"skipped"`` for ``skipped`` ``(path, reason)`` pairs met by this run
    (paths kept relative to the dataset ``folder``), after those of ``earlier`` (run.json's
    entry of the segments before a resume; a file met again is kept once, with its first
    reason). None when none was skipped.

    Where ``earlier`` kept only :data:`KEPT` of its files, a file met again may be one it
    did not name: ``count`` is then the most that is known for sure (the earlier count, or
    the distinct files named, whichever is larger), never a file counted twice."""
    files, count = saved_skipped({"skipped": earlier})
    merged = dict(files)
    for path, reason in skipped:
        merged.setdefault(shown_path(path, folder), str(reason or ""))
    count = max(count, len(merged))
    if not count:
        return None
    return {"count": count, "files": [[p, r] for p, r in list(merged.items())[:KEPT]]}
