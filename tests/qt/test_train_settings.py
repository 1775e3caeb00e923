"""Train panel: the optimizer and schedule editors built from the registries' declarations."""

from __future__ import annotations

import pytest

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.optim import OPTIMIZERS
from workbench.core.train.schedules import SCHEDULERS

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(train_panel):
    return train_panel()


def test_every_scheduler_is_listed_with_its_help(panel):
    combo = panel.schedule_editor.combo
    assert [combo.itemText(i) for i in range(combo.count())] == SCHEDULERS.names()
    for i, entry in enumerate(SCHEDULERS):
        assert combo.itemData(i, 3) == entry.help  # 3: Qt.ToolTipRole
    assert combo.currentText() == "none"


@pytest.mark.parametrize("name", SCHEDULERS.names())
def test_choosing_a_scheduler_shows_its_form_and_writes_the_component(panel, name):
    exp = panel.experiment
    if name == "none":  # already chosen: pick another first so choosing it is an edit
        panel.schedule_editor.combo.setCurrentText("StepLR")
    panel.schedule_editor.combo.setCurrentText(name)
    entry = SCHEDULERS.get(name)
    assert exp.scheduler.type == name
    assert exp.scheduler.params == entry.defaults()
    form = panel.schedule_editor.form
    assert form.entry is entry
    assert set(form.editors) == {p.name for p in entry.params}
    assert not panel.schedule_editor.error_label.isVisibleTo(panel)  # defaults are valid
    assert exp.copy().validate().scheduler.type == name


def test_editing_a_param_updates_the_experiment(panel):
    exp = panel.experiment
    panel.schedule_editor.combo.setCurrentText("StepLR")
    changed = []
    panel.settings_changed.connect(lambda: changed.append(1))
    panel.schedule_editor.form.editors["step_size"].setValue(3)
    assert exp.scheduler.params["step_size"] == 3
    panel.optimizer_combo.setCurrentText("SGD")
    panel.optimizer_editor.form.editors["nesterov"].setChecked(True)
    panel.optimizer_editor.form.editors["momentum"].setValue(0.8)
    assert exp.optimizer.type == "SGD"
    assert exp.optimizer.params["nesterov"] is True
    assert exp.optimizer.params["momentum"] == pytest.approx(0.8)
    panel.optimizer_combo.setCurrentText("Adam")
    panel.optimizer_editor.form.editors["betas"].boxes[1].setValue(0.98)
    assert exp.optimizer.params["betas"] == pytest.approx([0.9, 0.98])
    assert len(changed) == 6
    exp.copy().validate()  # what the form wrote is what the core accepts


def test_invalid_schedule_shows_the_core_message_without_crashing(panel):
    exp = panel.experiment  # 2 epochs
    editor = panel.schedule_editor
    editor.combo.setCurrentText("MultiStepLR")
    milestones = editor.form.editors["milestones"]
    milestones.boxes[0].setValue(90)  # [90, 80]: out of order
    assert exp.scheduler.params["milestones"] == [90, 80]  # widgets and experiment agree
    assert editor.error_label.isVisibleTo(panel)
    assert "scheduler.params.milestones" in editor.error_label.text()
    assert "must increase" in editor.error_label.text()
    milestones.boxes[0].setValue(1)
    assert not editor.error_label.isVisibleTo(panel)

    editor.form.editors["warmup_epochs"].setValue(2)  # as long as the 2-epoch run
    assert "scheduler.params.warmup_epochs" in editor.error_label.text()
    panel.epochs_spin.setValue(5)  # a longer run makes room for the warm-up
    assert not editor.error_label.isVisibleTo(panel)


def test_set_experiment_from_json_shows_its_settings(panel, tiny_experiment):
    other = tiny_experiment.copy()
    other.optimizer = Component("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True})
    other.scheduler = Component("CosineAnnealingLR", {"T_max": 7, "eta_min": 1e-5,
                                                      "warmup_epochs": 1})
    other.training.epochs = 9
    loaded = Experiment.from_json(other.to_json())
    before = loaded.to_dict()
    panel.set_experiment(loaded)
    assert panel.optimizer_combo.currentText() == "SGD"
    opt = panel.optimizer_editor.form.values()
    assert opt["lr"] == pytest.approx(0.05) and panel.lr_spin.value() == pytest.approx(0.05)
    assert opt["momentum"] == pytest.approx(0.8) and opt["nesterov"] is True
    assert panel.schedule_editor.combo.currentText() == "CosineAnnealingLR"
    sched = panel.schedule_editor.form.values()
    assert sched == {"T_max": 7, "eta_min": pytest.approx(1e-5), "warmup_epochs": 1}
    assert not panel.schedule_editor.form.auto_boxes["T_max"].isChecked()
    assert panel.epochs_spin.value() == 9
    assert loaded.to_dict() == before  # showing it wrote nothing back

    panel.lr_spin.setValue(0.02)  # edits now go to the new experiment, not the old one
    assert loaded.optimizer.params["lr"] == pytest.approx(0.02)
    assert tiny_experiment.optimizer.type != "SGD"


def test_unknown_optimizer_in_the_experiment_is_reported(panel, tiny_experiment):
    tiny_experiment.optimizer = Component("Lion", {})
    panel.set_experiment(tiny_experiment)
    assert panel.optimizer_editor.form is None
    assert panel.optimizer_combo.currentIndex() == -1
    assert "optimizer.type" in panel.optimizer_editor.error_label.text()
    panel.optimizer_combo.setCurrentText("AdamW")  # choosing one repairs it
    assert tiny_experiment.optimizer == Component("AdamW", OPTIMIZERS.get("AdamW").defaults())
    assert not panel.optimizer_editor.error_label.isVisibleTo(panel)


def test_short_run_with_cosine_schedule_reports_the_lr(qtbot, panel):
    panel.schedule_editor.combo.setCurrentText("CosineAnnealingLR")
    panel.lr_spin.setValue(0.01)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start_button.click()
        assert not panel.schedule_editor.isEnabled()  # the run trains a snapshot
    summary = blocker.args[0]
    assert not summary["stopped"] and len(summary["history"]) == 2
    lrs = [m["lr"] for m in summary["history"]]
    assert lrs[0] == pytest.approx(0.01) and lrs[1] < lrs[0]  # the cosine lowered it
    assert f"lr {lrs[-1]:.3g}" in panel.status.text()  # "Last epoch: ...; lr 0.005"
    assert panel.schedule_editor.isEnabled()


def test_a_zero_on_a_log_scale_stays_zero(panel):
    exp = panel.experiment
    panel.optimizer_combo.setCurrentText("SGD")  # weight_decay 0, stepped on a log scale
    form = panel.optimizer_editor.form
    decay = form.editors["weight_decay"]
    assert decay.value() == 0.0
    form.editors["nesterov"].setChecked(True)  # any edit writes every value
    assert exp.optimizer.params["weight_decay"] == 0.0  # not the spin box's 1e-8 floor
    decay.stepBy(1)
    assert exp.optimizer.params["weight_decay"] == pytest.approx(1e-8)
    decay.stepBy(3)
    assert exp.optimizer.params["weight_decay"] == pytest.approx(1e-7)
    decay.stepBy(-4)
    assert exp.optimizer.params["weight_decay"] == 0.0


def test_a_cosine_schedules_auto_t_max_shows_the_epochs_it_will_run(panel):
    """T_max on auto read "1" whatever the epochs: a user took it for a one-epoch decay."""
    exp = panel.experiment
    panel.epochs_spin.setValue(12)
    panel.schedule_editor.combo.setCurrentText("CosineAnnealingLR")
    form = panel.schedule_editor.form
    t_max = form.editors["T_max"]
    assert form.auto_boxes["T_max"].isChecked() and not t_max.isEnabled()
    assert t_max.value() == 12
    panel.epochs_spin.setValue(40)  # follows the epochs
    assert t_max.value() == 40
    form.editors["warmup_epochs"].setValue(5)  # and the warm-up
    assert t_max.value() == 35
    assert exp.scheduler.params.get("T_max") is None  # still auto: nothing written
