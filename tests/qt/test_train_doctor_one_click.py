"""The Doctor tab's fix for a label-changing flip removes the flip in one click (it opened the
Augment tab, and the status then read "Open the Augment tab: see the Augment tab."), and a
finding the run withdraws is greyed, not left open (learner-tester reports "classic
mistakes" 3 and "classes" 2)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.core.registry import Component
from workbench.core.train.doctor.causes import label_cause


@pytest.fixture
def panel(train_panel):
    p = train_panel(epochs=1)
    p.experiment.augment.transforms = [Component("RandomHorizontalFlip", {"p": 0.5}),
                                       Component("RandomRotation", {"degrees": 10.0})]
    p.experiment.augment.announce("transforms")
    p.findings.trained = p.experiment.copy()  # the run's experiment
    p.findings.classes = ["left", "right"]
    return p


def flip_finding(panel):
    cause = label_cause(panel.findings.trained, ["left", "right"])
    return {"kind": "not_learning", "epoch": 3, "severity": "warning",
            "message": f"Nothing learned. The likely cause is the augmentation: {cause.why}.",
            "fix": cause.fix, "action": cause.action}


def doctor_tab(panel):
    tabs = panel.settings_tabs
    return tabs.tabText(tabs.indexOf(panel.findings.view))


def test_the_flip_fix_removes_the_flip_in_one_click(qtbot, panel):
    panel.run.finding.emit(flip_finding(panel))
    view = panel.findings.view
    assert "--set" not in view.texts()[0]  # the command line's, not the app's
    button = panel.findings.fix_button(0)
    assert button.text() == "Remove the flip"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [t.type for t in panel.experiment.augment.transforms] == ["RandomRotation"]
    # What was done, in words: not the list it left ("transforms = RandomRotation set").
    assert panel.status.text() == ("Removed the flip on the Augment tab: Start training "
                                   "trains a new run without it.")
    assert view.addressed() == ["Applied: removed the flip on the Augment tab."]
    assert doctor_tab(panel) == "Doctor (fix applied)"


def test_the_flip_fix_does_not_undo_edits_made_since_the_run(qtbot, panel):
    panel.run.finding.emit(flip_finding(panel))
    panel.experiment.augment.transforms.append(Component("ColorJitter"))  # edited since
    panel.experiment.augment.announce("transforms")
    with qtbot.waitSignal(panel.findings.open_requested) as opened:
        qtbot.mouseClick(panel.findings.fix_button(0), Qt.MouseButton.LeftButton)
    assert opened.args == ["augment"]  # the Augment tab's own fix, on the list as it is
    assert [t.type for t in panel.experiment.augment.transforms] == [
        "RandomHorizontalFlip", "RandomRotation", "ColorJitter"]
    assert "has been edited since" in panel.status.text()
    # Removed on the Augment tab: the finding is fixed there.
    del panel.experiment.augment.transforms[0]
    panel.experiment.augment.announce("transforms")
    assert panel.findings.view.addressed()[0].startswith("Fixed on the Augment tab: ")


def test_a_withdrawn_finding_is_greyed_and_no_longer_counted(qtbot, panel):
    f = {"kind": "not_learning", "epoch": 3, "severity": "warning",
         "message": "Nothing learned yet.", "fix": "find a learning rate",
         "action": {"label": "Find a learning rate", "set": {}, "continue": False,
                    "open": "lr_finder"}}
    panel.run.finding.emit(dict(f))
    assert doctor_tab(panel) == "Doctor (1)"
    panel.run.finding.emit(dict(f, resolved="at epoch 5 the validation accuracy is 46%"))
    view = panel.findings.view
    assert len(view.rows) == 1
    assert view.addressed() == ["Withdrawn: at epoch 5 the validation accuracy is 46%."]
    assert not panel.findings.fix_button(0).isEnabled()
    assert doctor_tab(panel) == "Doctor" and view.open_findings() == []
