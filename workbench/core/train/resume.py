"""Continuing a run: what the trainer saves in a checkpoint and how it restores it.

:class:`Resumable` is mixed into :class:`~workbench.core.train.trainer.Trainer`; it works on
the attributes the trainer's setup creates (model, optimizer, schedule, grad scaler, tracker,
the loader's generator).
"""

from __future__ import annotations

from typing import Any

import torch

from .control import BestTracker
from .optim import optimizer_lr


class Resumable:
    """Checkpoint payload and restore, for :class:`~workbench.core.train.trainer.Trainer`."""

    def checkpoint_payload(self) -> dict[str, Any]:
        """Everything :func:`~workbench.core.train.checkpoint.save_checkpoint` stores to
        continue this run from the end of its last finished epoch.

        Call it from ``on_epoch_end``: the random-number generators are captured as they
        are then, which is where a resumed run starts drawing.
        """
        from .checkpoint import rng_state

        return {
            "experiment": self.experiment.to_dict(), "classes": list(self.classes),
            "epoch": self.epochs_done, "history": [dict(m) for m in self.history],
            "model": self._epoch_weights(),
            "optimizer": _to_cpu(self.optimizer.state_dict()),
            "schedule": _to_cpu(self.schedule.state_dict()),
            "scaler": self._scaler.state_dict() if self._scaler is not None else None,
            "rng": rng_state(self._gen),
            "best": dict(self.tracker.best) if self.tracker.best else None,
            "bad_epochs": self.tracker.bad_epochs, "steps": self.steps,
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
        from .checkpoint import CheckpointError

        if list(ckpt.classes) != self.classes:
            raise CheckpointError(f"the dataset's classes changed since the checkpoint "
                                  f"({', '.join(ckpt.classes)} then; "
                                  f"{', '.join(self.classes)} now): a run resumes on the data "
                                  f"it was trained on; start a new run instead")
        then = [c.to_dict() for c in ckpt.experiment.model.layers]
        now = [c.to_dict() for c in self.experiment.model.layers]
        if then != now or ckpt.experiment.data.input_size != self.experiment.data.input_size:
            raise CheckpointError("the network or input size differs from the checkpoint's: a "
                                  "run resumes with the network it was trained with; start a "
                                  "new run to train the edited one")

    def _restore(self, ckpt: Any) -> list[str]:
        """Load ``ckpt``'s state into the freshly set-up run; returns notes for the user."""
        from .checkpoint import CheckpointError, set_rng_state

        notes = []
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
        old_lr = optimizer_lr(ckpt.experiment.optimizer)
        new_lr = optimizer_lr(self.experiment.optimizer)
        if old_lr and new_lr and abs(new_lr - old_lr) > 1e-12 * old_lr:
            self._scale_lr(new_lr / old_lr)
            notes.append(f"learning rate changed from {old_lr:g} to {new_lr:g} on resuming")
        self.history = [dict(m) for m in ckpt.history]
        self.epochs_done = int(ckpt.epoch)
        self.steps = int(ckpt.steps)
        self.elapsed = float(ckpt.elapsed)
        bad = ckpt.bad_epochs
        patience = self.tracker.patience
        if patience is not None and bad >= patience:
            bad = 0  # it had stopped early: resuming asks for more epochs, give them
        self.tracker = BestTracker(self.tracker.metric, self.tracker.min_delta, patience,
                                   ckpt.best, bad)
        if self.experiment.training.epochs > self.schedule_epochs \
                and self.experiment.scheduler.type != "none":
            notes.append(f"the {self.experiment.scheduler.type} schedule was planned for "
                         f"{self.schedule_epochs} epochs and keeps that plan; past its end it "
                         f"follows its own rule")
        # Last: everything above may draw random numbers; the run goes on from the
        # generators' state at the checkpoint.
        set_rng_state(ckpt.rng, self._gen)
        return notes

    def _scale_lr(self, ratio: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] *= ratio
            if "initial_lr" in group:
                group["initial_lr"] *= ratio
        scheduler = getattr(self.schedule, "scheduler", None)
        if scheduler is not None and hasattr(scheduler, "base_lrs"):
            scheduler.base_lrs = [lr * ratio for lr in scheduler.base_lrs]


def _to_cpu(value: Any) -> Any:
    """A copy of a state dict with every tensor on the CPU (checkpoints load anywhere)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
