"""Continue… after the Model tab's Backbone mode was set to fine_tune: the second stage of
transfer learning. The tester's dialog said the Model tab's change ("Backbone changed")
would not be used; Start training then began from a random head, unfrozen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from helpers import frozen_backbone
from workbench.core.train.checkpoint import load_checkpoint
from workbench.qt.panels.train.continue_run import ContinueDialog
from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(qtbot, tiny_experiment, monkeypatch, tmp_path):
    """The Train tab of a frozen resnet18 (random weights: nothing to download) and a
    Linear head, 1 epoch."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    exp = frozen_backbone(tiny_experiment, dropout=False)
    exp.training.epochs = 1
    p = TrainPanel(exp)
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def test_continue_uses_the_model_tabs_backbone_mode(qtbot, panel):
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    assert done.args[0]["status"] == "finished"
    run_dir = Path(done.args[0]["run_dir"])
    before = load_checkpoint(run_dir / "checkpoints" / "last.pt").model
    panel.experiment.model.layers[0].params["mode"] = "fine_tune"  # the Model tab's edit
    said = []

    def ask(plan):
        dialog = ContinueDialog(plan, panel)
        qtbot.addWidget(dialog)
        said.append(dialog.notes_label.text())
        dialog.more_spin.setValue(1)
        return dialog.plan()

    panel.ask_continue = ask
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as resumed:
        panel.continue_button.click()
    [text] = said
    assert text.startswith("Note: the Model tab's Backbone mode fine_tune (the run's "
                           "feature_extraction) is used: the Backbone (layer 1) is now "
                           "trained too (mode fine_tune), at lr × 0.1")
    assert "does not use" not in text
    assert resumed.args[0]["status"] == "finished"
    assert [m["epoch"] for m in resumed.args[0]["history"]] == [1, 2]
    saved = json.loads((run_dir / "experiment.json").read_text())
    assert saved["model"]["layers"][0]["params"]["mode"] == "fine_tune"
    after = load_checkpoint(run_dir / "checkpoints" / "last.pt").model
    assert not torch.equal(before["0.net.conv1.weight"], after["0.net.conv1.weight"])
    info = json.loads((run_dir / "run.json").read_text())
    assert any("is now trained too" in n for n in info["start_notes"])


def test_a_doctor_fix_of_the_backbone_mode_is_one_continue_applies(qtbot, panel, monkeypatch):
    """The training doctor blamed the frozen random backbone and the user took its fix on
    the Model tab (mode fine_tune): Continue… applies it (the plan's note says so), so the
    dialog no longer warns that continuing cannot."""
    from PySide6.QtWidgets import QDialog

    from workbench.core.train.doctor.causes import model_causes

    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    findings = panel.findings
    findings.view.clear()
    (cause,) = [c for c in model_causes(panel.experiment, 3) if "random" in c.why]
    findings.trained, findings.classes = panel.experiment.copy(), ["blue", "green", "red"]
    panel.run.finding.emit({"kind": "not_learning", "epoch": 1, "severity": "warning",
                            "message": f"Nothing learned. The network itself is the cause: "
                                       f"{cause.why}.", "fix": cause.fix,
                            "action": cause.action})
    shown = []

    def exec_(dialog):
        shown.append((dialog.warning_label.text(), dialog.notes_label.text()))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ContinueDialog, "exec", exec_)
    panel.experiment.model.layers[0].params["mode"] = "fine_tune"
    panel.experiment.announce("model")  # as the Model tab's edit says it
    note = findings.view.addressed()[0]
    assert note.startswith("Fixed on the Model tab") and note.endswith(
        "Continue… goes on from this run's weights with it; Start training trains a new run.")
    assert "would go on from the weights trained before the fix" not in panel.run_label.text()
    panel.continue_run()
    [(warning, notes)] = shown
    assert "cannot apply that fix" not in warning
    assert "Backbone mode fine_tune (the run's feature_extraction) is used" in notes
