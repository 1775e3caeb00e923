"""Sharing runs from the Runs tab: "Open in TensorBoard" opens every run there, "Report…"
writes the selected run as one HTML file (:mod:`workbench.core.runs.report`), also File →
Export report… in the main window.

The TensorBoard button starts ``tensorboard --logdir <runs folder> --port <free port>`` (the
command beside the Python running Workbench, or on the PATH) through
:class:`~workbench.qt.panels.runs.tensorboard.TensorBoardLauncher`, and opens its page once
it serves (an instance already started for the folder is reused); when it fails it shows
TensorBoard's last error line, and without the command it shows the command line to run.
The report is written off the GUI thread (it evaluates the run's model on its validation
split, and on its dataset's test part where there is one, first; where the run's dataset
folder moved, on the dataset open on the Data tab when it has the model's classes, else the
line under the table says what to do).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton, QWidget

from workbench.qt.common import show_error
from workbench.qt.panels.evaluate.moved_data import dataset_now
from workbench.qt.panels.runs.tensorboard import TensorBoardLauncher
from workbench.qt.workers import TaskRunner, TaskState


def tensorboard_command() -> str | None:
    """The ``tensorboard`` program: beside this Python (a virtual environment), else on the
    PATH; None when there is none."""
    here = Path(sys.executable).parent / ("tensorboard.exe" if os.name == "nt" else "tensorboard")
    return str(here) if here.is_file() else shutil.which("tensorboard")


def tensorboard_argv(logdir: str, port: int) -> list[str] | None:
    """``[program, --logdir, logdir, --port, port]``; None when TensorBoard is not installed."""
    program = tensorboard_command()
    return None if program is None else [program, "--logdir", logdir, "--port", str(port)]


def ask_report_path(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Export the run as an HTML report",
                                          suggested, "HTML files (*.html);;All files (*)")
    return path


def show_command(parent: QWidget, command: str) -> None:
    QMessageBox.information(parent, "TensorBoard", "TensorBoard is not installed here. "
                            "Install it (pip install tensorboard), then run:\n\n" + command)


class RunSharing(QObject):
    """The Runs tab's TensorBoard and Report… buttons (``panel``: the RunsPanel).

    The dialogs, the TensorBoard command and the browser are attributes (``ask_path``,
    ``show_command``, ``command``, ``open_url``, ``show_error``) so a test can answer them
    without a person; ``launcher`` keeps the TensorBoard processes.
    """

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self.tensorboard_button = QPushButton("Open in TensorBoard")
        self.tensorboard_button.setToolTip("Open every run in TensorBoard (each run folder "
                                           "holds its event files)")
        self.tensorboard_button.clicked.connect(self.open_tensorboard)
        self.report_button = QPushButton("Report…")
        self.report_button.setToolTip("Write the selected run as one HTML file: settings, "
                                      "network, curves, confusion matrix, worst images")
        self.report_button.clicked.connect(lambda: self.export_report())
        self.ask_path: Callable[[QWidget, str], str] = ask_report_path
        self.show_command: Callable[[QWidget, str], None] = show_command
        #: ``command(logdir, port) -> [program, *args]`` (None: not installed).
        self.command: Callable[[str, int], list[str] | None] = tensorboard_argv
        self.open_url: Callable[[str], Any] = lambda url: QDesktopServices.openUrl(QUrl(url))
        self.show_error: Callable[[QWidget, str, str], Any] = show_error
        #: ``dataset()``: the scan open on the Data tab (None: none), for a run whose dataset
        #: folder moved (:mod:`workbench.qt.panels.evaluate.moved_data`).
        self.dataset: Callable[[], Any] = lambda: getattr(
            getattr(panel.window(), "current", None), "dataset", None)
        self.launcher = TensorBoardLauncher(self)
        self.launcher.serving.connect(self._on_serving)
        self.launcher.failed.connect(self._on_tensorboard_failed)
        self._runner = TaskRunner(self, supersede=True)
        self._runner.finished.connect(self._on_written)
        self._runner.errored.connect(self._on_failed)
        self.update(False)

    def update(self, one_selected: bool) -> None:
        self.report_button.setEnabled(one_selected)

    # -- TensorBoard -------------------------------------------------------------------
    def open_tensorboard(self) -> str:
        """Start TensorBoard on the runs folder, or reuse the one started (or show how to);
        returns the command line. The page opens when it serves (``launcher.serving``)."""
        logdir = str(self.panel.store.root)
        line = " ".join(["tensorboard", *(f'"{a}"' if " " in a else a
                                          for a in ["--logdir", logdir])])
        how = self.launcher.start(logdir, lambda port: self.command(logdir, port))
        if how == "missing":
            self.show_command(self.panel, line)
        elif how != "reused":
            self.panel.message.show_message(f"Starting TensorBoard ({line})…")
        return line

    def _on_serving(self, url: str) -> None:
        self.open_url(url)
        self.panel.message.show_message(f"TensorBoard serves the runs at {url}", "ok")

    def _on_tensorboard_failed(self, message: str) -> None:
        self.panel.message.show_message(message, "error")
        self.show_error(self.panel, "TensorBoard did not start", message)

    # -- report ------------------------------------------------------------------------
    def export_report(self, run_dir: str | None = None) -> int | None:
        """Ask where, then write ``run_dir``'s report (the selected run by default) off the
        GUI thread; returns the job id (None: nothing to do)."""
        if run_dir is None:
            records = self.panel.selected_records()
            if len(records) != 1:
                return None
            run_dir = str(records[0].path)
        from workbench.core.runs.store import read_run_info

        # The name the run is shown by (not its dated folder's), as a file name.
        name = str(read_run_info(run_dir).get("name") or Path(run_dir).name)
        file_name = "".join(c if c.isalnum() or c in "-_. " else "_" for c in name).strip()
        path = self.ask_path(self.panel, os.path.join(str(Path.home()),
                                                      f"{file_name or 'report'}.html"))
        if not path:
            return None
        self.panel.message.show_message(f"Writing the report of {name}…")
        # Its dataset moved: evaluated on the Data tab's when it has the model's classes.
        data, was, problem = dataset_now(str(Path(run_dir) / "bundle.pt"), self.dataset(),
                                         "Report…")
        said = (f" (the model evaluated on {data}, open on the Data tab: its dataset "
                f"folder {was} is missing)") if data else \
            (f"; the model was not evaluated: {problem}" if problem else "")

        def work(state: TaskState) -> tuple[str, str]:
            from workbench.core.runs.report import write_report

            return str(write_report(run_dir, path, data or None)), said

        return self._runner.submit(work)

    def _on_written(self, _job: int, written: tuple[str, str]) -> None:
        path, said = written
        self.panel.message.show_message(f"Wrote the report {path}{said}",
                                        "warning" if said.startswith(";") else "ok")

    def _on_failed(self, _job: int, message: str) -> None:
        show_error(self.panel, "Cannot write the report", message)
