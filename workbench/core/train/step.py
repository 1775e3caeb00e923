"""One training step, shared by the loop and the LR finder: a batch as the network sees
it, the forward pass and loss, and the backward pass and optimizer step.

:class:`Steps` is mixed into :class:`~workbench.core.train.trainer.Trainer`.
"""

from __future__ import annotations

import contextlib

import torch


class Steps:
    """``batch_inputs``, ``forward_loss`` and ``optimizer_step`` of a set-up trainer."""

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

    def autocast(self) -> contextlib.AbstractContextManager:
        """Autocast to the run's AMP dtype (a no-op context when AMP is off)."""
        return (torch.autocast(self.device.type, dtype=self._amp) if self._amp is not None
                else contextlib.nullcontext())

    def forward_loss(self, x: torch.Tensor,
                     target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, loss)`` of the model on a prepared batch, under autocast when AMP is on.
        With cached backbone features (:mod:`.features`), ``x`` holds them and only the
        layers after the backbone run."""
        # Training goes through the DDP wrapper (it all-reduces the gradients); evaluation
        # needs no communication and uses the plain module.
        net = self._ddp if self._ddp is not None and self.model.training else self.model
        if self.features is not None:
            net = self.features.head
        with self.autocast():
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
        if step:
            self._step_now()

    def step_pending(self) -> None:
        """Step the optimizer on the micro-batches accumulated so far (an epoch's last
        batch was skipped, so the one before did not step as the last): their gradients
        must not carry into the next epoch's first step. Counted as a step, as the
        trainer counts the others."""
        self._step_now()
        self._accumulated = 0
        self.steps += 1
        self.schedule.step_batch()

    def _step_now(self) -> None:
        """Clip the gradients and step the optimizer (through the grad scaler for fp16),
        leaving the gradients zeroed."""
        clip = self.experiment.training.grad_clip
        sample = self.norms is not None and self.norms.due(self.steps + 1)
        if self._scaler is not None and (clip > 0 or sample):
            self._scaler.unscale_(self.optimizer)  # clip and measure the true gradients
        if sample:
            grads, weights = self.norms.sample()
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
            self.emit("on_norms", self.steps + 1, list(self.norms.names), grads, weights)

