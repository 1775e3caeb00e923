"""Learner walk (walk-learner 1 and 5) on the Train tab's Doctor.

1. After "Continue with lr 0.001" the run learned, and the Doctor tab greyed the findings
   from before the fix, in memory only: after a restart it showed "Doctor (2)" with live
   buttons offering the rate the run already trained at.
5. Arrows behind a flip that swaps the classes: the Doctor greyed its "Remove the flip" (the
   finding withdrawn on 4 validation images of noise) while the line under the plots still
   offered "Remove the flip", enabled: two opposite signals.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from helpers import make_image_folder
from workbench.core.registry import Component
from workbench.core.runs.plan import MORE
from workbench.core.runs.store import write_run_info
from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000


def doctor_tab(panel):
    tabs = panel.settings_tabs
    return tabs.tabText(tabs.indexOf(panel.findings.view))


def shown(panel):
    """What the Doctor tab shows: each row's note, and its button's text and state."""
    view = panel.findings.view
    buttons = [panel.findings.fix_button(i) for i in range(len(view.rows))]
    return doctor_tab(panel), view.addressed(), [
        (b.text(), b.isEnabled()) if b is not None else None for b in buttons]


def test_a_run_fixed_by_continuing_is_greyed_the_same_after_a_restart(qtbot, kept_panels,
                                                                      tiny_experiment):
    tiny_experiment.optimizer.params["lr"] = 1e-7
    panel = kept_panels(TrainPanel(tiny_experiment))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as first:
        panel.start_button.click()
    run_dir = first.args[0]["run_dir"]
    kinds = [f["kind"] for f in panel.findings.findings]
    i = kinds.index("lr_too_low")
    assert panel.findings.fix_button(i).text() == "Continue with lr 0.001"
    panel.ask_continue = lambda plan: plan.choose(MORE, more=3)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(panel.findings.fix_button(i), Qt.MouseButton.LeftButton)
    note = panel.findings.view.addressed()[i]
    assert note.startswith("Withdrawn: fixed by continuing at lr 0.001: at epoch "), note
    saved = json.loads(Path(run_dir, "run.json").read_text())["findings"]
    assert saved[i]["kind"] == "lr_too_low" and \
        note == f"Withdrawn: {saved[i]['resolved']}."  # run.json says what the tab shows
    before = shown(panel)
    assert before[2][i] == ("Continue with lr 0.001", False)  # no fix the run already has
    # A restart: a new Train tab restores the run from its folder.
    again = kept_panels(TrainPanel(tiny_experiment.copy()))
    assert again.restore_last_run(run_dir)
    assert shown(again) == before


def test_a_restored_run_continued_with_a_fix_does_not_offer_it_again(qtbot, train_panel,
                                                                     tmp_path,
                                                                     tiny_experiment):
    """Continued with the fix (workbench resume --lr 0.001) but not yet shown fixed: the
    run already trains at that rate, so its button is not offered again."""
    run_dir = tmp_path / "R"
    run_dir.mkdir()
    tiny_experiment.optimizer.params["lr"] = 0.001
    tiny_experiment.save(run_dir / "experiment.json")
    slow = {"kind": "lr_too_low", "epoch": 2, "severity": "warning",
            "message": "The learning rate (1e-7) is too small to move the loss.", "fix": "",
            "action": {"label": "Continue with lr 0.001",
                       "set": {"optimizer.params.lr": 0.001}, "continue": True, "open": ""}}
    other = dict(slow, kind="underfitting", message="Flat.",
                 action=dict(slow["action"], label="Continue with lr 0.003",
                             set={"optimizer.params.lr": 0.003}))
    write_run_info(run_dir, {"name": "R", "status": "completed", "epochs_done": 3,
                             "epochs_planned": 3, "findings": [slow, other]})
    panel = train_panel()
    assert panel.restore_last_run(str(run_dir))
    assert shown(panel) == ("Doctor (1)", ["Applied: lr = 0.001.", ""],
                            [("Continue with lr 0.001", False),
                             ("Continue with lr 0.003", True)])


def test_the_flip_finding_and_the_line_under_the_plots_agree(qtbot, kept_panels, tmp_path,
                                                             tiny_experiment, monkeypatch):
    from workbench.core.data.scan import scan_folder
    from workbench.core.train.trainer import Trainer

    tiny_experiment.data.folder = make_image_folder(
        tmp_path / "arrows", classes=("left_arrow", "right_arrow"), per_class=24, size=16)
    tiny_experiment.data.val_fraction = 0.5  # 24 validation images, 12 of chance
    tiny_experiment.augment.transforms = [Component("RandomHorizontalFlip", {"p": 0.5})]
    tiny_experiment.training.epochs = 5
    # At chance for 3 epochs, then 16 of 24 right twice: 4 images above chance is noise.
    scripted = {1: 0.5, 2: 0.5, 3: 0.5, 4: 16 / 24, 5: 16 / 24}
    real = Trainer._run_epoch

    def run_epoch(self, epoch, train):
        out = real(self, epoch, train)
        return out if train or out is None else (out[0], scripted[epoch])

    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
    panel = kept_panels(TrainPanel(tiny_experiment))
    panel.set_dataset(scan_folder(tiny_experiment.data.folder))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    line_button = panel.start_fix.button
    assert line_button.isVisibleTo(panel) and line_button.isEnabled()
    assert line_button.text() == "Remove the flip"
    rows = panel.findings.view.rows
    (i,) = [k for k, r in enumerate(rows) if "RandomHorizontalFlip" in r.finding["message"]]
    assert rows[i].finding["kind"] == "not_learning"
    assert doctor_tab(panel) == "Doctor (1)" and panel.findings.view.addressed() == [""]
    doctor_button = panel.findings.fix_button(i)
    assert doctor_button.text() == "Remove the flip" and doctor_button.isEnabled()
    # Either button fixes it: the other one then stops offering it.
    qtbot.mouseClick(doctor_button, Qt.MouseButton.LeftButton)
    assert panel.experiment.augment.transforms == []
    assert not doctor_button.isEnabled() and panel.findings.view.addressed()[i]
    assert not line_button.isVisibleTo(panel)
