"""Export dialog: safetensors weights, as ``workbench export --safetensors`` writes them
(named after the bundle, the description ``.safetensors.json`` beside them, read back at
once), so a GUI user gets the format that runs no code on load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.qt.export_dialog import ExportDialog

TIMEOUT_MS = 120000


@pytest.fixture
def dialog(qtbot, bundle_path):
    d = ExportDialog(bundle_path)
    qtbot.addWidget(d)
    return d


def _only_safetensors(d: ExportDialog) -> None:
    d.onnx_check.setChecked(False)
    d.code_check.setChecked(False)
    d.safetensors_check.setChecked(True)


def test_safetensors_load_back_into_the_model_and_give_its_outputs(qtbot, dialog,
                                                                   bundle_path):
    import torch
    from safetensors.torch import load_file

    from workbench.core.bundle import load_bundle

    # Offered, unticked (an export as before writes what it wrote), named after the bundle.
    assert not dialog.safetensors_check.isChecked() and not dialog.safetensors_edit.isEnabled()
    weights = Path(bundle_path).with_name("bundle.safetensors")
    description = Path(bundle_path).with_name("bundle.safetensors.json")
    assert dialog.safetensors_edit.text() == str(weights)
    assert dialog.description_label.text().endswith(str(description))  # shown: written
    _only_safetensors(dialog)
    assert dialog.safetensors_edit.isEnabled()
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT_MS) as blocker:
        dialog.export_button.click()
    results = blocker.args[0]
    assert results["safetensors_error"] is None
    assert dialog.written == [str(weights), str(description)]
    assert [dialog.files.item(i).text() for i in range(dialog.files.count())] == dialog.written
    assert not list(weights.parent.glob("*.onnx")) and not list(weights.parent.glob("*.py"))
    text = dialog.report.toPlainText()
    # The CLI's words, then the check that read the file back.
    assert f"wrote {weights} (weights, safetensors) and {description} (experiment, " \
           f"classes)" in text
    bundle = load_bundle(bundle_path)
    assert f"read back: its {len(bundle.state_dict)} tensors equal the bundle's" in text
    assert dialog.message.level == "ok" and dialog.export_button.isEnabled()
    doc = json.loads(description.read_text())
    assert doc["classes"] == ["blue", "green", "red"] and doc["weights"] == weights.name

    model = bundle.build_model()
    model.load_state_dict(load_file(str(weights)))  # strict: every tensor, no extra one
    reference = bundle.build_model()
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(model.eval()(x), reference.eval()(x))


def test_the_suffix_is_added_and_replacing_asks_about_the_description_too(
        qtbot, dialog, tmp_path, monkeypatch):
    _only_safetensors(dialog)
    dialog.safetensors_edit.setText(str(tmp_path / "net"))
    description = tmp_path / "net.safetensors.json"
    assert dialog.description_label.text().endswith(str(description))
    description.write_text("mine")
    asked = []

    def cancel(box):
        asked.append(box.informativeText())
        box.button(QMessageBox.StandardButton.Cancel).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", cancel)
    dialog.export_button.click()
    # "mine" is no earlier export's description: the question says so, in its place.
    assert asked == [f"{description} exists and is not an earlier safetensors export's "
                     f"description"]
    assert description.read_text() == "mine" and not (tmp_path / "net.safetensors").exists()


def test_two_outputs_that_are_one_file_are_refused_as_the_cli_refuses_them(qtbot, dialog,
                                                                         tmp_path):
    # net.safetensors.onnx's preprocessing is net.safetensors.json: the description's name.
    out = tmp_path / "out"
    out.mkdir()
    dialog.safetensors_check.setChecked(True)
    dialog.onnx_edit.setText(str(out / "net.safetensors.onnx"))
    dialog.code_edit.setText(str(out / "net.py"))
    dialog.safetensors_edit.setText(str(out / "net.safetensors"))
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT_MS) as blocker:
        dialog.export_button.click()
    message = blocker.args[0]
    assert "the ONNX preprocessing and the safetensors description would both write " \
           f"{out / 'net.safetensors.json'}" in message
    assert "different file names" in message and dialog.message.level == "error"
    assert list(out.iterdir()) == []  # nothing written, not even the code


def test_a_file_that_does_not_read_back_is_reported_and_listed(qtbot, dialog, tmp_path,
                                                              monkeypatch):
    from workbench.core.errors import WorkbenchError
    from workbench.core.export import weights as weights_module

    def differs(bundle, path):
        raise WorkbenchError(f"{path} was written but reads back a different tensor 0.weight")

    monkeypatch.setattr(weights_module, "verify_safetensors", differs)
    _only_safetensors(dialog)
    weights = tmp_path / "net.safetensors"
    dialog.safetensors_edit.setText(str(weights))
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT_MS):
        dialog.export_button.click()
    assert "Safetensors export failed: " in dialog.report.toPlainText()
    assert "reads back a different tensor 0.weight" in dialog.report.toPlainText()
    assert "read back: its" not in dialog.report.toPlainText()
    # The files are there (the user may want to look at them): listed, with the error.
    assert dialog.written == [str(weights), str(tmp_path / "net.safetensors.json")]
    assert dialog.message.level == "error"
