"""The main window's File menu on the experiment: New (the defaults on the demo dataset),
Open…, Open recent, Save and Save experiment as…. New and Open are refused while a run
trains, and ask before replacing an experiment changed since it was opened or saved; the
file opened or saved last (:class:`~workbench.qt.opened_file.OpenedFile`) is where Save
writes (asking first where another window or program changed that file since: Replace it,
Save as…, Cancel), and is named in the window's title; a dataset folder that file names relatively
stays so (:func:`~workbench.core.folder_rule.folder_as_written`). Validation waits for
torch's import (the registries).

:class:`ExperimentFiles` is mixed into :class:`~workbench.qt.main_window.MainWindow`: it
uses the window's ``experiment``, ``set_experiment``, ``is_training``, ``tabs``,
``data_panel`` and ``_update_title``.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.folder_rule import folder_as_written
from workbench.core.runs.names import run_name_base

from workbench.qt.common import show_error
from workbench.qt.defaults import default_experiment, demo_folder
from workbench.qt.opened_file import OpenedFile
from workbench.qt.startup import torch_loader

#: The file dialogs' filter.
FILTER = "Experiments (*.json);;All files (*)"


def named(path: str, error: Exception) -> str:
    """``error``'s message, after ``path`` unless it names the file already; its way to a
    new file said as the app's (File → New experiment), not the command line's."""
    from workbench.core.experiment import NEW_FILE_HINT

    text = str(error).replace(NEW_FILE_HINT, "File → New experiment")
    return text if str(path) in text else f"{path}:\n{text}"


def _shown(path: str) -> str:
    """``path``'s folder as a menu shows it: ``~`` for the home folder."""
    folder, home = os.path.dirname(path), os.path.expanduser("~")
    return "~" + folder[len(home):] if folder == home or folder.startswith(home + os.sep) \
        else folder


class ExperimentFiles:
    """File → New, Open…, Open recent, Save and Save experiment as… for the main window."""

    #: The experiment file (path, changed since, recent files); made by :meth:`_init_files`.
    file: OpenedFile

    def _init_files(self) -> None:
        self.file = OpenedFile(self.experiment)
        loader = torch_loader()
        if loader.is_pending():  # compared as validated once the registries are loaded
            loader.call_when_ready(lambda: self._update_title(), self)

    def is_modified(self) -> bool:
        """Whether the experiment differs from what was opened or saved last."""
        return self.file.modified(self.experiment)

    def _ask_replace(self, title: str, question: str) -> bool:
        """True when the experiment may be replaced: it has no changes since it was opened
        or saved, or the user says yes to ``question``, told that they are lost."""
        if not self.is_modified():
            return True
        lost = (f"The changes since {os.path.basename(self.file.path)} was opened or saved "
                f"are lost; to keep them, save them first (File → Save experiment)."
                if self.file.path else "The current settings are replaced; to keep them, "
                "save them first (File → Save experiment as…).")
        return self.confirm(title, f"{question}\n\n{lost}")

    @Slot()
    def new_experiment(self) -> bool:
        """Replace the experiment with the default one on the demo dataset, once the user
        confirms (:meth:`confirm`) where it has changes; True when replaced."""
        if self.is_training():
            show_error(self, "Training in progress",
                       "Stop the current training run before starting a new experiment.")
            return False
        if not self._ask_replace("New experiment", "Start a new experiment: the default "
                                 "network, augmentation and optimizer on the demo dataset?"):
            return False
        try:
            folder = demo_folder()
        except (WorkbenchError, OSError) as e:
            show_error(self, "Cannot create the demo dataset", str(e))
            return False
        exp = default_experiment()
        exp.data.folder = folder
        self.set_experiment(exp)
        self.file.take(exp, "")  # no file until it is saved
        self._update_title()
        self.tabs.setCurrentWidget(self.data_panel)
        self.statusBar().showMessage("New experiment: the defaults on the demo dataset", 10000)
        return True

    def confirm(self, title: str, question: str) -> bool:
        """Ask a yes/no ``question``; True for yes. (Tests replace it.)"""
        answer = QMessageBox.question(self, title, question,
                                      QMessageBox.StandardButton.Yes |
                                      QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _start_folder(self) -> str:
        """Where the file dialogs start: the folder of the experiment file, else of the
        last one opened or saved, else the home folder."""
        for path in [self.file.path, *self.file.recent]:
            if path and os.path.isdir(os.path.dirname(path)):
                return os.path.dirname(path)
        return os.path.expanduser("~")

    @Slot()
    def open_experiment(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an experiment", self._start_folder(),
                                              FILTER)
        if path:
            self.open_experiment_file(path)

    def open_experiment_file(self, path: str) -> bool:
        """Open the experiment file ``path`` (once the user confirms, where the experiment
        has changes); True when opened."""
        if not self._wait_for_torch():  # validation reads the registries (torch)
            return False
        if self.is_training():
            show_error(self, "Training in progress",
                       "Stop the current training run before opening another experiment.")
            return False
        try:
            exp = Experiment.load(path)
        except WorkbenchError as e:
            show_error(self, "Cannot open the experiment", named(path, e))
            return False
        if not self._ask_replace("Open experiment", f"Open {os.path.basename(path)}?"):
            return False
        self.set_experiment(exp, os.path.basename(path))  # a missing folder is its dataset's
        self.file.take(exp, path)
        self._update_title()
        return True

    def _fill_recent(self, menu: QMenu) -> None:
        """File → Open recent: the files opened or saved last; one no longer there is
        greyed, and said so."""
        menu.clear()
        for n, path in enumerate(self.file.recent, 1):
            there = os.path.isfile(path)
            text = f"{os.path.basename(path)}  —  {_shown(path)}".replace("&", "&&")
            action = QAction(f"&{n}  {text}" + ("" if there else "  (not found)"), menu)
            action.setToolTip(path if there else f"{path} is no longer there (moved, "
                                                 f"renamed or deleted)")
            action.setEnabled(there)
            action.triggered.connect(lambda _=False, p=path: self.open_experiment_file(p))
            menu.addAction(action)
        if not self.file.recent:
            menu.addAction("No experiment files opened or saved yet").setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("&Clear the list", lambda: setattr(self.file, "recent", []))

    @Slot()
    def save_experiment(self) -> bool:
        """File → Save: to the file opened or saved last (Save experiment as… where there
        is none); True when saved."""
        if not self.file.path:
            return self.save_experiment_as()
        return self._save(self.file.path)

    @Slot()
    def save_experiment_as(self) -> bool:
        """File → Save experiment as…: starting at the experiment's file, else at a name
        made of its dataset and network; ``.json`` added to a name without an extension."""
        start = self.file.path or os.path.join(self._start_folder(),
                                               f"{run_name_base(self.experiment)}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save the experiment", start, FILTER)
        if not path:
            return False
        if not os.path.splitext(path)[1] and not os.path.isdir(path):
            path += ".json"  # as the Open dialog's filter lists it
            if os.path.exists(path) and not self.confirm(
                    "Save experiment", f"{os.path.basename(path)} already exists in "
                    f"{os.path.dirname(path)}.\n\nReplace it?"):
                return False
        return self._save(path)

    def ask_changed_on_disk(self, path: str) -> str:
        """Ask what to do with the experiment file ``path``, changed since it was opened or
        saved here: "replace", "save as" or "" (Cancel). (Tests replace it.)"""
        name = os.path.basename(path)
        box = QMessageBox(QMessageBox.Icon.Warning, "Save experiment",
                          f"{name} (in {os.path.dirname(path)}) was changed since you "
                          f"opened or saved it in this window, by another Workbench window "
                          f"or another program.\n\nReplace it: the changes made there are "
                          f"lost.\nSave as…: this experiment goes to another file; {name} "
                          f"stays as it is.",
                          QMessageBox.StandardButton.Cancel, self)
        replace = box.addButton("Replace it", QMessageBox.ButtonRole.DestructiveRole)
        save_as = box.addButton("Save as…", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(save_as)
        box.exec()
        return "replace" if box.clickedButton() is replace else \
            "save as" if box.clickedButton() is save_as else ""

    def _save(self, path: str) -> bool:
        if not self._wait_for_torch():  # validation reads the registries (torch)
            return False
        if os.path.abspath(path) == self.file.path and self.file.changed_on_disk():
            answer = self.ask_changed_on_disk(path)
            if answer != "replace":
                return answer == "save as" and self.save_experiment_as()
        try:
            self.experiment.validate()
            exp = self.experiment.copy()  # a relative dataset folder stays relative
            exp.data.folder = folder_as_written(exp.data.folder, path, self.file.path)
            exp.save(path)
        except (WorkbenchError, OSError) as e:
            show_error(self, "Cannot save the experiment", named(path, e))
            return False
        self.file.take(self.experiment, path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _wait_for_torch(self) -> bool:
        """Block (busy cursor) until torch is imported; False, with a message, when it
        cannot be. Right after start-up this waits for the background import to finish."""
        loader = torch_loader()
        if not loader.is_ready():
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                loader.ensure_loaded()
            finally:
                QGuiApplication.restoreOverrideCursor()
        if loader.state == "failed":
            show_error(self, "PyTorch could not be loaded", loader.error)
            return False
        return True
