"""Keeping the session: the app reopens where the user left off.

:class:`SessionKeeper` writes the window's current experiment, geometry and tab to the
session file (:mod:`workbench.core.session`) a moment after each change and when the window
closes, so a crash or a kill loses at most the last couple of seconds of edits. The panels'
edits are announced by the Experiment's events (:mod:`workbench.core.events`), but the
geometry and the tab are not, and a field edited in place without ``announce`` would go
unheard: so the keeper does not rely on events. A timer on the GUI thread serialises the
state and writes only when the text differs from the last write (a few kilobytes of JSON,
well under a millisecond), reading ``window.experiment`` (the current one) anew each time.
A write keeps what another window open on the same data directory saved meanwhile: only
the parts this window changed are its own (:mod:`workbench.qt.session_share`).

It also keeps the experiment file the experiment was opened from or saved to and the
files opened recently (:mod:`workbench.qt.opened_file`), the Train tab's last run, which
:func:`restore_last_run` gives back to the Train, Predict and Evaluate tabs (or says it is
gone), and what the tabs show besides the experiment (:mod:`workbench.qt.session_state`: the typed run name, the Runs tab's selection,
the Tune tab's settings, the Evaluate and Predict tabs' models, data and images, the
splitters' sizes). :func:`initial_geometry` sizes a first window to the screen;
:func:`place_window` restores a saved geometry when it still fits a screen (also one Qt refuses
as saved on a screen of another width), and falls back to that size otherwise.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Collection

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QObject, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from workbench.core.session import session_path, session_text, write_session

from workbench.qt.opened_file import with_files_part
from workbench.qt.screen_fit import DEFAULT_SIZE, fit_pages, initial_geometry
from workbench.qt.session_share import merged_text, read_text, without
from workbench.qt.session_state import TabStates

#: How often the keeper looks for changes (ms): the most edits a kill can lose.
SAVE_INTERVAL_MS = 1500
def available_geometry() -> QRect | None:
    """The primary screen's available geometry (without panels and docks); ``None``
    without a screen."""
    screen = QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def fits_a_screen(rect: QRect) -> bool:
    """Whether ``rect`` lies inside one screen's available geometry."""
    return any(screen.availableGeometry().contains(rect)
               for screen in QGuiApplication.screens())


def size_to_screen(window: QMainWindow, available: QRect | None = None) -> None:
    """Give ``window`` the :func:`initial_geometry` of ``available`` (default: the primary
    screen's available geometry), or its layout's minimum size where that is larger; where
    ``available`` has no room for that minimum, its tabs' pages scroll instead
    (:func:`~workbench.qt.screen_fit.fit_pages`)."""
    available = available if available is not None else available_geometry()
    if available is None or available.isEmpty():
        window.resize(*DEFAULT_SIZE)
        return
    rect = initial_geometry(available)
    # Qt will not make the window smaller than its layout's minimum: centre what it will
    # really be, and when that is taller than the screen keep the top (menus, tabs) on it.
    rect.setSize(rect.size().expandedTo(fit_pages(window, available)))
    rect.moveCenter(available.center())
    rect.moveTop(max(rect.top(), available.top()))
    rect.moveLeft(max(rect.left(), available.left()))
    window.setGeometry(rect)


def place_window(window: QMainWindow, geometry: bytes) -> bool:
    """Restore a saved ``geometry`` (``QMainWindow.saveGeometry()``); True when it was used.

    A geometry that cannot be restored, or that does not fit any screen now (saved on a
    larger or a second monitor), gives the window the size of a first start instead.
    """
    if geometry and window.restoreGeometry(QByteArray(geometry)):
        if window.isMaximized() or window.isFullScreen() or fits_a_screen(window.geometry()):
            return True
    normal, maximized = saved_normal_geometry(geometry)
    if normal is not None and fits_a_screen(normal):
        # Qt refuses a geometry saved on a screen of another width (outside 0.8-1.25 of
        # it, its guard against a DPI change): a window left at 1100x706 on the laptop
        # still fits the 4K monitor it is opened on the next day (maximised, if it was).
        window.setGeometry(normal)
        if maximized:
            window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
        return True
    size_to_screen(window)
    if normal is not None and maximized:  # its normal size no longer fits: maximised still
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
        return True
    return False


#: QWidget.saveGeometry()'s header: magic number, major and minor version (Qt 5 and 6).
_GEOMETRY_MAGIC = 0x1D9D0CB
_GEOMETRY_HEAD = struct.Struct(">IHH4i4i")


def saved_normal_geometry(geometry: bytes) -> tuple[QRect | None, bool]:
    """The window's normal (not maximised) geometry that ``geometry``
    (``QWidget.saveGeometry()``) holds, and whether the window was maximised (or full
    screen); ``(None, False)`` when it holds none, or an empty one."""
    if not geometry or len(geometry) < _GEOMETRY_HEAD.size + 6:
        return None, False
    magic, major, _minor, *rects = _GEOMETRY_HEAD.unpack_from(geometry)
    if magic != _GEOMETRY_MAGIC or major < 2:
        return None, False
    left, top, right, bottom = rects[4:]
    maximized, full = geometry[_GEOMETRY_HEAD.size + 4], geometry[_GEOMETRY_HEAD.size + 5]
    rect = QRect(QPoint(left, top), QPoint(right, bottom))
    return (None, False) if rect.isEmpty() else (rect, bool(maximized or full))


def restore_tab(window, title: str) -> bool:
    """Show the tab called ``title``; False when there is none (an older or newer app)."""
    tabs = window.tabs
    for i in range(tabs.count()):
        if tabs.tabText(i) == title:
            tabs.setCurrentIndex(i)
            return True
    return False


def restore_last_run(window, run_dir: str, own_models: Collection[str] = ()) -> bool:
    """Give the Train tab the last session's run (``run_dir``) once it is built, so that
    Continue… goes on from it and its plots show its epochs; and the Predict and Evaluate
    tabs its model when they have none chosen yet, and none of their own to get back
    (``own_models``: :func:`workbench.qt.session_state.own_models`). True when the run is
    there.

    A folder that is gone (deleted or moved since) is said on the Train tab, where the run
    would have shown, and in the status bar; nothing else changes."""
    if not run_dir:
        return False
    tabs = window.tabs
    if not Path(run_dir, "run.json").is_file():
        text = gone_run_text(run_dir)
        window.statusBar().showMessage(text, 20000)

        def tell(name: str, page) -> None:
            if name == "train" and not page.last_run_dir:
                page.run_label.show_message(text, "warning")
        _for_page("train", tabs, tell)
        return False

    def give(name: str, page) -> None:
        if name == "train":
            page.restore_last_run(run_dir)
        elif Path(run_dir, "bundle.pt").is_file():  # Predict, Evaluate
            page.restore_bundle(str(Path(run_dir, "bundle.pt")))

    for name in ("train", "predict", "evaluate"):
        if name not in own_models:
            _for_page(name, tabs, give)
    return True


def gone_run_text(run_dir: str) -> str:
    """"The last run, NAME, is no longer in FOLDER (deleted or moved)."."""
    folder = Path(run_dir)
    return f"The last run, {folder.name}, is no longer in {folder.parent} (deleted or moved)."


def _for_page(name: str, tabs, fn) -> None:
    """``fn(name, page)`` for tab ``name``'s page: now if it is built, else once it is."""
    page = tabs.built_page(name)
    if page is not None:
        fn(name, page)
        return

    def built(built_name: str, page) -> None:
        if built_name == name:
            fn(name, page)
    tabs.page_built.connect(built)


class SessionKeeper(QObject):
    """Writes ``window``'s session to ``path`` (default: the data directory's
    ``session.json``) whenever it changed, checked every ``interval_ms``, and on closing.

    ``window`` is the :class:`~workbench.qt.main_window.MainWindow`: its ``experiment``
    (read anew each time: opening an experiment replaces it), geometry and current tab.

    Signals
    -------
    saved(path)
        The session file was written.
    """

    saved = Signal(str)

    def __init__(self, window, path: Path | str | None = None,
                 interval_ms: int = SAVE_INTERVAL_MS, last_run: str = "",
                 states: TabStates | None = None, opened: str | None = None,
                 own_experiment: bool = False):
        super().__init__(window)
        self.window = window
        #: The last session's run, kept until the Train tab is built (it then holds it).
        self.last_run = last_run
        #: What the tabs show besides the experiment (selection, splitters, Tune...).
        self.states = states if states is not None else TabStates(window)
        self.path = Path(path) if path is not None else session_path()
        self.last_text = ""
        #: The file as this window last wrote it, or found it as it opened (``opened``: as
        #: read with the session it was built from): another window wrote since when the
        #: file differs. ``base``: this window's state then; the parts of its state that
        #: differ from it are this window's, and so is an experiment it was opened with
        #: (``own_experiment``: given on the command line, never the file's).
        self.written = read_text(self.path) if opened is None else opened
        self.base = without(self._state_now(), "experiment" if own_experiment else "")
        self.error = ""
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        window.installEventFilter(self)

    def state_text(self) -> str:
        """The session file's text for the window as it is now."""
        tabs = self.window.tabs
        train = tabs.built_page("train")  # never built for this: it may not be yet
        if train is not None:
            # (Its last run is restored after it is built; one deleted since is dropped.)
            self.last_run = train.last_run_dir or (
                self.last_run if self.last_run and Path(self.last_run, "run.json").is_file()
                else "")
        text = session_text(self.window.experiment, bytes(self.window.saveGeometry().data()),
                            tabs.tabText(tabs.currentIndex()), self.last_run,
                            **self.states.values())
        file = getattr(self.window, "file", None)  # the experiment file, the recent ones
        return with_files_part(text, file.part()) if file is not None else text

    def _state_now(self) -> str:
        try:
            return self.state_text()
        except (TypeError, ValueError):
            return ""

    def save_now(self) -> bool:
        """Write the session if it changed since the last write; True when written.

        What another window on the same data directory wrote since is kept, but for the
        parts this window changed (:func:`~workbench.qt.session_share.merged_text`). A
        write that fails (a full disk, a read-only data directory) is said once in the
        status bar and retried at the next change; it never interrupts the user.
        """
        if not shiboken6.isValid(self.window):
            return False
        try:
            text = self.state_text()
        except (TypeError, ValueError) as e:  # a value JSON cannot hold: keep the last file
            return self._failed(f"the experiment cannot be written as JSON ({e})")
        if text == self.last_text:
            return False
        on_disk = read_text(self.path)
        # Once merged, the file holds the other window's parts, not this window's state:
        # a later write merges too, or it would throw them away.
        written = text if on_disk == self.written and self.last_text in ("", self.written) \
            else merged_text(self.base, text, on_disk)
        try:
            write_session(written, self.path)
        except OSError as e:
            self.last_text = text  # retried when the state changes again, not every tick
            return self._failed(f"{e.strerror or e}")
        self.last_text, self.base, self.written, self.error = text, text, written, ""
        self.saved.emit(str(self.path))
        return True

    def _failed(self, why: str) -> bool:
        message = (f"Cannot keep the session in {self.path}: {why}. The app will not reopen "
                   f"with these settings; save them with File → Save experiment.")
        if message != self.error:
            self.error = message
            self.window.statusBar().showMessage(message, 15000)
        return False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802  (Qt override)
        if obj is self.window:
            if event.type() == QEvent.Type.Close:
                self.save_now()  # the close may yet be refused (a run trains: qt.closing)
            elif event.type() == QEvent.Type.Hide:
                self.timer.stop()
            elif event.type() == QEvent.Type.Show and not self.timer.isActive():
                self.timer.start()
        return False

