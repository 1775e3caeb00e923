"""The Train tab's Doctor tab counts and colours only the findings no fix has addressed:
after the fix of a divergence it no longer stays red (tester report: "Doctor (1)" in red
with the finding greyed "Applied")."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.qt.panels.train.findings import ADDRESSED, severity_colour


def finding(kind="diverged", epoch=2, severity="error", message="The loss exploded.",
            label="Train with lr 0.001", settings=None):
    return {"kind": kind, "epoch": epoch, "severity": severity, "message": message,
            "fix": "lower the rate", "action": {
                "label": label, "set": {"optimizer.params.lr": 0.001} if settings is None
                else settings, "continue": False, "open": ""}}


@pytest.fixture
def panel(train_panel):
    return train_panel()


def tab(panel) -> tuple[str, str, bool]:
    """The Doctor tab's title, text colour and whether it has an icon."""
    tabs = panel.settings_tabs
    i = tabs.indexOf(panel.findings.view)
    assert i >= 0
    return (tabs.tabText(i), tabs.tabBar().tabTextColor(i).name(),
            not tabs.tabIcon(i).isNull())


def test_a_fixed_divergence_leaves_the_doctor_tab_grey_and_new_findings_count(qtbot, panel):
    panel.run.finding.emit(finding())
    panel.run.finding.emit(finding(kind="lr_too_low", epoch=1, severity="warning",
                                   message="The loss barely moves.", label="Set lr 0.02",
                                   settings={"optimizer.params.lr": 0.02}))
    bar = panel.settings_tabs.tabBar().palette()
    assert tab(panel) == ("Doctor (2)", severity_colour("error", bar), True)
    qtbot.mouseClick(panel.findings.fix_button(0), Qt.MouseButton.LeftButton)
    assert panel.findings.view.open_findings() == []
    title, colour, icon = tab(panel)
    assert (title, colour, icon) == ("Doctor (fix applied)", ADDRESSED, False)
    tabs = panel.settings_tabs
    assert "addresses them" in tabs.tabToolTip(tabs.indexOf(panel.findings.view))
    # The continued run's own finding is open: counted, in its colour.
    panel.run.finding.emit(finding(kind="overfitting", epoch=5, severity="warning",
                                   message="Validation rises.", label="Set lr 0.0005",
                                   settings={"optimizer.params.lr": 0.0005}))
    assert tab(panel) == ("Doctor (1)", severity_colour("warning", bar), True)
    assert "a fix addresses 2 of them" in tabs.tabToolTip(tabs.indexOf(panel.findings.view))
