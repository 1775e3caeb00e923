"""What the Train tab says of the images a run skipped because they could not be read
(deleted or moved since the scan, truncated, not an image): how many, with the grammar of
one, and which (the first few by name and why, as ``workbench train`` does)."""

from __future__ import annotations

import os

#: How many skipped files are named; the others are counted ("and 4 more").
SHOWN = 3


def skipped_text(skipped: list[tuple[str, str]], folder: str = "") -> str:
    """"1 unreadable image was skipped: cats/a.jpg (file not found (moved or deleted?))."
    for ``skipped`` ``(path, reason)`` pairs; paths relative to the dataset ``folder``.
    "" when none was skipped."""
    seen = dict(skipped)  # a file skipped in every epoch is named once
    if not seen:
        return ""
    n = len(seen)
    names = []
    for path, reason in list(seen.items())[:SHOWN]:
        rel = os.path.relpath(path, folder) if folder and os.path.isabs(path) and \
            path.startswith(os.path.abspath(folder) + os.sep) else path
        names.append(f"{rel} ({reason})" if reason else rel)
    more = f" and {n - SHOWN:,} more" if n > SHOWN else ""
    verb = "image was" if n == 1 else "images were"
    return f"{n:,} unreadable {verb} skipped: {', '.join(names)}{more}."


def with_skipped(text: str, level: str, skipped: list[tuple[str, str]],
                 folder: str = "") -> tuple[str, str]:
    """The run-end line ``(text, level)`` with :func:`skipped_text` after it, as a sentence
    of its own, and a warning (not "ok": it was green) when anything was skipped."""
    said = skipped_text(skipped, folder)
    if not said:
        return text, level
    text = text.rstrip()
    return f"{text}{'' if text.endswith('.') else '.'} {said}", \
        "warning" if level in ("ok", "info") else level
