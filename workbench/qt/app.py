"""Start the desktop application: ``workbench gui [--data DIR] [--experiment FILE]``.

The window is built and painted without PyTorch; torch is imported in the background right
after the first paint (:mod:`workbench.qt.startup`), and the parts of the panels that need
it fill in when it is ready.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

from .common import dispose, quit_on_sigint
from .main_window import MainWindow, _default_experiment
from .startup import start_after_first_paint, torch_loader
from .workers import collect_garbage_on_gui_thread, wait_for_tasks


def create_window(data: str | None = None, experiment: str | None = None) -> MainWindow:
    """Build the main window (a QApplication must exist) and start scanning its dataset.

    Parameters
    ----------
    data
        Dataset folder; overrides the experiment's. ``None`` and no folder in the
        experiment: the built-in demo dataset (generated on first use).
    experiment
        Path of an Experiment JSON file. When it cannot be read, a message box says why and
        the default experiment is used instead. (Reading one validates it against the
        registries, which imports torch before the window: only the default experiment
        starts without it.)
    """
    exp = None
    if experiment:
        try:
            exp = Experiment.load(experiment)
        except WorkbenchError as e:
            QMessageBox.warning(None, "Cannot open the experiment",
                                f"{e}\n\nStarting with the default experiment instead.")
    if exp is None:
        exp = _default_experiment()
    folder = data or exp.data.folder
    if not folder:
        from workbench.core.data.demo import ensure_demo_dataset

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            folder = str(ensure_demo_dataset())
        finally:
            QGuiApplication.restoreOverrideCursor()
    exp.data.folder = folder
    window = MainWindow(exp)
    window.data_panel.load_folder(folder)
    return window


def main(data: str | None = None, experiment: str | None = None) -> int:
    """Run the GUI until its window closes; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_on_gui_thread()  # Qt objects must die on the GUI thread
    app.setApplicationName("Workbench")
    app.setOrganizationName("Workbench")
    quit_on_sigint(app)
    loader = torch_loader()
    loader.defer()  # panels built from here on wait for the background import of torch
    window = create_window(data, experiment)
    start_after_first_paint(window, loader)
    window.show()
    try:
        return app.exec()
    finally:
        # Closing the window already stopped the workers; this covers quitting otherwise.
        window.shutdown()
        wait_for_tasks()
        loader.wait_for_thread()  # never leave the interpreter half-way through an import
        dispose(window)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
