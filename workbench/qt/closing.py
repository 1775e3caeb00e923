"""Closing the window while a run trains: ask first.

A user who closes the window (or presses Ctrl+Q) mid-run may have forgotten the run, and
quitting stops it: the finished epochs, their checkpoint and a model are kept, but the
epochs still planned are not trained (and before its first epoch has finished, nothing of
the run is kept: the last run stays the one Continue… goes on from).
:func:`ask_stop_training` says that and asks; the window only closes on "Stop and quit"
(:class:`~workbench.qt.main_window.MainWindow`'s ``confirm_close``, replaceable in tests).
Ctrl+C in the terminal and SIGTERM (``kill``, a logout) close without asking
(:func:`may_close`): nobody is there to answer.

The run trains on while the question waits: its text follows it (:class:`LiveQuestion`),
so it never names an epoch the run has left behind, and once the run has ended it says so
and offers to quit (nothing is stopped then).
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

#: Set on the application when a signal closes the windows: none asks a question first.
QUIT_WITHOUT_ASKING = "workbench_quit_without_asking"


def stop_training_question(panel: Any) -> str:
    """What the question says for the Train panel ``panel`` and its running run: what
    quitting keeps (nothing, before the run's first epoch has finished)."""
    from workbench.core.runs.store import read_run_info

    info = getattr(panel, "info", None) or {}
    epochs = int(info.get("epochs") or panel.experiment.training.epochs)
    done = int(panel.plots.point_counts().get("epochs", 0))  # the epochs drawn: finished
    run_dir = str(info.get("run_dir") or "")
    run = _run_name(panel) or "A run"
    text = f"{run} is training: epoch {min(done + 1, epochs)} of {epochs}.\n\n"
    if done:
        return text + ("Quitting stops it. The finished epochs, their checkpoint and a model "
                       "are kept, and Continue… on the Train tab trains it further after "
                       "the next start.")  # the app's words: no terminal command here
    text += "No epoch has finished yet: quitting now keeps nothing of this run."
    last = str(getattr(panel, "last_run_dir", "") or "")
    if last and last != run_dir and os.path.isfile(os.path.join(last, "checkpoints",
                                                                "last.pt")):
        last_name = read_run_info(last).get("name") or os.path.basename(last)
        text += (f" The last run, “{last_name}”, stays as it was: Continue… on the Train "
                 f"tab trains it further after the next start.")
    return text


def _run_name(panel: Any) -> str:
    """``“name”`` of ``panel``'s run as the Runs tab shows it (not its folder's), or ``""``
    before it has a folder."""
    from workbench.core.runs.store import read_run_info

    run_dir = str((getattr(panel, "info", None) or {}).get("run_dir") or "")
    if not run_dir:
        return ""
    return f"“{read_run_info(run_dir).get('name') or os.path.basename(run_dir)}”"


def ended_question(panel: Any) -> str:
    """What the question says once the run it asked about has ended."""
    return (f"{_run_name(panel) or 'The run'} has ended (the Train tab says how). Nothing "
            f"is training now: quitting stops nothing.")


class LiveQuestion(QObject):
    """The quit question for the Train panel ``panel``'s running run, kept true while it is
    asked: after each epoch the text is said again (the epoch, what quitting keeps), and
    when the run ends, it says so and its buttons become "Quit" and "Don't quit".

    Attributes
    ----------
    box
        The :class:`QMessageBox` (its parent ``parent``); :attr:`stop` and :attr:`keep` its
        buttons.
    """

    def __init__(self, panel: Any, parent: QWidget | None = None):
        self.box = QMessageBox(QMessageBox.Icon.Question, "Stop training and quit?",
                               stop_training_question(panel),
                               QMessageBox.StandardButton.NoButton, parent)
        super().__init__(self.box)  # goes with the box, and its connections with it
        self.panel = panel
        self.stop = self.box.addButton("Stop and quit", QMessageBox.ButtonRole.DestructiveRole)
        self.keep = self.box.addButton("Keep training", QMessageBox.ButtonRole.RejectRole)
        self.box.setDefaultButton(self.keep)
        self.box.setEscapeButton(self.keep)
        # After the panel's own handlers (connected first): the plots hold the new epoch.
        panel.run.epoch_finished.connect(self._on_epoch_finished)
        panel.run.finished.connect(self._on_run_ended)
        panel.run.errored.connect(self._on_run_ended)

    @Slot(object)
    def _on_epoch_finished(self, _metrics: Any) -> None:
        if self.panel.is_running():
            self.box.setText(stop_training_question(self.panel))

    def _on_run_ended(self, *_outcome: Any) -> None:  # finished(summary), errored(message)
        self.box.setWindowTitle("Quit?")
        self.box.setText(ended_question(self.panel))
        self.stop.setText("Quit")
        self.keep.setText("Don't quit")

    def ask(self) -> bool:
        """Show the question (modal) until answered; True for "Stop and quit" (or "Quit")."""
        try:
            self.box.exec()
            return self.box.clickedButton() is self.stop
        finally:
            self.box.deleteLater()


def ask_stop_training(window: QWidget) -> bool:
    """Ask whether to stop the run and quit; True to go on closing."""
    return LiveQuestion(window.train_panel, window).ask()


def may_close(window: Any) -> bool:
    """Whether ``window`` may close now: no run trains, a signal is quitting the app, or
    the user said "Stop and quit" (``window.confirm_close``)."""
    app = QApplication.instance()
    if not window.is_training() or (app is not None and app.property(QUIT_WITHOUT_ASKING)):
        return True
    return bool(window.confirm_close(window))
