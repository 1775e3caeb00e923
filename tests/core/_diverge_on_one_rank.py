"""``workbench`` under torchrun, with the loss of rank 1 alone made NaN in epoch 2 (training
or validation, from ``WORKBENCH_TEST_NAN_IN``): tests that one rank's divergence ends every
rank instead of leaving the others waiting on a collective."""

from __future__ import annotations

import os
import sys

from workbench.cli import main
from workbench.core.train.trainer import Trainer

if os.environ.get("RANK") == "1":
    real = Trainer.forward_loss
    in_training = os.environ.get("WORKBENCH_TEST_NAN_IN", "train") == "train"

    def nan_in_epoch_2(self, x, target):
        logits, loss = real(self, x, target)
        if self.epochs_done == 1 and self.model.training == in_training:
            loss = loss * float("nan")
        return logits, loss

    Trainer.forward_loss = nan_in_epoch_2

sys.exit(main(sys.argv[1:]))
