"""The training loop: a synchronous lifecycle with callback hooks.

``Trainer.fit()`` knows nothing of Qt. Progress, plots, checkpoints and the CLI's printing
are callbacks; the GUI runs ``fit`` in a worker thread and stops it through ``stop_event``,
which is checked at every batch. End hooks run in ``finally`` so they always fire.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from ..errors import WorkbenchError
from ..experiment import Experiment


class TrainingDiverged(WorkbenchError):
    """The loss became NaN or infinite."""


class Callback:
    """Base class of training callbacks; every hook is a no-op.

    Payloads are plain Python values (ints, floats, dicts of them) so a callback may forward
    them across threads without keeping tensors alive.
    """

    def on_fit_start(self, trainer: "Trainer", info: dict[str, Any]) -> None: ...

    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None: ...

    def on_batch_end(self, trainer: "Trainer", epoch: int, batch: int, num_batches: int,
                     loss: float) -> None: ...

    def on_epoch_end(self, trainer: "Trainer", epoch: int, metrics: dict[str, Any]) -> None: ...

    def on_fit_end(self, trainer: "Trainer", result: "FitResult") -> None: ...

    def on_skipped(self, trainer: "Trainer", path: str, reason: str) -> None: ...

    def on_cache_progress(self, trainer: "Trainer", done: int, total: int) -> None:
        """The decoded-image cache holds ``done`` of ``total`` images (called while it
        fills in the first epoch, about every 1%, and once when full)."""


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

    def save_bundle(self, path: str | Path) -> Path:
        """Write the trained model with its Experiment and classes as one bundle file."""
        from ..bundle import save_bundle

        if self.model is None:
            raise WorkbenchError("there is no trained model to save: the run failed before "
                                 "its network was built")
        return save_bundle(path, self.experiment, self.classes, self.model.state_dict())


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer:
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

    Notes
    -----
    ``data.balance`` picks a class-weighted loss (weights from the training split, also
    used for the validation loss) or a weighted sampler; MixUp/CutMix listed in
    ``augment.transforms`` mix training batches only, with soft targets (train accuracy
    counts the class with the largest share).
    """

    def __init__(self, experiment: Experiment, callbacks: Iterable[Callback] = (),
                 stop_event: threading.Event | None = None, index: Any = None):
        self.experiment = experiment.copy().validate()
        self.callbacks = list(callbacks)
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self.index = index
        self.device: torch.device | None = None
        self.model: torch.nn.Module | None = None
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

    def request_stop(self) -> None:
        self.stop_event.set()

    @property
    def stop_requested(self) -> bool:
        return self.stop_event.is_set()

    # -- setup -------------------------------------------------------------------------
    def _setup(self) -> dict[str, Any]:
        from ..data.batch import build_batch_transform
        from ..data.dataset import balanced_sampler, class_weights
        from ..data.scan import scan_folder
        from ..data.split import split_for
        from ..model.backbones import load_backbone_weights
        from ..model.builder import build_network
        from ..model.init import apply_init
        from .allocator import tune_host_allocator
        from .device import resolve_device
        from .optim import build_loss, build_optimizer, optimizer_lr, parameter_groups
        from .schedules import build_scheduler

        exp = self.experiment
        self.device = resolve_device(exp.training.device)
        tune_host_allocator()  # the same large buffers every step: keep them in the heap
        if self.index is None:
            folder = exp.data.folder
            if not folder:
                from ..data.demo import ensure_demo_dataset

                folder = str(ensure_demo_dataset())
            self.index = scan_folder(folder)
        self.index.check_trainable()
        self.classes = list(self.index.classes)
        train_s, val_s = split_for(self.index, exp.data)

        seed_everything(exp.training.seed)
        h, w = exp.data.input_size
        model, summary = build_network(exp.model.layers, (exp.data.channels, h, w),
                                       len(self.classes))
        apply_init(model, exp.init, layers=exp.model.layers)  # layers' own init override
        # Pretrained backbone weights go in after the init scheme, which would overwrite them.
        notes = load_backbone_weights(model)
        self.model = model.to(self.device)
        self._has_batchnorm = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                                  for m in model.modules())
        # Frozen layers stay out of the optimizer; a fine-tuned backbone gets a scaled lr.
        self.optimizer = build_optimizer(exp.optimizer, parameter_groups(
            self.model, exp.model.layers, optimizer_lr(exp.optimizer)))
        k = len(self.classes)
        train_labels = [int(label) for _, label in train_s]
        balance = exp.data.balance
        weights = class_weights(train_labels, k) if balance == "weighted_loss" else None
        self.loss_fn = build_loss(exp.loss, weights).to(self.device)
        # MixUp/CutMix: whole training batches, after collation (None when not listed).
        self.batch_transform = build_batch_transform(exp, num_classes=k)

        gen = torch.Generator().manual_seed(exp.training.seed)
        sampler = (balanced_sampler(train_labels, k, generator=gen)
                   if balance == "weighted_sampler" else None)
        data_note = self._setup_data(train_s, val_s, gen, sampler)
        # After the loaders: a per-batch schedule needs the number of steps in an epoch.
        self.schedule = build_scheduler(exp.scheduler, self.optimizer, len(self.train_loader),
                                        exp.training.epochs)
        self._setup_device_options()
        return {"epochs": exp.training.epochs, "batches_per_epoch": len(self.train_loader),
                "device": str(self.device), "num_train": len(train_s), "num_val": len(val_s),
                "classes": list(self.classes), "num_params": summary.total_params,
                "balance": balance, "cache": data_note, "amp": _dtype_name(self._amp),
                "channels_last": self._channels_last, "notes": notes}

    def _setup_data(self, train_s: list, val_s: list, gen: torch.Generator,
                    sampler: Any) -> str:
        """Loaders, and the batch pipelines run on the device; returns the cache note.

        When the pipeline splits (nearly always) both splits read uint8 images from the
        decoded-image cache (or decode them afresh when it is off) and augment on the
        device, batch-wise; otherwise each image runs the whole per-image pipeline in a
        DataLoader, as in a hand-written loop.
        """
        from ..data.cache import CachedBatches, open_cache
        from ..data.dataset import make_loader
        from ..data.pipeline import NotSplittable, split_pipeline
        from ..data.transforms import build_eval_transform, build_train_transform

        exp = self.experiment
        pin = self.device.type == "cuda"
        try:
            split = split_pipeline(exp)
        except NotSplittable as e:
            self.train_pipeline = self.eval_pipeline = None
            self.cache = None
            self.train_loader = make_loader(train_s, build_train_transform(exp), exp,
                                            shuffle=True, device=self.device, generator=gen,
                                            sampler=sampler)
            self.val_loader = (make_loader(val_s, build_eval_transform(exp), exp, shuffle=False,
                                           device=self.device) if val_s else None)
            return f"off: {e}"
        slot_of: dict[str, int] = {}
        for path, _ in list(train_s) + list(val_s):
            slot_of.setdefault(path, len(slot_of))
        self.cache, note = open_cache(list(slot_of), split, exp.data.cache,
                                      exp.data.cache_budget_mb)
        self._cache_reported = -1
        bs = int(exp.data.batch_size)
        self.train_loader = CachedBatches(self.cache, [slot_of[p] for p, _ in train_s],
                                          [lbl for _, lbl in train_s], bs, shuffle=True,
                                          generator=gen, sampler=sampler, pin=pin)
        self.val_loader = (CachedBatches(self.cache, [slot_of[p] for p, _ in val_s],
                                         [lbl for _, lbl in val_s], bs, pin=pin)
                           if val_s else None)
        self.train_pipeline, self.eval_pipeline = split.train, split.eval
        return note

    def _setup_device_options(self) -> None:
        from .device import resolve_amp

        exp, device = self.experiment, self.device
        self._amp = resolve_amp(exp.training.amp, device)
        self._scaler = (torch.amp.GradScaler("cuda") if self._amp == torch.float16 else None)
        has_conv = any(isinstance(m, torch.nn.Conv2d) for m in self.model.modules())
        self._channels_last = bool(device.type == "cuda" and exp.training.channels_last
                                   and has_conv)
        if self._channels_last:
            self.model.to(memory_format=torch.channels_last)
        if device.type == "cuda":
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
            For anything the user can fix (dataset, network shapes, device, divergence);
            the end hooks have run by then.
        """
        stopped = False
        error: str | None = None
        try:
            info = self._setup()
            self._emit("on_fit_start", info)
            for epoch in range(1, self.experiment.training.epochs + 1):
                if self.stop_requested:
                    stopped = True
                    break
                self._emit("on_epoch_start", epoch)
                t0 = time.perf_counter()
                train = self._run_epoch(epoch, train=True)
                if train is None:
                    stopped = True
                    break
                lr = float(self._lr())  # the rate the epoch ended at, before it changes
                val = self._run_epoch(epoch, train=False) if self.val_loader else (None, None)
                if val is None:
                    stopped = True
                    break
                self.schedule.step_epoch(val[0], train[0])
                metrics = {"epoch": epoch, "train_loss": train[0], "train_acc": train[1],
                           "val_loss": val[0], "val_acc": val[1], "lr": lr,
                           "seconds": time.perf_counter() - t0}
                self.history.append(metrics)
                self._emit("on_epoch_end", epoch, dict(metrics))
        except BaseException as e:
            error = str(e) or type(e).__name__
            raise
        finally:
            self._teardown()
            if self.model is not None:
                self.model.to("cpu", memory_format=torch.contiguous_format).eval()
            result = FitResult(list(self.history), list(self.classes), self.model, stopped,
                               self.experiment, sorted(self._skipped.items()), error)
            self._emit("on_fit_end", result)
        return result

    def _run_epoch(self, epoch: int, train: bool) -> tuple[float | None, float | None] | None:
        """One pass over the train or validation loader: (mean loss, accuracy), or None if
        a stop was requested mid-way."""
        loader = self.train_loader if train else self.val_loader
        self.model.train(train)
        total_loss, correct, seen = 0.0, 0, 0
        num_batches = len(loader)
        with torch.set_grad_enabled(train):
            for i, (x, y, skipped) in enumerate(loader):
                for path, reason in skipped:
                    if path not in self._skipped:
                        self._skipped[path] = reason
                        self._emit("on_skipped", path, reason)
                self._report_cache()
                if self.stop_requested:
                    return None
                if x is None or len(x) == 0:
                    continue
                if train and len(x) == 1 and self._has_batchnorm:
                    # BatchNorm cannot estimate statistics from one sample in training mode;
                    # a last batch of one is dropped rather than failing the run.
                    continue
                x, target, y = self.batch_inputs(x, y, train)
                logits, loss = self.forward_loss(x, target)
                value = loss.item()
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"training diverged: the loss became {value} at epoch {epoch}, batch "
                        f"{i + 1}. The learning rate ({self._lr()}) is the usual cause: lower it "
                        f"(e.g. by 10x) and start again")
                if train:
                    self.optimizer_step(loss)
                    self.schedule.step_batch()
                n = len(y)
                total_loss += value * n
                correct += int((logits.argmax(1) == y).sum().item())
                seen += n
                if train:
                    self._emit("on_batch_end", epoch, i + 1, num_batches, value)
        self._report_cache()
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
        with (torch.autocast(self.device.type, dtype=self._amp) if self._amp is not None
              else contextlib.nullcontext()):
            logits = self.model(x)
            return logits, self.loss_fn(logits, target)

    def optimizer_step(self, loss: torch.Tensor) -> None:
        """Backpropagate ``loss`` and step the optimizer (through the grad scaler for fp16)."""
        self.optimizer.zero_grad(set_to_none=True)
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
            self._scaler.step(self.optimizer)
            self._scaler.update()
        else:
            loss.backward()
            self.optimizer.step()

    def _teardown(self) -> None:
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


def _dtype_name(dtype: torch.dtype | None) -> str:
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "off")
