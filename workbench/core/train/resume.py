"""Continuing a run: what the trainer saves in a checkpoint and how it restores it.

:class:`Resumable` is mixed into :class:`~workbench.core.train.trainer.Trainer`; it works on
the attributes the trainer's setup creates (model, optimizer, schedule, grad scaler, the
loader's generator). Callbacks keep their own state in the checkpoint: every callback with a
``state_key`` is saved under ``"callbacks"`` and handed its state back on resuming.
"""

from __future__ import annotations

from typing import Any

import torch

from workbench.core.train.optim import optimizer_lr

#: The key each optimizer parameter group keeps its set learning rate under (the rate the
#: run was configured with, before any schedule): saved with the optimizer state, so a
#: resume knows the rate the checkpoint was trained at whatever experiment it is given.
SET_LR = "set_lr"


class Resumable:
    """Checkpoint payload and restore, for :class:`~workbench.core.train.trainer.Trainer`."""

    def checkpoint_payload(self) -> dict[str, Any]:
        """Everything :func:`~workbench.core.train.checkpoint.save_checkpoint` stores to
        continue this run from the end of its last finished epoch.

        Call it from ``on_epoch_end``: the random-number generators are captured as they
        are then, which is where a resumed run starts drawing.
        """
        from workbench.core.train.checkpoint import rng_state

        return {
            "experiment": self.experiment.to_dict(), "classes": list(self.classes),
            "epoch": self.epochs_done, "history": [dict(m) for m in self.history],
            "model": self._epoch_weights(),
            "optimizer": _to_cpu(self.optimizer.state_dict()),
            "schedule": _to_cpu(self.schedule.state_dict()),
            "scaler": self._scaler.state_dict() if self._scaler is not None else None,
            "rng": rng_state(self._gen),
            # The best epoch at the top level too: what the run's other readers (and the
            # checkpoints of earlier versions) know it by.
            "best": dict(self.tracker.best) if self.tracker.best else None,
            "bad_epochs": self.tracker.bad_epochs, "steps": self.steps,
            "callbacks": {cb.state_key: cb.state_dict() for cb in self.hooks if cb.state_key},
            "schedule_epochs": self.schedule_epochs, "elapsed": self.elapsed,
        }

    def _epoch_weights(self) -> dict[str, torch.Tensor]:
        """The weights at the end of the last finished epoch: the copy the trainer kept
        then (no second copy), or the model's own when none was kept."""
        state = getattr(self, "_finished_state", None)
        if state is not None and not getattr(self, "_dirty", False):
            return state
        return _to_cpu(self.model.state_dict())

    def _check_checkpoint(self, ckpt: Any) -> None:
        from workbench.core.train.checkpoint import CheckpointError

        if list(ckpt.classes) != self.classes:
            raise CheckpointError(f"the dataset's classes changed since the checkpoint "
                                  f"({_class_change(list(ckpt.classes), self.classes)}): a "
                                  f"run resumes on the data it was trained on; start a new "
                                  f"run instead")
        then = [c.to_dict() for c in ckpt.experiment.model.layers]
        now = [c.to_dict() for c in self.experiment.model.layers]
        if then != now or ckpt.experiment.data.input_size != self.experiment.data.input_size:
            raise CheckpointError("the network or input size differs from the checkpoint's: a "
                                  "run resumes with the network it was trained with; start a "
                                  "new run to train the edited one")

    def _restore(self, ckpt: Any) -> list[str]:
        """Load ``ckpt``'s state into the freshly set-up run; returns notes for the user."""
        from workbench.core.train.checkpoint import CheckpointError, set_rng_state

        notes = []
        # The rates this run is set to (as built from its experiment), before the
        # checkpoint's optimizer state replaces them with the saved ones.
        set_now = [float(g.get(SET_LR, g["lr"])) for g in self.optimizer.param_groups]
        try:
            self.model.load_state_dict(ckpt.model)
            self.optimizer.load_state_dict(ckpt.optimizer)
            self.schedule.load_state_dict(ckpt.schedule)
        except (RuntimeError, ValueError, KeyError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise CheckpointError(f"{ckpt.path}: its state does not fit this run ({first}); "
                                  f"resume with the run's own experiment") from None
        if self._scaler is not None and ckpt.scaler:
            self._scaler.load_state_dict(ckpt.scaler)
        notes.extend(self._restore_lr(ckpt, set_now))
        self.history = [dict(m) for m in ckpt.history]
        self.epochs_done = int(ckpt.epoch)
        self.steps = int(ckpt.steps)
        self.elapsed = float(ckpt.elapsed)
        for cb in self.hooks:  # early stopping's best epoch and patience, and the rest
            if cb.state_key and cb.state_key in ckpt.callbacks:
                cb.load_state_dict(dict(ckpt.callbacks[cb.state_key]))
        if self.experiment.training.epochs > self.schedule_epochs \
                and self.experiment.scheduler.type != "none":
            notes.append(f"the {self.experiment.scheduler.type} schedule was planned for "
                         f"{self.schedule_epochs} epochs and keeps that plan; past its end it "
                         f"follows its own rule")
        # Last: everything above may draw random numbers; the run goes on from the
        # generators' state at the checkpoint.
        set_rng_state(ckpt.rng, self._gen)
        return notes

    def _restore_lr(self, ckpt: Any, set_now: list[float]) -> list[str]:
        """Move the restored optimizer and schedule to the rates this run is set to.

        The old rates come from the optimizer state itself (each group's ``set_lr``), so
        it does not matter how the caller built the new experiment (``workbench resume
        --lr`` edits the checkpoint's own in place); a checkpoint saved before groups kept
        them falls back to the rate read from the file (:attr:`Checkpoint.lr`). A schedule
        keeps its progress: a rate it had decayed to a tenth stays a tenth of the new one.
        """
        groups = self.optimizer.param_groups
        saved = [g.get(SET_LR) for g in groups]
        new_lr = optimizer_lr(self.experiment.optimizer)
        old_lr = ckpt.lr if ckpt.lr is not None else optimizer_lr(ckpt.experiment.optimizer)
        if len(saved) == len(set_now) and all(isinstance(v, (int, float)) for v in saved):
            then = [float(v) for v in saved]
        else:
            then = [now * old_lr / new_lr if new_lr else old_lr for now in set_now]
        # A group saved at rate 0 gives no ratio: it is left at what it was.
        ratios = [now / old if old > 0 else 1.0 for now, old in zip(set_now, then)]
        for group, now in zip(groups, set_now):
            group[SET_LR] = now  # what the next checkpoint says this run was set to
        if all(abs(r - 1.0) <= 1e-12 for r in ratios):
            return []
        self._scale_lr(ratios)
        return [f"learning rate changed from {old_lr:g} to {new_lr:g} on resuming"]

    def _scale_lr(self, ratios: list[float]) -> None:
        """Multiply every rate the optimizer and the schedule keep by each group's ratio:
        the groups' current ``lr`` (the next step uses it) and the values schedules
        compute from (``initial_lr``, OneCycleLR's ``max_lr``/``min_lr``, each scheduler's
        ``base_lrs``, including those inside a warm-up's SequentialLR)."""
        for group, ratio in zip(self.optimizer.param_groups, ratios):
            for key in ("lr", "initial_lr", "max_lr", "min_lr"):
                if isinstance(group.get(key), (int, float)):
                    group[key] *= ratio
        for scheduler in _schedulers(getattr(self.schedule, "scheduler", None)):
            for name in ("base_lrs", "_last_lr"):
                values = getattr(scheduler, name, None)
                if isinstance(values, list) and len(values) == len(ratios):
                    setattr(scheduler, name, [v * r for v, r in zip(values, ratios)])


def _class_change(then: list[str], now: list[str], shown: int = 3) -> str:
    """How two class lists differ, short whatever their length: ``"12 classes then, 11
    now: 'cat' is missing"``; the first few names each way, then how many more."""
    def names(items: list[str], verb: tuple[str, str]) -> str:
        listed = ", ".join(repr(c) for c in items[:shown])
        more = f" and {len(items) - shown} more" if len(items) > shown else ""
        return f"{listed}{more} {verb[len(items) == 1]}"

    gone, new = set(then) - set(now), set(now) - set(then)
    changes = []
    if gone:
        changes.append(names([c for c in then if c in gone], ("are missing", "is missing")))
    if new:
        changes.append(names([c for c in now if c in new], ("are new", "is new")))
    # The same names in another order would swap the labels just the same.
    what = "; ".join(changes) or "the same names in another order"
    return f"{len(then)} class{'es' * (len(then) != 1)} then, {len(now)} now: {what}"


def _schedulers(scheduler: Any) -> list[Any]:
    """A torch scheduler and those it chains (SequentialLR's warm-up and main part)."""
    if scheduler is None:
        return []
    found = [scheduler]
    for inner in getattr(scheduler, "_schedulers", None) or ():
        found.extend(_schedulers(inner))
    return found


def _to_cpu(value: Any) -> Any:
    """A copy of a state dict with every tensor on the CPU (checkpoints load anywhere)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
