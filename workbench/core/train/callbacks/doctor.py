"""The training doctor's checks on a live run (issue 19; the first: a loss that exploded).

A learning rate far too large does not always give a NaN: with Adam or SGD at lr 10 the
loss climbs to 1e8-1e36 and the network then dies into constant outputs, and the run used
to finish as a success with every epoch "best". :class:`ExplodingLoss` watches the training
losses against what predicting every class with equal probability costs, ``ln(classes)``
(the cross-entropy of an untrained network): a healthy run stays around or below it, an
exploded one is orders of magnitude above. Its verdict ends the run as diverged, exactly as
a NaN loss does (exit 3 in the CLI, the finished epochs' checkpoint kept, no bundle).
"""

from __future__ import annotations

import math

#: How many times ln(classes) counts as exploded. A healthy run's batch losses stay within a
#: few times ln(classes) (measured: at most 1.1 for 3 classes, i.e. 1x, with Adam at lr
#: 1e-3; a badly initialised network starts at 5-20x); lr 10 gave 1e8 to 1e36.
EXPLODED_FACTOR = 100.0
#: Consecutive training batches above the line before the run is called diverged: one
#: outlier batch (a mislabelled image with a confident prediction) is not enough.
SUSTAINED_BATCHES = 3


class ExplodingLoss:
    """Says when the training loss has exploded (see the module docstring).

    Parameters
    ----------
    num_classes
        The classes the network predicts (the scale of a sane loss is ``ln(num_classes)``).
    """

    def __init__(self, num_classes: int):
        self.limit = EXPLODED_FACTOR * math.log(max(2, int(num_classes)))
        self._run = 0  # consecutive training batches above the limit

    def batch(self, loss: float) -> bool:
        """One training batch's loss; True when the run has exploded."""
        self._run = self._run + 1 if loss > self.limit else 0
        return self._run >= SUSTAINED_BATCHES

    def epoch(self, mean_loss: float) -> bool:
        """An epoch's mean training loss; True when it exploded (a few huge batches that
        did not follow one another still make the epoch's loss meaningless)."""
        return mean_loss > self.limit

    def message(self, value: float, epoch: int, batch: int, lr: float) -> str:
        """What went wrong and what to do, for a person."""
        where = f"batch {batch} of epoch {epoch}" if batch else f"epoch {epoch} (its mean)"
        return (f"training diverged: the loss exploded to {value:.3g} at {where}, over "
                f"{EXPLODED_FACTOR:g} times the {self.limit / EXPLODED_FACTOR:.2f} of "
                f"guessing every class equally. The learning rate ({lr:g}) is far too large: "
                f"lower it (e.g. to {lr / 10:g}, or find one with the LR finder) and start "
                f"again")
