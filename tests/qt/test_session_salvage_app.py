"""A session file the app cannot read still gives the Train tab its last run back, and
the message says so (tester report: a session.json with invalid JSON lost the last run)."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QMessageBox

import workbench.qt.app as app
from workbench.core.runs.store import write_run_info
from workbench.core.session import session_path

TIMEOUT_MS = 30000


def test_a_session_that_is_not_json_keeps_its_last_run(qtbot, tmp_path):
    run_dir = tmp_path / "runs" / "flowers"
    run_dir.mkdir(parents=True)
    write_run_info(run_dir, {"name": "flowers", "status": "stopped", "epochs_done": 1,
                             "epochs_planned": 3})
    (run_dir / "metrics.json").write_text(json.dumps({"epochs": [
        {"epoch": 1, "train_loss": 1.0, "val_loss": 1.1, "train_acc": 0.4, "val_acc": 0.3,
         "lr": 0.001, "seconds": 1.0}]}))
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text('{"session_version": 1, "experiment": {"data": },\n'
                              f' "train": {{"last_run": {json.dumps(str(run_dir))}}}}}\n')
    window = app.create_window()
    qtbot.addWidget(window)
    assert window.train_panel.last_run_dir == str(run_dir)
    boxes = lambda: [b.text() for b in window.findChildren(QMessageBox)  # noqa: E731
                     if b.isVisible()]
    qtbot.waitUntil(lambda: bool(boxes()), timeout=TIMEOUT_MS)
    [text] = boxes()
    assert "not valid JSON" in text and "The last run, flowers, was kept" in text
