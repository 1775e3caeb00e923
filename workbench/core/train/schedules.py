"""Learning-rate schedules: a registry, and one :class:`Schedule` interface over them.

Each entry declares the settings a user may give; :func:`build_scheduler` turns the
Experiment's ``scheduler`` component into a :class:`Schedule` the Trainer drives the same way
whatever it wraps: :meth:`Schedule.step_batch` after every optimizer step and
:meth:`Schedule.step_epoch` after every epoch. Which of the two moves the learning rate
depends on the entry: OneCycleLR changes it every batch, ReduceLROnPlateau after an epoch
from the loss, the others once per epoch (as in PyTorch's own examples), so their settings
(``step_size``, ``milestones``, ``T_max``) are counted in epochs.

The epoch-based schedules take an optional linear warm-up: ``warmup_epochs`` epochs that ramp
the learning rate up to its set value before the schedule proper starts (its epoch counts
start after the warm-up).

Every schedule but ReduceLROnPlateau (which follows the loss, with no end) is planned over
the run's epochs, and past that end it holds the rate its last planned epoch trained at: a
run continued past it trains on at that rate (CosineAnnealingLR, periodic past ``T_max``,
trained its next epoch at ``eta_min``, 0, and then climbed back towards the set rate).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import lr_scheduler

from workbench.core.errors import SpecError
from workbench.core.registry import Component
from workbench.core.registry import Param, Registry

SCHEDULERS = Registry("scheduler")

_WARMUP = Param("warmup_epochs", int, 0, min=0, max=10000,
                help="Epochs that ramp the learning rate linearly up to its set value before "
                     "the schedule starts; 1-5 steadies the first steps of a large lr or of "
                     "fine-tuning. 0: no warm-up.")
_GAMMA_STEP = Param("gamma", float, 0.1, min=0.0, max=1.0,
                    help="Factor the learning rate is multiplied by at each drop; 0.1 is "
                         "typical.")


class Schedule:
    """A learning-rate schedule with one interface for every kind.

    Parameters
    ----------
    name
        The registry entry's name (``"none"`` for a constant learning rate).
    optimizer
        The optimizer whose groups' ``lr`` it sets.
    scheduler
        The wrapped PyTorch scheduler, or ``None`` for a constant learning rate.
    per_batch
        Step the wrapped scheduler after every optimizer step (else after every epoch).
    on_loss
        Step it with the epoch's loss (ReduceLROnPlateau).
    total_steps
        Most batch steps the wrapped scheduler accepts (OneCycleLR fails past its end);
        ``None``: no limit.
    total_epochs
        The epochs an epoch-stepped schedule is planned over: past them it holds its last
        rate; ``None``: no end (ReduceLROnPlateau, or a per-batch schedule).
    """

    def __init__(self, name: str, optimizer: torch.optim.Optimizer, scheduler: Any = None,
                 per_batch: bool = False, on_loss: bool = False,
                 total_steps: int | None = None, total_epochs: int | None = None):
        self.name = name
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.per_batch = per_batch
        self.on_loss = on_loss
        self.total_steps = total_steps
        self.total_epochs = total_epochs
        self.batch_steps = 0

    @property
    def has_end(self) -> bool:
        """Whether it is planned over the run's epochs and holds its last rate past them
        (every schedule but "none" and ReduceLROnPlateau)."""
        return self.scheduler is not None and not self.on_loss

    @property
    def lr(self) -> float:
        """The first parameter group's current learning rate."""
        return float(self.optimizer.param_groups[0]["lr"])

    def lrs(self) -> list[float]:
        """Every parameter group's current learning rate."""
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def step_batch(self) -> None:
        """Call after every optimizer step."""
        self.batch_steps += 1
        if self.scheduler is None or not self.per_batch:
            return
        # The rate for batch k+1 is set after batch k, so a run of N batches needs N-1
        # steps; stepping after the last batch would run past the schedule's end (OneCycleLR
        # fails there). Skipped batches only leave steps over, and the final rate holds.
        if self.total_steps is not None and self.batch_steps >= self.total_steps:
            return
        self.scheduler.step()

    def step_epoch(self, val_loss: float | None, train_loss: float | None = None) -> None:
        """Call after every epoch with its validation loss (``None`` without a validation
        split) and training loss; a loss-driven schedule uses the validation loss when
        there is one, else the training loss, and skips an epoch with neither."""
        if self.scheduler is None or self.per_batch:
            return
        if self.on_loss:
            loss = val_loss if val_loss is not None else train_loss
            if loss is not None:
                self.scheduler.step(float(loss))
            return
        # The rate for epoch k+1 is set after epoch k: the last planned epoch needs no step
        # after it, and past it the rate it trained at holds.
        if self.total_epochs is not None and \
                self.scheduler.last_epoch >= self.total_epochs - 1:
            return
        self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        """The schedule's progress, to resume it with :meth:`load_state_dict`."""
        return {"name": self.name, "batch_steps": self.batch_steps,
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the progress :meth:`state_dict` saved (from a schedule of the same kind)."""
        if state.get("name") != self.name:
            raise SpecError("scheduler.type", f"the checkpoint was saved with the "
                                              f"{state.get('name')!r} schedule, not "
                                              f"{self.name!r}: resume with the same schedule")
        self.batch_steps = int(state.get("batch_steps", 0))
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])


# -- entries: each builder returns (torch scheduler or None, its epoch-count in use) ----------
# Builders take the optimizer, steps_per_epoch and the epochs the schedule proper spans
# (after any warm-up) before the declared parameters.

@SCHEDULERS.register("none", help="Keep the learning rate constant.")
def _none(optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int) -> None:
    return None


@SCHEDULERS.register("StepLR", params=[
    Param("step_size", int, 10, min=1, max=100000,
          help="Epochs between drops; about a third of the run is typical."),
    _GAMMA_STEP, _WARMUP,
], help="Multiply the learning rate by gamma every step_size epochs.", warmup=True)
def _step(optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int,
          step_size: int, gamma: float) -> Any:
    return lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)


@SCHEDULERS.register("MultiStepLR", params=[
    Param("milestones", list, [30, 80], min=1, max=100000, item_type=int,
          help="Epochs (counted after any warm-up) at which the learning rate drops, in "
               "increasing order, e.g. [30, 80] for a 100-epoch run."),
    _GAMMA_STEP, _WARMUP,
], help="Multiply the learning rate by gamma at each of the listed epochs.", warmup=True)
def _multistep(optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int,
               milestones: list[int], gamma: float) -> Any:
    if not milestones:
        raise SpecError("scheduler.params.milestones", "give at least one epoch, e.g. [30, 80]")
    if any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise SpecError("scheduler.params.milestones", f"{milestones} must increase: list the "
                                                       f"epochs in order, each once")
    return lr_scheduler.MultiStepLR(optimizer, milestones=list(milestones), gamma=gamma)


@SCHEDULERS.register("ExponentialLR", params=[
    Param("gamma", float, 0.95, min=0.0, max=1.0,
          help="Factor the learning rate is multiplied by after every epoch; 0.9-0.99 is "
               "typical (0.95 halves it in about 14 epochs)."),
    _WARMUP,
], help="Multiply the learning rate by gamma after every epoch.", warmup=True)
def _exponential(optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int,
                 gamma: float) -> Any:
    return lr_scheduler.ExponentialLR(optimizer, gamma=gamma)


@SCHEDULERS.register("CosineAnnealingLR", params=[
    Param("T_max", int, None, min=1, max=100000, auto="the epochs left after warm-up",
          help="Epochs from the set learning rate down to eta_min along a half cosine; "
               "leave empty to end exactly at the last epoch."),
    Param("eta_min", float, 0.0, min=0.0, max=10.0, log=True,
          help="The learning rate it ends at; 0 or about 1/100 of the set lr is typical."),
    _WARMUP,
], help="Lower the learning rate along a half cosine to eta_min: a strong default for "
        "training from scratch, especially with a warm-up.", warmup=True)
def _cosine(optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int,
            T_max: int | None, eta_min: float) -> Any:
    return lr_scheduler.CosineAnnealingLR(optimizer, T_max=T_max or max(1, epochs),
                                          eta_min=eta_min)


@SCHEDULERS.register("OneCycleLR", params=[
    Param("max_lr_factor", float, 10.0, min=1.0, max=1000.0, log=True,
          help="Peak learning rate as a multiple of the set lr (each parameter group's own, "
               "so a scaled backbone keeps its ratio); 10 is typical, or take the set lr "
               "from the LR finder and use 1-10."),
    Param("pct_start", float, 0.3, min=0.0, max=1.0,
          help="Share of the run spent rising to the peak; 0.25-0.3 is typical."),
    Param("anneal_strategy", str, "cos", choices=("cos", "linear"),
          help="Shape of the rise and fall: cos (smooth, usual) or linear."),
    Param("div_factor", float, 25.0, min=1.0, max=1e6, log=True,
          help="The run starts at peak / div_factor; 25 is typical."),
    Param("final_div_factor", float, 1e4, min=1.0, max=1e9, log=True,
          help="The run ends at start / final_div_factor; 1e4 is typical."),
    Param("cycle_momentum", bool, True,
          help="Lower the momentum (or Adam's first beta) while the lr rises and raise it "
               "again as it falls; ignored by optimizers without momentum."),
], help="One cycle (Smith): rise from a low learning rate to a peak, then anneal far below "
        "the start, changing every batch. Fast training in few epochs.", per_batch=True)
def _one_cycle(optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int,
               max_lr_factor: float, pct_start: float, anneal_strategy: str,
               div_factor: float, final_div_factor: float, cycle_momentum: bool) -> Any:
    defaults = optimizer.defaults
    has_momentum = defaults.get("momentum", 0) > 0 or "betas" in defaults
    # The peak is relative to each group's own lr: a backbone at 0.1x keeps 0.1x throughout.
    max_lr = [float(g["lr"]) * max_lr_factor for g in optimizer.param_groups]
    return lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr,
                                   total_steps=max(1, epochs * steps_per_epoch),
                                   pct_start=pct_start, anneal_strategy=anneal_strategy,
                                   div_factor=div_factor, final_div_factor=final_div_factor,
                                   cycle_momentum=cycle_momentum and has_momentum)


@SCHEDULERS.register("ReduceLROnPlateau", params=[
    Param("factor", float, 0.1, min=0.0, max=0.999,
          help="Factor the learning rate is multiplied by when the loss stalls; 0.1-0.5 is "
               "typical."),
    Param("patience", int, 5, min=0, max=100000,
          help="Epochs without improvement before the lr drops; 3-10 is typical."),
    Param("threshold", float, 1e-4, min=0.0, max=1.0, log=True,
          help="Smallest relative fall of the loss that counts as improvement; 1e-4 is "
               "typical."),
    Param("cooldown", int, 0, min=0, max=100000,
          help="Epochs to wait after a drop before watching the loss again; 0 is typical."),
    Param("min_lr", float, 0.0, min=0.0, max=10.0, log=True,
          help="The learning rate never drops below this; 0 or about 1/1000 of the set lr."),
], help="Lower the learning rate when the validation loss (the training loss without a "
        "validation split) stops improving.", on_loss=True)
def _plateau(optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int,
             factor: float, patience: int, threshold: float, cooldown: int,
             min_lr: float) -> Any:
    return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=factor,
                                          patience=patience, threshold=threshold,
                                          cooldown=cooldown, min_lr=min_lr)


def auto_values(spec: Component, epochs: int) -> dict[str, int]:
    """What the "auto" settings of the schedule ``spec`` resolve to in an ``epochs``-epoch
    run, as :func:`build_scheduler` resolves them: a cosine's ``T_max`` is the epochs left
    after the warm-up."""
    if spec.type != "CosineAnnealingLR":
        return {}
    warmup = spec.params.get("warmup_epochs") or 0
    return {"T_max": max(1, int(epochs) - int(warmup))}


def build_scheduler(spec: Component, optimizer: torch.optim.Optimizer, steps_per_epoch: int,
                    epochs: int) -> Schedule:
    """Build the :class:`Schedule` ``spec`` names over ``optimizer``.

    Parameters
    ----------
    spec
        The Experiment's ``scheduler`` component (``Component("none")``: constant lr).
    optimizer
        The built optimizer; its groups' current ``lr`` are the values the schedule starts
        from (and OneCycleLR's peaks are multiples of).
    steps_per_epoch
        Optimizer steps in one epoch (the training loader's length).
    epochs
        Epochs in the run.

    Raises
    ------
    SpecError
        Naming ``scheduler.params.<name>`` for a bad value, such as a warm-up as long as
        the run or milestones out of order.
    """
    entry = SCHEDULERS.get(spec.type, "scheduler.type")
    params = entry.validate(spec.params, "scheduler.params")
    warmup = int(params.pop("warmup_epochs", 0))
    if warmup and warmup >= epochs:
        raise SpecError("scheduler.params.warmup_epochs",
                        f"a warm-up of {warmup} epoch(s) leaves nothing of a {epochs}-epoch run "
                        f"for the schedule: use fewer warm-up epochs or train longer")
    steps_per_epoch = max(1, int(steps_per_epoch))
    main = entry.builder(optimizer, steps_per_epoch, epochs - warmup, **params)
    if main is not None and warmup:
        # Ramp from 1/(w+1) of the lr, so the first epoch already learns, to the full lr;
        # the schedule proper then counts its epochs from the end of the ramp.
        ramp = lr_scheduler.LinearLR(optimizer, start_factor=1.0 / (warmup + 1),
                                     end_factor=1.0, total_iters=warmup)
        main = lr_scheduler.SequentialLR(optimizer, [ramp, main], milestones=[warmup])
    per_batch, on_loss = bool(entry.meta.get("per_batch")), bool(entry.meta.get("on_loss"))
    return Schedule(entry.name, optimizer, main, per_batch=per_batch, on_loss=on_loss,
                    total_steps=epochs * steps_per_epoch if per_batch else None,
                    total_epochs=None if per_batch or on_loss else epochs)


def end_factor(spec: Component, epochs: int) -> float | None:
    """The share of the set learning rate that the schedule ``spec``, planned over
    ``epochs`` epochs, trains its last epoch at (and holds past it): about 0.017 for a
    cosine over 12 epochs, 4e-5 for OneCycleLR's defaults. None for a schedule without an
    end (none, ReduceLROnPlateau) or one that cannot be built."""
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=1.0)
    try:
        schedule = build_scheduler(spec, optimizer, 1, max(1, int(epochs)))
    except (SpecError, ValueError, TypeError, ZeroDivisionError):
        return None
    if not schedule.has_end:
        return None
    optimizer.step()  # (no gradient: nothing moves; torch wants a step before the schedule's)
    for _ in range(max(1, int(epochs)) - 1):  # one step a batch (of 1) or an epoch
        schedule.step_batch()
        schedule.step_epoch(None)
    return schedule.lr
