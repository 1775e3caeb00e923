"""Export dialog: where its files go. Never over a run folder's own files (not by default for
a run named "experiment", not when typed); a bare name goes beside the bundle, not into the
app's working folder, and is shown whole; every file's place is checked, with the CLI's
rule, before any format is exported."""

from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.qt.export_dialog import ExportDialog

TIMEOUT_MS = 120000


@pytest.fixture
def no_question(monkeypatch):
    """Fail on any "Replace files?" question: these exports must not ask."""
    def exec_(box):
        raise AssertionError(f"asked: {box.text()} {box.informativeText()}")

    monkeypatch.setattr(QMessageBox, "exec", exec_)


def _run(tmp_path, bundle_path, name):
    """A run folder ``runs/<name>`` (as ``workbench train --out runs/<name>`` makes it)."""
    run = tmp_path / "runs" / name
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(bundle_path, run / "bundle.pt")
    for own in ("experiment.json", "run.json", "metrics.json", "split.json"):
        (run / own).write_text(json.dumps({"name": name, "own": own}))
    return run


def _dialog(qtbot, path) -> ExportDialog:
    d = ExportDialog(str(path))
    qtbot.addWidget(d)
    return d


@pytest.mark.parametrize("name", ["experiment", "run", "metrics", "split"])
def test_a_runs_own_files_are_never_the_defaults(qtbot, bundle_path, tmp_path, no_question,
                                                 name):
    run = _run(tmp_path, bundle_path, name)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    d = _dialog(qtbot, run / "bundle.pt")
    d.safetensors_check.setChecked(True)
    assert d.onnx_edit.text() == str(run / f"{name}-export.onnx")
    assert d.sidecar_label.text().endswith(str(run / f"{name}-export.json"))
    with qtbot.waitSignal(d.exported, timeout=TIMEOUT_MS):
        d.export_button.click()
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p in before} == before
    assert str(run / f"{name}-export.json") in d.written


def test_a_json_beside_the_bundle_that_is_no_export_is_not_the_default(qtbot, bundle_path,
                                                                       tmp_path):
    bundle = tmp_path / "flowers.pt"
    shutil.copy(bundle_path, bundle)
    (tmp_path / "flowers.json").write_text(json.dumps({"data": {}, "model": {}}))
    d = _dialog(qtbot, bundle)
    assert d.onnx_edit.text() == str(tmp_path / "flowers-export.onnx")
    assert d.code_edit.text() == str(tmp_path / "flowers-export.py")


@pytest.mark.parametrize("field, typed, own", [
    ("onnx_edit", "experiment.onnx", "experiment.json"),
    ("onnx_edit", "split", "split.json"),
    ("code_edit", "checkpoints/last.pt", "checkpoints/last.pt.py"),
])
def test_a_runs_own_file_typed_is_refused_not_asked(qtbot, bundle_path, tmp_path, no_question,
                                                    field, typed, own):
    run = _run(tmp_path, bundle_path, "flowers")
    (run / "checkpoints" / "last.pt").write_bytes(b"weights")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    d = _dialog(qtbot, run / "bundle.pt")
    getattr(d, field).setText(str(run / typed))
    with qtbot.waitSignal(d.failed, timeout=5000) as blocker:  # at once, before any work
        d.export_button.click()
    assert f"would write {run / own}" in blocker.args[0]
    assert "run's own files" in blocker.args[0]
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_a_bare_name_goes_beside_the_bundle_and_is_shown_whole(qtbot, bundle_path, tmp_path,
                                                               monkeypatch, no_question):
    elsewhere = tmp_path / "started here"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the folder the app was launched from
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    folder = tmp_path  # the bundle's
    d = _dialog(qtbot, bundle_path)
    d.safetensors_check.setChecked(True)
    d.onnx_edit.setText("my model")
    d.code_edit.setText("my model")
    d.safetensors_edit.setText("~/weights/my model")
    assert d.sidecar_label.text() == f"and its preprocessing: {folder / 'my model.json'}"
    assert d.description_label.text() == (f"and its description: "
                                          f"{home / 'weights' / 'my model.safetensors.json'}")
    with qtbot.waitSignal(d.exported, timeout=TIMEOUT_MS):
        d.export_button.click()
    assert list(elsewhere.iterdir()) == []
    assert d.written == [str(folder / "my model.onnx"), str(folder / "my model.json"),
                         str(folder / "my model.py"),
                         str(home / "weights" / "my model.safetensors"),
                         str(home / "weights" / "my model.safetensors.json")]
    shown = [d.files.item(i).text() for i in range(d.files.count())]
    assert shown == d.written


def test_a_place_that_cannot_be_written_stops_every_format_first(qtbot, bundle_path, tmp_path,
                                                                 no_question):
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    d = _dialog(qtbot, bundle_path)
    d.safetensors_check.setChecked(True)
    d.onnx_edit.setText(str(blocked / "m.onnx"))
    d.code_edit.setText(str(tmp_path / "out" / "m.py"))
    d.safetensors_edit.setText(str(tmp_path / "out" / "m.safetensors"))
    with qtbot.waitSignal(d.failed, timeout=5000) as blocker:  # at once, before any work
        d.export_button.click()
    # The CLI's words (workbench.core.io.cannot_write), with the dialog's field.
    assert blocker.args[0].startswith(f"Not exported: Cannot write {blocked / 'm.onnx'}: ")
    assert "for the ONNX file (Browse…)" in blocker.args[0]
    assert not (tmp_path / "out").exists() and d.written == []


def test_browse_starts_where_the_export_would_write(qtbot, bundle_path, tmp_path, monkeypatch):
    # Review-qt item 2: Browse… got the raw text, so a bare name (or ~/…) opened in the
    # folder the app was started from, and Save moved the export there.
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    run = _run(tmp_path, bundle_path, "shapes-1")
    d = _dialog(qtbot, run / "bundle.pt")
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda _parent, _title, start, *a, **k: (asked.append(start), ("", ""))[1])
    for typed, start in (("my model", run / "my model"),
                         ("~/weights/m.onnx", tmp_path / "home" / "weights" / "m.onnx")):
        d.onnx_edit.setText(typed)
        d.choose_output("onnx")
        assert asked[-1] == str(start)
    assert d.onnx_edit.text() == "~/weights/m.onnx"  # cancelled: the field as it was
