"""Walk-explain report, minor: a not_learning finding the run withdrew (it learned after
all) disabled its fix, "Set p of layer 9 (Dropout) to 0.5", although the dropout of 0.95 it
names was still in the network and the Model doctor still warned about it. The row stays
withdrawn; its button stays while the network has that cause, and goes once it has not."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.core.registry import Component
from workbench.core.train.doctor.causes import model_causes

LEARNS = "at epoch 7 the validation accuracy is 42%: the network learns after all"


@pytest.fixture
def panel(train_panel, tiny_experiment):
    tiny_experiment.model.layers.insert(5, Component("Dropout", {"p": 0.95}))
    p = train_panel()
    p.findings.trained, p.findings.classes = p.experiment.copy(), ["blue", "green", "red"]
    return p


def not_learning(experiment, resolved=""):
    (cause,) = model_causes(experiment, 3)
    return {"kind": "not_learning", "epoch": 3, "severity": "warning",
            "message": f"Nothing learned. The network itself is the cause: {cause.why}.",
            "fix": cause.fix, "action": cause.action, "resolved": resolved}


def test_a_withdrawn_finding_keeps_its_fix_while_its_cause_is_there(qtbot, panel):
    finding = not_learning(panel.experiment)
    panel.run.finding.emit(finding)
    panel.run.finding.emit({**finding, "resolved": LEARNS})  # the run learned after all
    [row] = panel.findings.view.rows
    assert row.note.startswith("Withdrawn: ")
    button = panel.findings.fix_button(0)
    assert button.text() == "Set p of layer 6 (Dropout) to 0.5" and button.isEnabled()
    panel.experiment.model.layers[5].params["p"] = 0.5  # fixed on the Model tab
    panel.experiment.announce("model")
    assert not button.isEnabled() and row.note.startswith("Withdrawn: ")
    panel.experiment.model.layers[5].params["p"] = 0.95  # back again
    panel.experiment.announce("model")
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # its own fix
    assert panel.experiment.model.layers[5].params["p"] == 0.5
    assert not button.isEnabled()
