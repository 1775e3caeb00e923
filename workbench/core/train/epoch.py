"""One pass over the training or validation loader, the heart of
:class:`~workbench.core.train.trainer.Trainer`'s loop: skipped and unreadable images, a
stop or a pause at a batch, gradient accumulation, divergence, and under torchrun the
agreement of every rank and the sums over every shard (:mod:`.distributed`)."""

from __future__ import annotations

import math

import torch

from workbench.core.train.failures import TrainingDiverged, diverged_error
from workbench.core.train.unreadable import EpochReads, no_readable_error


class EpochPass:
    """Mixed into the Trainer: :meth:`_run_epoch`, on the state its setup builds."""

    def _run_epoch(self, epoch: int, train: bool) -> tuple[float | None, float | None] | None:
        """One pass over the train or validation loader: (mean loss, accuracy), or None if
        a stop was requested mid-way."""
        loader = self.train_loader if train else self.val_loader
        self.model.train(train)
        self._dirty = self._dirty or train  # a training pass moves weights and statistics
        total_loss, correct, seen = 0.0, 0, 0
        reads = EpochReads()  # images decoded or not: none at all ends the run
        bad_validation: tuple[int, float] | None = None  # under torchrun: agreed at the end
        # The validation confusion matrix (val_bal_acc, the doctor's class_never_predicted,
        # TensorBoard); under torchrun summed over the ranks below, so every rank agrees.
        k = len(self.classes)
        confusion = None if train else torch.zeros(k, k, device=self.device)
        num_batches = len(loader)
        accumulate = self.experiment.training.accumulate
        self._accumulated = 0
        with torch.set_grad_enabled(train):
            for i, batch in enumerate(loader):
                x, y, skipped = batch
                for path, reason in skipped:
                    if path not in self.skipped:
                        self.skipped[path] = reason
                        self.emit("on_skipped", path, reason)
                reads.add(0 if x is None else len(x), skipped)
                self._report_cache()
                if train:
                    self.emit("on_batch_start", epoch, i + 1)  # a pause waits here
                stop = self.stop_requested
                # BatchNorm cannot train on one sample: a last batch of one is dropped.
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
                if skip:  # the last one: the batch before did not know it was last
                    if train and self._accumulated and i + 1 == num_batches:
                        self.step_pending()
                    continue
                x, target, y = (self.features.batch(self, batch, train, epoch) if
                                 self.features is not None else self.batch_inputs(x, y, train))
                logits, loss = self.forward_loss(x, target)
                value = loss.item()
                exploded = train and self.explosion is not None and self.explosion.batch(value)
                finite = math.isfinite(value) and not exploded
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
                    if exploded:  # a number far from any sane one: plotted and logged, as named
                        self.emit("on_batch_end", epoch, i + 1, num_batches, value)
                        raise TrainingDiverged(self.explosion.message(
                            value, epoch, i + 1, self._lr()), epoch, value)
                    raise diverged_error(value, epoch, i + 1, self._lr(),
                                         explosion=self.explosion)
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
                guess = logits.argmax(1)
                correct += int((guess == y).sum().item())
                if confusion is not None:  # whole counts: exact in float, in any order
                    confusion.index_put_((y, guess), torch.ones_like(guess, dtype=torch.float),
                                         accumulate=True)
                seen += n
                if train:
                    self.emit("on_batch_end", epoch, i + 1, num_batches, value)
        self._report_cache()
        if self.dist is not None:  # sums over every shard: the whole split's metrics
            total_loss, correct, seen, bad, read, unread = self.dist.all_reduce_sum(
                [total_loss, correct, seen, bad_validation is not None, reads.read,
                 reads.unread])
            if confusion is not None:
                confusion = self.dist.all_reduce_tensor(confusion)
            correct, seen = int(round(correct)), int(round(seen))
            reads.read, reads.unread = int(round(read)), int(round(unread))
            if bad:
                batch, value = bad_validation or (0, math.nan)
                raise diverged_error(value, epoch, batch, self._lr(), validation=True,
                                     explosion=self.explosion)
        if reads.read == 0:  # nothing to learn from or to measure: not a finished epoch
            raise no_readable_error("training" if train else "validation", epoch,
                                    str(self.index.root), reads, self.epochs_done)
        if seen == 0:
            return (None, None)
        if confusion is not None:
            self.val_confusion = confusion.round().long().tolist()
            self.val_predicted = [sum(col) for col in zip(*self.val_confusion)]
        return total_loss / seen, correct / seen
