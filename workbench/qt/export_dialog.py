"""Export dialog: a trained bundle as ONNX (checked with onnxruntime) and/or PyTorch code.

The GUI side of ``workbench export BUNDLE --onnx OUT.onnx``: the ONNX file gets a dynamic
batch dimension and its preprocessing JSON beside it, and onnxruntime runs it at once; the
largest absolute difference from PyTorch is shown, in orange or red when something is off.
The export runs off the GUI thread (the exporter takes seconds); each format reports on its
own, so a network ONNX cannot express still gets its code file.

``python -m workbench.qt.export_dialog BUNDLE`` opens it alone.
"""

from __future__ import annotations

import html
import os
import sys
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QProgressBar, QPushButton,
                               QTextBrowser, QVBoxLayout, QWidget)

from workbench.qt.common import MessageLabel, run_standalone, stop_busy
from workbench.qt.startup import torch_loader
from workbench.qt.workers import TaskRunner, describe_exception

_BUNDLE_FILTER = "Workbench bundles (*.pt);;All files (*)"


def export_bundle(bundle_path: str, onnx_path: str | None, code_path: str | None
                  ) -> dict[str, Any]:
    """Export ``bundle_path`` to the formats whose path is given (runs in a pool thread).

    Returns
    -------
    dict
        ``onnx``: the :class:`~workbench.core.export.onnx.OnnxReport` or None;
        ``onnx_error``: why the ONNX export failed, or None; ``code``: the path written or
        None; ``code_error``: why the code export failed, or None.
    """
    from workbench.core.export.code import export_code, read_bundle

    out: dict[str, Any] = {"onnx": None, "onnx_error": None, "code": None, "code_error": None}
    bundle = read_bundle(bundle_path)  # an unreadable bundle fails the whole job
    if onnx_path:
        try:
            from workbench.core.export.onnx import export_onnx

            out["onnx"] = export_onnx(bundle, onnx_path)
        except Exception as e:  # noqa: BLE001 - reported in the dialog, the code still runs
            out["onnx_error"] = describe_exception(e)
    if code_path:
        try:
            out["code"] = str(export_code(bundle, code_path))
        except Exception as e:  # noqa: BLE001
            out["code_error"] = describe_exception(e)
    return out


class ExportDialog(QDialog):
    """Export a bundle as ONNX and/or PyTorch code.

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
        self.resize(760, 420)
        self._build()
        self.set_bundle(bundle_path)

    def _build(self) -> None:
        self.bundle_label = QLabel()
        self.bundle_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        change = QPushButton("Change…")
        change.clicked.connect(self.choose_bundle)
        self.onnx_check = QCheckBox("ONNX (dynamic batch; preprocessing in a .json beside it; "
                                    "checked with onnxruntime)")
        self.onnx_check.setChecked(True)
        self.onnx_edit = QLineEdit()
        self.code_check = QCheckBox("PyTorch code (.py with build_model(), loads the bundle's "
                                    "weights)")
        self.code_check.setChecked(True)
        self.code_edit = QLineEdit()
        grid = QGridLayout()
        grid.addWidget(QLabel("Model:"), 0, 0)
        grid.addWidget(self.bundle_label, 0, 1)
        grid.addWidget(change, 0, 2)
        for row, (check, edit, what) in enumerate(
                ((self.onnx_check, self.onnx_edit, "onnx"), (self.code_check, self.code_edit,
                                                            "code")), start=1):
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _=False, w=what: self.choose_output(w))
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(browse.setEnabled)
            grid.addWidget(check, 2 * row - 1, 0, 1, 3)
            grid.addWidget(edit, 2 * row, 1)
            grid.addWidget(browse, 2 * row, 2)
        grid.setColumnStretch(1, 1)

        self.message = MessageLabel()
        # A text box, not a QLabel: a word-wrapped label in a layout may keep the height of
        # one line, cutting the report's later lines (the difference, the warnings) off.
        self.report = QTextBrowser()
        self.report.setMinimumHeight(110)
        self.report.setPlaceholderText("The ONNX check's report appears here.")
        self.files = QListWidget()
        self.files.setToolTip("The files written")
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
        layout.addWidget(QLabel("Files written:"))
        layout.addWidget(self.files, 1)
        layout.addLayout(buttons)

    # -- choices -----------------------------------------------------------------------------
    def set_bundle(self, path: str) -> None:
        """Export the bundle at ``path``; output paths default to files beside it."""
        self.bundle_path = str(path or "")
        self.bundle_label.setText(self.bundle_path or "none: choose a trained bundle")
        folder = os.path.dirname(self.bundle_path) or os.getcwd()
        self.onnx_edit.setText(os.path.join(folder, "model.onnx"))
        self.code_edit.setText(os.path.join(folder, "model.py"))
        self.export_button.setEnabled(bool(self.bundle_path))

    @Slot()
    def choose_bundle(self) -> None:
        start = os.path.dirname(self.bundle_path) if self.bundle_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Choose a trained bundle", start,
                                              _BUNDLE_FILTER)
        if path:
            self.set_bundle(path)

    def choose_output(self, what: str) -> None:
        """Ask where to write the ``"onnx"`` or ``"code"`` file."""
        edit = self.onnx_edit if what == "onnx" else self.code_edit
        pattern = "ONNX models (*.onnx)" if what == "onnx" else "Python files (*.py)"
        path, _ = QFileDialog.getSaveFileName(self, "Export to", edit.text(), pattern)
        if path:
            edit.setText(path)

    def _outputs(self) -> tuple[str | None, str | None] | None:
        """(onnx path, code path) to write, None for an unchecked format; None with a
        message when the choices cannot be exported."""
        if not self.bundle_path:
            self._fail("Choose the trained bundle to export first (Change…).")
            return None
        onnx = self.onnx_edit.text().strip() if self.onnx_check.isChecked() else None
        code = self.code_edit.text().strip() if self.code_check.isChecked() else None
        if onnx is None and code is None:
            self._fail("Nothing to export: tick ONNX, PyTorch code or both.")
            return None
        if onnx == "" or code == "":
            self._fail(f"Give the {'ONNX' if onnx == '' else 'code'} file to write, or untick "
                       f"it.")
            return None
        if onnx and not onnx.lower().endswith(".onnx"):
            onnx += ".onnx"
        if code and not code.lower().endswith(".py"):
            code += ".py"
        return onnx, code

    # -- exporting ---------------------------------------------------------------------------
    @Slot()
    def export(self) -> None:
        """Export in the background to the ticked formats."""
        outputs = self._outputs()
        if outputs is None:
            return
        onnx, code = outputs
        bundle = self.bundle_path
        self.files.clear()
        self.report.setHtml("")
        self.written = []
        self.export_button.setEnabled(False)
        self.busy.setRange(0, 0)
        self.busy.show()
        self.message.show_message("Exporting… (ONNX export and its onnxruntime check take a "
                                  "few seconds)" if onnx else "Exporting…")
        # A pool thread must not be the first to import torch (see workbench.qt.startup).
        torch_loader().call_when_ready(
            lambda: self._runner.submit(lambda state: export_bundle(bundle, onnx, code)), self)

    @Slot(int, object)
    def _on_finished(self, _job: int, results: dict[str, Any]) -> None:
        self._idle()
        self.results = results
        lines, level = [], "ok"
        report = results["onnx"]
        if report is not None:
            self.written += [str(report.path), str(report.preprocessing_path)]
            lines.append(_report_html(report))
            if report.warnings or not report.matches:
                level = "warning"
        if results["onnx_error"]:
            lines.append(_coloured(f"ONNX export failed: {results['onnx_error']}", "#c62828"))
            level = "error"
        if results["code"]:
            self.written.append(results["code"])
            lines.append(f"PyTorch code: {html.escape(results['code'])}")
        if results["code_error"]:
            lines.append(_coloured(f"Code export failed: {results['code_error']}", "#c62828"))
            level = "error"
        self.files.addItems(self.written)
        self.report.setHtml("<br>".join(lines))
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


def _coloured(text: str, colour: str) -> str:
    return f'<span style="color:{colour}">{html.escape(text)}</span>'


def _report_html(report: Any) -> str:
    """The ONNX report: summary, the largest difference in bold, warnings coloured."""
    parts = [html.escape(report.summary())]
    if report.max_abs_diff is not None:
        colour = "#1b7a2f" if report.matches else "#c62828"
        parts.append(f'<b style="color:{colour}">Largest absolute difference from PyTorch: '
                     f'{report.max_abs_diff:.3g}</b>'
                     + (f" (tolerance {report.tolerance:.3g})" if report.tolerance else ""))
    for warning in report.warnings:
        colour = "#a05a00" if report.matches else "#c62828"
        parts.append(_coloured(f"Warning: {warning}", colour))
    return "<br>".join(parts)


def _main() -> int:
    bundle = sys.argv[1] if len(sys.argv) > 1 else ""
    return run_standalone(lambda: ExportDialog(bundle), "Export model")


__all__ = ["ExportDialog", "export_bundle"]

if __name__ == "__main__":
    sys.exit(_main())
