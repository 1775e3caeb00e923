"""The Data tab notices a dataset folder changed while the app is open, and rescans it.

A user fixes the folder in a file manager (removes a broken class, adds or deletes
images) and comes back to the app. :class:`FolderRelist` lists the folder again
(:func:`workbench.core.data.relist.listing_changes`: names only, never a decode; about
70 ms for 10,000 images, off the GUI thread) when the app becomes active again and when
the Data tab is shown, and, when the list of files changed, has the Data tab scan it again
as *Rescan* does and says so once the rescan has found which files can be read: "The folder
changed: 2 images added, 1 removed (rescanned)." ("1 unreadable file added" for a broken
file) on the Data tab's line and the window's status bar. *Start* on the Train tab
lists it too, at once (:func:`changed_before_start`): a run then trains on the folder as it
is, not as it was scanned.

A folder that cannot be listed because it is gone (renamed, moved, its drive unplugged)
is said on the Data tab's line in the Train tab's words (``folder_gone``); the last scan
stays shown, and once the folder is back it is rescanned.

Why not :class:`QFileSystemWatcher`: it watches the paths it is given, one inotify watch
(or, on macOS and Windows, one open handle) per folder and file, with a per-user limit
(8,192 inotify watches on many Linux systems, 256 open files on macOS) that a large
dataset or two exhausts silently; it misses changes on network drives; and a copy of 5,000
images would signal 5,000 times while the copy runs. Listing again when the user comes
back costs one listing and sees exactly what a rescan would.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from workbench.core.data.relist import (ListingChange, change_text, listing_changes,
                                        rescanned)
from workbench.qt.workers import TaskRunner

#: The relister of each app's shared experiment holder (the Train tab's Start asks it).
_OF: "weakref.WeakKeyDictionary[Any, FolderRelist]" = weakref.WeakKeyDictionary()

#: Said where a dataset cannot be trained on yet: fixing the folder and coming back to the
#: app's window is enough (or the Rescan button, ``{where}``). "When you switch back to
#: it" read as switching back to the folder.
RESCAN_HINT = ("Workbench looks at the folder again when you come back to this window (or "
               "click Rescan {where})")


def with_rescan_hint(problem: str, folder: str, where: str = "on the Data tab") -> str:
    """``problem`` (why the dataset ``folder`` cannot be trained on: fixed by editing the
    folder) with what then updates the app; as it is for a CSV file or an archive.
    ``where``: where the Rescan button is, from where the text is shown ("above", on the
    Data tab itself)."""
    import os

    if not problem or not folder or not os.path.isdir(folder):
        return problem
    return f"{problem.rstrip('. ')}. {RESCAN_HINT.format(where=where)}."


class FolderRelist(QObject):
    """Lists ``panel``'s (a :class:`~.panel.DataPanel`) dataset folder again when the app
    is activated or the panel shown, and rescans it when its files changed.

    Signals
    -------
    folder_gone(folder)
        The dataset ``folder`` shown is gone since its scan (once, until it is back: then
        it is rescanned); its advice lines are hidden meanwhile.
    """

    folder_gone = Signal(str)

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        # What changed (None: the folder is back), said once the rescan it started is done.
        self.change: ListingChange | None = None
        self.note = ""  # said by the rescan it started (the folder back), when done
        self.gone = ""  # the dataset folder found gone, until a scan (or it is back)
        self._runner = TaskRunner(self, supersede=True)
        self._runner.finished.connect(self._on_listed)
        panel.installEventFilter(self)
        panel.dataset_loaded.connect(self._on_loaded)
        panel.scan_failed.connect(lambda _message: self._forget())
        app = QGuiApplication.instance()
        if app is not None:
            app.applicationStateChanged.connect(self._on_app_state)
        _OF[panel.current] = self

    def _index(self) -> Any:
        """The scan to compare with: the panel's, when it is of the experiment's folder and
        no scan is running (else None)."""
        p = self.panel
        index = p.index
        if index is None or p.is_scanning() or index is not p.current.dataset:
            return None
        return index

    @Slot()
    def relist(self) -> None:
        """List the folder again in the background; rescan it if its files changed."""
        index = self._index()
        if index is not None and not self._runner.is_busy():
            self._runner.submit(lambda state: (index, listing_changes(index,
                                                                      state.is_cancelled)))

    def check_now(self) -> ListingChange | None:
        """List the folder now (on this thread); when its files changed (or it is back
        after it was said gone), rescan it and return what changed (None: unchanged, or
        nothing to compare with)."""
        index = self._index()
        change = listing_changes(index) if index is not None else None
        if change is None or not (change or self.gone):
            return None
        self._rescan(change)
        return change

    @Slot(int, object)
    def _on_listed(self, _job: int, result: Any) -> None:
        index, change = result
        if index is not self._index():  # superseded by a scan meanwhile
            return
        if change is None:
            folder = self.panel.experiment.data.folder or index.root
            if folder != self.gone and not os.path.exists(folder):
                self.gone = folder
                self.panel.advice.show_chosen("")  # of the folder that is gone
                self.panel.advice.show_suggestion(None)
                self.folder_gone.emit(folder)
        elif change or self.gone:  # (back, changed or not: the line said it was gone)
            self._rescan(change)

    def _rescan(self, change: ListingChange) -> None:
        self._runner.cancel_all()
        # Said once the rescan found which files are unreadable (then counted as files).
        self.change = change if change else None
        self.note = "" if change else "The dataset folder is back (rescanned)."
        self.gone = ""
        folder = self.panel.experiment.data.folder or self.panel.index.root
        self.panel.load_folder(folder, adopt_defaults=False)

    def _forget(self) -> None:
        """A scan failed: nothing to say of the one this started, or of a folder gone."""
        self.note = self.gone = ""
        self.change = None

    @Slot(object)
    def _on_loaded(self, index: Any) -> None:
        self.gone = ""
        if self.change is not None:
            self.note = f"{change_text(rescanned(self.change, index))} (rescanned)."
            self.change = None
        if not self.note:
            return
        note, self.note = self.note, ""
        message = self.panel.message
        message.show_message(f"{note} {message.text()}", message.level)
        window = self.panel.window()
        if isinstance(window, QMainWindow):  # the tab shown may be another
            window.statusBar().showMessage(note, 20000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.panel and event.type() == QEvent.Type.Show:
            self.relist()
        return False

    @Slot(Qt.ApplicationState)
    def _on_app_state(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationActive:
            self.relist()

    def shutdown(self) -> None:
        self._runner.cancel_all()


def changed_before_start(current: Any, index: Any) -> bool:
    """Whether the dataset folder of ``index`` changed since it was scanned (listed now);
    then the Data tab rescans it and says what changed, and a run should list the folder
    itself rather than train on ``index``."""
    relist = _OF.get(current)
    if relist is None or index is None or index is not relist._index():
        return False
    return relist.check_now() is not None
