"""The training loop: a synchronous lifecycle with callback hooks.

``Trainer.fit()`` knows nothing of Qt. Progress, plots, checkpoints and the CLI's printing
are callbacks; the GUI runs ``fit`` in a worker thread and stops it through ``stop_event``,
which is checked at every batch, and pauses it with :meth:`Trainer.pause`. End hooks run in
``finally`` so they always fire.

A run continues from a :class:`~workbench.core.train.checkpoint.Checkpoint` (``checkpoint=``):
weights, optimizer and schedule state, the random-number generators, the history and the
best epoch are restored and the epoch numbering goes on.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time
from typing import Any, Iterable

import numpy as np
import torch

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.train.callbacks import Callback, FitResult, TrainingDiverged, TrainingOutOfMemory
from workbench.core.train.control import (BestTracker, NormSampler, PauseGate, deterministic_mode,
                      resolve_monitor)
from workbench.core.train.resume import SET_LR, Resumable, _to_cpu
from workbench.core.train.unreadable import EpochReads, left_out_note, no_readable_error

__all__ = ["Callback", "FitResult", "Trainer", "TrainingDiverged", "TrainingOutOfMemory",
           "seed_everything"]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer(Resumable):
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
        An already scanned :class:`~workbench.core.data.scan.DatasetIndex` of the folder,
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
        self._cache_reported = -1  # images in the cache when progress was last reported
        self.train_pipeline: Any = None  # batch-wise augmentation on the device, or None
        self.eval_pipeline: Any = None
        self._amp: torch.dtype | None = None
        self._scaler: Any = None
        self._channels_last = False
        self._skipped: dict[str, str] = {}
        self.schedule: Any = None  # the learning-rate Schedule, once set up
        self.tracker: BestTracker | None = None  # the best epoch and early stopping
        self.gate = PauseGate()
        self.steps = 0  # optimizer steps taken, over every segment of the run
        self.epochs_done = 0
        self.elapsed = 0.0  # training seconds over every segment, pauses excluded
        self.schedule_epochs = self.experiment.training.epochs
        self._gen: torch.Generator | None = None
        self._norms: NormSampler | None = None
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

    # -- setup -------------------------------------------------------------------------
    def _setup(self) -> dict[str, Any]:
        from workbench.core.data.augment.mixing import build_batch_transform
        from workbench.core.data.dataset import balanced_sampler, class_weights
        from workbench.core.data.scan import scan_folder
        from workbench.core.data.split import split_for
        from workbench.core.model.backbones import load_backbone_weights
        from workbench.core.model.builder import build_network
        from workbench.core.model.init import apply_init
        from workbench.core.train.allocator import tune_host_allocator
        from workbench.core.train.device import resolve_device
        from workbench.core.train.optim import (build_loss, build_optimizer, loss_note, optimizer_lr,
                            parameter_groups)
        from workbench.core.train.schedules import build_scheduler

        exp = self.experiment
        self.device = resolve_device(exp.training.device)
        self._setup_distributed()
        tune_host_allocator()  # the same large buffers every step: keep them in the heap
        if self.index is None:
            folder = exp.data.folder
            if not folder:
                from workbench.core.data.demo import ensure_demo_dataset

                folder = str(ensure_demo_dataset())
            self.index = scan_folder(folder)
        self.index.check_trainable()
        self.classes = list(self.index.classes)
        ckpt = self.checkpoint
        if ckpt is not None:
            self._check_checkpoint(ckpt)
        train_s, val_s = split_for(self.index, exp.data)

        seed_everything(exp.training.seed)
        h, w = exp.data.input_size
        model, summary = build_network(exp.model.layers, (exp.data.channels, h, w),
                                       len(self.classes))
        apply_init(model, exp.init, layers=exp.model.layers)  # layers' own init override
        # Pretrained backbone weights go in after the init scheme, which would overwrite them.
        notes = load_backbone_weights(model) if ckpt is None else []
        self.model = model.to(self.device)
        self._has_batchnorm = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                                  for m in model.modules())
        # Frozen layers stay out of the optimizer; a fine-tuned backbone gets a scaled lr.
        self.optimizer = build_optimizer(exp.optimizer, parameter_groups(
            self.model, exp.model.layers, optimizer_lr(exp.optimizer)))
        for group in self.optimizer.param_groups:  # saved with it: what a resume compares
            group[SET_LR] = float(group["lr"])
        k = len(self.classes)
        train_labels = [int(label) for _, label in train_s]
        balance = exp.data.balance
        weights = class_weights(train_labels, k) if balance == "weighted_loss" else None
        log_probs = bool(exp.model.layers) and exp.model.layers[-1].type == "LogSoftmax"
        self.loss_fn = build_loss(exp.loss, weights, num_classes=k,
                                  log_probs=log_probs).to(self.device)
        note = loss_note(exp.loss, log_probs)
        if note:
            notes.append(note)
        note = left_out_note(self.index)  # e.g. CSV rows whose files are missing
        if note:
            notes.append(note)
        # MixUp/CutMix: whole training batches, after collation (None when not listed).
        self.batch_transform = build_batch_transform(exp, num_classes=k)

        self._gen = gen = torch.Generator().manual_seed(exp.training.seed)
        sampler = (balanced_sampler(train_labels, k, generator=gen)
                   if balance == "weighted_sampler" else None)
        data_note = self._setup_data(train_s, val_s, gen, sampler)
        # After the loaders: a per-batch schedule needs the number of steps in an epoch.
        self.schedule_epochs = ckpt.schedule_epochs if ckpt is not None else \
            exp.training.epochs
        self.schedule = build_scheduler(exp.scheduler, self.optimizer, self.steps_per_epoch,
                                        self.schedule_epochs)
        self._setup_device_options()
        t = exp.training
        self.tracker = BestTracker(resolve_monitor(t.monitor, self.val_loader is not None),
                                   t.min_delta, t.patience if t.early_stopping else None)
        labels = [f"{i + 1} {layer.type}" for i, layer in enumerate(exp.model.layers)]
        self._norms = NormSampler(self.model, labels) if self.norm_interval else None
        if ckpt is not None:
            notes.extend(self._restore(ckpt))
        if self.dist is not None:  # last: DDP must wrap the final, restored parameters
            self._ddp = self.dist.wrap(self.model, self.device)
            if self.dist.rank:
                # Each rank draws its own augmentations (and dropout masks); the weights
                # were broadcast from rank 0 by the wrap, and the shard order has its own
                # seed in the sampler.
                seed_everything(exp.training.seed + 7919 * self.dist.rank)
        info = {"epochs": exp.training.epochs, "batches_per_epoch": len(self.train_loader),
                "device": str(self.device), "num_train": len(train_s), "num_val": len(val_s),
                "classes": list(self.classes), "num_params": summary.total_params,
                "balance": balance, "cache": data_note, "amp": _dtype_name(self._amp),
                "channels_last": self._channels_last, "notes": notes,
                "batch_size": int(exp.data.batch_size), "monitor": self.tracker.metric,
                "start_epoch": self.epochs_done + 1, "history": [dict(m) for m in self.history],
                "steps": self.steps, "best": self.tracker.best,
                "norm_layers": list(self._norms.names) if self._norms else []}
        if self.dist is not None:
            info.update(world_size=self.dist.world_size, rank=self.dist.rank)
        return info

    def _setup_distributed(self) -> None:
        """Join torchrun's process group when this process is one of several (see
        :mod:`.distributed`); a single process changes nothing."""
        from workbench.core.train.distributed import DistributedContext

        ctx = DistributedContext.from_env()
        if ctx.active:
            self.device = ctx.init(self.device)  # cuda:<LOCAL_RANK> on GPUs
            self.dist = ctx

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps in one epoch (batches over ``training.accumulate``)."""
        return max(1, math.ceil(len(self.train_loader) / self.experiment.training.accumulate))

    def _setup_data(self, train_s: list, val_s: list, gen: torch.Generator,
                    sampler: Any) -> str:
        """Loaders, and the batch pipelines run on the device; returns the cache note.

        When the pipeline splits (nearly always) both splits read uint8 images from the
        decoded-image cache (or decode them afresh when it is off) and augment on the
        device, batch-wise; otherwise each image runs the whole per-image pipeline in a
        DataLoader, as in a hand-written loop.
        """
        from workbench.core.data.cache import CachedBatches, open_cache
        from workbench.core.data.dataset import make_loader
        from workbench.core.data.augment.pipeline import NotSplittable, split_pipeline
        from workbench.core.data.augment.transforms import build_eval_transform, build_train_transform

        exp = self.experiment
        pin = self.device.type == "cuda"
        val_sampler = None
        if self.dist is not None:  # each rank reads its own shard of each split
            sampler = self.dist.train_sampler(len(train_s), exp.training.seed, sampler)
            val_sampler = self.dist.val_sampler(len(val_s))
        try:
            split = split_pipeline(exp)
        except NotSplittable as e:
            self.train_pipeline = self.eval_pipeline = None
            self.cache = None
            self.train_loader = make_loader(train_s, build_train_transform(exp), exp,
                                            shuffle=True, device=self.device, generator=gen,
                                            sampler=sampler)
            self.val_loader = (make_loader(val_s, build_eval_transform(exp), exp, shuffle=False,
                                           device=self.device, sampler=val_sampler)
                               if val_s else None)
            return f"off: {e}"
        slot_of: dict[str, int] = {}
        for path, _ in list(train_s) + list(val_s):
            slot_of.setdefault(path, len(slot_of))
        # Under torchrun the ranks of a node share a disk cache: one creates it first.
        with (self.dist.local_main_first() if self.dist is not None
              else contextlib.nullcontext()):
            self.cache, note = open_cache(list(slot_of), split, exp.data.cache,
                                          exp.data.cache_budget_mb)
        self._cache_reported = -1
        bs = int(exp.data.batch_size)
        self.train_loader = CachedBatches(self.cache, [slot_of[p] for p, _ in train_s],
                                          [lbl for _, lbl in train_s], bs, shuffle=True,
                                          generator=gen, sampler=sampler, pin=pin)
        self.val_loader = (CachedBatches(self.cache, [slot_of[p] for p, _ in val_s],
                                         [lbl for _, lbl in val_s], bs, pin=pin,
                                         sampler=val_sampler)
                           if val_s else None)
        self.train_pipeline, self.eval_pipeline = split.train, split.eval
        return note

    def _setup_device_options(self) -> None:
        from workbench.core.train.device import resolve_amp

        exp, device = self.experiment, self.device
        self._amp = resolve_amp(exp.training.amp, device)
        self._scaler = (torch.amp.GradScaler("cuda") if self._amp == torch.float16 else None)
        has_conv = any(isinstance(m, torch.nn.Conv2d) for m in self.model.modules())
        self._channels_last = bool(device.type == "cuda" and exp.training.channels_last
                                   and has_conv)
        if self._channels_last:
            self.model.to(memory_format=torch.channels_last)
        if device.type == "cuda" and not exp.training.deterministic:
            # Fixed input sizes: let cuDNN pick the fastest convolution algorithms.
            self._cudnn_benchmark = torch.backends.cudnn.benchmark
            torch.backends.cudnn.benchmark = True

    def _report_cache(self) -> None:
        cache = self.cache
        if cache is None or cache.where == "off" or self._cache_reported >= len(cache):
            return  # nothing to report, or already reported full: no recount every batch
        done, total = cache.done, len(cache)
        step = max(1, total // 100)
        if done != self._cache_reported and (done >= total or
                                             done - self._cache_reported >= step):
            self._cache_reported = done
            self._emit("on_cache_progress", done, total)

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
                self._emit("on_fit_start", info)
                stopped, early, reason = self._epochs()
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
            replacement = (self._oom_error() if _out_of_memory(e) else
                           self._worker_error(e) if _worker_died(e) else None)
            failure = replacement or e
            error = str(failure) or type(failure).__name__
            kind = ("out_of_memory" if isinstance(failure, TrainingOutOfMemory) else
                    "diverged" if isinstance(failure, TrainingDiverged) else "failed")
            if replacement is not None:
                raise replacement from None
            raise
        finally:
            self._teardown()
            if self.model is not None:
                self.model.to("cpu", memory_format=torch.contiguous_format).eval()
            best = self.tracker.best if self.tracker is not None else None
            result = FitResult(list(self.history), list(self.classes), self.model, stopped,
                               self.experiment, sorted(self._skipped.items()), error,
                               early, reason, dict(best) if best else None, restored, kind,
                               self._weights_epoch(restored, best))
            # Every callback hears the end, even when one before it fails (a recorder that
            # cannot write its bundle must not leave the app's bridge, or run.json, waiting).
            failures = self._emit_all("on_fit_end", result)
            if failures and error is None:
                raise failures[0]
        return result

    def _epochs(self) -> tuple[bool, bool, str]:
        """Train the remaining epochs; returns ``(stopped, early_stopped, reason)``."""
        exp = self.experiment
        keep_best = exp.training.early_stopping and exp.training.restore_best
        for epoch in range(self.epochs_done + 1, exp.training.epochs + 1):
            if self._stop_everywhere():
                return True, False, "stopped"
            if self.dist is not None:  # DistributedSampler reshuffles per epoch
                getattr(self.train_loader.sampler, "set_epoch", lambda e: None)(epoch)
            self._emit("on_epoch_start", epoch)
            t0, paused0 = time.perf_counter(), self.gate.paused_seconds
            train = self._run_epoch(epoch, train=True)
            if train is None:
                return True, False, "stopped"
            lr = float(self._lr())  # the rate the epoch ended at, before it changes
            val = self._run_epoch(epoch, train=False) if self.val_loader else (None, None)
            if val is None:
                return True, False, "stopped"
            self.schedule.step_epoch(val[0], train[0])
            seconds = time.perf_counter() - t0 - (self.gate.paused_seconds - paused0)
            metrics = {"epoch": epoch, "train_loss": train[0], "train_acc": train[1],
                       "val_loss": val[0], "val_acc": val[1], "lr": lr, "seconds": seconds}
            self.history.append(metrics)
            self.epochs_done = epoch
            self.elapsed += seconds
            self._snapshot_weights()
            if self.tracker.update(metrics) and keep_best:
                self._best_state = self._finished_state  # replaced, never changed in place
            self._emit("on_epoch_end", epoch, dict(metrics))
            if self.tracker.should_stop and epoch < exp.training.epochs:
                return False, True, self.tracker.reason()
        return False, False, ""

    def _run_epoch(self, epoch: int, train: bool) -> tuple[float | None, float | None] | None:
        """One pass over the train or validation loader: (mean loss, accuracy), or None if
        a stop was requested mid-way."""
        loader = self.train_loader if train else self.val_loader
        self.model.train(train)
        self._dirty = self._dirty or train  # a training pass moves weights and statistics
        total_loss, correct, seen = 0.0, 0, 0
        reads = EpochReads()  # images decoded or not: none at all ends the run
        bad_validation: tuple[int, float] | None = None  # under torchrun: agreed at the end
        num_batches = len(loader)
        accumulate = self.experiment.training.accumulate
        self._accumulated = 0
        with torch.set_grad_enabled(train):
            for i, (x, y, skipped) in enumerate(loader):
                for path, reason in skipped:
                    if path not in self._skipped:
                        self._skipped[path] = reason
                        self._emit("on_skipped", path, reason)
                reads.add(0 if x is None else len(x), skipped)
                self._report_cache()
                if train:
                    self.gate.wait(self.stop_event, lambda: self._emit("on_paused", epoch, i + 1),
                                   lambda: self._emit("on_resumed"))
                stop = self.stop_requested
                # BatchNorm cannot estimate statistics from one sample in training mode;
                # a last batch of one is dropped rather than failing the run.
                skip = x is None or len(x) == 0 or \
                    (train and len(x) == 1 and self._has_batchnorm)
                if self.dist is not None:
                    # DDP's backward all-reduces, so every rank stops, or skips a batch, at
                    # the same training batch. Validation has no collectives: it finishes,
                    # and a stop is agreed at the next epoch's start.
                    stop, skip = self.dist.agree(stop, skip) if train else (False, skip)
                if stop:
                    if train:
                        self.optimizer.zero_grad(set_to_none=True)
                    return None
                if skip:
                    continue
                x, target, y = self.batch_inputs(x, y, train)
                logits, loss = self.forward_loss(x, target)
                value = loss.item()
                finite = math.isfinite(value)
                if self.dist is not None and train:
                    # One rank's divergence is every rank's: the others would otherwise wait
                    # for its gradients until the process group times out.
                    finite = not self.dist.agree(not finite)[0]
                elif self.dist is not None and not finite:
                    # Validation has no per-batch collectives (shards differ in length):
                    # this rank says so in the epoch's sums below.
                    bad_validation = bad_validation or (i + 1, value)
                    continue
                if not finite:
                    raise self._diverged(value, epoch, i + 1)
                if train:
                    self._accumulated += 1
                    last = i + 1 == num_batches
                    step = self._accumulated >= accumulate or last
                    self.optimizer_step(loss, step=step, scale=1.0 / accumulate)
                    if step:
                        self._accumulated = 0
                        self.steps += 1
                        self.schedule.step_batch()
                n = len(y)
                total_loss += value * n
                correct += int((logits.argmax(1) == y).sum().item())
                seen += n
                if train:
                    self._emit("on_batch_end", epoch, i + 1, num_batches, value)
        self._report_cache()
        if self.dist is not None:  # sums over every shard: the whole split's metrics
            total_loss, correct, seen, bad, read, unread = self.dist.all_reduce_sum(
                [total_loss, correct, seen, bad_validation is not None, reads.read,
                 reads.unread])
            correct, seen = int(round(correct)), int(round(seen))
            reads.read, reads.unread = int(round(read)), int(round(unread))
            if bad:
                batch, value = bad_validation or (0, math.nan)
                raise self._diverged(value, epoch, batch, validation=True)
        if reads.read == 0:  # nothing to learn from or to measure: not a finished epoch
            raise no_readable_error("training" if train else "validation", epoch,
                                    str(self.index.root), reads, self.epochs_done)
        if seen == 0:
            return (None, None)
        return total_loss / seen, correct / seen

    # -- one step (also used by the LR finder) -------------------------------------------
    def batch_inputs(self, x: torch.Tensor, y: torch.Tensor,
                     train: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A loader batch as the network sees it: on the device, augmented and normalised
        batch-wise, channels-last when set, mixed (MixUp/CutMix) when training.

        Returns ``(x, target, y)``: ``target`` is what the loss takes (soft ``(B, K)``
        targets when mixed), ``y`` the hard labels accuracy counts (the class with the
        largest share when mixed).
        """
        non_blocking = self.device.type == "cuda"
        x = x.to(self.device, non_blocking=non_blocking)
        y = y.to(self.device, non_blocking=non_blocking)
        pipeline = self.train_pipeline if train else self.eval_pipeline
        if pipeline is not None:  # augment and normalise on the device, batch-wise
            x = pipeline(x)
        if self._channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        target = y
        if train and self.batch_transform is not None:
            x, target = self.batch_transform(x, y)
            y = target.argmax(1)
        return x, target, y

    def forward_loss(self, x: torch.Tensor,
                     target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, loss)`` of the model on a prepared batch, under autocast when AMP is on."""
        # Training goes through the DDP wrapper (it all-reduces the gradients); evaluation
        # needs no communication and uses the plain module.
        net = self._ddp if self._ddp is not None and self.model.training else self.model
        with (torch.autocast(self.device.type, dtype=self._amp) if self._amp is not None
              else contextlib.nullcontext()):
            logits = net(x)
            return logits, self.loss_fn(logits, target)

    def optimizer_step(self, loss: torch.Tensor, step: bool = True, scale: float = 1.0) -> None:
        """Backpropagate ``loss`` and, when ``step``, clip the gradients and step the
        optimizer (through the grad scaler for fp16), leaving the gradients zeroed.

        With gradient accumulation each micro-batch's loss is scaled by ``scale``
        (1 / accumulate) and only the last one steps, so the step sees the mean gradient.
        """
        if scale != 1.0:
            loss = loss * scale
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
        else:
            loss.backward()
        if not step:
            return
        clip = self.experiment.training.grad_clip
        sample = self._norms is not None and (self.steps + 1) % self.norm_interval == 0
        if self._scaler is not None and (clip > 0 or sample):
            self._scaler.unscale_(self.optimizer)  # clip and measure the true gradients
        if sample:
            grads, weights = self._norms.sample()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(
                [p for g in self.optimizer.param_groups for p in g["params"]], clip)
        if self._scaler is not None:
            self._scaler.step(self.optimizer)
            self._scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if sample:
            self._emit("on_norms", self.steps + 1, list(self._norms.names), grads, weights)

    def _oom_error(self) -> TrainingOutOfMemory:
        bs = int(self.experiment.data.batch_size)
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.empty_cache()
        done = (f" The {self.epochs_done} finished epoch(s) and their checkpoint are kept."
                if self.epochs_done else "")
        return TrainingOutOfMemory(
            f"the {self.device or 'device'} ran out of memory at batch size {bs}.{done} "
            f"Try batch size {max(1, bs // 2)} (or a smaller input size, or gradient "
            f"accumulation to keep the effective batch)", bs)

    def _diverged(self, value: float, epoch: int, batch: int,
                  validation: bool = False) -> TrainingDiverged:
        if batch and not math.isfinite(value):
            where = f"{value} at epoch {epoch}, batch {batch}"
        else:  # finite here: another process's loss was not (under torchrun)
            where = f"not finite at epoch {epoch} on another process"
        what = "validation loss" if validation else "loss"
        return TrainingDiverged(
            f"training diverged: the {what} became {where}. The learning rate "
            f"({self._lr():g}) is the usual cause: lower it (e.g. by 10x, or find one with "
            f"the LR finder) and start again", epoch)

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

    def _stop_everywhere(self) -> bool:
        """A stop request; under torchrun one rank's request stops every rank."""
        if self.dist is None:
            return self.stop_requested
        return self.dist.agree(self.stop_requested)[0]

    def _worker_error(self, e: BaseException) -> WorkbenchError:
        return WorkbenchError(
            f"a data-loading worker process died ({str(e).strip()}). This usually means the "
            f"machine ran out of memory: lower data.num_workers "
            f"({self.experiment.data.num_workers}) or the batch size, or use the decoded-image "
            f"cache (data.cache auto); the finished epochs are kept")

    def _teardown(self) -> None:
        self._ddp = None
        if self.dist is not None:
            self.dist.shutdown()
        cache = self.cache
        if cache is not None:
            try:
                cache.close()
            except OSError:  # a disk cache that cannot be flushed is rebuilt next time
                pass
        if hasattr(self, "_cudnn_benchmark"):
            torch.backends.cudnn.benchmark = self._cudnn_benchmark

    def _lr(self) -> Any:
        return self.optimizer.param_groups[0].get("lr") if self.optimizer else "?"

    def _emit(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    def _emit_all(self, hook: str, *args: Any) -> list[BaseException]:
        """Call ``hook`` on every callback even if some raise; returns what they raised."""
        failures = []
        for cb in self.callbacks:
            try:
                getattr(cb, hook)(self, *args)
            except Exception as e:  # noqa: BLE001  (re-raised by the caller)
                failures.append(e)
        return failures


def _worker_died(e: BaseException) -> bool:
    """torch's DataLoader reporting a worker process that exited (killed, crashed)."""
    text = str(e)
    return isinstance(e, RuntimeError) and "DataLoader worker" in text and \
        "exited unexpectedly" in text


def _out_of_memory(e: BaseException) -> bool:
    """A device out-of-memory error (CUDA's own class, or MPS/others' RuntimeError)."""
    oom_type = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda,
                                                                    "OutOfMemoryError", ())
    if oom_type and isinstance(e, oom_type):
        return True
    return isinstance(e, RuntimeError) and not isinstance(e, WorkbenchError) \
        and "out of memory" in str(e).lower()


def _dtype_name(dtype: torch.dtype | None) -> str:
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "off")
