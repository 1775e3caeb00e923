"""Export dialog: a JSON written beside an output (the ONNX preprocessing, the safetensors
description) that cannot be written is refused before any format is exported, naming the
field to rename and never asking to "replace" a folder; and the files a failed format still
wrote are listed with the files written."""

from __future__ import annotations

import errno

import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.qt.export_dialog import ExportDialog

TIMEOUT_MS = 120000


@pytest.fixture
def dialog(qtbot, bundle_path, monkeypatch):
    def exec_(box):  # no "Replace files?" question: nothing here replaces a file
        raise AssertionError(f"asked: {box.text()} {box.informativeText()}")

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    d = ExportDialog(bundle_path)
    qtbot.addWidget(d)
    return d


@pytest.mark.parametrize("in_the_way, words", [
    ("net.json", ["where the ONNX preprocessing goes", "give the ONNX file another name",
                  "its preprocessing goes to NAME.json"]),
    ("net.safetensors.json", ["where the safetensors description goes",
                              "give the safetensors file another name"]),
])
def test_a_folder_where_a_json_goes_stops_every_format_first(qtbot, dialog, tmp_path,
                                                             in_the_way, words):
    out = tmp_path / "out"
    (out / in_the_way).mkdir(parents=True)
    dialog.safetensors_check.setChecked(True)
    for edit, name in ((dialog.onnx_edit, "net"), (dialog.code_edit, "net"),
                       (dialog.safetensors_edit, "net")):
        edit.setText(str(out / name))
    with qtbot.waitSignal(dialog.failed, timeout=5000) as blocker:  # at once, before any work
        dialog.export_button.click()
    message = blocker.args[0]
    assert message.startswith(f"Not exported: Cannot write {out / in_the_way}, ")
    assert "it is a folder, not a file" in message and "give the name of a file" not in message
    for word in words:
        assert word in message
    assert [p.name for p in out.iterdir()] == [in_the_way] and dialog.written == []


def test_an_onnx_model_whose_json_then_failed_is_listed_as_written(qtbot, dialog, tmp_path,
                                                                   monkeypatch):
    import workbench.core.export.onnx as onnx_export

    def failing(*args, **kwargs):  # the disk fills up between the model and its JSON
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "net.json"))

    monkeypatch.setattr(onnx_export, "preprocessing_document", failing)
    dialog.onnx_edit.setText(str(tmp_path / "net.onnx"))
    dialog.code_edit.setText(str(tmp_path / "net.py"))
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT_MS):
        dialog.export_button.click()
    assert (tmp_path / "net.onnx").exists()  # left by the exporter: the user must see it
    assert dialog.written == [str(tmp_path / "net.onnx"), str(tmp_path / "net.py")]
    shown = [dialog.files.item(i).text() for i in range(dialog.files.count())]
    assert shown == dialog.written
    assert "ONNX export failed" in dialog.report.toPlainText()
