"""The last session's run, restored at start-up, shows its Doctor findings and their fix
buttons as the run's end showed them (they are kept in its run.json)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from workbench.core.runs.store import write_run_info

DIVERGED = {
    "kind": "diverged", "epoch": 1, "severity": "error",
    "message": "training diverged: the loss exploded to 1.5e+09 at epoch 1 (its mean). The "
               "learning rate (5) is far too large: lower it",
    "fix": "start again at a learning rate of 0.0019 (--lr 0.0019)",
    "action": {"label": "Train with lr 0.0019", "set": {"optimizer.params.lr": 0.0019},
               "continue": False, "open": ""}}


def test_a_restored_diverged_run_shows_its_doctor_tab_and_fix_button(qtbot, train_panel,
                                                                      tmp_path):
    run_dir = tmp_path / "R"
    run_dir.mkdir()
    write_run_info(run_dir, {"name": "R", "status": "diverged", "epochs_done": 0,
                             "epochs_planned": 6, "message": DIVERGED["message"],
                             "findings": [DIVERGED]})
    panel = train_panel()
    panel.show()
    assert panel.settings_tabs.indexOf(panel.findings.view) < 0  # nothing shown yet
    assert panel.restore_last_run(str(run_dir))
    assert "(diverged)" in panel.run_label.text()
    tabs = panel.settings_tabs
    i = tabs.indexOf(panel.findings.view)
    assert i >= 0 and tabs.tabText(i) == "Doctor (1)" and tabs.currentIndex() == i
    assert panel.findings.view.isVisible()
    [text] = panel.findings.view.texts()
    assert "loss exploded" in text and "0.0019" in text
    button = panel.findings.fix_button(0)
    assert button.text() == "Use lr 0.0019"  # the app words it
    assert button.isVisible() and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert panel.experiment.optimizer.params["lr"] == 0.0019
    assert "Start training trains a new run" in panel.status.text()
