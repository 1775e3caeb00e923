"""The best epoch and early stopping: :class:`EarlyStopping`, the callback every run has
(its :class:`BestTracker` says which epoch ``best.pt`` and ``restore_best`` keep, and it
ends the run when the monitored metric stops improving for ``training.patience`` epochs
with ``training.early_stopping`` on). Its state is saved in the checkpoint; a resume that
asks for other epochs than the plan counts the patience afresh
(:meth:`EarlyStopping.count_afresh`), one that finishes the plan counts on."""

from __future__ import annotations

import math
from typing import Any

from workbench.core.errors import SpecError
from workbench.core.train.callbacks.base import Callback

#: Metrics the trainer can monitor, and whether larger is better.
MONITORS = {"val_loss": False, "val_acc": True, "val_bal_acc": True, "train_loss": False,
            "train_acc": True}
#: A loss must also fall by more than this share of its best to improve on it. Measured: a
#: run resumed past the end of OneCycleLR (lr 4e-08) moved its validation loss by 2-3e-5 of
#: itself an epoch (BatchNorm's running statistics alone), and every such epoch was marked
#: best, saved as best.pt and bundled, though the printed loss did not change. Accuracies
#: are counts of images: any rise is one more image right (the balanced accuracy, a mean of
#: each class's share of images right, changes only when a prediction does).
LOSS_RELATIVE_DELTA = 1e-4


def resolve_monitor(name: str, has_validation: bool) -> str:
    """The metric ``training.monitor`` names on this run ("auto": val_loss, or train_loss
    without a validation split).

    Raises
    ------
    SpecError
        A validation metric asked for on a run without a validation split.
    """
    if name == "auto":
        return "val_loss" if has_validation else "train_loss"
    if name.startswith("val_") and not has_validation:
        raise SpecError("training.monitor", f"is {name} but this run has no validation split: "
                                            f"choose train_loss or train_acc, or hold out a "
                                            f"validation fraction on the Data tab")
    return name


class BestTracker:
    """Follows the monitored metric: the best epoch so far and epochs without improvement.

    An epoch improves on the best when its value is better by more than ``min_delta``
    (as Keras's EarlyStopping counts it), and a loss also by more than
    :data:`LOSS_RELATIVE_DELTA` of the best (a value that did not change, to the precision
    anyone reads it, is not a new best).
    """

    def __init__(self, metric: str, min_delta: float = 0.0, patience: int | None = None,
                 best: dict[str, Any] | None = None, bad_epochs: int = 0):
        self.metric = metric
        self.higher = MONITORS[metric]
        self.min_delta = float(min_delta)
        self.patience = patience  # None: early stopping is off
        self.best = dict(best) if best and best.get("metric") == metric else None
        self.bad_epochs = int(bad_epochs) if self.best is not None else 0

    def update(self, metrics: dict[str, Any]) -> bool:
        """Record an epoch; True when it is the new best."""
        value = metrics.get(self.metric)
        if value is None:
            return False
        value = float(value)
        if self.best is None or self._better(value, float(self.best["value"])):
            self.best = {"metric": self.metric, "value": value, "epoch": int(metrics["epoch"])}
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    def _better(self, value: float, best: float) -> bool:
        if self.higher:
            return value > best + self.min_delta
        return value < best - max(self.min_delta, LOSS_RELATIVE_DELTA * abs(best))

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_epochs >= self.patience

    def reason(self) -> str:
        """Why early stopping ended the run, for a person."""
        b = self.best or {}
        name = {"val_loss": "the validation loss", "val_acc": "the validation accuracy",
                "val_bal_acc": "the validation balanced accuracy",
                "train_loss": "the training loss",
                "train_acc": "the training accuracy"}.get(self.metric, self.metric)
        by = f" by more than {self.min_delta:g}" if self.min_delta else ""
        return (f"early stopping: {name} ({self.metric}) did not improve{by} for "
                f"{self.bad_epochs} epoch{'s' * (self.bad_epochs != 1)} (best {b.get('value', float('nan')):.4g} at "
                f"epoch {b.get('epoch', '?')})")


class EarlyStopping(Callback):
    """Follows the monitored metric every epoch and ends the run early when it stopped
    improving (patience None: it only follows the best epoch).

    When an epoch is the new best and ``restore_best`` is on, it asks the trainer to keep
    that epoch's weights (:meth:`Trainer.keep_best_weights`); when patience has run out
    before the last epoch, it asks the trainer to stop (:meth:`Trainer.stop_early`).
    """

    state_key = "early_stopping"

    def __init__(self, metric: str, min_delta: float = 0.0, patience: int | None = None,
                 restore_best: bool = False):
        self.tracker = BestTracker(metric, min_delta, patience)
        self.restore_best = bool(restore_best and patience is not None)

    @classmethod
    def for_training(cls, training: Any, has_validation: bool) -> "EarlyStopping":
        """The callback ``experiment.training`` asks for (:func:`resolve_monitor` raises
        for a validation metric on a run without validation)."""
        t = training
        return cls(resolve_monitor(t.monitor, has_validation), t.min_delta,
                   t.patience if t.early_stopping else None, t.restore_best)

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        tracker = self.tracker
        if tracker.update(metrics) and self.restore_best:
            trainer.keep_best_weights()
        if tracker.should_stop:
            # At the planned last epoch too: patience ran out there all the same, and the
            # run ends on the best epoch's weights (restore_best) whatever was planned.
            trainer.stop_early(tracker.reason())

    def state_dict(self) -> dict[str, Any]:
        t = self.tracker
        return {"best": dict(t.best) if t.best else None, "bad_epochs": t.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        t = self.tracker
        # A run that stopped early keeps its count here: resuming it counts afresh, and
        # says so (:meth:`count_afresh`, which the resume calls).
        bad = int(state.get("bad_epochs") or 0)
        self.tracker = BestTracker(t.metric, t.min_delta, t.patience, state.get("best"), bad)

    def count_afresh(self, first_epoch: int) -> str:
        """A resume that asks for other epochs than the run's plan ("N more", ``resume
        --epochs N``), or of a run early stopping ended, from ``first_epoch``: the epochs
        without improvement before it no
        longer count against the patience, so the epochs asked for are trained unless
        ``patience`` of them in a row do not improve; the best epoch is kept. Returns the
        note for the user ("" when early stopping is off or none was counted)."""
        t = self.tracker
        if t.patience is None or not t.bad_epochs:
            return ""
        bad, best = t.bad_epochs, t.best or {}
        t.bad_epochs = 0
        return (f"early stopping counts its patience ({t.patience} epoch"
                f"{'s' * (t.patience != 1)}) afresh from epoch {first_epoch}: the {bad} "
                f"epoch{'s' * (bad != 1)} without improvement before it no longer count (the "
                f"best stays {t.metric} {float(best.get('value', math.nan)):.4g} at epoch "
                f"{best.get('epoch', '?')})")

    def start_afresh(self, first_epoch: int, val_images: int) -> str:
        """The validation set changed before ``first_epoch`` (a resume after images were
        added or removed): a validation metric measured on it cannot be compared with the
        earlier best, so the best epoch (and patience) are counted again from that epoch.
        Returns the note for the user ("" when nothing was reset: a training metric, or
        no best yet)."""
        t = self.tracker
        if not t.metric.startswith("val_") or t.best is None:
            return ""
        old = t.best
        self.tracker = BestTracker(t.metric, t.min_delta, t.patience)
        return (f"the best epoch is chosen afresh from epoch {first_epoch} on, among the "
                f"epochs measured on today's {val_images:,} validation images: the earlier "
                f"best ({t.metric} {float(old['value']):.4g} at epoch {old.get('epoch', '?')})"
                f" was measured on the other set, and checkpoints/best.pt is replaced by "
                f"epoch {first_epoch}'s weights (copy it first to keep it)")
