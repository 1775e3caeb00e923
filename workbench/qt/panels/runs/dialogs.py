"""The Runs panel's dialogs (:class:`~workbench.qt.panels.runs.panel.RunsPanel` holds them
as replaceable attributes): notes, confirmation, where to export metrics."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QLabel, QMessageBox,
                               QPlainTextEdit, QVBoxLayout, QWidget)

from workbench.qt.screen_fit import fit_to_screen


class NotesDialog(QDialog):
    """A multi-line editor for a run's notes."""

    def __init__(self, name: str, notes: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Notes on {name}")
        self.editor = QPlainTextEdit(notes)
        self.editor.setPlaceholderText("What was tried, what was learned…")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Notes on the run <b>{html.escape(name)}</b>:"))
        layout.addWidget(self.editor, 1)
        layout.addWidget(buttons)
        fit_to_screen(self, 480, 300)

    def notes(self) -> str:
        return self.editor.toPlainText()


def ask_notes(parent: QWidget, name: str, notes: str) -> str | None:
    """The edited notes, or None when the dialog was cancelled."""
    dialog = NotesDialog(name, notes, parent)
    return dialog.notes() if dialog.exec() == QDialog.DialogCode.Accepted else None


def confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_save_path(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Export metrics as CSV", suggested,
                                          "CSV files (*.csv);;All files (*)")
    return path
