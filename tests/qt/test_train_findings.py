"""The training doctor in the app: findings from the run reach the Train tab's Doctor tab,
their fix buttons change the current Experiment (and continue the run, or open a tab),
a new run clears them, a continued one shows its earlier ones, and the Runs tab lists a
run's findings from its run.json."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from workbench.core.runs.store import update_run_info, write_run_info
from qt_helpers import after_epoch

RUN_TIMEOUT_MS = 120000


def finding(kind="lr_too_low", epoch=1, severity="warning", message="The loss barely moves.",
            fix="Raise the learning rate to 0.01.", label="Set lr to 0.01", settings=None,
            continue_=False, open_=""):
    """A finding as the trainer's ``on_finding`` hook carries it (RunFinding.to_dict())."""
    action = None if label is None else {
        "label": label, "set": {"optimizer.params.lr": 0.01} if settings is None else settings,
        "continue": continue_, "open": open_}
    return {"kind": kind, "epoch": epoch, "severity": severity, "message": message,
            "fix": fix, "action": action}


@pytest.fixture
def panel(train_panel):
    return train_panel(epochs=1)


def doctor_tab(panel) -> int:
    return panel.settings_tabs.indexOf(panel.findings.view)


def index_of(panel, message: str) -> int:
    """The row of the finding with this message (the doctor may add findings of its own)."""
    return [f["message"] for f in panel.findings.findings].index(message)


def test_the_bridge_sends_a_finding_as_plain_values():
    from workbench.qt.workers.bridge import _BridgeHooks
    from workbench.qt.workers.training import TrainingRun

    sent = []
    worker = SimpleNamespace(state=SimpleNamespace(send=sent.append), emit_interval=0.05)
    f = finding()
    _BridgeHooks(worker).on_finding(None, f)
    assert sent == [("finding", (f,))]
    assert sent[0][1][0] is not f  # a copy: nothing of the trainer's reaches the GUI
    assert "finding" in TrainingRun.events


def test_a_finding_from_the_run_shows_on_the_train_tab_and_a_new_run_clears_it(
        qtbot, panel, monkeypatch):
    f = finding()
    after_epoch(monkeypatch, 1, lambda trainer: trainer.emit("on_finding", f))
    assert doctor_tab(panel) < 0  # nothing to say: no tab
    seen = []
    panel.run.finding.connect(lambda g: g["message"] == f["message"] and seen.append(
        panel.findings.fix_button(index_of(panel, f["message"])).isEnabled()))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert seen and not any(seen)  # while the run trains, a fix that sets waits
    i = doctor_tab(panel)
    assert i >= 0 and panel.settings_tabs.currentIndex() == i
    assert panel.settings_tabs.tabText(i).startswith("Doctor (")
    row = index_of(panel, f["message"])
    text = panel.findings.view.texts()[row]
    assert text.startswith("Epoch 1:") and f["message"] in text and f["fix"] in text
    button = panel.findings.fix_button(row)
    assert button.text() == "Set lr to 0.01" and button.isEnabled()

    # A new run starts with none (the second run does not report this one again).
    monkeypatch.undo()
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert panel.findings.findings == [] and doctor_tab(panel) < 0
    assert f["message"] not in [g["message"] for g in panel.findings.findings]


def test_the_fix_button_sets_the_learning_rate_of_the_current_experiment(qtbot, panel):
    heard = []
    panel.current.changed.connect(lambda section, field: heard.append(section))
    panel.run.finding.emit(finding(settings={"optimizer.params.lr": 0.02,
                                             "training.early_stopping": True}))
    button = panel.findings.fix_button(0)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    exp = panel.experiment
    assert exp.optimizer.params["lr"] == pytest.approx(0.02)
    assert exp.training.early_stopping is True
    assert panel.lr_spin.value() == pytest.approx(0.02)  # the form shows it
    assert "optimizer" in heard and "training" in heard  # every tab hears it
    assert "lr = 0.02" in panel.status.text() and panel.status.level == "ok"


def test_a_bad_setting_is_shown_and_changes_nothing(qtbot, panel):
    before = panel.experiment.to_dict()
    panel.run.finding.emit(finding(settings={"optimizer.params.lr": 0.5,
                                             "training.no_such_field": 3}))
    qtbot.mouseClick(panel.findings.fix_button(0), Qt.MouseButton.LeftButton)
    assert panel.status.level == "error" and "Cannot apply" in panel.status.text()
    assert "no_such_field" in panel.status.text()
    assert panel.experiment.to_dict() == before


def test_a_fix_that_continues_goes_on_with_the_new_rate_and_keeps_earlier_findings(
        qtbot, panel, monkeypatch):
    panel.experiment.training.epochs = 2
    f = finding(kind="diverged", severity="error", message="The loss exploded.",
                label="Continue at lr 0.0001", settings={"optimizer.params.lr": 1e-4},
                continue_=True)
    after_epoch(monkeypatch, 1, lambda trainer: trainer.request_stop())
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as first:
        panel.start_button.click()
    run_dir = first.args[0]["run_dir"]
    update_run_info(run_dir, findings=[f])  # as the recorder keeps it
    panel.run.finding.emit(f)
    monkeypatch.undo()
    plans = []
    panel.ask_continue = lambda plan: plans.append(plan) or plan  # accept what it offers
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as resumed:
        qtbot.mouseClick(panel.findings.fix_button(index_of(panel, f["message"])),
                         Qt.MouseButton.LeftButton)
        assert "lr = 0.0001" in panel.status.text() or "Continuing" in panel.status.text()
    assert plans[0].new_lr == pytest.approx(1e-4) and plans[0].lr_changed
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(1e-4)
    summary = resumed.args[0]
    assert summary["run_dir"] == run_dir
    assert [m["epoch"] for m in summary["history"]] == [1, 2]
    assert summary["history"][1]["lr"] == pytest.approx(1e-4)
    assert f["message"] in [g["message"] for g in panel.findings.findings]  # the earlier one


def test_a_fix_without_a_checkpoint_says_to_press_start(qtbot, panel):
    panel.run.finding.emit(finding(continue_=True))
    qtbot.mouseClick(panel.findings.fix_button(0), Qt.MouseButton.LeftButton)
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.01)
    assert "Start training" in panel.status.text() and not panel.is_running()


def test_open_fixes_switch_tabs_and_open_the_lr_finder(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow

    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    train = window.train_panel
    window.tabs.setCurrentWidget(train)
    for f in (finding(kind="overfitting", label="Open Augment", settings={}, open_="augment"),
              finding(kind="dead_units", label="Open Model", settings={}, open_="model"),
              finding(kind="lr_too_low", label="Find a learning rate", settings={},
                      open_="lr_finder")):
        train.run.finding.emit(f)
    assert [b.text() for b in map(train.findings.fix_button, range(3))] == \
        ["Open Augment", "Open Model", "Find a learning rate"]
    qtbot.mouseClick(train.findings.fix_button(0), Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.augment_panel
    qtbot.mouseClick(train.findings.fix_button(1), Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.model_panel
    qtbot.mouseClick(train.findings.fix_button(2), Qt.MouseButton.LeftButton)
    assert train.lr_dialog is not None
    train.lr_dialog.close()
    window.shutdown()


def test_the_runs_tab_shows_a_runs_findings(qtbot, workbench_home):
    from workbench.core.io import runs_dir
    from workbench.qt.panels.runs.panel import RunsPanel

    def make_run(folder: str, findings) -> Path:
        d = runs_dir() / folder
        d.mkdir(parents=True)
        info = {"name": folder, "created": "2024-05-01T10:00:00", "status": "finished",
                "epochs_done": 2, "epochs_planned": 2}
        if findings is not None:
            info["findings"] = findings
        write_run_info(d, info)
        return d

    with_findings = make_run("a", [
        finding(kind="overfitting", epoch=7, message="Validation loss rises.",
                fix="Add augmentation.", label="Open Augment", settings={}, open_="augment"),
        finding(kind="class_never_predicted", epoch=2, severity="info",
                message="Class 'cat' is never predicted.", label=None),
        {"kind": "nonsense"}])  # no message: not a finding, left out
    older = make_run("b", None)  # from before the doctor: no "findings" at all
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.refresh()
    panel.select_paths([str(with_findings)])
    view = panel.findings
    assert view.isVisible()
    assert view.texts() == ["Epoch 7: Validation loss rises.\nFix: Add augmentation.",
                            "Epoch 2: Class 'cat' is never predicted.\nFix: Raise the "
                            "learning rate to 0.01."]
    assert view.fix_button(0) is None  # the rows say what to do; the Train tab fixes
    assert "2 findings" in view.title.text()
    panel.select_paths([str(older)])
    assert not view.isVisible() and view.findings == []


def test_a_continued_run_shows_the_findings_of_its_earlier_segments(qtbot, panel, tmp_path):
    """fit_started may not carry them: they are read from the run folder's run.json."""
    earlier = finding(kind="overfitting", epoch=4, message="Validation loss rises.")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_run_info(run_dir, {"name": "run", "status": "running", "findings": [earlier]})
    panel.run.fit_started.emit({"run_dir": str(run_dir), "epochs": 6, "start_epoch": 5})
    assert [f["message"] for f in panel.findings.findings] == [earlier["message"]]
    assert panel.findings.fix_button(0).text() == earlier["action"]["label"]
    # The same finding heard again from the run is not listed twice; a new one is added.
    panel.run.finding.emit(earlier)
    panel.run.finding.emit(finding(epoch=6))
    assert len(panel.findings.findings) == 2
    assert panel.settings_tabs.tabText(doctor_tab(panel)) == "Doctor (2)"
