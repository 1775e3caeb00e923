"""The hooks a training run calls (:class:`Callback`) and what a run produced
(:class:`FitResult`).

A callback that keeps state across a run (early stopping's best epoch and patience, say)
names it with :attr:`Callback.state_key` and returns it from :meth:`Callback.state_dict`:
the trainer saves it in every checkpoint and hands it back through
:meth:`Callback.load_state_dict` when the run is resumed, so resuming needs no code of
its own for it (Lightning's ``Callback.state_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

if TYPE_CHECKING:
    from workbench.core.train.trainer import Trainer


class Callback:
    """Base class of training callbacks; every hook is a no-op.

    Payloads are plain Python values (ints, floats, dicts of them) so a callback may forward
    them across threads without keeping tensors alive.
    """

    #: The name this callback's :meth:`state_dict` is saved under in a checkpoint; ""
    #: (the default): it keeps no state across a resume.
    state_key = ""

    def state_dict(self) -> dict[str, Any]:
        """Plain values (and tensors) to save in the checkpoint; see :attr:`state_key`."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state_dict` returned, when a run is resumed."""

    def on_fit_start(self, trainer: "Trainer", info: dict[str, Any]) -> None: ...

    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None: ...

    def on_batch_start(self, trainer: "Trainer", epoch: int, batch: int) -> None:
        """Before training batch ``batch`` (1-based) of ``epoch``; a pause waits here."""

    def on_batch_end(self, trainer: "Trainer", epoch: int, batch: int, num_batches: int,
                     loss: float) -> None: ...

    def on_epoch_end(self, trainer: "Trainer", epoch: int, metrics: dict[str, Any]) -> None: ...

    def on_fit_end(self, trainer: "Trainer", result: "FitResult") -> None: ...

    def on_skipped(self, trainer: "Trainer", path: str, reason: str) -> None: ...

    def on_cache_progress(self, trainer: "Trainer", done: int, total: int) -> None:
        """The decoded-image cache holds ``done`` of ``total`` images (called while it
        fills in the first epoch, about every 1%, and once when full)."""

    def on_paused(self, trainer: "Trainer", epoch: int, batch: int) -> None:
        """The run is paused before ``batch`` (1-based) of ``epoch``."""

    def on_resumed(self, trainer: "Trainer") -> None:
        """A paused run goes on."""

    def on_finding(self, trainer: "Trainer", finding: dict[str, Any]) -> None:
        """The training doctor noticed something (once per kind and run):
        :meth:`~workbench.core.train.doctor.findings.RunFinding.to_dict`'s plain values."""

    def on_norms(self, trainer: "Trainer", step: int, names: list[str],
                 grad_norms: list[float], weight_norms: list[float]) -> None:
        """Per-layer gradient and weight L2 norms after optimizer step ``step`` (every
        ``norm_interval`` steps when the trainer was given one)."""


@dataclass
class FitResult:
    """What a finished (or stopped) run produced."""

    history: list[dict[str, Any]]
    classes: list[str]
    model: torch.nn.Module | None
    stopped: bool
    experiment: Experiment
    skipped: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    #: Early stopping ended the run (``stop_reason`` says why).
    early_stopped: bool = False
    stop_reason: str = ""
    #: The best epoch by the monitored metric: ``{"metric", "value", "epoch"}``, or None.
    best: dict[str, Any] | None = None
    #: The model holds the best epoch's weights rather than the last's (restore_best).
    restored_best: bool = False
    #: What ended the run when ``error`` is set: "diverged", "out_of_memory" or "failed".
    error_kind: str = ""
    #: The epoch whose weights ``model`` holds (the last finished one, or the best one when
    #: restored); None when no epoch finished. A stop mid-epoch goes back to the last
    #: finished epoch, so the weights are always those whose metrics the run reports.
    weights_epoch: int | None = None
    #: What the training doctor noticed (:class:`~workbench.core.train.doctor.findings.
    #: RunFinding` dicts, in order), over every segment of the run.
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """One of :data:`workbench.core.runs.store.STATUSES` (never "running")."""
        if self.error is not None:
            return self.error_kind or "failed"
        if self.early_stopped:
            return "early_stopped"
        return "stopped" if self.stopped else "finished"

    @property
    def weights_metrics(self) -> dict[str, Any] | None:
        """The history entry of :attr:`weights_epoch` (its losses and accuracies), or None."""
        for m in self.history:
            if m.get("epoch") == self.weights_epoch:
                return dict(m)
        return None

    @property
    def untrained(self) -> bool:
        """No training batch ran in any finished epoch (every one was skipped: batches of
        one image with BatchNorm), so the model holds the weights it started with."""
        return bool(self.history) and all(m.get("train_loss") is None for m in self.history)

    def model_info(self, **extra: Any) -> dict[str, Any]:
        """What the saved weights are: ``{"epoch", "restored_best", "metrics"}`` plus
        ``extra`` (plain values, stored in the bundle and in run.json), and
        ``"untrained": true`` when no training batch ran (:attr:`untrained`)."""
        flag = {"untrained": True} if self.untrained else {}
        return {"epoch": self.weights_epoch, "restored_best": bool(self.restored_best),
                "metrics": self.weights_metrics, **flag, **extra}

    def save_bundle(self, path: str | Path, split: dict[str, Any] | None = None,
                    **info: Any) -> Path:
        """Write the trained model with its Experiment and classes as one bundle file;
        ``info`` (plain values, e.g. the run's name) goes with :meth:`model_info`, and
        ``split`` (the run's split record, ``split.json``'s content) with the weights."""
        from workbench.core.bundle import save_bundle

        if self.model is None:
            raise WorkbenchError("there is no trained model to save: the run failed before "
                                 "its network was built")
        return save_bundle(path, self.experiment, self.classes, self.model.state_dict(),
                           info=self.model_info(**info), split=split)
