"""Has a dataset folder changed since it was scanned? A listing only, never a decode.

The app scans a folder once (listing, then decoding every image to find the unreadable
ones); the user may then fix the folder in a file manager (delete a broken class, add
images) while the app is open. :func:`listing_changes` lists the folder again, as
:func:`~.scan.scan_folder` with ``verify=False`` does (about 70 ms for 10,000 images), and
compares the files with those of the scan: images added or removed (a file moved to
another class is both), class folders added or removed. :func:`change_text` says it in
one line ("The folder changed: 2 added, 1 removed"); once the folder was scanned again,
:func:`rescanned` counts the added files it found unreadable as files, not images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class ListingChange:
    """What differs between a scan and the folder now: image files (paths) and class
    folders added or removed; ``unreadable``: those of ``removed`` the scan had found
    unreadable (not an image file, empty, damaged), which are not called images;
    ``added_unreadable``: those of ``added`` the scan after the change found unreadable
    (:func:`rescanned`; a listing cannot tell)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    classes_added: list[str] = field(default_factory=list)
    classes_removed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    added_unreadable: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.classes_added
                    or self.classes_removed)


def files_of(index: Any) -> set[tuple[str, str]]:
    """``(path, class)`` of every file ``index`` listed, the unreadable ones too (a verified
    scan moved them out of its samples; a listing still has them)."""
    out = set()
    for samples in (index.samples, getattr(index, "val_samples", None),
                    getattr(index, "test_samples", None)):
        out.update((p, index.classes[lb]) for p, lb in samples or [])
    out.update((u.path, "") for u in getattr(index, "unreadable", None) or [])
    return out


def listing_key(index: Any) -> tuple[frozenset[str], frozenset[str]]:
    """The files (unreadable ones too) and class folders ``index`` listed: two scans of a
    folder have the same key when no file or class was added, removed or moved. (The
    Health check's :func:`~.health.saved.signature` leaves out unreadable files, whose
    removal also changes what a check finds.)"""
    return frozenset(p for p, _ in files_of(index)), frozenset(_classes_of(index))


def _classes_of(index: Any) -> set[str]:
    return set(index.classes) | set(getattr(index, "empty_classes", None) or [])


def can_relist(index: Any) -> bool:
    """Whether ``index`` is of a folder (or CSV file) that can be listed again cheaply: it
    is still there and is not an archive (unpacked once; nobody edits the copy)."""
    from workbench.core.data.archives import is_archive

    root = str(getattr(index, "root", "") or "")
    return bool(root) and os.path.exists(root) and not is_archive(root)


def listing_changes(index: Any,
                    is_cancelled: Callable[[], bool] | None = None) -> ListingChange | None:
    """What changed in ``index``'s folder since it was scanned (an empty change: nothing);
    None when it cannot be listed (gone, unreadable, an archive: the scan says why)."""
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import WorkbenchError

    if not can_relist(index):
        return None
    try:
        now = scan_folder(index.root, verify=False, is_cancelled=is_cancelled)
    except (WorkbenchError, OSError):
        return None
    # Unreadable files carry no class (a verified scan keeps none): compare them by path.
    unreadable = {u.path for u in getattr(index, "unreadable", None) or []}
    before = {(p, c) for p, c in files_of(index) if p not in unreadable}
    listed = {(p, "" if p in unreadable else c) for p, c in files_of(now)}
    before |= {(p, "") for p in unreadable}
    added = sorted(p for p, _ in listed - before)
    removed = sorted(p for p, _ in before - listed)
    old, new = _classes_of(index), _classes_of(now)
    return ListingChange(added, removed, sorted(new - old), sorted(old - new),
                         [p for p in removed if p in unreadable])


def rescanned(change: ListingChange, index: Any) -> ListingChange:
    """``change`` with ``added_unreadable`` set from ``index``, the verified scan of the
    folder after it: the added files that scan found unreadable."""
    from dataclasses import replace

    bad = {u.path for u in getattr(index, "unreadable", None) or []}
    return replace(change, added_unreadable=[p for p in change.added if p in bad])


def files_changed(added: int, removed: int, unreadable: int = 0,
                  added_unreadable: int = 0) -> list[str]:
    """``["2 images added", "1 removed"]``: files added and removed, ``unreadable`` of
    those removed and ``added_unreadable`` of those added counted as files, not images
    ("1 unreadable file removed": the scan had said "not an image file")."""
    def count(n: int, noun: str) -> str:
        return f"{n:,} {noun}{'s' if n != 1 else ''}"

    def part(n: int, bad: int, verb: str, short: bool) -> str:
        images, files = n - bad, f"{count(bad, 'unreadable file')} {verb}"
        if images and bad:
            return f"{count(images, 'image')} and {files}"
        if images:  # "2 images added, 1 removed": the noun said once
            return f"{images:,} {verb}" if short else f"{count(images, 'image')} {verb}"
        return files if bad else ""

    first = part(added, added_unreadable, "added", False)
    second = part(removed, unreadable, "removed", bool(first) and not added_unreadable)
    return [p for p in (first, second) if p]


def change_text(change: ListingChange) -> str:
    """One line saying what changed: "The folder changed: 2 images added, 1 removed"."""
    parts = files_changed(len(change.added), len(change.removed), len(change.unreadable),
                          len(change.added_unreadable))
    for names, what in ((change.classes_added, "added"), (change.classes_removed, "removed")):
        if names:
            shown = ", ".join(repr(n) for n in names[:3])
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            parts.append(f"class{'es' if len(names) != 1 else ''} {shown}{more} {what}")
    return "The folder changed: " + ", ".join(parts) if parts else ""
