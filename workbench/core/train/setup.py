"""Building a run from its Experiment: the network, its initialisation and optimizer, the
loss, the data loaders and device pipelines, the schedule, the device options (AMP,
channels-last), torchrun's process group, and the run's own callbacks (early stopping,
pausing, norm sampling, and the split a resumed run keeps:
:mod:`.callbacks.split_keeper`); undone by :meth:`RunSetup._teardown`.

:class:`RunSetup` is mixed into :class:`~workbench.core.train.trainer.Trainer`.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import math
import random
from typing import Any

import numpy as np
import torch

from workbench.core.train.callbacks.doctor import (SAMPLES_PER_EPOCH, ExplodingLoss,
                                                   TrainingDoctor)
from workbench.core.train.callbacks.early_stopping import EarlyStopping
from workbench.core.train.callbacks.norms import NormSampling
from workbench.core.train.callbacks.pause import Pause
from workbench.core.train.failures import batch_of_one_error
from workbench.core.train.processes import ProcessCount, session
from workbench.core.train.resume import SET_LR
from workbench.core.data.usage import unvalidated_note
from workbench.core.errors import WorkbenchError
from workbench.core.train.unreadable import left_out_note


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class RunSetup:
    """Set-up and tear-down of a :class:`~workbench.core.train.trainer.Trainer`'s run."""

    # -- setup -------------------------------------------------------------------------
    def _setup(self) -> dict[str, Any]:
        from workbench.core.data.augment.transforms import build_batch_transform
        from workbench.core.data.dataset import balanced_sampler, class_weights
        from workbench.core.data.index import check_class_files
        from workbench.core.data.scan import scan_folder
        from workbench.core.train.callbacks.split_keeper import SplitKeeper
        from workbench.core.model.backbone_weights import load_backbone_weights, weights_record
        from workbench.core.model.builder import build_network
        from workbench.core.model.init import apply_init
        from workbench.core.train.allocator import tune_host_allocator
        from workbench.core.train.device import resolve_device
        from workbench.core.train.features import every_batch, open_features, plan_features
        from workbench.core.train.optim import (build_loss, build_optimizer, loss_note,
                                                optimizer_lr, parameter_groups)
        from workbench.core.train.schedules import build_scheduler

        exp = self.experiment
        self.device = resolve_device(exp.training.device)
        self._setup_distributed()
        tune_host_allocator()  # the same large buffers every step: keep them in the heap
        failure = None
        if self.index is None:
            from workbench.core.data.demo import dataset_folder

            try:
                self.index = scan_folder(dataset_folder(exp.data.folder))
            except WorkbenchError as e:
                if self.dist is None:
                    raise
                failure = e  # said by every rank: rank 0 prints it (a rank of its own)
        if self.dist is not None:  # every process must read the same dataset, or none trains
            self.dist.check_same_dataset(self.index, failure)
        if not self.index.verified:
            # A class whose every file is unreadable is refused, as the app's verified scan
            # refuses it, not trained as a label with no image (one decode a class); on a
            # copy, so the caller's index is not changed under it from this thread.
            self.index = copy.copy(self.index)
            check_class_files(self.index)
        self.index.check_trainable()
        self.classes = list(self.index.classes)
        ckpt = self.checkpoint
        if ckpt is not None:
            self._check_checkpoint(ckpt)
        # A resumed run keeps the split its folder recorded, however the data changed.
        self.split_keeper = SplitKeeper.for_run(self.index, exp.data, ckpt)
        train_s, val_s = self.split_keeper.train, self.split_keeper.val

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
        refusal = batch_of_one_error(exp.data.batch_size, self._has_batchnorm, len(train_s),
                                     exp.training.accumulate)
        if refusal is not None:  # no batch would train: say so now, not after every epoch
            raise refusal
        # Frozen layers stay out of the optimizer; a fine-tuned backbone gets a scaled lr.
        self.optimizer = build_optimizer(exp.optimizer, parameter_groups(
            self.model, exp.model.layers, optimizer_lr(exp.optimizer)))
        for group in self.optimizer.param_groups:  # saved with it: what a resume compares
            group[SET_LR] = float(group["lr"])
        k = len(self.classes)
        train_labels = [int(label) for _, label in train_s]
        self.class_counts = {name: _per_class(split, k)
                             for name, split in (("train", train_s), ("val", val_s)) if split}
        balance = exp.data.balance
        weights = class_weights(train_labels, k) if balance == "weighted_loss" else None
        log_probs = bool(exp.model.layers) and exp.model.layers[-1].type == "LogSoftmax"
        self.loss_fn = build_loss(exp.loss, weights, num_classes=k,
                                  log_probs=log_probs).to(self.device)
        note = loss_note(exp.loss, log_probs)
        if note:
            notes.append(note)
        for note in (left_out_note(self.index),  # e.g. CSV rows whose files are missing
                     unvalidated_note(self.classes, train_s, val_s)):  # a 1-image class
            if note:
                notes.append(note)
        if self.split_keeper.note:  # images added or removed since the checkpoint
            notes.append(self.split_keeper.note)
        # MixUp/CutMix: whole training batches, after collation (None when not listed).
        self.batch_transform = build_batch_transform(exp, num_classes=k)
        # A loss far above ln(k): diverged, not "best" (the doctor proposes the rate).
        self.explosion = ExplodingLoss(k, batchnorm=self._has_batchnorm)

        self._gen = gen = torch.Generator().manual_seed(exp.training.seed)
        sampler = (balanced_sampler(train_labels, k, generator=gen)
                   if balance == "weighted_sampler" else None)
        data_note, split = self._setup_data(train_s, val_s, gen, sampler)
        views, features_note, feature_mode = plan_features(
            exp, self.model, split, self.batch_transform, self.dist, summary,
            len(self.cache) if self.cache is not None else 0,
            start=int(ckpt.epoch) + 1 if ckpt is not None else 1, end=exp.training.epochs)
        if views:
            self.features, where = open_features(exp, self.model, len(self.cache),
                                                 tuple(summary.layers[0].output_shape), views)
            views = views if self.features is not None else 0
            features_note = where if self.features is None else f"{features_note} {where}"
            feature_mode = feature_mode if views else every_batch("no room for the features")
        if features_note:
            notes.append(features_note.strip())
        # After the loaders: a per-batch schedule needs the number of steps in an epoch.
        self.schedule_epochs = ckpt.schedule_epochs if ckpt is not None else \
            exp.training.epochs
        self.schedule = build_scheduler(exp.scheduler, self.optimizer, self.steps_per_epoch,
                                        self.schedule_epochs)
        self._setup_device_options()
        # The run's own callbacks, heard before the caller's (which read the best epoch).
        self.early_stopping = EarlyStopping.for_training(exp.training,
                                                         self.val_loader is not None)
        labels = [f"{i + 1} {layer.type}" for i, layer in enumerate(exp.model.layers)]
        # The doctor's gradient checks need a few samples an epoch when nobody asked for more,
        # and an interval asked for (the app's 10) samples at least once an epoch: a run of
        # 2 batches an epoch drew no norms at all in 3 epochs.
        interval = min(self.norm_interval, max(1, self.steps_per_epoch)) \
            if self.norm_interval else max(1, self.steps_per_epoch // SAMPLES_PER_EPOCH)
        self.norms = NormSampling(interval, self.model, labels)
        self.doctor = TrainingDoctor()
        # How many processes train this session, kept per session in the checkpoint.
        self.processes = ProcessCount(session(
            int(ckpt.epoch) + 1 if ckpt is not None else 1,
            self.dist.world_size if self.dist is not None else 1, exp.data.batch_size,
            exp.training.accumulate))
        self.hooks = [Pause(self.gate), self.early_stopping, self.norms, self.doctor,
                      self.split_keeper, self.processes, *self.callbacks]
        if ckpt is not None:
            notes.extend(self._restore(ckpt))
        notes.extend(self.processes.notes)  # e.g. "trained on 2 processes (batch 32 ...)"
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
                "features": ("cached" if views == 1 else f"cached, {views} views" if views
                             else "off" if features_note else ""),
                # In words, for run.json (a resumed run's weights came from its checkpoint).
                "feature_mode": feature_mode,
                "backbone_weights": weights_record(model) if ckpt is None else "",
                "batch_size": int(exp.data.batch_size), "monitor": self.tracker.metric,
                "start_epoch": self.epochs_done + 1, "history": [dict(m) for m in self.history],
                "steps": self.steps, "best": self.tracker.best,
                "norm_layers": list(self.norms.names),
                # Each session's process count and batch per update (.processes).
                "processes": self.processes.sessions}
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
                    sampler: Any) -> tuple[str, Any]:
        """Loaders, and the batch pipelines run on the device; returns the cache note and
        the split pipeline (None: the pipeline runs whole, per image).

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
            return f"off: {e}", None
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
        return note, split

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
            # Files found unreadable are counted neither as held nor as to come: full, the
            # cache holds ``total`` images (60 of 62 files, 2 skipped), as the run says.
            unreadable = cache.unreadable
            self.emit("on_cache_progress", done - unreadable, total - unreadable)

    def _teardown(self) -> None:
        self._ddp = None
        if self.dist is not None:
            self.dist.shutdown()
        if self.features is not None:
            self.features.close()
        cache = self.cache
        if cache is not None:
            try:
                cache.close()
            except OSError:  # a disk cache that cannot be flushed is rebuilt next time
                pass
        if hasattr(self, "_cudnn_benchmark"):
            torch.backends.cudnn.benchmark = self._cudnn_benchmark


def _dtype_name(dtype: torch.dtype | None) -> str:
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "off")


def _per_class(split: list[tuple[Any, int]], k: int) -> list[int]:
    """Images per class of a split of ``(path, label)`` pairs."""
    counts = collections.Counter(int(label) for _, label in split)
    return [counts.get(c, 0) for c in range(k)]
