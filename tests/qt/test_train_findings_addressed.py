"""After a fix is applied, the findings found before it no longer offer their fixes: the one
applied says "Applied", every other one is greyed with a note, so an outdated fix (or a
second one over the first) cannot be pressed; findings the run reports after the fix come
with their buttons (learner-tester report: the old buttons stayed live after a fix)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from qt_helpers import after_epoch
from workbench.core.runs.store import update_run_info

RUN_TIMEOUT_MS = 120000


def finding(kind="lr_too_low", epoch=1, message="The loss barely moves.", label="Set lr",
            settings=None, continue_=False, open_=""):
    return {"kind": kind, "epoch": epoch, "severity": "warning", "message": message,
            "fix": "do it", "action": {
                "label": label, "set": {"optimizer.params.lr": 0.02} if settings is None
                else settings, "continue": continue_, "open": open_}}


@pytest.fixture
def panel(train_panel):
    return train_panel(epochs=1)


def click(qtbot, panel, i):
    qtbot.mouseClick(panel.findings.fix_button(i), Qt.MouseButton.LeftButton)


def test_a_fix_applied_marks_every_earlier_finding_addressed(qtbot, panel):
    run = panel.run
    run.finding.emit(finding())
    run.finding.emit(finding(kind="underfitting", epoch=5, message="Flat losses.",
                             label="Continue with lr 0.003",
                             settings={"optimizer.params.lr": 0.003}, continue_=True))
    run.finding.emit(finding(kind="overfitting", epoch=6, message="Validation rises.",
                             label="Open the Augment tab", settings={}, open_="augment"))
    view = panel.findings.view
    assert all(b.isEnabled() for b in map(panel.findings.fix_button, range(3)))
    click(qtbot, panel, 0)
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.02)
    applied, other, opens = map(panel.findings.fix_button, range(3))
    assert applied.text() == "Applied" and not applied.isEnabled()
    assert other.text() == "Continue with lr 0.003" and not other.isEnabled()
    assert "Found before the fix (lr = 0.02)." in other.toolTip()
    assert opens.isEnabled()  # it only opens a tab: no fix over the first
    assert view.addressed() == ["Applied: lr = 0.02.", "Found before the fix (lr = 0.02).",
                                "Found before the fix (lr = 0.02)."]
    assert view.texts()[0] == "Epoch 1: The loss barely moves.\nFix: Do it. Applied: lr = 0.02."
    assert "#808080" in view.rows[1].text.text()  # greyed
    # Pressing the outdated one does nothing: it is disabled.
    click(qtbot, panel, 1)
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.02)
    # While and after a run, the addressed stay disabled; a finding that comes now is new.
    view.set_running(True)
    view.set_running(False)
    assert not applied.isEnabled() and not other.isEnabled()
    run.finding.emit(finding(kind="underfitting", epoch=9, message="Still flat.",
                             label="Continue with lr 0.01",
                             settings={"optimizer.params.lr": 0.01}, continue_=True))
    fresh = panel.findings.fix_button(3)
    assert fresh.isEnabled() and fresh.text() == "Continue with lr 0.01"
    assert view.addressed()[3] == ""


def test_a_fix_that_fails_or_only_opens_a_tab_addresses_nothing(qtbot, panel):
    panel.run.finding.emit(finding(settings={"optimizer.params.lr": 0.5,
                                             "training.no_such_field": 3}))
    panel.run.finding.emit(finding(kind="dead_units", message="Silent.", label="Open Model",
                                   settings={}, open_="model"))
    click(qtbot, panel, 0)
    assert panel.status.level == "error"
    click(qtbot, panel, 1)
    assert panel.findings.view.addressed() == ["", ""]
    assert panel.findings.fix_button(0).isEnabled()


def test_a_fix_stops_the_rate_sweep_after_a_divergence(qtbot, panel, monkeypatch):
    stopped = []
    monkeypatch.setattr(panel.findings.after_divergence, "stop",
                        lambda: stopped.append(True))
    panel.run.finding.emit(finding(kind="diverged", message="The loss exploded.",
                                   label="Train with lr 0.0001",
                                   settings={"optimizer.params.lr": 1e-4}))
    click(qtbot, panel, 0)
    assert stopped == [True]


def test_after_a_continued_fix_the_old_finding_stays_applied(qtbot, panel, monkeypatch):
    panel.experiment.training.epochs = 2
    f = finding(kind="underfitting", message="Flat losses.", label="Continue with lr 0.003",
                settings={"optimizer.params.lr": 0.003}, continue_=True)
    after_epoch(monkeypatch, 1, lambda trainer: trainer.request_stop())
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as first:
        panel.start_button.click()
    update_run_info(first.args[0]["run_dir"], findings=[f])  # as the recorder keeps it
    panel.run.finding.emit(f)
    monkeypatch.undo()
    new = finding(kind="lr_too_low", epoch=2, message="Still slow.", label="Continue with lr 1",
                  settings={"optimizer.params.lr": 1.0}, continue_=True)
    after_epoch(monkeypatch, 2, lambda trainer: trainer.emit("on_finding", new))
    panel.ask_continue = lambda plan: plan
    row = [g["message"] for g in panel.findings.findings].index(f["message"])
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel, row)
    messages = [g["message"] for g in panel.findings.findings]
    old, fresh = (panel.findings.fix_button(messages.index(m))
                  for m in (f["message"], new["message"]))
    assert old.text() == "Applied" and not old.isEnabled()
    assert fresh.isEnabled() and fresh.text() == "Continue with lr 1"
