"""Continuing a run: what the trainer saves in a checkpoint and how it restores it.

:class:`Resumable` is mixed into :class:`~workbench.core.train.trainer.Trainer`; it works on
the attributes the trainer's setup creates (model, optimizer, schedule, grad scaler, the
loader's generator). Callbacks keep their own state in the checkpoint: every callback with a
``state_key`` is saved under ``"callbacks"`` and handed its state back on resuming.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.train.optim import optimizer_lr
from workbench.core.train.regroup import (network_of, regroup_schedule, regrouped,
                                          trainable_notes)

#: The key each optimizer parameter group keeps its set learning rate under (the rate the
#: run was configured with, before any schedule): saved with the optimizer state, so a
#: resume knows the rate the checkpoint was trained at whatever experiment it is given.
SET_LR = "set_lr"

#: Optimizer settings that, turned on, need per-weight state the optimizer keeps only while
#: they are on (torch's Adam and AdamW keep ``max_exp_avg_sq`` only with amsgrad; RMSprop
#: keeps ``grad_avg`` only when centred and ``momentum_buffer`` only with momentum): a
#: checkpoint saved with one off cannot go on with it on (measured: KeyError at the first
#: step). Turning one off, and every other setting, is applied on resuming.
STATEFUL_SETTINGS = {"Adam": ("amsgrad",), "AdamW": ("amsgrad",),
                     "RMSprop": ("centered", "momentum")}

#: A schedule whose rate ended under this share of the set rate has ended "near zero":
#: epochs added past its end barely move the weights (OneCycleLR ends at 4e-5 of it;
#: measured, 3e-5 of the validation loss an epoch, BatchNorm's statistics alone).
NEAR_ZERO = 0.01

#: The rates an optimizer group keeps (its current one, and those schedules compute from).
RATES = ("lr", "initial_lr", "max_lr", "min_lr")


def check_resumable(then: Experiment, now: Experiment) -> None:
    """Refuse to continue a run saved with experiment ``then`` as experiment ``now`` when
    the checkpoint cannot carry over: another network or input size, another schedule or
    optimizer type, or an optimizer setting (:data:`STATEFUL_SETTINGS`) turned on that
    needs state the checkpoint does not hold. A Backbone's mode, backbone_lr_scale and
    weights are not the network's shapes (:data:`~workbench.core.train.regroup.UNSHAPED`):
    they may change. Cheap (it reads the two experiments only), so
    a front end can ask before it says or writes anything; the trainer asks again.

    Raises
    ------
    CheckpointError
        For another network or input size.
    SpecError
        Naming ``scheduler.type``, ``optimizer.type`` or ``optimizer.params.<name>``.
    """
    from workbench.core.train.checkpoint import CheckpointError

    if network_of(then.model.layers) != network_of(now.model.layers) \
            or list(then.data.input_size) != list(now.data.input_size):
        raise CheckpointError("the network or input size differs from the checkpoint's: a "
                              "run resumes with the network it was trained with (only a "
                              "Backbone's mode and backbone_lr_scale may change); start a "
                              "new run to train the edited one")
    if then.scheduler.type != now.scheduler.type:  # its progress is the checkpoint's
        raise SpecError("scheduler.type", f"the checkpoint was saved with the "
                                          f"{then.scheduler.type!r} schedule, not "
                                          f"{now.scheduler.type!r}: resume with the same "
                                          f"schedule, or start a new run with "
                                          f"{now.scheduler.type!r}")
    old, new = then.optimizer, now.optimizer
    if old.type != new.type:
        raise SpecError("optimizer.type", f"the run was trained with {old.type} and its "
                                          f"checkpoint holds {old.type}'s state, which "
                                          f"{new.type} cannot continue from: resume with "
                                          f"{old.type} (its learning rate may change, with "
                                          f"--lr), or start a new run with {new.type}")
    for name in STATEFUL_SETTINGS.get(new.type, ()):
        before, after = old.params.get(name), new.params.get(name)
        if not before and after:
            was, wanted = json.dumps(before), json.dumps(after)  # as --set takes them
            raise SpecError(f"optimizer.params.{name}",
                            f"the run was trained with {name} {was}, and {name} {wanted} "
                            f"needs state its checkpoint's {new.type} optimizer did not "
                            f"keep: resume with {name} {was}, or start a new run with "
                            f"{name} {wanted}")


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
        check_same_classes(list(ckpt.classes), self.classes)
        check_resumable(ckpt.experiment, self.experiment)

    def _restore(self, ckpt: Any) -> list[str]:
        """Load ``ckpt``'s state into the freshly set-up run; returns notes for the user."""
        from workbench.core.train.checkpoint import CheckpointError, set_rng_state

        # First: the run goes on from best.pt because its last.pt is damaged or gone.
        notes = [ckpt.note] if getattr(ckpt, "note", "") else []
        # The rates this run is set to (as built from its experiment), before the
        # checkpoint's optimizer state replaces them with the saved ones.
        set_now = [float(g.get(SET_LR, g["lr"])) for g in self.optimizer.param_groups]
        # The settings this run is built with: loading the optimizer's state puts the saved
        # ones back, and those the experiment changes are then set again.
        fresh = [{k: v for k, v in g.items() if k != "params"}
                 for g in self.optimizer.param_groups]
        then, now = ckpt.experiment.model.layers, self.experiment.model.layers
        try:
            self.model.load_state_dict(ckpt.model)
            # A Backbone that trains now and did not (or the reverse): other groups.
            state, sources = regrouped(self.model, then, now, ckpt.optimizer,
                                       self.optimizer, RATES + (SET_LR,))
            self.optimizer.load_state_dict(state)
            self.schedule.load_state_dict(ckpt.schedule)
            if sources is not None:
                regroup_schedule(_schedulers(getattr(self.schedule, "scheduler", None)),
                                 sources, len(ckpt.optimizer["param_groups"]))
        except (RuntimeError, ValueError, KeyError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise CheckpointError(f"{ckpt.path}: its state does not fit this run ({first}); "
                                  f"resume with the run's own experiment") from None
        if self._scaler is not None and ckpt.scaler:
            self._scaler.load_state_dict(ckpt.scaler)
        notes.extend(self._restore_settings(ckpt, fresh))
        trains = trainable_notes(then, now)  # what trains now, and at which rate
        notes.extend(trains)
        # A schedule holds its last rate past its end (:mod:`.schedules`): no progress is
        # left to keep there.
        past_end = ckpt.epoch >= self.schedule_epochs and self.schedule.has_end
        notes.extend(self._restore_lr(ckpt, set_now, past_end, said=bool(trains)))
        self.history = [dict(m) for m in ckpt.history]
        self.epochs_done = int(ckpt.epoch)
        self.steps = int(ckpt.steps)
        self.elapsed = float(ckpt.elapsed)
        for cb in self.hooks:  # early stopping's best epoch and patience, and the rest
            if cb.state_key and cb.state_key in ckpt.callbacks:
                cb.load_state_dict(dict(ckpt.callbacks[cb.state_key]))
        if self.experiment.training.epochs != ckpt.experiment.training.epochs or \
                self.early_stopping.tracker.should_stop:
            # "N more" (resume --epochs N), or a run early stopping ended: the epochs asked
            # for are given, not cut short by the patience used before (the best epoch is
            # kept).
            afresh = self.early_stopping.count_afresh(int(ckpt.epoch) + 1)
            notes.extend([afresh] if afresh else [])
        change = self.split_keeper.change
        if change is not None and change.val_changed:
            afresh = self.early_stopping.start_afresh(int(ckpt.epoch) + 1, change.val_now)
            notes.extend([afresh] if afresh else [])
        notes.extend(self._restore_best_weights(ckpt))
        if self.experiment.training.epochs > self.schedule_epochs \
                and self.experiment.scheduler.type != "none":
            notes.append(self._schedule_note(past_end, set_now, self._rate_given(ckpt)))
        # Last: everything above may draw random numbers; the run goes on from the
        # generators' state at the checkpoint.
        set_rng_state(ckpt.rng, self._gen)
        return notes

    def _restore_best_weights(self, ckpt: Any) -> list[str]:
        """The best epoch's weights when it was an earlier segment's, for early stopping's
        ``restore_best`` to go back to: the checkpoint's own when the best epoch is its
        epoch (a run stopped right after a new best), else from ``best.pt`` beside
        ``last.pt``; a note when they cannot be read."""
        from workbench.core.train.checkpoint import BEST, CheckpointError, load_checkpoint

        best = self.tracker.best
        if not (self.early_stopping.restore_best and best) or \
                int(best["epoch"]) > int(ckpt.epoch):
            return []
        if int(best["epoch"]) == int(ckpt.epoch):  # the weights just loaded are the best
            self._best_state = _to_cpu(ckpt.model)
            return []
        path = Path(str(ckpt.path)).with_name(BEST)
        try:
            kept = load_checkpoint(path)
        except (CheckpointError, OSError) as e:
            return [f"the best epoch's weights (epoch {best['epoch']}) cannot be read from "
                    f"{path} ({e}): if early stopping ends this run, it keeps the last "
                    f"epoch's"]
        if int(kept.epoch) != int(best["epoch"]):
            return [f"{path} holds epoch {kept.epoch}, not the best epoch {best['epoch']}: if "
                    f"early stopping ends this run, it keeps the last epoch's weights"]
        self._best_state = _to_cpu(kept.model)
        return []

    def _restore_settings(self, ckpt: Any, fresh: list[dict[str, Any]]) -> list[str]:
        """Set the optimizer settings (other than the rate) that this run's experiment
        changes from the checkpoint's back on the restored optimizer's groups, from the
        groups as built (``fresh``), which loading the saved state had replaced."""
        old, new = ckpt.experiment.optimizer.params, self.experiment.optimizer.params
        changed = [k for k in new if k != "lr" and new[k] != old.get(k)]
        groups = self.optimizer.param_groups
        applied = []
        for key in changed:
            if len(fresh) == len(groups) and all(key in f for f in fresh):
                for group, built in zip(groups, fresh):
                    group[key] = built[key]
                applied.append(f"{key} {json.dumps(old.get(key))} to "
                               f"{json.dumps(new[key])}")
        return [f"optimizer settings changed on resuming: {', '.join(applied)}"] \
            if applied else []

    def _schedule_note(self, past_end: bool, set_now: list[float], new_rate: bool) -> str:
        """What the schedule does with the epochs added past its plan: it holds the rate
        of its last planned epoch (:mod:`.schedules`), or past its end (``past_end``) the
        rate given (``new_rate``); a rate near zero gets the rate to give. A schedule
        without an end (ReduceLROnPlateau) goes on following the loss."""
        from workbench.core.train.schedules import end_factor

        kind, n = self.experiment.scheduler.type, self.schedule_epochs
        if not self.schedule.has_end:
            return (f"the {kind} schedule has no planned end: the added epochs lower the "
                    f"rate as it does, when the loss stops improving")
        set_rate = set_now[0] if set_now else 0.0
        if past_end:
            rate = float(self.optimizer.param_groups[0]["lr"])
        else:  # it ends during this run: the rate its last epoch will train at
            factor = end_factor(self.experiment.scheduler, n)
            rate = set_rate * factor if factor is not None else math.nan
        if past_end and new_rate:
            return (f"the {kind} schedule ended with epoch {n}: the added epochs train at "
                    f"the constant learning rate given, {rate:g}")
        lr = float(f"{set_rate / 10:.2g}")
        if set_rate > 0 and rate < NEAR_ZERO * set_rate:
            end = self.experiment.training.epochs
            when = ("ended", "to train on usefully, continue") if past_end else \
                ("ends", f"to train past epoch {n} usefully, continue from it")
            return (f"the {kind} schedule {when[0]} with epoch {n} at a learning rate of "
                    f"{rate:.2g}, too small to change the weights, and holds it up to epoch "
                    f"{end}: {when[1]} with a constant rate of {lr:g}, a tenth of the "
                    f"{set_rate:g} the run was set to (--lr {lr:g})")
        held = f", {rate:.3g}" if math.isfinite(rate) else ""
        if past_end:
            return (f"the {kind} schedule ended with epoch {n}: the added epochs hold the "
                    f"learning rate of its last epoch{held}")
        return (f"the {kind} schedule was planned for {n} epochs and keeps that plan; past "
                f"its end the added epochs hold the learning rate of its last epoch{held}")

    def _rate_given(self, ckpt: Any) -> bool:
        """Whether this run's optimizer rate differs from the checkpoint's (``--lr``)."""
        new_lr = optimizer_lr(self.experiment.optimizer)
        old_lr = ckpt.lr if ckpt.lr is not None else optimizer_lr(ckpt.experiment.optimizer)
        return abs(new_lr - old_lr) > 1e-12 * max(abs(old_lr), abs(new_lr))

    def _restore_lr(self, ckpt: Any, set_now: list[float], past_end: bool = False,
                    said: bool = False) -> list[str]:
        """Move the restored optimizer and schedule to the rates this run is set to.

        The old rates come from the optimizer state itself (each group's ``set_lr``), so
        it does not matter how the caller built the new experiment (``workbench resume
        --lr`` edits the checkpoint's own in place); a checkpoint saved before groups kept
        them falls back to the rate read from the file (:attr:`Checkpoint.lr`). A schedule
        keeps its progress: a rate it had decayed to a tenth stays a tenth of the new one.
        Past the end of a schedule (``past_end``) there is no progress to keep: the
        groups train at the new rate itself (scaled, the 4e-5 of the set rate OneCycleLR
        ends at would stay near zero whatever the rate given), and without a new rate at
        the rate the last epoch trained at (:meth:`_hold_last_rate`). ``said``: a group's
        rate changed by its layer's ``backbone_lr_scale`` has been said
        (:func:`~workbench.core.train.regroup.trainable_notes`); with the optimizer's own
        rate the same, no note then.
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
        same = all(abs(r - 1.0) <= 1e-12 for r in ratios)
        if not same:
            self._scale_lr(ratios)
        given = self._rate_given(ckpt)
        if past_end:
            self._hold_last_rate(ckpt, then, set_now, given)
        if same or (said and not given):
            return []
        return [f"learning rate changed from {old_lr:g} to {new_lr:g} on resuming"]

    def _hold_last_rate(self, ckpt: Any, then: list[float], set_now: list[float],
                        given: bool) -> None:
        """Past the schedule's end: set the groups to the rate given (``given``: each
        group's set rate itself), else to the rate the last epoch trained at, as the same
        share of each group's set rate (a checkpoint written before schedules held their
        last rate has stepped past it: a cosine to eta_min, 0)."""
        if given:
            rates = list(set_now)
        else:
            last = ckpt.history[-1].get("lr") if ckpt.history else None
            if not isinstance(last, (int, float)) or not then or then[0] <= 0:
                return
            rates = [now * float(last) / then[0] for now in set_now]
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate
        self._last_lrs(rates)

    def _scale_lr(self, ratios: list[float]) -> None:
        """Multiply every rate the optimizer and the schedule keep by each group's ratio:
        the groups' current ``lr`` (the next step uses it) and the values schedules
        compute from (``initial_lr``, OneCycleLR's ``max_lr``/``min_lr``, each scheduler's
        ``base_lrs``, including those inside a warm-up's SequentialLR)."""
        for group, ratio in zip(self.optimizer.param_groups, ratios):
            for key in RATES:
                if isinstance(group.get(key), (int, float)):
                    group[key] *= ratio
        for scheduler in _schedulers(getattr(self.schedule, "scheduler", None)):
            for name in ("base_lrs", "_last_lr"):
                values = getattr(scheduler, name, None)
                if isinstance(values, list) and len(values) == len(ratios):
                    setattr(scheduler, name, [v * r for v, r in zip(values, ratios)])

    def _last_lrs(self, rates: list[float]) -> None:
        """Tell the schedulers the groups' rates are now ``rates`` (what they report as
        their last rates)."""
        for scheduler in _schedulers(getattr(self.schedule, "scheduler", None)):
            if isinstance(getattr(scheduler, "_last_lr", None), list) and \
                    len(scheduler._last_lr) == len(rates):
                scheduler._last_lr = list(rates)


def check_same_classes(then: list[str], now: list[str]) -> None:
    """Refuse to continue a run trained on the classes ``then`` on a dataset whose classes
    are ``now`` (another list or order): a :class:`CheckpointError` saying how they differ.
    A front end asks it before it says anything (the trainer asks again)."""
    from workbench.core.train.checkpoint import CheckpointError

    if list(then) != list(now):
        raise CheckpointError(f"the dataset's classes changed since the checkpoint "
                              f"({class_change(list(then), list(now))}): a run resumes on "
                              f"the data it was trained on; start a new run instead")


def class_change(then: list[str], now: list[str], shown: int = 3) -> str:
    """How two class lists differ, short whatever their length: ``"12 classes then, 11
    now: 'cat' is missing"``; the first few names each way, then how many more."""
    def names(items: list[str], verb: tuple[str, str]) -> str:
        listed = ", ".join(repr(c) for c in items[:shown])
        more = f" and {len(items) - shown} more" if len(items) > shown else ""
        return f"{listed}{more} {verb[len(items) == 1]}"

    from workbench.core.data.class_names import class_key

    gone, new = set(then) - set(now), set(now) - set(then)
    changes = []
    # A folder copied from a Mac: the same names, their accents encoded another way (NFD).
    was = {class_key(c): c for c in gone}
    respelled = [c for c in now if c in new and class_key(c) in was]
    if respelled:
        gone -= {was[class_key(c)] for c in respelled}
        new -= set(respelled)
        its, it = ("its", "it") if len(respelled) == 1 else ("their", "them")
        changes.append(f"{names(respelled, ('have', 'has'))} {its} accents encoded "
                       f"differently (NFD, as a Mac writes names): rename {it} as before")
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
