"""The Data tab's Dataset field when the experiment's own folder is missing (at start-up,
or gone since its scan): a path that cannot be opened (a typo) says so and that the
experiment's folder is missing, keeps the typed text to fix, and never claims to be "still
using" a folder that is not there. A typo while the scan of a new dataset's image headers
is read loses nothing of that dataset's adopted defaults."""

from __future__ import annotations

import os
import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from helpers import make_image_folder
from workbench.core.experiment import Experiment
from workbench.qt.panels.data.panel import DataPanel
from workbench.qt.panels.train.start_checks import missing_folder_problem

WAIT_MS = 30000


def _enter(qtbot, panel: DataPanel, text: str) -> None:
    """Type ``text`` in the Dataset field and press Enter."""
    panel.folder_edit.setText(text)
    qtbot.keyClick(panel.folder_edit, Qt.Key.Key_Return)


def _held(monkeypatch, module: str, name: str, when=lambda *_args: True) -> threading.Event:
    """Hold ``module.name`` (a job's work, run off the GUI thread) where ``when(*args)``,
    until the returned event is set."""
    import importlib

    target = importlib.import_module(module)
    release, real = threading.Event(), getattr(target, name)

    def held(*args, **kwargs):
        if when(*args):
            assert release.wait(20), "the test never released the job"
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, held)
    return release


def test_a_typo_while_the_folder_is_missing_at_start_keeps_the_typed_text(qtbot, tmp_path):
    """Review: "…does not exist: …; still using /gone." and the gone path put back in the
    field, the tab empty."""
    gone, typo = str(tmp_path / "gone dataset"), str(tmp_path / "new_typo")
    exp = Experiment()
    exp.data.folder = gone  # as the last session saved it; the window says it is missing
    panel = DataPanel(exp)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.scan_failed, timeout=WAIT_MS) as blocker:
        _enter(qtbot, panel, typo)
    text = panel.message.text()
    assert "still using" not in text and blocker.args[0] == text
    assert panel.message.level == "error" and f"{typo} does not exist" in text
    problem = missing_folder_problem(gone)
    assert text.endswith(f". {problem[0].upper()}{problem[1:]}.")
    assert panel.folder_edit.text() == typo  # to be fixed, not the missing folder
    assert panel.experiment.data.folder == gone and panel.index is None
    assert not panel.trainable and panel.class_table.rowCount() == 0


def test_a_typo_after_the_folder_went_missing_keeps_its_last_scan_and_the_typed_text(
        qtbot, tmp_path):
    root = tmp_path / "ds"
    folder = make_image_folder(root, per_class=3)
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.load_folder(folder)
    os.rename(root, tmp_path / "ds_renamed")
    with qtbot.waitSignal(panel.relist.folder_gone, timeout=WAIT_MS):  # back to the window
        QApplication.instance().applicationStateChanged.emit(
            Qt.ApplicationState.ApplicationActive)
    typo = str(tmp_path / "ds_renamd")
    with qtbot.waitSignal(panel.scan_failed, timeout=WAIT_MS):
        _enter(qtbot, panel, typo)
    text = panel.message.text()
    assert "still using" not in text and f"{typo} does not exist" in text
    assert f"the dataset folder {folder} is missing" in text.lower()
    assert text.endswith("The classes below are from its last scan.")
    assert panel.folder_edit.text() == typo
    assert panel.class_counts() == {"blue": 3, "green": 3, "red": 3}  # the last scan
    # The folder typed right opens in its place.
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        _enter(qtbot, panel, str(tmp_path / "ds_renamed"))
    assert panel.experiment.data.folder == str(tmp_path / "ds_renamed")


def test_a_typo_while_a_new_datasets_headers_are_read_keeps_its_defaults(qtbot, tmp_path,
                                                                        monkeypatch):
    """Review: the header summary of the folder just opened arrived while the scan of a
    typo was pending, was dropped, and the new dataset's defaults were never adopted."""
    folder = make_image_folder(tmp_path / "ds", per_class=3, size=20)
    typo = str(tmp_path / "typo")
    headers = _held(monkeypatch, "workbench.core.data.summary", "summarize_images")
    scan = _held(monkeypatch, "workbench.core.data.scan", "scan_folder",
                 when=lambda path, *_: str(path) == typo)
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    adopted: list[str] = []
    panel.defaults_adopted.connect(adopted.append)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.load_folder(folder)
    _enter(qtbot, panel, typo)  # its scan held: still pending when the headers arrive
    with qtbot.waitSignal(panel.headers.finished, timeout=WAIT_MS):
        headers.set()
    with qtbot.waitSignal(panel.scan_failed, timeout=WAIT_MS):
        scan.set()
    assert panel.message.text().endswith(f"; still using {folder}.")
    assert len(adopted) == 1 and panel.advice.chosen.text() == adopted[0]
    assert adopted[0].startswith("Chosen for this dataset")
    assert panel.experiment.data.input_size == [20, 20]
    assert panel.image_summary is not None
