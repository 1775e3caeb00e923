"""Learning-rate schedules: each follows PyTorch's own scheduler, warm-up ramps, OneCycle keeps
group ratios, ReduceLROnPlateau watches the loss, and the Trainer drives them."""

from __future__ import annotations

import pytest
import torch
from torch.optim import lr_scheduler

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train import schedules
from workbench.core.train.schedules import SCHEDULERS, build_scheduler
from workbench.core.train.trainer import Trainer

EPOCHS, STEPS = 2, 3


def _optimizer(lr: float = 0.1, scaled: float | None = None) -> torch.optim.Optimizer:
    m = torch.nn.Linear(2, 2)
    groups = [{"params": [m.weight], "lr": lr}]
    if scaled is not None:
        groups.append({"params": [m.bias], "lr": lr * scaled})
    return torch.optim.SGD(groups, lr=lr, momentum=0.9)


# Torch's own scheduler, built with the settings our entry's defaults give (epoch counts as
# build_scheduler passes them: EPOCHS epochs of STEPS batches, no warm-up).
_TORCH = {
    "none": lambda o: None,
    "StepLR": lambda o: lr_scheduler.StepLR(o, step_size=10, gamma=0.1),
    "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, milestones=[30, 80], gamma=0.1),
    "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.95),
    "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=EPOCHS, eta_min=0.0),
    "OneCycleLR": lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=EPOCHS * STEPS),
    "ReduceLROnPlateau": lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.1, patience=5),
}

# Non-default settings so a setting that never reaches torch would show.
_SETTINGS = {"StepLR": {"step_size": 1, "gamma": 0.5},
             "MultiStepLR": {"milestones": [1], "gamma": 0.3},
             "ExponentialLR": {"gamma": 0.8},
             "CosineAnnealingLR": {"eta_min": 0.01},
             "ReduceLROnPlateau": {"patience": 0, "factor": 0.5}}
_TORCH_SET = {
    "StepLR": lambda o: lr_scheduler.StepLR(o, step_size=1, gamma=0.5),
    "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, milestones=[1], gamma=0.3),
    "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.8),
    "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=EPOCHS, eta_min=0.01),
    "ReduceLROnPlateau": lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=0),
}


def _trace(schedule, opt, losses=(1.0, 1.0)):
    """Per-batch lrs of our schedule over EPOCHS x STEPS."""
    out = []
    for epoch in range(EPOCHS):
        for _ in range(STEPS):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            schedule.step_batch()
        schedule.step_epoch(losses[epoch])
    out.append(opt.param_groups[0]["lr"])
    return out


def _torch_trace(sched, opt, per_batch, losses=(1.0, 1.0)):
    out = []
    for epoch in range(EPOCHS):
        for b in range(STEPS):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            if sched is not None and per_batch and epoch * STEPS + b + 1 < EPOCHS * STEPS:
                sched.step()
        if sched is not None and not per_batch:
            if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
                sched.step(losses[epoch])
            elif epoch + 1 < EPOCHS:  # past the last epoch, its rate holds (not torch's)
                sched.step()
    out.append(opt.param_groups[0]["lr"])
    return out


def test_every_scheduler_is_tested():
    assert set(SCHEDULERS.names()) == set(_TORCH)


@pytest.mark.parametrize("name", list(_TORCH))
def test_defaults_follow_torchs_own_scheduler(name):
    ours_opt, ref_opt = _optimizer(), _optimizer()
    schedule = build_scheduler(Component(name, {}), ours_opt, STEPS, EPOCHS)
    ref = _TORCH[name](ref_opt)
    per_batch = name == "OneCycleLR"
    assert _trace(schedule, ours_opt) == pytest.approx(_torch_trace(ref, ref_opt, per_batch))


@pytest.mark.parametrize("name", list(_SETTINGS))
def test_settings_follow_torchs_own_scheduler(name):
    ours_opt, ref_opt = _optimizer(), _optimizer()
    schedule = build_scheduler(Component(name, _SETTINGS[name]), ours_opt, STEPS, EPOCHS)
    losses = (1.0, 2.0)  # a worse second epoch: the plateau schedule reduces
    ours = _trace(schedule, ours_opt, losses)
    assert ours == pytest.approx(_torch_trace(_TORCH_SET[name](ref_opt), ref_opt, False, losses))
    assert ours[-1] < ours[0]  # the settings took effect


@pytest.mark.parametrize("spec", [Component("CosineAnnealingLR", {}),
                                  Component("CosineAnnealingLR", {"warmup_epochs": 1}),
                                  Component("StepLR", {"step_size": 1}),
                                  Component("OneCycleLR", {})], ids=lambda c: c.type)
def test_past_its_planned_end_a_schedule_holds_its_last_rate(spec):
    """A cosine is periodic past T_max: stepped on, it went to eta_min (0) and climbed
    back to the set rate; a run continued past the plan trained at those rates."""
    opt = _optimizer(0.1)
    schedule = build_scheduler(spec, opt, steps_per_epoch=2, epochs=3)
    opt.step()
    lrs = []
    for _ in range(7):  # 3 planned epochs, then 4 more: the rate each ended at
        for _ in range(2):
            schedule.step_batch()
        lrs.append(schedule.lr)
        schedule.step_epoch(1.0)
    assert lrs[3:] == [pytest.approx(lrs[2])] * 4 and lrs[2] > 0
    assert schedules.end_factor(spec, 3) == pytest.approx(lrs[2] / 0.1, rel=0.05)


def test_warmup_ramps_linearly_then_cosine_decays():
    opt = _optimizer(0.1)
    schedule = build_scheduler(Component("CosineAnnealingLR", {"warmup_epochs": 3}), opt,
                               steps_per_epoch=2, epochs=7)
    opt.step()
    lrs = []
    for _ in range(7):
        lrs.append(schedule.lr)
        schedule.step_epoch(None)
    assert lrs[:4] == pytest.approx([0.025, 0.05, 0.075, 0.1])  # ramp, then the full lr
    assert lrs[3:] == sorted(lrs[3:], reverse=True) and lrs[-1] < 0.03  # cosine over 4 epochs


@pytest.mark.parametrize("name", [e.name for e in SCHEDULERS if e.meta.get("warmup")])
def test_every_warmup_schedule_starts_low(name):
    opt = _optimizer(0.1)
    schedule = build_scheduler(Component(name, {"warmup_epochs": 1}), opt, 3, 5)
    opt.step()
    assert schedule.lr == pytest.approx(0.05)
    schedule.step_epoch(None)
    assert schedule.lr == pytest.approx(0.1)


def test_one_cycle_keeps_each_groups_ratio():
    opt = _optimizer(0.01, scaled=0.1)  # a backbone at a tenth of the lr
    schedule = build_scheduler(Component("OneCycleLR", {"max_lr_factor": 10.0}), opt, 5, 4)
    peak = 0.0
    for _ in range(20):
        lrs = schedule.lrs()
        assert lrs[1] == pytest.approx(lrs[0] * 0.1)
        peak = max(peak, lrs[0])
        opt.step()
        schedule.step_batch()
    assert peak == pytest.approx(0.1, rel=0.05)  # 10x the set lr
    schedule.step_batch()  # extra steps (e.g. a skipped batch miscounted) do not fail


def test_one_cycle_works_with_an_optimizer_without_momentum():
    m = torch.nn.Linear(2, 2)
    opt = torch.optim.Adagrad(m.parameters(), lr=0.01)
    schedule = build_scheduler(Component("OneCycleLR", {}), opt, 2, 2)
    opt.step()
    schedule.step_batch()
    assert schedule.lr > 0.01 / 25


def test_plateau_reduces_after_patience_and_falls_back_to_train_loss():
    opt = _optimizer(0.1)
    schedule = build_scheduler(Component("ReduceLROnPlateau", {"patience": 2, "factor": 0.5}),
                               opt, 3, 10)
    schedule.step_epoch(None, 1.0)  # no validation split: the training loss counts
    for _ in range(2):
        schedule.step_epoch(None, 1.0)
        assert schedule.lr == pytest.approx(0.1)  # still within patience
    schedule.step_epoch(None, 1.0)
    assert schedule.lr == pytest.approx(0.05)
    schedule.step_epoch(0.5, 9.0)  # the validation loss wins when there is one: improved
    schedule.step_epoch(0.4, 9.0)
    assert schedule.lr == pytest.approx(0.05)


def test_state_dict_resumes_where_it_left_off():
    opt = _optimizer(0.1)
    a = build_scheduler(Component("StepLR", {"step_size": 2, "gamma": 0.5}), opt, 3, 10)
    opt.step()
    for _ in range(3):
        a.step_epoch(None)
    state = a.state_dict()
    opt2 = _optimizer(0.1)
    b = build_scheduler(Component("StepLR", {"step_size": 2, "gamma": 0.5}), opt2, 3, 10)
    opt2.load_state_dict(opt.state_dict())  # a resume restores both, as a checkpoint holds
    b.load_state_dict(state)
    opt2.step()
    b.step_epoch(None)
    a.step_epoch(None)
    assert b.lr == pytest.approx(a.lr) == pytest.approx(0.025)
    c = build_scheduler(Component("ExponentialLR", {}), _optimizer(), 3, 10)
    with pytest.raises(SpecError, match="StepLR"):
        c.load_state_dict(state)


@pytest.mark.parametrize("spec, epochs, field", [
    (Component("MultiStepLR", {"milestones": [5, 3]}), 10, "scheduler.params.milestones"),
    (Component("MultiStepLR", {"milestones": []}), 10, "scheduler.params.milestones"),
    (Component("CosineAnnealingLR", {"warmup_epochs": 5}), 5,
     "scheduler.params.warmup_epochs"),
])
def test_bad_settings_name_the_field(spec, epochs, field):
    with pytest.raises(SpecError) as e:
        build_scheduler(spec, _optimizer(), 3, epochs)
    assert e.value.field == field


def test_experiment_defaults_to_no_schedule_and_checks_it():
    exp = Experiment()
    assert exp.scheduler.type == "none"
    back = Experiment.from_json(exp.validate().to_json())
    assert back.scheduler.type == "none"
    exp = Experiment.from_dict({"scheduler": {"type": "StepLR", "params": {"gamma": 0.5}}})
    assert exp.scheduler.params["step_size"] == 10  # defaults filled in
    with pytest.raises(SpecError) as e:
        Experiment.from_dict({"scheduler": {"type": "Cosine"}})
    assert e.value.field == "scheduler.type" and "CosineAnnealingLR" in str(e.value)
    with pytest.raises(SpecError) as e:
        Experiment.from_dict({"scheduler": {"type": "StepLR", "params": {"step_size": 0}}})
    assert e.value.field == "scheduler.params.step_size"


def test_every_setting_explains_itself():
    for entry in SCHEDULERS:
        assert entry.help, entry.name
        for p in entry.params:
            assert len(p.help) > 20, f"{entry.name}.{p.name}"


def test_trainer_without_a_schedule_keeps_the_lr_and_records_it(tiny_experiment):
    result = Trainer(tiny_experiment).fit()
    assert [m["lr"] for m in result.history] == [0.01, 0.01]


def test_trainer_with_cosine_records_a_falling_lr(tiny_experiment):
    tiny_experiment.training.epochs = 3
    tiny_experiment.scheduler = Component("CosineAnnealingLR", {})
    result = Trainer(tiny_experiment).fit()
    lrs = [m["lr"] for m in result.history]
    assert lrs[0] == pytest.approx(0.01)
    assert lrs[0] > lrs[1] > lrs[2]


def test_trainer_steps_one_cycle_every_batch(tiny_experiment):
    tiny_experiment.scheduler = Component("OneCycleLR", {})
    trainer = Trainer(tiny_experiment)
    trainer.fit()
    assert trainer.schedule.batch_steps == 2 * len(trainer.train_loader)
    assert trainer.schedule.lr < 0.01 / 25  # annealed far below the start
