"""What a run says about images it cannot read.

A few bad files are skipped and reported (``Callback.on_skipped``) and the run goes on; but
an epoch in which not one image of a split could be read has nothing to learn from or to
measure, and "finishing" it would record epochs of no numbers and bundle an untrained
network. :class:`NoReadableImages` ends such a run; the epochs finished before it keep
their checkpoint. :func:`left_out_note` tells the user, at the start, about the files the
scan already left out (missing rows of a CSV file, files a verifying scan could not decode).
"""

from __future__ import annotations

import os
from typing import Any

from workbench.core.errors import DataError

#: How many files a message names before "and N more".
SHOWN = 3


class NoReadableImages(DataError):
    """Not one image of a split could be read in an epoch."""

    def __init__(self, message: str, split: str, epoch: int):
        super().__init__(message)
        self.split = split
        self.epoch = epoch


class EpochReads:
    """Counts one pass's images: how many decoded, how many did not, and the first that
    did not (the one a message names)."""

    def __init__(self) -> None:
        self.read = 0
        self.unread = 0
        self.first: tuple[str, str] | None = None

    def add(self, decoded: int, skipped: list[tuple[str, str]]) -> None:
        self.read += int(decoded)
        self.unread += len(skipped)
        if self.first is None and skipped:
            self.first = (str(skipped[0][0]), str(skipped[0][1]))


def no_readable_error(split: str, epoch: int, root: str, reads: EpochReads,
                      epochs_done: int) -> NoReadableImages:
    """The error for an epoch in which no image of ``split`` ("training" or "validation")
    could be read; ``root`` is the dataset folder (or CSV file)."""
    from workbench.core.data.archives import SUFFIXES

    # A dataset that is one file (a CSV, a TSV, an archive), even once it is gone.
    files = (".csv", ".tsv", *SUFFIXES)
    what = "file" if os.path.isfile(root) or root.lower().endswith(files) else "folder"
    first = f" (first: {reads.first[0]}: {reads.first[1]})" if reads.first else ""
    if root and not os.path.exists(root):
        cause = f"the dataset {what} {root} is gone{first}"
        fix = "put the dataset back (or point the run at its new place)"
    else:
        count = f"all {reads.unread} of its images" if reads.unread > 1 else "its image"
        cause = f"{count} in {root} are gone or unreadable{first}"
        fix = "replace or remove the unreadable files (a scan of the dataset lists them)"
    finished = (f"{epochs_done} finished epoch and its" if epochs_done == 1 else
                f"{epochs_done} finished epochs and their")
    kept = (f"; the {finished} checkpoint are kept, so "
            f"{fix} and resume the run" if epochs_done else f"; {fix} and train again")
    return NoReadableImages(f"no image of the {split} split could be read in epoch {epoch}: "
                            f"{cause}. No bundle is written{kept}", split, epoch)


def left_out_note(index: Any) -> str | None:
    """A note naming the files ``index`` left out (``index.unreadable``), or None."""
    bad = list(getattr(index, "unreadable", None) or [])
    if not bad:
        return None
    root = str(index.root)
    csv = getattr(index, "source", "") == "csv"
    base = os.path.dirname(root) if csv else root  # a CSV's paths are relative to its folder
    named = ", ".join(f"{_short(u.path, base)} ({u.reason})" for u in bad[:SHOWN])
    more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
    n = len(bad)
    files, verb = ("file", "was") if n == 1 else ("files", "were")
    what = (f"{n} {files} listed in {os.path.basename(root)}" if csv
            else f"{n} unreadable {files} in {root}")
    return f"{what} {verb} left out: {named}{more}"


def _short(path: str, base: str) -> str:
    """``path`` relative to ``base`` when it lies inside it (as the user listed it)."""
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive (Windows)
        return path
    return path if rel.startswith(os.pardir) else rel
