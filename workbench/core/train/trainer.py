"""The training loop: a synchronous lifecycle with one hook runner.

``Trainer.fit()`` knows nothing of Qt. Every hook goes through :meth:`Trainer.emit`, to the
run's own callbacks first (pausing, early stopping, norm sampling: :mod:`.callbacks`) and
then the caller's (progress, plots, the run folder); ``on_fit_start``/``on_fit_end``
bracket the run, ``on_epoch_start``/``on_epoch_end`` each epoch, ``on_batch_start``/
``on_batch_end`` each training batch, and the end of the run is heard in ``finally``, by
every callback, whatever happened. The GUI runs ``fit`` in a worker thread and stops it
through ``stop_event``, which is checked at every batch, and pauses it with
:meth:`Trainer.pause`.

Building the run is :mod:`.setup`'s, one pass over a loader :mod:`.epoch`'s, one step
:mod:`.step`'s, continuing from a checkpoint :mod:`.resume`'s, and how a run fails
:mod:`.failures`'; callers that want one outcome rather than an exception use the run
façade, :mod:`.run`.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterable

import torch

from workbench.core.evaluate.metrics import balanced_accuracy
from workbench.core.experiment import Experiment
from workbench.core.interrupts import uninterrupted
from workbench.core.train.callbacks.base import Callback, FitResult
from workbench.core.train.callbacks.pause import PauseGate
from workbench.core.train.device import deterministic_mode
from workbench.core.train.failures import (TrainingDiverged, TrainingOutOfMemory,
                                           failure_kind, peer_lost, translate)
from workbench.core.train.resume import Resumable, _to_cpu
from workbench.core.train.setup import RunSetup, seed_everything
from workbench.core.train.epoch import EpochPass
from workbench.core.train.step import Steps

__all__ = ["Callback", "FitResult", "Trainer", "TrainingDiverged", "TrainingOutOfMemory",
           "seed_everything"]


class Trainer(RunSetup, Steps, EpochPass, Resumable):
    """Train the network an :class:`Experiment` describes on its dataset.

    Parameters
    ----------
    experiment
        Copied and validated; later edits to the caller's object do not affect the run.
    callbacks
        :class:`Callback` instances, called in order.
    stop_event
        Set it (or call :meth:`request_stop`) to stop at the next batch; the epochs finished
        so far are kept in the result.
    index
        An already scanned :class:`~workbench.core.data.index.DatasetIndex` of the folder,
        to skip scanning it again.
    checkpoint
        Continue this run (:func:`~workbench.core.train.checkpoint.load_checkpoint`) up to
        ``experiment.training.epochs``; the network must be the checkpoint's.
    norm_interval
        Report per-layer gradient and weight norms (``on_norms``) every this many optimizer
        steps; 0: never.

    Notes
    -----
    ``data.balance`` picks a class-weighted loss (weights from the training split, also
    used for the validation loss) or a weighted sampler; MixUp/CutMix listed in
    ``augment.transforms`` mix training batches only, with soft targets (train accuracy
    counts the class with the largest share).

    Started by ``torchrun`` (``WORLD_SIZE`` > 1), each process trains its shard of the data
    in DistributedDataParallel and every rank reports the same all-reduced metrics; see
    :mod:`.distributed`.
    """

    def __init__(self, experiment: Experiment, callbacks: Iterable[Callback] = (),
                 stop_event: threading.Event | None = None, index: Any = None,
                 checkpoint: Any = None, norm_interval: int = 0):
        self.experiment = experiment.copy().validate()
        self.callbacks = list(callbacks)
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self.index = index
        self.checkpoint = checkpoint
        self.norm_interval = max(0, int(norm_interval))
        self.device: torch.device | None = None
        self.model: torch.nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.classes: list[str] = []
        self.history: list[dict[str, Any]] = []
        self.batch_transform: Any = None
        self.cache: Any = None  # the decoded-image cache (data.cache), once set up
        self.features: Any = None  # a frozen backbone's cached output (see .features)
        self.explosion: Any = None  # the doctor's exploded-loss check (callbacks.doctor)
        #: What the training doctor noticed (finding dicts; :mod:`.doctor.findings`).
        self.findings: list[dict[str, Any]] = []
        #: Images per class of each split, ``{"train": [...], "val": [...]}``, once set up.
        self.class_counts: dict[str, list[int]] = {}
        #: The last validation pass's confusion matrix (rows: true class, columns: the
        #: class predicted) and its column sums, the predictions per class (None: none yet).
        self.val_confusion: list[list[int]] | None = None
        self.val_predicted: list[int] | None = None
        self._cache_reported = -1  # images in the cache when progress was last reported
        self.train_pipeline: Any = None  # batch-wise augmentation on the device, or None
        self.eval_pipeline: Any = None
        self._amp: torch.dtype | None = None
        self._scaler: Any = None
        self._channels_last = False
        self.skipped: dict[str, str] = {}  # unreadable files met: path -> reason, in order
        self.schedule: Any = None  # the learning-rate Schedule, once set up
        self.gate = PauseGate()
        # The run's own callbacks, made by the setup; ``hooks``: every callback the hook
        # runner calls, those first.
        self.early_stopping: Any = None
        self.norms: Any = None
        self.doctor: Any = None  # the training doctor (callbacks.doctor.TrainingDoctor)
        self.hooks: list[Callback] = list(self.callbacks)
        self._early_reason = ""  # set by stop_early: why the run ends after this epoch
        #: Run the validation pass after each epoch (the LR finder turns it off).
        self.validate = True
        #: The run folder this run is written to (set by the run-folder recorder), or None.
        self.run_dir: Any = None
        #: What :meth:`fit` produced, also when it raised (None: it never got that far).
        self.result: FitResult | None = None
        self.steps = 0  # optimizer steps taken, over every segment of the run
        self.epochs_done = 0
        self.elapsed = 0.0  # training seconds over every segment, pauses excluded
        # When the epoch under way started (perf_counter, paused seconds then), or None.
        self._epoch_clock: tuple[float, float] | None = None
        self.schedule_epochs = self.experiment.training.epochs
        self._gen: torch.Generator | None = None
        self._best_state: dict[str, torch.Tensor] | None = None
        # The weights (a CPU copy) at the end of the last finished epoch, or as set up (or
        # restored from the checkpoint) before any: what a stopped run keeps, so its bundle
        # holds exactly the weights whose metrics the run reports.
        self._finished_state: dict[str, torch.Tensor] | None = None
        self._dirty = False  # the weights (or BatchNorm statistics) moved since that copy
        self._accumulated = 0  # micro-batches whose gradients wait for the next step
        # Under torchrun: this process's DistributedContext and the DDP wrapper used for
        # the training forward pass; None in a single-process run (``self.model`` is
        # always the plain module, so checkpoints and bundles never see the wrapper).
        self.dist: Any = None
        self._ddp: torch.nn.Module | None = None

    def request_stop(self) -> None:
        self.stop_event.set()

    @property
    def stop_requested(self) -> bool:
        return self.stop_event.is_set()

    def pause(self) -> None:
        """Hold the run before its next batch (thread-safe); :meth:`resume` goes on. The
        optimizer, schedule and data order are untouched, so a paused run ends as an
        uninterrupted one would."""
        self.gate.pause()

    def resume(self) -> None:
        self.gate.resume()

    @property
    def paused(self) -> bool:
        return self.gate.paused

    @property
    def tracker(self) -> Any:
        """The best epoch so far and the epochs without improvement
        (:class:`~.callbacks.early_stopping.BestTracker`), once set up; else None."""
        return self.early_stopping.tracker if self.early_stopping is not None else None

    def stop_early(self, reason: str) -> None:
        """End the run after the epoch being finished (early stopping); ``reason`` is for
        a person."""
        self._early_reason = reason

    def keep_best_weights(self) -> None:
        """The epoch just finished is the best: keep its weights for ``restore_best``."""
        self._best_state = self._finished_state  # replaced, never changed in place

    # -- the loop ----------------------------------------------------------------------
    def fit(self) -> FitResult:
        """Run every epoch (or until stopped) and return the result.

        Raises
        ------
        WorkbenchError
            For anything the user can fix (dataset, network shapes, device, divergence,
            out of memory: :class:`TrainingDiverged`, :class:`TrainingOutOfMemory`); the end
            hooks have run by then.
        """
        stopped = early = restored = False
        reason = kind = ""
        error: str | None = None
        try:
            with deterministic_mode(self.experiment.training.deterministic):
                info = self._setup()
                self._snapshot_weights()
                self.emit("on_fit_start", info)
                try:
                    stopped, early, reason = self._epochs()
                except RuntimeError as e:  # another torchrun process is gone: a stop
                    reason = peer_lost(e, self)
                    if not reason:
                        raise
                    stopped, early = True, False
                if early and self.experiment.training.restore_best \
                        and self._best_state is not None:
                    self.model.load_state_dict(self._best_state)
                    restored = True
                elif stopped and self._dirty:
                    # Stopped mid-epoch: back to the end of the last finished epoch, the
                    # weights the run's metrics (and its last.pt) describe.
                    self.model.load_state_dict(self._finished_state)
                    self._dirty = False
        except BaseException as e:
            # Device memory and dead loader workers arrive as torch's RuntimeErrors: say
            # what they mean and what to do instead.
            replacement = translate(e, self)
            failure = replacement or e
            error = str(failure) or type(failure).__name__
            kind = failure_kind(failure)
            if replacement is not None:
                raise replacement from None
            raise
        finally:
            # Kept whole: a second Ctrl-C in the teardown or the bundle write waits for the
            # end hooks (core.interrupts), so run.json is never left saying "running".
            with uninterrupted("finishing the run"):
                self._teardown()
                if self.model is not None:
                    self.model.to("cpu", memory_format=torch.contiguous_format).eval()
                best = self.tracker.best if self.tracker is not None else None
                result = FitResult(list(self.history), list(self.classes), self.model,
                                   stopped, self.experiment, sorted(self.skipped.items()),
                                   error, early, reason, dict(best) if best else None,
                                   restored, kind, self._weights_epoch(restored, best),
                                   self.findings)
                self.result = result
                # Every callback hears the end, even when one before it fails (a recorder
                # that cannot write its bundle must not leave the app's bridge, or run.json,
                # waiting).
                failures = self._emit_all("on_fit_end", result)
            if failures and error is None:
                raise failures[0]
        return result

    def _epochs(self) -> tuple[bool, bool, str]:
        """Train the remaining epochs; returns ``(stopped, early_stopped, reason)``."""
        exp = self.experiment
        for epoch in range(self.epochs_done + 1, exp.training.epochs + 1):
            if self._stop_everywhere():
                return True, False, "stopped"
            if self.dist is not None:  # DistributedSampler reshuffles per epoch
                getattr(self.train_loader.sampler, "set_epoch", lambda e: None)(epoch)
            self.emit("on_epoch_start", epoch)
            t0, paused0 = time.perf_counter(), self.gate.paused_seconds
            self._epoch_clock = (t0, paused0)
            train = self._run_epoch(epoch, train=True)
            if train is None:
                return True, False, "stopped"
            if self.explosion is not None and train[0] is not None and \
                    self.explosion.epoch(train[0]):
                raise TrainingDiverged(self.explosion.message(train[0], epoch, 0, self._lr()),
                                       epoch, train[0])
            lr = float(self._lr())  # the rate the epoch ended at, before it changes
            val = (self._run_epoch(epoch, train=False) if self.val_loader and self.validate
                   else (None, None))
            if val is None:
                return True, False, "stopped"
            if self.explosion is not None and None not in (val[0], train[0]) and \
                    self.explosion.validation(val[0], train[0]):
                # The weights are wrecked though the training loss stayed under the line
                # (measured: Adam lr 10 on cnn-bn, training 31.6, validation 1.2e6): the
                # epoch is not kept, so the last checkpoint is the last sane one.
                raise TrainingDiverged(self.explosion.message(val[0], epoch, 0, self._lr(),
                                                              validation=True), epoch, val[0])
            self.schedule.step_epoch(val[0], train[0])
            seconds = time.perf_counter() - t0 - (self.gate.paused_seconds - paused0)
            # The balanced accuracy from the (all-reduced) matrix of this validation pass.
            bal = balanced_accuracy(self.val_confusion) if val[1] is not None else None
            metrics = {"epoch": epoch, "train_loss": train[0], "train_acc": train[1],
                       "val_loss": val[0], "val_acc": val[1], "val_bal_acc": bal, "lr": lr,
                       "seconds": seconds}
            self.history.append(metrics)
            self.epochs_done = epoch
            self.elapsed += seconds
            self._epoch_clock = None
            self._snapshot_weights()
            self.emit("on_epoch_end", epoch, dict(metrics))  # early stopping hears it first
            if self._early_reason:
                return False, True, self._early_reason
        return False, False, ""

    def _snapshot_weights(self) -> None:
        """Keep a CPU copy of the weights as they are now, at an epoch's end (or the run's
        start): a stop mid-epoch goes back to it, and the checkpoint stores it."""
        if self.model is None:
            return
        self._finished_state = _to_cpu(self.model.state_dict())
        self._dirty = False

    def _weights_epoch(self, restored: bool, best: dict[str, Any] | None) -> int | None:
        """The epoch whose weights the model holds at the end (None: none finished)."""
        if restored and best:
            return int(best["epoch"])
        return self.epochs_done or None

    @property
    def duration(self) -> float:
        """Seconds this run has trained, pauses excluded: :attr:`elapsed` (the finished
        epochs, over every segment) and the epoch under way or cut short (a run that
        diverged in its first epoch trained for those seconds too)."""
        if self._epoch_clock is None:
            return self.elapsed
        t0, paused0 = self._epoch_clock
        return self.elapsed + max(0.0, time.perf_counter() - t0 -
                                  (self.gate.paused_seconds - paused0))

    def _stop_everywhere(self) -> bool:
        """A stop request; under torchrun one rank's request stops every rank."""
        if self.dist is None:
            return self.stop_requested
        return self.dist.agree(self.stop_requested)[0]

    def _lr(self) -> Any:
        return self.optimizer.param_groups[0].get("lr") if self.optimizer else "?"

    # -- the hook runner ------------------------------------------------------------------
    def emit(self, hook: str, *args: Any) -> None:
        """Call ``hook`` on every callback, the run's own first, in order."""
        for cb in self.hooks:
            getattr(cb, hook)(self, *args)

    def _emit_all(self, hook: str, *args: Any) -> list[BaseException]:
        """Call ``hook`` on every callback even if some raise; returns what they raised."""
        failures = []
        for cb in self.hooks:
            try:
                getattr(cb, hook)(self, *args)
            except Exception as e:  # noqa: BLE001  (re-raised by the caller)
                failures.append(e)
        return failures
