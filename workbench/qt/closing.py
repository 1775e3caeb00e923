"""Closing the window while a run trains: ask first.

A user who closes the window (or presses Ctrl+Q) mid-run may have forgotten the run, and
quitting stops it: the finished epochs, their checkpoint and a model are kept, but the
epochs still planned are not trained (and before its first epoch has finished, nothing of
the run is kept: the last run stays the one Continue… goes on from). :func:`ask_stop_training` says that and asks; the
window only closes on "Stop and quit" (:class:`~workbench.qt.main_window.MainWindow`'s
``confirm_close``, replaceable in tests). Ctrl+C in the terminal and SIGTERM (``kill``,
a logout) close without asking (:func:`may_close`): nobody is there to answer.
"""

from __future__ import annotations

import os
from typing import Any

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
    # Its name as the Runs tab shows it, not its folder's.
    name = str(read_run_info(run_dir).get("name") or os.path.basename(run_dir)) \
        if run_dir else ""
    run = f"“{name}”" if name else "A run"
    text = f"{run} is training: epoch {min(done + 1, epochs)} of {epochs}.\n\n"
    if done:
        return text + ("Quitting stops it. The finished epochs, their checkpoint and a model "
                       "are kept, and Continue… on the Train tab trains it further after "
                       "the next start (or `workbench resume`).")
    text += "No epoch has finished yet: quitting now keeps nothing of this run."
    last = str(getattr(panel, "last_run_dir", "") or "")
    if last and last != run_dir and os.path.isfile(os.path.join(last, "checkpoints",
                                                                "last.pt")):
        last_name = read_run_info(last).get("name") or os.path.basename(last)
        text += (f" The last run, “{last_name}”, stays as it was: Continue… on the Train "
                 f"tab trains it further after the next start.")
    return text


def ask_stop_training(window: QWidget) -> bool:
    """Ask whether to stop the run and quit; True to go on closing."""
    box = QMessageBox(QMessageBox.Icon.Question, "Stop training and quit?",
                      stop_training_question(window.train_panel),
                      QMessageBox.StandardButton.NoButton, window)
    stop = box.addButton("Stop and quit", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep training", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is stop


def may_close(window: Any) -> bool:
    """Whether ``window`` may close now: no run trains, a signal is quitting the app, or
    the user said "Stop and quit" (``window.confirm_close``)."""
    app = QApplication.instance()
    if not window.is_training() or (app is not None and app.property(QUIT_WITHOUT_ASKING)):
        return True
    return bool(window.confirm_close(window))
