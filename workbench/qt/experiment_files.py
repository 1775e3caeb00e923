"""The main window's File menu on the experiment: New (the defaults on the demo dataset),
Open… and Save experiment as…, each refused while a run trains and confirmed before the
current settings are replaced; validation waits for torch's import (the registries).

:class:`ExperimentFiles` is mixed into :class:`~workbench.qt.main_window.MainWindow`: it
uses the window's ``experiment``, ``set_experiment``, ``is_training``, ``tabs`` and
``data_panel``.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

from workbench.qt.common import show_error
from workbench.qt.defaults import default_experiment, demo_folder
from workbench.qt.startup import torch_loader


class ExperimentFiles:
    """File → New, Open… and Save experiment as… for the main window."""

    @Slot()
    def new_experiment(self) -> bool:
        """Replace the experiment with the default one on the demo dataset, once the user
        confirms (:meth:`confirm`); True when replaced."""
        if self.is_training():
            show_error(self, "Training in progress",
                       "Stop the current training run before starting a new experiment.")
            return False
        if not self.confirm("New experiment",
                            "Start a new experiment: the default network, augmentation and "
                            "optimizer on the demo dataset?\n\nThe current settings are "
                            "replaced; to keep them, save them first (File → Save "
                            "experiment as…)."):
            return False
        try:
            folder = demo_folder()
        except (WorkbenchError, OSError) as e:
            show_error(self, "Cannot create the demo dataset", str(e))
            return False
        exp = default_experiment()
        exp.data.folder = folder
        self.set_experiment(exp)
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

    @Slot()
    def open_experiment(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an experiment", "",
                                              "Experiments (*.json);;All files (*)")
        if not path or not self._wait_for_torch():  # validation reads the registries (torch)
            return
        if self.is_training():
            show_error(self, "Training in progress",
                       "Stop the current training run before opening another experiment.")
            return
        try:
            exp = Experiment.load(path)
        except WorkbenchError as e:
            show_error(self, "Cannot open the experiment", f"{path}:\n{e}")
            return
        if self.confirm("Open experiment", f"Open {os.path.basename(path)}?\n\nThe current "
                        f"settings are replaced; to keep them, save them first (File → Save "
                        f"experiment as…)."):
            self.set_experiment(exp)

    @Slot()
    def save_experiment(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the experiment",
                                              f"{self.experiment.name}.json",
                                              "Experiments (*.json)")
        if not path:
            return
        if not self._wait_for_torch():  # validation reads the registries (torch)
            return
        try:
            self.experiment.validate()
            self.experiment.save(path)
        except (WorkbenchError, OSError) as e:
            show_error(self, "Cannot save the experiment", str(e))
            return
        self.statusBar().showMessage(f"Saved {path}", 5000)

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
