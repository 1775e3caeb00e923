"""Learner-tester report (h14): fixes made on the Model tab left the Train doctor's findings
open ("Doctor (3)", live "Open the Model tab" buttons, Continue… offered as if nothing
changed); the "Train with lr 0.001" button after a divergence only set the rate, and the LR
finder's sweep silently replaced it, or was silently stopped by it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from workbench.core.train.doctor.causes import model_causes
from workbench.qt.panels.train.continue_run import ContinueDialog
from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000
ZEROS = {"weight": {"type": "zeros"}}


@pytest.fixture
def panel(qtbot, tiny_experiment):
    tiny_experiment.training.epochs = 1
    tiny_experiment.model.layers[1].init = dict(ZEROS)
    tiny_experiment.model.layers[3].init = dict(ZEROS)
    p = TrainPanel(tiny_experiment)
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def cause_finding(experiment, kind="not_learning", epoch=1):
    (cause,) = model_causes(experiment, 3)
    return {"kind": kind, "epoch": epoch, "severity": "warning",
            "message": f"Nothing learned. The network itself is the cause: {cause.why}.",
            "fix": cause.fix, "action": cause.action}


def other(kind, label, settings=None, open_=""):
    return {"kind": kind, "epoch": 1, "severity": "warning", "message": f"{kind} found.",
            "fix": "do it", "action": {"label": label, "set": settings or {},
                                       "continue": False, "open": open_}}


def set_init(panel, i, init):
    panel.experiment.model.layers[i].init = init
    panel.experiment.announce("model")  # as the Model tab's edit says it


def doctor_tab(panel):
    tabs = panel.settings_tabs
    return tabs.tabText(tabs.indexOf(panel.findings.view))


def test_a_network_fixed_on_the_model_tab_marks_its_findings_fixed(qtbot, panel):
    findings = panel.findings
    findings.trained, findings.classes = panel.experiment.copy(), ["blue", "green", "red"]
    panel.run.finding.emit(cause_finding(panel.experiment))
    panel.run.finding.emit(other("vanishing_gradients", "Open the Model tab", open_="model"))
    assert doctor_tab(panel) == "Doctor (2)"
    set_init(panel, 1, None)  # one of the two layers: the network still cannot learn
    assert findings.view.addressed() == ["", ""]
    set_init(panel, 3, None)
    note = findings.view.addressed()[0]
    assert note == ("Fixed on the Model tab: the Model doctor no longer finds that layers 2 "
                    "(Linear) and 4 (Linear) start from zeros initialisation (every weight 0)."
                    " Start training trains a new run with the fixed network; Continue… would "
                    "go on from the weights trained before the fix.")
    assert findings.view.addressed()[1] == ""  # not a cause the Model tab fixed
    assert doctor_tab(panel) == "Doctor (1)"
    assert panel.run_label.text() == (
        "Fixed on the Model tab since this run: Start training trains a new run with the "
        "fixed network; Continue… would go on from the weights trained before the fix.")
    set_init(panel, 1, dict(ZEROS))  # the cause came back: the finding is open again
    assert findings.view.addressed() == ["", ""] and doctor_tab(panel) == "Doctor (2)"


def test_continue_says_a_model_tab_fix_is_not_in_the_run(qtbot, panel, monkeypatch):
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    panel.findings.view.clear()
    panel.run.finding.emit(cause_finding(panel.experiment))
    shown = []

    def exec_(dialog):
        shown.append((dialog.warning_label.isVisibleTo(dialog), dialog.warning_label.text()))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ContinueDialog, "exec", exec_)
    panel.continue_run()
    assert shown == [(False, "")]  # nothing fixed yet
    set_init(panel, 1, None)
    set_init(panel, 3, None)
    assert doctor_tab(panel) == "Doctor (fixed)"
    panel.continue_run()
    assert shown[1] == (True, (
        "The network was fixed on the Model tab after this run, and continuing cannot apply "
        "that fix: it goes on with the run's own network, from the weights trained before "
        "the fix (a new initialisation only takes effect in a new run). Cancel, then press "
        "Start training, to train a new run with the fixed network."))


def diverged(lr):
    return other("diverged", f"Train with lr {lr:g}", {"optimizer.params.lr": lr})


def test_the_rate_button_says_it_sets_and_the_sweep_says_it_replaced_it(qtbot, panel):
    sweep = panel.findings.after_divergence
    panel.run.finding.emit(diverged(1e-4))
    assert panel.findings.fix_button(0).text() == "Use lr 0.0001"
    sweep._job = 7  # the sweep runs; its result comes
    sweep._on_finished(7, ((0.0034, "found"), [diverged(0.0034)]))
    assert panel.findings.fix_button(0).text() == "Use lr 0.0034"
    assert panel.findings.view.texts()[0].endswith(
        "\nUpdated: the LR finder proposes 0.0034 for this network and data (instead of "
        "0.0001).")
    assert "“Use lr 0.0034” sets it, then Start training trains with it" in \
        panel.run_label.text()


def test_a_rate_chosen_during_the_sweep_says_the_sweep_stopped(qtbot, panel):
    sweep = panel.findings.after_divergence
    panel.run.finding.emit(diverged(1e-4))
    sweep._job = 7  # the sweep runs
    qtbot.mouseClick(panel.findings.fix_button(0), Qt.MouseButton.LeftButton)
    assert not sweep.is_running()
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(1e-4)
    assert panel.run_label.text() == ("The LR finder's sweep was stopped: your choice "
                                      "(lr = 0.0001) stands.")
    assert panel.status.text().endswith("The LR finder's sweep was stopped: your choice "
                                        "stands.")
    assert panel.status.text().startswith("Use lr 0.0001: lr = 0.0001 set.")
