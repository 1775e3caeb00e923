"""Data panel: choose a dataset folder and see its classes, counts and unreadable files.

The scan (listing plus a full decode of every file) runs off the GUI thread; choosing another
folder while one is being scanned supersedes the stale scan.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QListWidget, QProgressBar,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from workbench.core.errors import DataError
from workbench.core.experiment import Experiment

from ..common import MessageLabel, stop_busy, run_standalone, short_path
from ..workers import TaskRunner, TaskState


def _scan(folder: str, state: TaskState) -> Any:
    from workbench.core.data.scan import scan_folder

    return scan_folder(folder, verify=True, progress=state.set_progress,
                       is_cancelled=state.is_cancelled)


class DataPanel(QWidget):
    """Shows the dataset of ``experiment.data.folder`` and lets the user choose another.

    Signals
    -------
    dataset_loaded(index)
        A scan finished; ``experiment.data.folder`` now names the scanned folder. ``index``
        is the :class:`~workbench.core.data.scan.DatasetIndex` (it may still be unusable for
        training: the message line says why).
    scan_failed(message)
        The folder could not be scanned (missing, not a folder...).
    """

    dataset_loaded = Signal(object)
    scan_failed = Signal(str)

    def __init__(self, experiment: Experiment, parent: QWidget | None = None):
        super().__init__(parent)
        self.experiment = experiment
        self.index: Any = None
        self.trainable = False
        self._pending_folder = ""
        self._runner = TaskRunner(self, supersede=True)
        self._runner.progressed.connect(self._on_scan_progressed)
        self._runner.finished.connect(self._on_scan_finished)
        self._runner.errored.connect(self._on_scan_errored)
        self._build()
        self.folder_edit.setText(experiment.data.folder)

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("A folder with one sub-folder of images per class")
        self.folder_edit.returnPressed.connect(
            lambda: self.load_folder(self.folder_edit.text().strip()))
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.clicked.connect(self.choose_folder)
        self.rescan_button = QPushButton("Rescan")
        self.rescan_button.setToolTip("Scan the folder again (after adding or fixing images)")
        self.rescan_button.clicked.connect(
            lambda: self.load_folder(self.folder_edit.text().strip()))
        row = QHBoxLayout()
        row.addWidget(QLabel("Folder:"))
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.choose_button)
        row.addWidget(self.rescan_button)

        self.progress = QProgressBar()
        self.progress.setFormat("Checking images… %v / %m")
        self.progress.hide()
        self.message = MessageLabel("Choose a dataset folder, or drop one on the window. "
                                    "Layout: one sub-folder of images per class "
                                    "(or train/ and val/ folders holding those).")

        self.class_table = QTableWidget(0, 2)
        self.class_table.setHorizontalHeaderLabels(["Class", "Images"])
        self.class_table.verticalHeader().setVisible(False)
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.class_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.total_label = QLabel("")
        classes_box = QGroupBox("Classes")
        lay = QVBoxLayout(classes_box)
        lay.addWidget(self.class_table)
        lay.addWidget(self.total_label)

        self.unreadable_list = QListWidget()
        self.unreadable_list.setWordWrap(True)
        self.unreadable_box = QGroupBox("Unreadable files (skipped in training)")
        lay = QVBoxLayout(self.unreadable_box)
        lay.addWidget(self.unreadable_list)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(classes_box)
        split.addWidget(self.unreadable_box)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)

    # -- actions ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.folder_edit.setText(experiment.data.folder)

    @Slot()
    def choose_folder(self) -> None:
        start = self.folder_edit.text() or os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self, "Choose a dataset folder", start)
        if folder:
            self.load_folder(folder)

    def load_folder(self, folder: str) -> None:
        """Scan ``folder`` in the background; a scan already running is superseded."""
        folder = os.path.abspath(os.path.expanduser(folder)) if folder else ""
        if not folder:
            self.message.show_message("Enter or choose a dataset folder first.", "warning")
            return
        self._pending_folder = folder
        self.folder_edit.setText(folder)
        self.progress.setRange(0, 0)  # busy until the scan reports a total
        self.progress.show()
        self.message.show_message(f"Scanning {folder}…")
        self._runner.submit(lambda state: _scan(folder, state))

    def is_scanning(self) -> bool:
        return self._runner.is_busy()

    def shutdown(self) -> None:
        self._runner.cancel_all()
        stop_busy(self.progress)

    # -- results ---------------------------------------------------------------------------
    @Slot(int, int, int)
    def _on_scan_progressed(self, job: int, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    @Slot(int, object)
    def _on_scan_finished(self, job: int, index: Any) -> None:
        self.progress.hide()
        self.index = index
        self.experiment.data.folder = self._pending_folder
        self._show_index(index)
        try:
            index.check_trainable()
        except DataError as e:
            self.trainable = False
            self.message.show_message(f"This folder cannot be trained on yet: {e}", "warning")
        else:
            self.trainable = True
            total = sum(index.counts().values())
            text = f"Ready: {index.num_classes} classes, {total} images."
            if index.unreadable:
                n = len(index.unreadable)
                text += (f" {n} file{'s' if n != 1 else ''} cannot be read and will be "
                         f"skipped (listed on the right).")
            self.message.show_message(text, "warning" if index.unreadable else "ok")
        self.dataset_loaded.emit(index)

    @Slot(int, str)
    def _on_scan_errored(self, job: int, message: str) -> None:
        self.progress.hide()
        self.index = None
        self.trainable = False
        self.class_table.setRowCount(0)
        self.unreadable_list.clear()
        self.total_label.setText("")
        self.message.show_message(message, "error")
        self.scan_failed.emit(message)

    def _show_index(self, index: Any) -> None:
        counts = index.counts()
        empty = list(getattr(index, "empty_classes", []) or [])
        self.class_table.setRowCount(0)
        rows = [(c, counts.get(c, 0), False) for c in index.classes] + \
               [(c, 0, True) for c in empty]
        grey = QBrush(QColor("#888888"))
        for r, (name, n, is_empty) in enumerate(rows):
            self.class_table.insertRow(r)
            name_item = QTableWidgetItem(name)
            count_item = QTableWidgetItem(f"{n:,}" if not is_empty else "0 (no images: left out)")
            count_item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            count_item.setData(Qt.ItemDataRole.UserRole, n)
            if is_empty:
                name_item.setForeground(grey)
                count_item.setForeground(grey)
            self.class_table.setItem(r, 0, name_item)
            self.class_table.setItem(r, 1, count_item)
        total = sum(counts.values())
        text = f"Total: {total:,} images in {index.num_classes} classes"
        if index.val_samples is not None:
            text += (f" ({len(index.samples):,} in train/, {len(index.val_samples):,} in the "
                     f"validation folder)")
        self.total_label.setText(text)

        self.unreadable_list.clear()
        for bad in index.unreadable:
            self.unreadable_list.addItem(f"{short_path(bad.path, index.root)}: {bad.reason}")
        n = len(index.unreadable)
        self.unreadable_box.setTitle(f"Unreadable files: {n}" + (" (skipped in training)"
                                                                  if n else ""))

    def class_counts(self) -> dict[str, int]:
        """What the table shows: class name -> number of images."""
        out = {}
        for r in range(self.class_table.rowCount()):
            out[self.class_table.item(r, 0).text()] = \
                self.class_table.item(r, 1).data(Qt.ItemDataRole.UserRole)
        return out


def _main() -> int:
    def make() -> DataPanel:
        from workbench.core.data.demo import ensure_demo_dataset

        exp = Experiment()
        panel = DataPanel(exp)
        panel.load_folder(sys.argv[1] if len(sys.argv) > 1 else str(ensure_demo_dataset()))
        return panel

    return run_standalone(make, "Data")


if __name__ == "__main__":
    sys.exit(_main())
