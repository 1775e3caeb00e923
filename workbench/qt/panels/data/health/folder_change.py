"""The Health view's findings after the folder was changed and scanned again (Rescan, or the
Data tab noticing it, :mod:`workbench.qt.panels.data.relist`): the rows are kept, readable,
but the stale bar says the folder changed since the check (with *Check again*), the tab's
title says "out of date", and the actions are off for the images no longer in the folder.
When the folder is back as it was checked, the bar goes again.

:class:`FolderChange` is mixed into :class:`~.view.HealthView`: it uses the view's
``report``, ``listed`` (the :func:`~workbench.core.data.relist.listing_key` of the scan the
report was made on), ``model``, ``stale`` and ``title_changed``. Its
:meth:`~FolderChange.show_title` sets the tab's title.
"""

from __future__ import annotations

import os
from typing import Any

from workbench.core.data.health.saved import EXCLUSIONS_CHANGED
from workbench.core.data.relist import files_changed, listing_key
from workbench.qt.panels.data.health.findings import same_path, settled

#: The start of the stale bar's text when the folder changed since the check.
CHANGED = "The folder changed since this check"


def changed_text(before: Any, now: Any, unreadable: Any = frozenset(),
                 unreadable_now: Any = frozenset()) -> str:
    """Why the findings of a check of the files ``before`` may not hold for ``now`` (two
    :func:`~workbench.core.data.relist.listing_key`); ``unreadable``: the paths the check
    found unreadable, counted as files when removed, not as images; ``unreadable_now``:
    those the scan of ``now`` found unreadable, counted as files when added."""
    gone, new = before[0] - now[0], now[0] - before[0]
    what = files_changed(len(new), len(gone), len(gone & set(unreadable)),
                         len(new & set(unreadable_now)))
    what += [f"class folders {verb}" for names, verb in ((now[1] - before[1], "added"),
                                                         (before[1] - now[1], "removed"))
             if names]
    return (f"{CHANGED} ({', '.join(what)}): its rows may name images that are gone, and "
            f"miss new ones. Check again to see the findings of the folder as it is now.")


class FolderChange:
    """Marks :class:`~.view.HealthView`'s findings out of date when a rescan of their
    folder lists other files (see the module docstring)."""

    report: Any
    listed: Any

    def show_folder_change(self, index: Any) -> None:
        """``index``: the folder's new scan."""
        if self.report is None or index is None or self.listed is None or \
                not same_path(index.root, self.report.root):
            return
        now = listing_key(index)
        said, level = self.stale.text(), self.stale.label.level
        mine = bool(said) and said == getattr(self, "_changed_said", None)
        if now != self.listed and (not said or level == "info" or mine
                                   or said.startswith(EXCLUSIONS_CHANGED)):  # says more
            unreadable = {u.get("path") for u in self.report.unreadable or []}
            # (a move's note stays)
            self._changed_said = changed_text(self.listed, now, unreadable, {
                u.path for u in getattr(index, "unreadable", None) or []})
            self.stale.show_stale(self._changed_said)
        elif now == self.listed and mine:
            self.stale.show_stale("")  # back as it was checked
        else:
            return
        self.show_title()
        self._update_actions()

    def show_title(self) -> None:
        """The tab's title: the findings not settled by an exclusion since the check
        (:func:`~.findings.settled`), and whether the folder changed since it (the stale
        bar says so: found by a rescan in this session, or by the folder's kept check
        shown again after a restart, :func:`workbench.core.data.health.saved.load`)."""
        n = sum(not settled(f, self.model.excluded) for f in self.model.findings)
        old = " (out of date)" if self.stale.text().startswith(CHANGED) else ""
        self.title_changed.emit(f"Health ({n}{', out of date' if old else ''})" if n
                                else f"Health{old}")

    @staticmethod
    def gone(path: str) -> bool:
        """Whether the image ``path`` of a row is no longer there (deleted or moved)."""
        return bool(path) and not os.path.exists(path)
