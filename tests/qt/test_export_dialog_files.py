"""Export dialog: the files it writes are named after the bundle (or its run), every file
it would replace (the ONNX preprocessing .json too) is asked about once, and the ONNX model
can be int8 as ``workbench export --int8`` makes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.qt.export_dialog import ExportDialog

TIMEOUT_MS = 120000


@pytest.fixture
def answers(monkeypatch):
    """Answer the "Replace files?" question with the next of ``answers.replies`` ("Replace"
    or "Cancel"); ``answers.asked`` gets the text of each question."""
    class Answers:
        replies: list[str] = []
        asked: list[str] = []

    def exec_(box):
        Answers.asked.append(f"{box.text()}\n{box.informativeText()}")
        reply = Answers.replies.pop(0)
        next(b for b in box.buttons() if b.text().replace("&", "") == reply).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return Answers


def _dialog(qtbot, path) -> ExportDialog:
    d = ExportDialog(str(path))
    qtbot.addWidget(d)
    return d


def test_a_projects_own_model_py_is_not_the_default_and_is_not_replaced(qtbot, bundle_path,
                                                                       tmp_path, answers):
    project = tmp_path / "myproject"
    project.mkdir()
    shutil.copy(bundle_path, project / "bundle.pt")
    own = project / "model.py"
    own.write_text("# my own training code\n")
    d = _dialog(qtbot, project / "bundle.pt")
    assert d.code_edit.text() == str(project / "bundle.py")
    assert d.onnx_edit.text() == str(project / "bundle.onnx")
    assert d.sidecar_label.text().endswith(str(project / "bundle.json"))  # shown: written
    with qtbot.waitSignal(d.exported, timeout=TIMEOUT_MS):
        d.export_button.click()
    assert answers.asked == []  # nothing there to replace: no question
    assert own.read_text() == "# my own training code\n"
    assert d.written == [str(project / n) for n in ("bundle.onnx", "bundle.json", "bundle.py")]


def test_a_runs_bundle_is_exported_under_the_runs_name(qtbot, bundle_path, tmp_path):
    run = tmp_path / "runs" / "2024-05-01_10-00-00-flowers v2"
    run.mkdir(parents=True)
    shutil.copy(bundle_path, run / "bundle.pt")
    d = _dialog(qtbot, run / "bundle.pt")
    assert (d.onnx_edit.text(), d.code_edit.text()) == (str(run / "flowers v2.onnx"),
                                                        str(run / "flowers v2.py"))
    d.onnx_edit.setText(str(tmp_path / "elsewhere"))  # the .json follows what is typed
    assert d.sidecar_label.text().endswith(str(tmp_path / "elsewhere.json"))


def test_a_cli_runs_bundle_without_a_date_is_exported_under_the_runs_name(qtbot, bundle_path,
                                                                          tmp_path):
    # `workbench train --out runs/rgb` names the run "rgb": its folder has no date stamp.
    run = tmp_path / "runs" / "rgb"
    run.mkdir(parents=True)
    shutil.copy(bundle_path, run / "bundle.pt")
    (run / "run.json").write_text(json.dumps({"name": "rgb", "status": "finished"}))
    d = _dialog(qtbot, run / "bundle.pt")
    assert (d.onnx_edit.text(), d.code_edit.text()) == (str(run / "rgb.onnx"),
                                                        str(run / "rgb.py"))
    assert d.sidecar_label.text().endswith(str(run / "rgb.json"))


def test_replacing_files_asks_once_naming_each_one(qtbot, bundle_path, tmp_path, answers):
    d = _dialog(qtbot, bundle_path)
    onnx, code = Path(d.onnx_edit.text()), Path(d.code_edit.text())
    sidecar = onnx.with_suffix(".json")
    sidecar.write_text("mine")
    code.write_text("mine")
    answers.replies = ["Cancel"]
    d.export_button.click()
    [question] = answers.asked
    assert str(sidecar) in question and str(code) in question and str(onnx) not in question
    assert sidecar.read_text() == code.read_text() == "mine" and not onnx.exists()
    assert d.message.level == "warning" and "nothing was replaced" in d.message.text()

    answers.replies = ["Replace"]
    with qtbot.waitSignal(d.exported, timeout=TIMEOUT_MS):
        d.export_button.click()
    assert len(answers.asked) == 2  # once for this export
    assert json.loads(sidecar.read_text()) and "def build_model" in code.read_text()


def test_int8_onnx_with_the_accuracy_of_both_models(qtbot, bundle_path, tmp_path):
    d = _dialog(qtbot, bundle_path)
    assert not d.data_edit.isEnabled()
    d.int8_check.setChecked(True)
    assert d.data_edit.isEnabled()
    d.code_check.setChecked(False)
    onnx = tmp_path / "out" / "net.onnx"
    d.onnx_edit.setText(str(onnx))
    with qtbot.waitSignal(d.exported, timeout=TIMEOUT_MS) as blocker:
        d.export_button.click()
    int8 = blocker.args[0]["int8"]
    assert int8 is not None and d.message.level in ("ok", "warning")
    text = d.report.toPlainText()
    assert int8.summary() in text  # as the CLI prints it
    assert (f"Validation accuracy: float {100 * int8.float_accuracy:.2f}%, int8 "
            f"{100 * int8.int8_accuracy:.2f}%") in text
    assert d.written == [str(onnx), str(onnx.with_suffix(".json"))]
    assert json.loads(onnx.with_suffix(".json").read_text())["quantization"]["type"] == "int8"


def test_int8_without_the_dataset_says_so_then_uses_the_folder_given(qtbot, bundle_path,
                                                                      image_folder, tmp_path,
                                                                      answers):
    moved = tmp_path / "moved"
    shutil.move(str(image_folder), moved)
    d = _dialog(qtbot, bundle_path)
    d.int8_check.setChecked(True)
    onnx = tmp_path / "net.onnx"
    d.onnx_edit.setText(str(onnx))
    d.code_edit.setText(str(tmp_path / "net.py"))
    with qtbot.waitSignal(d.exported, timeout=TIMEOUT_MS) as blocker:
        d.export_button.click()
    error = blocker.args[0]["onnx_error"]
    assert str(image_folder) in error and "does not exist" in error
    assert '"Calibrate on"' in error and "--data" not in error  # the dialog's field, not the CLI's
    assert "ONNX export failed" in d.report.toPlainText() and d.message.level == "error"
    assert not onnx.exists() and d.written == [str(tmp_path / "net.py")]  # code still written

    d.data_edit.setText(str(moved))
    answers.replies = ["Replace"]  # net.py is there now
    with qtbot.waitSignal(d.exported, timeout=TIMEOUT_MS) as blocker:
        d.export_button.click()
    assert blocker.args[0]["int8"] is not None and onnx.exists()
