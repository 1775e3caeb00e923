"""Export dialog: a trained bundle as ONNX (checked with onnxruntime; float or int8), PyTorch
code and/or safetensors weights.

The GUI side of ``workbench export BUNDLE --onnx OUT.onnx [--int8] --code OUT.py
--safetensors OUT.safetensors``: the ONNX file gets a dynamic batch dimension and its
preprocessing JSON beside it (shown in the dialog, since it is written too), and
onnxruntime runs it at once; the largest absolute difference from PyTorch is shown, in
orange or red when something is off. With "int8" the model is quantized, calibrated on the
bundle's training images, and the float and int8 validation accuracies are shown as the CLI
prints them. The safetensors weights (no pickle: loading them runs no code) get their
description in ``OUT.safetensors.json`` (shown too) and are read back at once, each tensor
compared with the bundle's. The export runs off the GUI thread (the exporter takes seconds,
int8 longer); each format reports on its own, so a network ONNX cannot express still gets
its code file.

The files are named after the bundle (a run's ``bundle.pt`` after its run), not
``model.*`` nor a run folder's own files; a name without a folder goes beside the bundle
too. An export that would replace files asks once, naming them all (and saying which are not
an earlier export); two outputs that are one file, a run folder's own file and a place that
cannot be written are refused before any work, as the CLI refuses them.

``python -m workbench.qt.export_dialog BUNDLE`` opens it alone.
"""

from __future__ import annotations

import html
import sys
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QMessageBox, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from workbench.core.export.targets import with_suffix  # torch-free
from workbench.qt.accessible import name_field
from workbench.qt.colours import LevelTextBrowser
from workbench.qt.common import MessageLabel, run_standalone, stop_busy
from workbench.qt.export_job import (cannot_export, coloured, default_outputs,
                                     existing_files, export_bundle, files_to_write,
                                     foreign_files, output_path, report_html,
                                     safetensors_description, safetensors_html, sidecar_path)
from workbench.qt.model_classes import ask_bundle
from workbench.qt.panels.data.health.controls import ElidedLabel
from workbench.qt.screen_fit import fit_to_screen
from workbench.qt.startup import torch_loader
from workbench.qt.workers import TaskRunner


def open_export_dialog(parent: QWidget, bundle: str) -> ExportDialog | None:
    """File → Export model…: the dialog for ``bundle`` (asked for, starting in the runs
    folder, when it is ""), shown; None when no bundle was chosen."""
    if not bundle:
        bundle = ask_bundle(parent, title="Choose a trained bundle to export")
        if not bundle:
            return None
    dialog = ExportDialog(bundle, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def confirm_replace(parent: QWidget, paths: list[str],
                    foreign: dict[str, str] | None = None) -> bool:
    """Ask once whether to replace the existing ``paths``: Replace / Cancel. ``foreign``:
    what those that are not an earlier export are, said in their place."""
    one = len(paths) == 1
    box = QMessageBox(QMessageBox.Icon.Warning, "Replace files?",
                      f"{'This file exists' if one else 'These files exist'} and would be "
                      f"replaced by the export:", parent=parent)
    box.setInformativeText("\n".join((foreign or {}).get(p, p) for p in paths))
    replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is replace


def _path_label() -> ElidedLabel:
    """A line naming a file, its middle "…" where it is too long for the dialog (the name
    and where it starts stay; the whole path is the tooltip): a deep folder never widens
    the dialog past the screen."""
    return ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)


class ExportDialog(QDialog):
    """Export a bundle as ONNX (float or int8), PyTorch code and/or safetensors weights.

    Parameters
    ----------
    bundle_path
        The trained bundle; "Change…" picks another.

    Signals
    -------
    exported(results)
        An export finished; ``results`` is what :func:`export_bundle` returns.
    failed(message)
        Nothing could be exported (the message is in the dialog too).

    Attributes
    ----------
    written
        The files the last export wrote.
    """

    exported = Signal(object)
    failed = Signal(str)

    def __init__(self, bundle_path: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.bundle_path = ""
        self.written: list[str] = []
        self.results: dict[str, Any] | None = None
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_finished)
        self._runner.errored.connect(self._on_errored)
        self.setWindowTitle("Export model")
        self._build()
        self.set_bundle(bundle_path)
        fit_to_screen(self, 760, 600)

    def _build(self) -> None:
        self.bundle_label = _path_label()
        self.bundle_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        change = QPushButton("Change…")
        change.setAutoDefault(False)  # Enter exports (the default button), focused or not
        change.clicked.connect(self.choose_bundle)
        self.onnx_check = QCheckBox("ONNX (dynamic batch; preprocessing in a .json beside it; "
                                    "checked with onnxruntime)")
        self.onnx_check.setChecked(True)
        self.onnx_edit = QLineEdit()
        self.sidecar_label = _path_label()
        self.sidecar_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.onnx_edit.textChanged.connect(self._show_sidecar)
        self.int8_check = QCheckBox("int8 (smaller, faster on CPU; its accuracy compared "
                                    "with the float model's)")
        self.int8_check.setToolTip("Static quantization as workbench export --int8 does: "
                                   "weights int8 per channel, activations uint8, calibrated "
                                   "on up to 256 training images of the bundle's dataset")
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("the training images of the bundle's dataset (give "
                                          "its new folder if it moved)")
        self.code_check = QCheckBox("PyTorch code (.py with build_model(), loads the bundle's "
                                    "weights)")
        self.code_check.setChecked(True)
        self.code_edit = QLineEdit()
        self.safetensors_check = QCheckBox("safetensors (the weights only, no pickle: loading "
                                           "them runs no code; read back and compared)")
        self.safetensors_check.setToolTip("As workbench export --safetensors: load them into "
                                          "the PyTorch code's build_model() with "
                                          "safetensors.torch.load_file")
        self.safetensors_edit = QLineEdit()
        self.description_label = _path_label()
        self.description_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.safetensors_edit.textChanged.connect(self._show_description)
        grid = QGridLayout()
        grid.addWidget(QLabel("Model:"), 0, 0)
        grid.addWidget(self.bundle_label, 0, 1)
        grid.addWidget(change, 0, 2)
        grid.addWidget(self.onnx_check, 1, 0, 1, 3)
        self._add_path_row(grid, 2, self.onnx_edit, self.onnx_check, "onnx")
        grid.addWidget(self.sidecar_label, 3, 1, 1, 2)
        grid.addWidget(self.int8_check, 4, 1, 1, 2)
        calibrate = QLabel("Calibrate on:")
        name_field(calibrate, self.data_edit)
        grid.addWidget(calibrate, 5, 0, Qt.AlignmentFlag.AlignRight)
        data_browse = self._add_path_row(grid, 5, self.data_edit, self.int8_check, "data")
        grid.addWidget(self.code_check, 6, 0, 1, 3)
        self._add_path_row(grid, 7, self.code_edit, self.code_check, "code")
        grid.addWidget(self.safetensors_check, 8, 0, 1, 3)
        self._add_path_row(grid, 9, self.safetensors_edit, self.safetensors_check,
                           "safetensors")
        grid.addWidget(self.description_label, 10, 1, 1, 2)
        self.safetensors_check.toggled.connect(self.description_label.setEnabled)
        self.description_label.setEnabled(False)  # unticked by default
        grid.setColumnStretch(1, 1)
        for widget in (self.sidecar_label, self.int8_check):
            self.onnx_check.toggled.connect(widget.setEnabled)
        self.onnx_check.toggled.connect(self._update_int8)
        self.int8_check.toggled.connect(self._update_int8)
        self._int8_widgets = (calibrate, self.data_edit, data_browse)
        for edit, name in ((self.onnx_edit, "ONNX file"), (self.code_edit,
                           "PyTorch code file"), (self.safetensors_edit, "safetensors file")):
            name_field(None, edit, name)  # a reader could not tell the path edits apart
        self._update_int8()

        self.message = MessageLabel()
        # A text box, not a QLabel: a word-wrapped label in a layout may keep the height of
        # one line, cutting the report's later lines (the difference, the warnings) off.
        self.report = LevelTextBrowser()
        self.report.setMinimumHeight(110)
        name_field(None, self.report, "Export report")
        self.report.setPlaceholderText("The ONNX and safetensors checks' report appears "
                                       "here.")
        self.files = QListWidget()
        self.files.setToolTip("The files written")
        files_label = QLabel("Files written:")
        name_field(files_label, self.files)
        self.busy = QProgressBar()
        self.busy.setRange(0, 1)
        self.busy.setMaximumWidth(140)
        self.busy.hide()
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.busy)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.message)
        layout.addWidget(self.report, 2)
        layout.addWidget(files_label)
        layout.addWidget(self.files, 1)
        layout.addLayout(buttons)
        self.onnx_check.setFocus()  # not "Change…": Enter exports, Space ticks

    def _add_path_row(self, grid: QGridLayout, row: int, edit: QLineEdit, check: QCheckBox,
                      what: str) -> QPushButton:
        browse = QPushButton("Browse…")
        browse.setAutoDefault(False)
        browse.clicked.connect(lambda _=False, w=what: self.choose_output(w))
        if what != "data":  # the int8 row follows two boxes: see _update_int8
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(browse.setEnabled)
            edit.setEnabled(check.isChecked())
            browse.setEnabled(check.isChecked())
        grid.addWidget(edit, row, 1)
        grid.addWidget(browse, row, 2)
        return browse

    @Slot()
    def _update_int8(self) -> None:
        on = self.onnx_check.isChecked() and self.int8_check.isChecked()
        for widget in self._int8_widgets:
            widget.setEnabled(on)

    @Slot(str)
    def _show_sidecar(self, text: str) -> None:
        onnx = with_suffix(output_path(text.strip(), self.bundle_path), ".onnx")
        self.sidecar_label.setText(f"and its preprocessing: {sidecar_path(onnx)}" if onnx
                                   else "")

    @Slot(str)
    def _show_description(self, text: str) -> None:
        weights = with_suffix(output_path(text.strip(), self.bundle_path), ".safetensors")
        self.description_label.setText(f"and its description: "
                                       f"{safetensors_description(weights)}" if weights
                                       else "")

    # -- choices -----------------------------------------------------------------------------
    def set_bundle(self, path: str) -> None:
        """Export the bundle at ``path``; output paths default to files beside it, named
        after it (or after its run)."""
        self.bundle_path = str(path or "")
        self.bundle_label.setText(self.bundle_path or "none: choose a trained bundle")
        onnx, code, safetensors = default_outputs(self.bundle_path)
        self.onnx_edit.setText(onnx)
        self.code_edit.setText(code)
        self.safetensors_edit.setText(safetensors)
        self.export_button.setEnabled(bool(self.bundle_path))

    @Slot()
    def choose_bundle(self) -> None:
        path = ask_bundle(self, self.bundle_path, "Choose a trained bundle")
        if path:
            self.set_bundle(path)

    def choose_output(self, what: str) -> None:
        """Ask where to write the ``"onnx"``, ``"code"`` or ``"safetensors"`` file, or
        (``"data"``) which dataset folder the int8 model is calibrated on."""
        if what == "data":
            path = QFileDialog.getExistingDirectory(self, "Dataset to calibrate on",
                                                    self.data_edit.text())
            if path:
                self.data_edit.setText(path)
            return
        edit, pattern = {"onnx": (self.onnx_edit, "ONNX models (*.onnx)"),
                         "code": (self.code_edit, "Python files (*.py)"),
                         "safetensors": (self.safetensors_edit,
                                         "safetensors weights (*.safetensors)")}[what]
        # Export asks once about every file it replaces (the .json too): not here as well.
        # Where the export would write (a bare name beside the bundle, ~ expanded), not a
        # name the file dialog would put in the folder the app was started from.
        start = output_path(edit.text().strip(), self.bundle_path)
        path, _ = QFileDialog.getSaveFileName(self, "Export to", start, pattern,
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            edit.setText(path)

    def _outputs(self) -> tuple[str | None, str | None, str | None] | None:
        """(onnx path, code path, safetensors path) to write, absolute (a bare name is
        beside the bundle: :func:`~.export_job.output_path`), None for an unchecked format;
        None with a message when the choices cannot be exported (:func:`cannot_export`)."""
        if not self.bundle_path:
            self._fail("Choose the trained bundle to export first (Change…).")
            return None
        paths = {what: edit.text().strip() if check.isChecked() else None
                 for what, edit, check in (
                     ("ONNX", self.onnx_edit, self.onnx_check),
                     ("code", self.code_edit, self.code_check),
                     ("safetensors", self.safetensors_edit, self.safetensors_check))}
        if all(p is None for p in paths.values()):
            self._fail("Nothing to export: tick ONNX, PyTorch code or safetensors.")
            return None
        for what, path in paths.items():
            if path == "":
                self._fail(f"Give the {what} file to write, or untick it.")
                return None
        onnx, code, safetensors = (
            with_suffix(path and output_path(path, self.bundle_path), suffix)
            for path, suffix in ((paths["ONNX"], ".onnx"), (paths["code"], ".py"),
                                 (paths["safetensors"], ".safetensors")))
        why = cannot_export(onnx, code, safetensors)
        if why:
            self._fail(f"Not exported: {why}")
            return None
        return onnx, code, safetensors

    # -- exporting ---------------------------------------------------------------------------
    @Slot()
    def export(self) -> None:
        """Export in the background to the ticked formats, once the user agrees to replace
        the files that exist."""
        outputs = self._outputs()
        if outputs is None:
            return
        onnx, code, safetensors = outputs
        existing = existing_files(files_to_write(onnx, code, safetensors))
        if existing and not confirm_replace(self, existing,
                                            foreign_files(onnx, code, safetensors)):
            self.message.show_message("Not exported: nothing was replaced. Change the file "
                                      "names to keep those files.", "warning")
            return
        bundle, int8 = self.bundle_path, bool(onnx) and self.int8_check.isChecked()
        data = self.data_edit.text().strip() or None
        self.files.clear()
        self.report.show_html("")
        self.written = []
        self.export_button.setEnabled(False)
        self.busy.setRange(0, 0)
        self.busy.show()
        self.message.show_message(
            "Exporting… (int8: calibrating on training images, then comparing the float and "
            "int8 models; this can take a minute)" if int8 else
            "Exporting… (ONNX export and its onnxruntime check take a few seconds)" if onnx
            else "Exporting…")
        # A pool thread must not be the first to import torch (see workbench.qt.startup).
        torch_loader().call_when_ready(
            lambda: self._runner.submit(
                lambda state: export_bundle(bundle, onnx, code, int8=int8, data=data,
                                            safetensors_path=safetensors)), self)

    @Slot(int, object)
    def _on_finished(self, _job: int, results: dict[str, Any]) -> None:
        self._idle()
        self.results = results
        lines, level = [], "ok"
        report = results["onnx"]
        if report is not None:  # int8 failing keeps the float model there
            self.written += [str(report.path), str(report.preprocessing_path)]
            lines.append(report_html(report, results.get("int8")))
            if report.warnings or not report.matches:
                level = "warning"
        anyway = results.get("written_anyway", {})
        if results["onnx_error"]:
            what = "int8 quantization" if report is not None else "ONNX export"
            lines.append(coloured(f"{what} failed: {results['onnx_error']}", "error"))
            level = "error"
            self.written += anyway.get("onnx", [])  # the model, before its JSON failed
        if results["code"]:
            self.written.append(results["code"])
            lines.append(f"PyTorch code: {html.escape(results['code'])}")
        if results["code_error"]:
            lines.append(coloured(f"Code export failed: {results['code_error']}", "error"))
            level = "error"
        if results["safetensors"]:  # written, even when reading it back then failed
            self.written += results["safetensors"]
            if not results["safetensors_error"]:
                lines.append(safetensors_html(*results["safetensors"],
                                              results["safetensors_checked"]))
        if results["safetensors_error"]:
            lines.append(coloured(f"Safetensors export failed: "
                                  f"{results['safetensors_error']}", "error"))
            level = "error"
            self.written += anyway.get("safetensors", [])
        self.files.addItems(self.written)
        self.report.show_html("<br>".join(lines))
        text = {"ok": "Exported.", "warning": "Exported, with warnings: read them below.",
                "error": "Some exports failed: see below."}[level]
        if level == "error" and not self.written:
            self._fail("Nothing was exported: see below.")
        else:
            self.message.show_message(text, level)
        self.exported.emit(results)

    @Slot(int, str)
    def _on_errored(self, _job: int, message: str) -> None:
        self._idle()
        self._fail(f"Cannot export {self.bundle_path}: {message}")

    def _idle(self) -> None:
        self.export_button.setEnabled(bool(self.bundle_path))
        stop_busy(self.busy)
        self.busy.hide()

    def _fail(self, message: str) -> None:
        self.message.show_message(message, "error")
        self.failed.emit(message)

    def shutdown(self) -> None:
        """Drop the result of a running export (it finishes in the pool on its own)."""
        self._runner.cancel_all()
        stop_busy(self.busy)

    def done(self, result: int) -> None:  # noqa: D401  (Qt override)
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        self.shutdown()
        super().closeEvent(event)


def _main() -> int:
    bundle = sys.argv[1] if len(sys.argv) > 1 else ""
    return run_standalone(lambda: ExportDialog(bundle), "Export model")


__all__ = ["ExportDialog", "confirm_replace", "export_bundle", "open_export_dialog"]

if __name__ == "__main__":
    sys.exit(_main())
