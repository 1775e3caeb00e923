"""Export dialog (ONNX checked with onnxruntime, PyTorch code) and the File menu action."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from workbench.qt.export_dialog import ExportDialog

TIMEOUT_MS = 120000


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


@pytest.fixture
def dialog(qtbot, bundle_path):
    d = ExportDialog(bundle_path)
    qtbot.addWidget(d)
    return d


def test_exports_a_working_onnx_file_and_code_and_shows_the_difference(qtbot, dialog, tmp_path):
    onnx_path, code_path = tmp_path / "out" / "net.onnx", tmp_path / "out" / "net.py"
    dialog.onnx_edit.setText(str(onnx_path))
    dialog.code_edit.setText(str(code_path))
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT_MS) as blocker:
        dialog.export_button.click()
    report = blocker.args[0]["onnx"]
    assert dialog.written == [str(onnx_path), str(onnx_path.with_suffix(".json")),
                              str(code_path)]
    assert [dialog.files.item(i).text() for i in range(dialog.files.count())] == dialog.written
    text = dialog.report.toPlainText()
    # The check is said once (stop 31's note: the summary and a bold line both said it).
    assert text.count("matches PyTorch to") == 1 and report.matches
    assert f"onnxruntime matches PyTorch to {report.max_abs_diff:.2g} (largest absolute " \
           f"difference over" in text
    assert dialog.message.level == "ok" and dialog.export_button.isEnabled()

    # The file runs in onnxruntime with any batch size and gives one score per class.
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    logits = session.run(None, {"image": np.zeros((5, 3, 16, 16), np.float32)})[0]
    assert logits.shape == (5, 3)
    assert json.loads(onnx_path.with_suffix(".json").read_text())  # the preprocessing
    assert "def build_model" in code_path.read_text()


def test_only_the_ticked_format_is_written(qtbot, dialog, tmp_path):
    dialog.onnx_check.setChecked(False)
    assert not dialog.onnx_edit.isEnabled()
    dialog.code_edit.setText(str(tmp_path / "only_code"))  # .py is added
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT_MS):
        dialog.export()
    assert dialog.written == [str(tmp_path / "only_code.py")]
    assert not list(tmp_path.glob("*.onnx"))


def test_mistakes_are_explained_in_the_dialog(qtbot, dialog, tmp_path):
    dialog.onnx_check.setChecked(False)
    dialog.code_check.setChecked(False)
    with qtbot.waitSignal(dialog.failed, timeout=WAIT_MS) as blocker:
        dialog.export()
    assert "Nothing to export" in blocker.args[0] and dialog.message.level == "error"
    dialog.code_check.setChecked(True)
    dialog.code_edit.setText("  ")
    with qtbot.waitSignal(dialog.failed, timeout=WAIT_MS) as blocker:
        dialog.export()
    assert "Give the code file" in blocker.args[0]


def test_a_damaged_bundle_is_reported_not_raised(qtbot, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_text("not a bundle")
    d = ExportDialog(str(bad))
    qtbot.addWidget(d)
    d.code_edit.setText(str(tmp_path / "m.py"))
    with qtbot.waitSignal(d.failed, timeout=TIMEOUT_MS) as blocker:
        d.export()
    assert "bad.pt" in blocker.args[0] and "bundle" in blocker.args[0]
    assert d.message.level == "error" and d.written == []


def test_change_picks_another_bundle_with_the_file_dialog(qtbot, dialog, tmp_path, monkeypatch):
    other = tmp_path / "runs" / "other.pt"
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(other), "")))
    dialog.choose_bundle()
    assert dialog.bundle_path == str(other)
    assert dialog.onnx_edit.text() == str(tmp_path / "runs" / "other.onnx")


def _export_action(window):
    file_menu = window.menuBar().actions()[0].menu()
    return next(a for a in file_menu.actions() if a.text().replace("&", "") == "Export model…")


def test_file_menu_export_opens_the_dialog_for_the_current_bundle(qtbot, bundle_path,
                                                                  tiny_experiment, monkeypatch):
    from workbench.qt.main_window import MainWindow

    shown = []
    monkeypatch.setattr(ExportDialog, "show", lambda self: shown.append(self))
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    window.predict_panel.set_bundle(bundle_path)
    _export_action(window).trigger()
    [d] = shown
    assert d.bundle_path == bundle_path and d.parent() is window


def test_file_menu_export_asks_for_a_bundle_when_there_is_none(qtbot, bundle_path,
                                                               tiny_experiment, monkeypatch):
    from workbench.qt.main_window import MainWindow

    shown = []
    monkeypatch.setattr(ExportDialog, "show", lambda self: shown.append(self))
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    starts = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: starts.append(a[2]) or ("", "")))
    _export_action(window).trigger()
    assert shown == []  # cancelled: nothing opens
    # It starts in the runs folder, as Predict's "Load bundle…" does, not the current one.
    from workbench.core.io import runs_dir

    assert starts == [str(runs_dir())]
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (bundle_path, "")))
    _export_action(window).trigger()
    assert [d.bundle_path for d in shown] == [bundle_path]


def test_main_window_opens_the_explain_dialog(qtbot, bundle_path, tiny_experiment,
                                              image_folder, monkeypatch):
    from workbench.qt.main_window import MainWindow
    from workbench.qt.panels.explain.panel import ExplainDialog

    shown = []
    monkeypatch.setattr(ExplainDialog, "show", lambda self: shown.append(self))
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    image = str(image_folder / "red" / "red_000.png")
    if hasattr(window.predict_panel, "explain_requested"):
        window.predict_panel.explain_requested.emit(bundle_path, image)
    else:
        window.explain_image(bundle_path, image)
    [d] = shown
    assert d.bundle_path == bundle_path and d.image_path == image
    qtbot.waitUntil(lambda: d.explanation is not None or d.message.level == "error",
                    timeout=TIMEOUT_MS)
    d.shutdown()
