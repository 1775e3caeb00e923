"""Whose the Evaluate tab's model and data are, and a folder left from another model.

The pair is the user's once they choose on the tab (a model in the list or Load bundle…,
or the data: a folder dialog cancelled is no choice, the one before is back); a model
chosen for them (the run just trained, "Evaluate" on the Runs tab, the last session's or
the chooser's own) makes it the window's. A folder chosen for an earlier model is then
checked (off the GUI thread) against the new model's classes, by Evaluate's rule: one the
model does not know all of goes back to its validation split, saying which folder was
left and why; a test part chosen that the new model's dataset has none of, too. A pair of
the user's own is left as it is: Evaluate then says what does not fit. Kept in the session
(:mod:`.state`), with the model of a pair of theirs, so the tab reopens with that pair
saying "you chose", and only of the user's pairs.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, Slot

from workbench.qt.panels.evaluate.data_choice import AUTO, FOLDER, VAL
from workbench.qt.workers import TaskRunner


def folder_unknown_classes(folder: str, bundle: str, model: list[str] | None) -> list[str]:
    """The classes of the dataset ``folder`` that the model at ``bundle`` (its classes
    ``model``, read from it when None) does not know, as Evaluate would refuse them
    (:func:`~workbench.core.evaluate.known_classes.unknown_classes`); none when it cannot
    be told."""
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import WorkbenchError
    from workbench.core.evaluate.known_classes import unknown_classes
    from workbench.core.runs.classes import bundle_classes

    model = model or bundle_classes(bundle)
    try:
        classes = list(scan_folder(folder).classes) if model else []
    except (WorkbenchError, OSError):
        return []  # evaluating it says what is wrong
    return unknown_classes(classes, list(model or []))


def model_name(panel: Any) -> str:
    """The chosen model as its chooser names it (the run's name), else its file's name."""
    return panel.chooser.combo.currentText().partition(" · ")[0] or \
        os.path.basename(panel.bundle_path())


class Pairing(QObject):
    """Tells the user's choices on ``panel`` (an EvaluatePanel) from the window's: see the
    module docstring. :attr:`by_user`: the model and data are the user's pair."""

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self.by_user = False
        self._asked: tuple[str, str] | None = None  # (bundle, folder) being checked
        self._runner = TaskRunner(self, supersede=True)
        self._runner.finished.connect(self._on_checked)
        panel.chooser.picked.connect(self._user_chose)
        panel.data_combo.activated.connect(self._data_chosen)

    @Slot()
    def _user_chose(self, *_: Any) -> None:
        self.by_user = True

    @Slot(int)
    def _data_chosen(self, _index: int) -> None:
        """The user chose the data; "All images of a folder…" asks for it: its dialog
        cancelled, the choice before is back, and whose it was."""
        panel = self.panel
        if panel.data_combo.key() == FOLDER:
            path = panel.ask_folder(panel, "Choose a labelled folder to evaluate on",
                                    panel.folder or "")
            if not path:
                panel.data_combo.undo_pick()
                return
            panel.set_folder(path)
        self.by_user = True

    def model_set(self, was: str) -> None:
        """The model was chosen for the user (the data choice was ``was`` before): a test
        part chosen that its dataset lacks is said, a folder chosen is checked."""
        self.by_user = False
        combo = self.panel.data_combo
        if was == AUTO and combo.key() == VAL and combo.chosen_by_user:
            self.panel.message.show_message(
                f"Data is back to the model's validation split: {model_name(self.panel)}'s "
                f"dataset has no test part.", "warning")
        self.check()

    def check(self) -> None:
        """Check (off the GUI thread) that the folder chosen fits the model chosen, unless
        the user chose them."""
        panel = self.panel
        bundle, folder, classes = panel.bundle_path(), panel.folder, \
            panel.chooser.bundle_classes()
        self._asked = None
        if self.by_user or not bundle or panel.data_combo.key() != FOLDER or not folder:
            return
        self._asked = (bundle, folder)
        self._runner.submit(lambda _state: folder_unknown_classes(folder, bundle, classes))

    @Slot(int, object)
    def _on_checked(self, _job: int, unknown: list[str]) -> None:
        from workbench.core.evaluate.known_classes import named_classes

        panel = self.panel
        if not unknown or self.by_user or panel.is_running() or \
                panel.data_combo.key() != FOLDER or \
                self._asked != (panel.bundle_path(), panel.folder):
            return
        self._asked = None
        panel.use_validation_split()
        panel.message.show_message(
            f"Data is back to the model's validation split: the folder {panel.folder}, "
            f"chosen for an earlier model, has {named_classes(unknown)} that "
            f"{model_name(panel)} does not know.", "warning")

    def shutdown(self) -> None:
        self._runner.cancel_all()
