"""Start the desktop application: ``workbench gui [--data DIR] [--experiment FILE]``.

The window is built and painted without PyTorch; torch is imported in the background right
after the first paint (:mod:`workbench.qt.startup`), and the parts of the panels that need
it fill in when it is ready.
"""

from __future__ import annotations

import os
import sys

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.session import (SET_ASIDE_NAME, Session, keep_aside, read_session,
                                    session_path, with_run_sections)
from workbench.core.runs.names import run_name_scope
from workbench.core.session_repair import repaired_experiment

from workbench.qt.closing import QUIT_WITHOUT_ASKING
from workbench.qt.common import dispose, quit_on_sigint, show_error
from workbench.qt.defaults import (default_experiment as _default_experiment, demo_folder,
                                   saved_folder)
from workbench.qt.experiment_files import named
from workbench.qt.main_window import MainWindow
from workbench.qt.opened_file import files_part
from workbench.qt.session import SessionKeeper, place_window, restore_last_run, restore_tab
from workbench.qt.session_share import hold_session, read_text, shared_text
from workbench.qt.session_state import TabStates, own_models
from workbench.qt.startup import (after_first_paint, defer_until_painted, start_after_first_paint,
                                 torch_loader, when_torch_ready)
from workbench.qt.workers import await_workers, collect_garbage_on_gui_thread


def create_window(data: str | None = None, experiment: str | None = None) -> MainWindow:
    """Build the main window (a QApplication must exist), reopening the last session, and
    start scanning its dataset.

    The session (``session.json`` in the data directory, see :mod:`workbench.qt.session`)
    gives the experiment, the window geometry and the tab shown last; from then on the
    window keeps it up to date, with what the tabs were left showing. A damaged session
    file is set aside with a message, and whatever of it still reads is used: a field
    that cannot be is reset to its default (the message names each one); only a file
    with nothing readable gives the default experiment.

    Parameters
    ----------
    data
        Dataset folder; overrides the experiment's, as a new dataset (its settings follow
        the data where the Data tab does that). ``None`` and no folder in the experiment:
        the built-in demo dataset (generated on first use).
    experiment
        Path of an Experiment JSON file; it wins over the session's. When it cannot be
        read, a message box says why and the last session's experiment (else the default)
        is used instead. (Reading
        one validates it against the registries, which imports torch before the window.)
    """
    loader = torch_loader()
    # Validating imports torch: at start-up (deferred) only the structure is checked now,
    # and the registries once torch has loaded in the background.
    validate_now = loader.state in ("idle", "ready")
    opened = read_text(session_path())  # what another window may write over meanwhile
    session = read_session(validate=validate_now)
    # What the typed run name was for, before --data points the experiment elsewhere.
    typed_for = run_name_scope(session.experiment) if session.experiment is not None else None
    problems = []
    exp = None
    restored = False
    if experiment:
        try:
            exp = Experiment.load(experiment)
        except WorkbenchError as e:
            # The last session's work, not the demo, and the session file is kept: a typo
            # in a file named on the command line must not cost the user their settings.
            instead = ("the last session's settings instead; the file is left as it is" if
                       session.experiment is not None else "the default experiment instead")
            QMessageBox.warning(None, "Cannot open the experiment",
                                f"{named(experiment, e)}\n\nStarting with {instead}.")
    loaded = exp.to_dict() if exp is not None else None  # as the file holds it
    if exp is None and session.experiment is not None:
        exp, restored = session.experiment, True
    if session.damaged:
        if not restored:
            session.lost = []  # another experiment is shown: the last run gives it nothing
        problems.append(_set_aside(session))
    if exp is None:
        exp = _default_experiment()
    window_ref: list[MainWindow] = []
    if restored and not validate_now:  # before the window: the panels fill in after it
        loader.call_when_ready(lambda: _check_restored(window_ref, exp, session))
    missing = no_demo = ""
    try:
        if data:
            folder, adopt = data, not experiment  # a new dataset for the kept experiment
        elif exp.data.folder:
            (folder, missing), adopt = saved_folder(exp.data.folder), False  # as saved
            folder = folder or missing
        else:
            folder, adopt = demo_folder(), False
    except WorkbenchError as e:  # the demo cannot be made (WORKBENCH_HOME not writable,
        # a disk full, a folder of the user's in its place): the error ends in what to do
        folder, adopt, no_demo = "", False, str(e)
    if not (data and not experiment and exp.data.exclude):
        exp.data.folder = folder
    # else the kept experiment's exclusions name images of its own folder: the Data tab's
    # scan of DIR sets the folder and clears them, saying so (Keep them), as an opened one
    window = MainWindow(exp)
    window_ref.append(window)
    _restore_file(window, files_part(opened), restored, experiment if loaded else "", loaded,
                  new=bool(data))
    place_window(window, session.geometry)
    # The tab shown last, right after the first frame: the Train tab's plots (pyqtgraph)
    # would hold that frame back by 0.6-1 s (first paint 1.0-1.35 s against 0.36 s).
    after_first_paint(lambda: restore_tab(window, session.tab), window, first=True)
    if missing:
        window.show_missing_dataset(missing, "the last session" if restored
                                    else os.path.basename(experiment or "")
                                    or "the experiment file")
    elif no_demo:
        window.tabs.setCurrentWidget(window.data_panel)
        window.data_panel.message.show_message(
            f"No dataset is open: {no_demo}, then start Workbench again, or open a dataset "
            f"folder of your own with File → Open dataset folder… (or drop it here).", "error")
        window.statusBar().showMessage("No dataset: the demo dataset cannot be made")
    else:
        window.scan_dataset(folder, adopt_defaults=adopt)
    # A last run deleted since is said on the Train tab, and not kept in the session.
    last_run = (session.last_run if restore_last_run(window, session.last_run,
                                                     own_models(session)) else "")
    states = TabStates(window, session, typed_for)  # the typed run name, runs, Tune, splitters
    window.session_keeper = SessionKeeper(window, last_run=last_run, states=states,
                                          opened=opened, own_experiment=bool(experiment or data))
    # An edit no event announced is written to the session: the title's "*" follows it.
    window.session_keeper.saved.connect(lambda _path: window._update_title())
    for title, text in problems:
        _tell_later(window, text, title, session)
    return window


def _restore_file(window: MainWindow, part: dict, restored: bool, path: str,
                  loaded: dict | None, new: bool = False) -> None:
    """Give ``window`` its experiment file: ``path`` (``--experiment``), which held
    ``loaded``; else, for the last session's experiment (``restored``), the file the
    session's ``part`` names; and the session's recent files either way. The default
    experiment on a ``new`` dataset (``--data``) is saved nowhere: it has changes."""
    window.file.restore(part, with_experiment=restored and not path)
    if path:
        window.file.take(loaded, path)
    elif new and not restored:
        window.file.take(None)
    window._update_title()


def _set_aside(session: Session, keep: bool = True) -> tuple[str, str]:
    """The title and message for a session that could not be restored whole, after moving
    its file aside (unless ``keep`` is False: it was already)."""
    kept = keep_aside(session_path()) if keep else session_path().with_name(SET_ASIDE_NAME)
    where = f" The file as it was is kept as {kept}." if kept else ""
    # Salvaged even from a damaged file (core.session.salvaged_last_run).
    run = (f" The last run, {os.path.basename(os.path.normpath(session.last_run))}, was "
           f"kept: the Train tab shows it." if session.last_run and
           os.path.isfile(os.path.join(session.last_run, "run.json")) else "")
    if session.experiment is None:
        resets = "".join(f"\n• {line}" for line in session.resets)
        return ("Last session not restored", f"The last session could not be restored: "
                f"{session.problem or 'its experiment cannot be used'}.{resets}{where}{run}")
    offer = ""
    if _can_take_from_run(session):
        name = os.path.basename(os.path.normpath(session.last_run))
        lost = session.lost
        listed = ", ".join(lost[:-1]) + " and " + lost[-1] if len(lost) > 1 else lost[0]
        offer = (f"\n\nThe last run, {name}, keeps the settings it was trained with: "
                 f"{_TAKE} replaces the {listed} settings with that run's.")
    return ("Last session partly restored", partly_restored_text(
        session.problem, session.resets, session.experiment.data.folder) + where + run
        + offer)


def partly_restored_text(problem: str, resets: list[str], folder: str) -> str:
    """What a session restored all but some fields says: why (``problem``, when the file
    did not read whole), each field reset (``resets``; "Nothing was reset" when none
    was), and that the rest was kept."""
    why = f" ({problem})" if problem else ""
    on = f", its dataset folder {folder}" if folder else ""
    if not resets:
        return (f"Part of the last session could not be used{why}.\n\nNothing was reset: "
                f"everything was kept as you left it{on} included.")
    lines = "".join(f"\n• {line}" for line in resets)
    return (f"Part of the last session could not be used{why}.\n\nOnly these fields were "
            f"reset to their defaults or removed:{lines}\n\nEverything else was kept as you "
            f"left it{on} included.")


#: The button of a partly restored session's message that takes the sections a cut lost
#: from the last run's experiment.json.
_TAKE = "“Use the last run's settings”"


def _can_take_from_run(session: Session) -> bool:
    """Whether the last run can give back the experiment's sections the file lost."""
    return bool(session.lost and session.last_run) and \
        os.path.isfile(os.path.join(session.last_run, "experiment.json"))


def _take_from_run(window: MainWindow, session: Session) -> None:
    """Replace the window's experiment's lost sections with the last run's, once torch is
    loaded (validating them imports it: never beside the start's background import). The
    message, when said again (:func:`_check_restored`), no longer offers them."""
    lost, session.lost = session.lost, []
    when_torch_ready(lambda: _replace_from_run(window, session.last_run, lost), window)


def _replace_from_run(window: MainWindow, last_run: str, lost: list[str]) -> None:
    if window.is_training():
        show_error(window, "Training in progress", "Stop the current training run before "
                   "using the last run's settings.")
        return
    try:
        exp = with_run_sections(window.experiment, last_run, lost)
    except WorkbenchError as e:
        show_error(window, "Cannot use the last run's settings", f"{e}.")
        return
    if exp.data.folder != window.experiment.data.folder:
        window.set_experiment(exp, "the last run")
    else:
        window.current.replace(exp, in_place=True)  # the scanned dataset stays


def _check_restored(window_ref: list[MainWindow], exp: Experiment,
                    session: Session | None = None) -> None:
    """Once torch is loaded: check the restored experiment against the registries; a field
    they refuse (written by another version of Workbench, edited by hand) is reset to its
    default, or a layer of an unknown type removed, saying which; the rest is kept. What
    reading the ``session`` file reset already is said in the same message."""
    if not window_ref or not shiboken6.isValid(window_ref[0]):
        return
    window = window_ref[0]
    if window.experiment is not exp:  # another experiment was opened meanwhile
        return
    repaired, resets = repaired_experiment(exp.to_dict(), validate=True)
    if not resets:
        exp.validate()  # every component's defaults filled in, as before
        return
    earlier = session or Session()
    for box in window.findChildren(QMessageBox):  # the start's message: said again below
        if box.windowTitle() in _TITLES:
            box.close()
    restored = Session(experiment=repaired, last_run=earlier.last_run,
                       problem=earlier.problem, resets=earlier.resets + resets,
                       lost=earlier.lost)
    title, text = _set_aside(restored, keep=not earlier.damaged)  # kept aside if damaged
    if repaired.data.folder != exp.data.folder:
        window.set_experiment(repaired, "the last session")
    else:
        window.current.replace(repaired, in_place=True)  # the scanned dataset stays
    _tell_later(window, text, title, restored)


#: The titles of the messages about the last session.
_TITLES = ("Last session not restored", "Last session partly restored")


def _tell_later(window: MainWindow, text: str, title: str = "Last session not restored",
                session: Session | None = None) -> None:
    """A message box over the window once the event loop runs (the window is shown); for
    a partly restored ``session`` whose last run can give back what a cut lost, with a
    button that takes it."""
    def tell() -> None:
        box = show_error(window, title, text)
        if session is not None and session.experiment is not None and \
                _can_take_from_run(session):
            button = box.addButton(_TAKE.strip("“”"), QMessageBox.ButtonRole.AcceptRole)
            button.clicked.connect(lambda: _take_from_run(window, session))

    QTimer.singleShot(0, window, tell)


def main(data: str | None = None, experiment: str | None = None) -> int:
    """Run the GUI until its window closes; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_on_gui_thread()  # Qt objects must die on the GUI thread
    app.setApplicationName("Workbench")
    app.setOrganizationName("Workbench")
    quit_on_sigint(app)
    loader = torch_loader()
    loader.defer()  # panels built from here on wait for the background import of torch
    defer_until_painted()  # and the tabs not shown (and pyqtgraph) for the first frame
    window = create_window(data, experiment)
    lock = hold_session(window, session_path())
    if lock.shared:  # another window is open on the data directory: said (sessions merge)
        _tell_later(window, shared_text(session_path()), "Workbench is already open")
    start_after_first_paint(window, loader)
    window.show()
    try:
        return app.exec()
    finally:
        app.setProperty(QUIT_WITHOUT_ASKING, True)  # the loop has ended: nobody to ask
        # Closing the window already stopped the workers; this covers quitting otherwise.
        keeper = getattr(window, "session_keeper", None)
        if keeper is not None:
            keeper.save_now()  # e.g. Ctrl-C in the terminal: nothing closed the window
        window.shutdown()
        await_workers()  # every worker still live (a pool job, a run), bounded
        loader.wait_for_thread()  # never leave the interpreter half-way through an import
        dispose(window)
        lock.release()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
