"""What the training doctor's checks read: a :class:`RunView` of the run so far.

A run continued with other settings (a new learning rate, class weights) starts a new
*segment* (:mod:`.segments`): :attr:`RunView.since` is the last epoch trained before the
change, and every check that judges a trend (:meth:`RunView.series`,
:meth:`RunView.accuracy`, :attr:`RunView.segment_predicted`) sees only the epochs after it,
so the first epochs at the new settings are not judged by the old ones. A run continued
with its own settings is one segment, judged on its whole history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from workbench.core.data import pitfalls
from workbench.core.train.doctor.causes import Cause

#: Epochs before a run at chance level is called not learning: the first epoch or two of a
#: healthy run may still be there (a deep network, a warm-up), three is past that.
NOT_LEARNING_EPOCHS = 3
#: Accuracy within this of chance (always answering the most common class) counts as
#: chance: below it on 10 classes is 1 image in 20 more than guessing.
CHANCE_MARGIN = 0.05
#: And the images above chance (always answering the most common class) an accuracy must
#: be right on to be clear of it, besides CHANCE_MARGIN (:func:`clear_of_chance`):
#: measured, arrows behind a flip that swaps the classes scored 16 of 24 validation images
#: for 2 epochs against the 12 of chance (67% against 50%, 4 images) and 13 after; 3 shapes
#: scored 5 and 6 of 12 against 4.
RESOLVED_IMAGES = 5
#: Fewer validation images than this make a judgement on validation accuracy shaky: one
#: image moves it by more than 5 points, so the findings say so (the rule the data
#: warnings before a run use too: :mod:`workbench.core.data.pitfalls`).
SMALL_VAL = pitfalls.SMALL_VAL
#: A training accuracy this far above the training images' chance (always answering their
#: most common class; 1 in k on the weighted sampler's balanced batches) has learned
#: something (:meth:`RunView.learned`); where chance is over 70%, half the way from it to
#: 100%. Measured: left/right arrows with a label-changing flip stay at 50-54% on 96
#: training images (2 classes: chance) while the validation accuracy falls to 21% on 24
#: images, a gap of 32 points that is noise and the flip, not a network that learns its
#: training images.
LEARNED_MARGIN = 0.15
#: Or a training loss under this share of the loss of knowing only how common each class is
#: (:attr:`RunView.prior_loss`; the arrows above: 0.67 against ln 2 = 0.69). On an
#: imbalanced set the accuracy alone is a poor judge: at a 90% majority it needs 95%, and a
#: class-weighted loss holds it under the majority while the network learns its images.
LEARNED_LOSS = 0.8


@dataclass
class RunView:
    """What the checks read: the run's settings and what it has shown so far."""

    classes: list[str]
    history: list[dict[str, Any]]
    #: Accuracy of always answering the most common class of the validation split (of the
    #: training split without validation).
    chance: float
    lr: float
    default_lr: float
    optimizer: str = ""  # its type: the rates a fix proposes stay within its bounds
    epochs_planned: int = 0
    first_loss: float | None = None  # mean of the run's first training batches
    trainable: int = 1  # trainable parameters
    early_stopping: bool = False
    restore_best: bool = False  # early stopping's: the saved model gets the best weights
    augmented: bool = False  # a random transform in the training pipeline
    dead: dict[str, tuple[int, int]] = field(default_factory=dict)  # silent, units
    #: Recent gradient samples: ``(layer names, grad norms, weight norms)``, oldest first.
    grads: list[tuple[list[str], list[float], list[float]]] = field(default_factory=list)
    weight_change: float | None = None  # relative, over the last epoch
    #: Validation predictions and images per class, one list per epoch (latest last).
    predicted: list[list[int]] = field(default_factory=list)
    val_counts: list[int] | None = None
    #: Training images per class, and how the run evens out unequal classes already
    #: ("weighted_loss", "weighted_sampler", "class_weights": the loss's own; "": not).
    train_counts: list[int] | None = None
    balanced: str = ""
    #: What stops the network learning, not the rate (:mod:`.causes`): the model doctor's
    #: (asked at the run's start), and ``skipped`` when every training batch of the last
    #: epoch was skipped. The activation layers' types, to advise only what is not there.
    causes: list[Cause] = field(default_factory=list)
    skipped: Cause | None = None
    activations: frozenset[str] = frozenset()
    #: An augmentation that may change the label (a flip of arrows, a half-turn of 6/9):
    #: the Augment tab's hint (:func:`~workbench.core.data.augment.hints.label_hints`).
    label_change: Cause | None = None
    #: The last epoch trained before the run's settings last changed (0: they never did).
    since: int = 0
    #: The messages of the findings said at the current settings: a cause is named once
    #: (:meth:`said`), by the first finding it explains.
    messages: list[str] = field(default_factory=list)

    def cause(self, stops: bool = True) -> Cause | None:
        """The first known cause that stops learning outright (``stops`` False: any)."""
        if self.skipped is not None:
            return self.skipped
        return next((c for c in self.causes if c.stops or not stops), None)

    def said(self, cause: Cause | None) -> bool:
        """Whether a finding at the current settings has named ``cause`` already: one cause,
        one finding (a zero init silences the ReLUs at epoch 1, then leaves the run at
        chance and the first layers without gradient: the first finding says it, with its
        fix; the others would only repeat it)."""
        return cause is not None and any(cause.why in m for m in self.messages)

    @property
    def epoch(self) -> int:
        return int(self.history[-1]["epoch"]) if self.history else 0

    @property
    def epochs_since(self) -> int:
        """Epochs trained at the current settings (all of them when they never changed)."""
        return self.epoch - self.since

    @property
    def recent(self) -> list[dict[str, Any]]:
        """The history since the settings last changed (all of it when they never did)."""
        return [m for m in self.history if int(m.get("epoch") or 0) > self.since]

    @property
    def segment_predicted(self) -> list[list[int]]:
        """:attr:`predicted` of the epochs since the settings last changed."""
        n = len(self.recent)
        return self.predicted[-n:] if n else []

    @property
    def start_loss(self) -> float | None:
        """Where the training loss started: the first batches' (:attr:`first_loss`), or,
        after a change of settings, the last epoch's before it."""
        if self.since:
            before = [m.get("train_loss") for m in self.history
                      if int(m.get("epoch") or 0) == self.since]
            if before and before[0] is not None:
                return float(before[0])
        return self.first_loss

    def after(self) -> str:
        """``"After 6 epochs"``, or ``"After 3 epochs with the changed settings"``."""
        n = self.epochs_since
        changed = " with the changed settings" if self.since else ""
        return f"After {n} epoch{'s' * (n != 1)}{changed}"

    @property
    def guess_loss(self) -> float:
        """The cross-entropy of guessing every class equally: ln(classes)."""
        return math.log(max(2, len(self.classes)))

    def series(self, key: str) -> list[float]:
        """The values of ``key`` since the settings last changed (:attr:`recent`)."""
        return [float(m[key]) for m in self.recent if m.get(key) is not None]

    def at_chance(self) -> bool:
        """Whether the last :data:`NOT_LEARNING_EPOCHS` accuracies are all at chance."""
        acc, _ = self.accuracy()
        return bool(acc) and max(acc[-NOT_LEARNING_EPOCHS:]) <= self.chance + CHANCE_MARGIN

    def clear(self, acc: float, on_val: bool = True) -> bool:
        """Whether accuracy ``acc`` on the validation split (``on_val`` False: the training
        one) is clear of chance (:func:`clear_of_chance`)."""
        n = self.val_images if on_val else sum(self.train_counts or [])
        return clear_of_chance(acc, self.chance, n)

    @property
    def train_chance(self) -> float:
        """Accuracy of always answering the most common class of the training batches: the
        training images' (:attr:`chance`, the validation split's, when their counts are not
        known); 1 in k with the weighted sampler, whose batches hold every class equally."""
        counts = [n for n in self.train_counts or [] if n > 0]
        if counts and self.balanced == "weighted_sampler":
            return 1 / len(counts)
        return max(counts) / sum(counts) if counts else self.chance

    @property
    def prior_loss(self) -> float:
        """The least training loss of a network that knows only how common each class is:
        ln(classes) (:attr:`guess_loss`) where the run evens the classes out (balanced
        batches, or a class-weighted loss, which weights each class's images equally in
        all), else the entropy of the training images' class shares (0.33 at 90/10).
        The loss's own class weights are not known here: taken as not evening them out,
        the lower of the two."""
        counts = [n for n in self.train_counts or [] if n > 0]
        if not counts or self.balanced in ("weighted_sampler", "weighted_loss"):
            return self.guess_loss
        total = sum(counts)
        return -sum(n / total * math.log(n / total) for n in counts)

    def learned(self) -> bool:
        """Whether the network does clearly better than chance on its training images: the
        training accuracy :data:`LEARNED_MARGIN` above :attr:`train_chance`, or the
        training loss under :data:`LEARNED_LOSS` of :attr:`prior_loss`. A network that has
        learned nothing cannot be learning its training images by heart."""
        acc = self.series("train_acc")
        if acc:
            chance = self.train_chance
            if acc[-1] >= chance + min(LEARNED_MARGIN, (1 - chance) / 2):
                return True
        losses = self.series("train_loss")
        return bool(losses) and losses[-1] < LEARNED_LOSS * self.prior_loss

    @property
    def val_images(self) -> int:
        """Validation images (0: none, or unknown)."""
        return sum(self.val_counts) if self.val_counts else 0

    def small_val_caveat(self) -> str:
        """A sentence on how little a small validation split says, or "" (see
        :data:`SMALL_VAL`)."""
        n = self.val_images
        if not pitfalls.is_small_validation(n):
            return ""
        return (f" With only {n} validation image{'s' * (n != 1)}, "
                f"{pitfalls.one_image_moves(n)}: more validation images (a larger validation "
                f"share) would make this judgement firmer.")

    def accuracy(self) -> tuple[list[float], bool]:
        """Validation accuracies (training ones without validation), and which it is."""
        val = self.series("val_acc")
        return (val, True) if val else (self.series("train_acc"), False)


def clear_of_chance(acc: float, chance: float, images: int = 0) -> bool:
    """Whether accuracy ``acc`` is clear of ``chance``: :data:`CHANCE_MARGIN` above it and,
    on a split of ``images`` (0: not known), :data:`RESOLVED_IMAGES` images above it."""
    above = acc - chance
    return above > CHANCE_MARGIN and (not images or round(above * images, 6) >= RESOLVED_IMAGES)


def kept_at_chance(metrics: dict[str, Any], classes: int) -> str:
    """The sentence (no full stop) a run's end says after the model it kept when that model
    is at chance, as the doctor's ``not_learning`` judges it (:data:`CHANCE_MARGIN`: the
    line may be shown where the validation images are not counted): "This model is no
    better than always answering one class (25%): it has learned nothing"; ``""`` when it
    is clear of chance, or not measured on validation images. ``metrics``: the kept
    epoch's; ``classes``: how many. Judged on the balanced accuracy where the epoch has
    one, whose chance is 1 in ``classes`` however unequal the classes (always answering the
    big class of a 90/10 set scores 90% accuracy, 50% balanced), else on the accuracy
    against 1 in ``classes``, the least chance can be."""
    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    acc, bal = metrics.get("val_acc"), metrics.get("val_bal_acc")
    score = bal if number(bal) else acc
    if classes < 2 or metrics.get("val_loss") is None or not number(score) or \
            clear_of_chance(float(score), 1 / classes):
        return ""
    # The line shows the accuracy: the balanced one is named where it differs.
    what = f"This model's balanced accuracy, {100 * score:.1f}%, is" \
        if score is bal and not (number(acc) and abs(acc - bal) < 5e-4) else "This model is"
    return (f"{what} no better than always answering one class ({pct(1 / classes)}): it has "
            f"learned nothing")


def pct(x: float) -> str:
    """``0.913`` as ``"91%"``."""
    return f"{100 * x:.0f}%"
