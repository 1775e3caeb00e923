"""Likely mislabelled images: out-of-sample probabilities by k-fold cross-validation with
the experiment's own network and preprocessing, ranked by confident learning.

Every image is predicted by a network that never trained on it: the images (training and
validation parts together) are split into ``folds`` stratified folds, and for each fold the
experiment is trained for a few epochs on the others (the ordinary
:class:`~workbench.core.train.trainer.Trainer`, nothing written) and predicts the fold.
``cleanlab.filter.find_label_issues`` (confident learning: Northcutt et al., 2021) then
picks the images whose given label the probabilities contradict, and
``cleanlab.rank.get_label_quality_scores`` ranks them. cleanlab is the maintained
implementation of the method; writing our own would mean re-deriving its per-class
thresholds and pruning rules, and keeping them right.

Confident learning is only as good as the probabilities: it flags an image whose held-out
probabilities point elsewhere more confidently than is usual for that class, so on a sound
dataset every flag is one of the network's own mistakes, and a network that gets half the
held-out images wrong flags a large share of any dataset. The flags point at wrong labels
only when the network's errors are few beside them. :func:`label_quality` measures the
out-of-fold accuracy, and calls the findings unreliable below :data:`RELIABLE_SKILL` of the
way from the share of the most common class (what always guessing that class scores) to
perfect, or below :data:`MIN_ACCURACY` whatever that share (150 classes put chance at 0.7%,
and a network at 55% is still wrong on 45% of the images); :func:`summary_line` says so,
and what to do, in the app and in ``workbench check``. Findings over :data:`MAX_FLAGGED`
of the images checked by a network past that bar are trusted still (the Health tab's Move
stays on), with a caution: a network that learned the true classes flags about as many
images as it gets wrong, whether the labels or its answers are wrong, so 14% of wrong
labels (web-scraped images) and a sound set seen by an 86% network flag alike, and only
the images tell them apart.

A class with fewer than :data:`MIN_HELD_OUT` images (a species photographed once) cannot
be held out and still be trained on: its images train in every fold, are never judged,
and :func:`unchecked_line` names the class.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from workbench.core.errors import WorkbenchError

#: Folds of the cross-validation (the issue's, and cleanlab's, default).
FOLDS = 5
#: Epochs each fold trains at most (the experiment's own count when smaller): the
#: probabilities need a network that has learned the easy cases, not a finished one.
FOLD_EPOCHS = 5
#: The share of the gap between guessing the most common class and being always right that
#: the held-out predictions must close for the findings to be trusted (a skill score, as
#: Cohen's kappa is one against chance): 60% on 5 balanced classes, 75% on 2, 55% on 10.
#: Below it the network's own mistakes outnumber the wrong labels it could point at, and
#: confident learning flags a third or more of a sound dataset (48% on 5 classes flagged
#: 38-43% of one).
RELIABLE_SKILL = 0.5
#: The held-out accuracy the findings need whatever the chance level: a network wrong on
#: one unseen image in five flags its own mistakes by the score (55% on 150 classes of 4
#: images flagged 152 of 601 sound ones; the same network trained on to 93% learned them).
MIN_ACCURACY = 0.8
#: The share of the images checked past which the findings are said to be more than wrong
#: labels usually are: a few percent of a dataset (3.3% on average across ten benchmark test
#: sets: Northcutt et al., 2021), so more flags are either a dataset with many wrong labels
#: or many of the network's own mistakes (:attr:`LabelQuality.too_many`: a caution, not a
#: verdict; :data:`MIN_ACCURACY` keeps the mistakes under a fifth).
MAX_FLAGGED = 0.1
#: Fewer images a class than this on average, and the advice adds "add images".
FEW_IMAGES = 10
#: The fewest images a class needs for the check to hold them out: a fold must keep at
#: least one of the class's images to train on (training refuses a class without any).
MIN_HELD_OUT = 2
#: Classes named by :func:`unchecked_line` before "and N more".
UNCHECKED_SHOWN = 5


class LabelCheckCancelled(WorkbenchError):
    """The label check was stopped before it finished."""


@dataclass
class LabelIssue:
    """An image whose label the cross-validated network contradicts."""

    path: str
    given: str
    suggested: str
    #: 1 - cleanlab's label quality (the self-confidence of the given label): 0-1, higher
    #: is more likely wrong.
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "given": self.given, "suggested": self.suggested,
                "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class LabelQuality:
    """How far the label check's findings can be trusted: the out-of-fold accuracy of its
    networks against :attr:`chance`, the share of the most common class."""

    accuracy: float
    chance: float
    images: int
    #: Epochs each fold trained, and the most the check allows (None: not known).
    epochs: int | None = None
    max_epochs: int = FOLD_EPOCHS
    #: ``(class, images)`` of the classes too small to be held out (fewer than
    #: :data:`MIN_HELD_OUT` images): trained on in every fold, never judged.
    unchecked: tuple[tuple[str, int], ...] = ()
    #: The images the check flagged, and the classes it judged (0: not known).
    flagged: int = 0
    classes: int = 0

    @property
    def needed(self) -> float:
        """The accuracy the findings need: :data:`RELIABLE_SKILL` of the way from
        :attr:`chance` to 1, and :data:`MIN_ACCURACY` at least."""
        return max(MIN_ACCURACY, self.chance + RELIABLE_SKILL * (1.0 - self.chance))

    @property
    def too_many(self) -> bool:
        """Whether the findings are over :data:`MAX_FLAGGED` of the images checked: said
        with them, but no reason to distrust them (see the module doc)."""
        return self.flagged > MAX_FLAGGED * self.images

    @property
    def reliable(self) -> bool:
        """Whether the network is strong enough for its findings to be acted on (the
        Health tab's Move): :attr:`needed` reached."""
        return self.accuracy >= self.needed

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": round(self.accuracy, 4), "chance": round(self.chance, 4),
                "needed": round(self.needed, 4), "reliable": self.reliable,
                "images": self.images, "epochs": self.epochs, "max_epochs": self.max_epochs,
                "unchecked": [{"class": c, "images": n} for c, n in self.unchecked],
                "flagged": self.flagged, "classes": self.classes}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelQuality:
        return cls(float(d["accuracy"]), float(d["chance"]), int(d.get("images", 0)),
                   None if d.get("epochs") is None else int(d["epochs"]),
                   int(d.get("max_epochs", FOLD_EPOCHS)),
                   tuple((str(u["class"]), int(u["images"])) for u in d.get("unchecked", [])),
                   int(d.get("flagged", 0)), int(d.get("classes", 0)))

    def doubt(self) -> str:
        """Why the findings are unreliable, in one sentence ("" when they are not)."""
        if self.accuracy < self.needed:
            return (f"Unreliable: the network reached only {self.accuracy:.0%} on held-out "
                    f"folds.")
        return ""

    def advice(self) -> str:
        """What would make the findings trustworthy: more epochs while the experiment's
        count is below the check's most; a stronger network; more images for classes too
        small to learn from."""
        few = bool(self.classes) and self.images < FEW_IMAGES * self.classes
        more = (f" or add images ({self.classes} classes of {self.images / self.classes:.0f} "
                f"images on average are too few to learn from)" if few else "")
        if self.epochs is not None and self.epochs < self.max_epochs:
            return (f"train longer (more epochs: each fold trained {self.epochs}, the "
                    f"experiment's count, of at most {self.max_epochs})"
                    + (f", use a stronger network{more}" if few else
                       " or use a stronger network"))
        return (f"use a stronger network (a pretrained backbone, say){more}: each fold "
                f"already trained the check's most epochs ({self.max_epochs})")


def fold_epochs(experiment: Any, epochs: int = FOLD_EPOCHS) -> int:
    """The epochs each fold trains: ``epochs``, or the experiment's own count when smaller."""
    return max(1, min(int(epochs), int(experiment.training.epochs)))


def too_small(samples: list[tuple[str, int]]) -> dict[int, int]:
    """label -> images of the classes of ``samples`` with fewer than :data:`MIN_HELD_OUT`
    images: the check trains on them in every fold and never holds them out."""
    counts: dict[int, int] = {}
    for _, label in samples:
        counts[label] = counts.get(label, 0) + 1
    return {lb: n for lb, n in sorted(counts.items()) if n < MIN_HELD_OUT}


def held_out(samples: list[tuple[str, int]]) -> list[int]:
    """The positions in ``samples`` of the images the check holds out (and judges): those
    of every class but :func:`too_small`'s."""
    small = too_small(samples)
    return [i for i, (_, label) in enumerate(samples) if label not in small]


def label_quality(samples: list[tuple[str, int]], probs: np.ndarray,
                  epochs: int | None = None, max_epochs: int = FOLD_EPOCHS,
                  classes: list[str] | None = None, flagged: int = 0) -> LabelQuality:
    """The out-of-fold accuracy of ``probs`` (from :func:`cross_validated_probs`) on the
    given labels of the held-out images of ``samples``, with the share of their most
    common class, the classes (named from ``classes``) too small to be held out, and the
    number of findings (``flagged``: :func:`label_issues`'s)."""
    unchecked = tuple((classes[lb] if classes else str(lb), n)
                      for lb, n in too_small(samples).items())
    rows = held_out(samples)
    labels = np.array([samples[i][1] for i in rows], dtype=np.int64)
    if not len(labels):
        return LabelQuality(0.0, 0.0, 0, epochs, max_epochs, unchecked, flagged)
    accuracy = float((probs[rows].argmax(axis=1) == labels).mean())
    chance = float(np.bincount(labels).max() / len(labels))
    return LabelQuality(accuracy, chance, len(labels), epochs, max_epochs, unchecked,
                        flagged, len(set(labels.tolist())))


def duration_text(seconds: float) -> str:
    """``12.3 s`` or ``4 min 05 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s"


def summary_line(report: Any) -> str:
    """What the label check of ``report`` (a
    :class:`~workbench.core.data.health.report.HealthReport`) found, in one sentence, with
    how far to trust it: "Labels checked in 42.0 s: the network reached 91% on held-out
    folds; 3 likely mislabelled." ("" when the labels were not checked). An earlier
    check's, kept by a check without one (``labels_kept``), says so, with when it ran
    and, when images it flagged were moved since, that it is to be run again."""
    if not report.labels_checked:
        return ""
    n = len(report.label_issues)
    took = duration_text(report.seconds.get("labels", 0.0))
    text, again = f"Labels checked in {took}", ""
    if getattr(report, "labels_kept", False):
        text = f"Labels from the earlier label check{_when(report)} ({took})"
        moved = getattr(report, "labels_moved", 0)
        if moved:  # its networks learned the labels as they were before
            again = (f" {moved} image{'s' if moved != 1 else ''} it flagged "
                     f"{'were' if moved != 1 else 'was'} moved or removed since: Check "
                     f"labels again to check the labels as they are now.")
    found = f"{n} likely mislabelled" if n else "none looks mislabelled"
    q = quality_of(report)
    if q is None:
        return f"{text}: {found}.{again}"
    if q.reliable and q.too_many:  # many wrong labels, or many mistakes: the images tell
        return (f"{text}: the network reached {q.accuracy:.0%} on held-out folds and flags "
                f"{q.flagged} of the {q.images} images checked "
                f"({q.flagged / q.images:.0%}), more than wrong labels usually are (a few "
                f"percent): either many labels are wrong or many flags are its own "
                f"mistakes. Open a few before moving them; if most are filed rightly, "
                f"{q.advice()}.{again}")
    if q.reliable:
        return (f"{text}: the network reached {q.accuracy:.0%} on held-out folds; "
                f"{found}.{again}")
    return (f"{text}, but the network reaches only {q.accuracy:.0%} on held-out folds "
            f"(chance is {q.chance:.0%}; trusting it takes {q.needed:.0%}): "
            + (f"these {n} findings are unreliable" if n else "its verdict is unreliable")
            + f", as it is wrong on {1 - q.accuracy:.0%} of the images it did not train on "
              f"and flags its own mistakes as wrong labels; {q.advice()}.{again}")


def _when(report: Any) -> str:
    """" of 14:05" (" of 3 Mar 14:05" another day) for the time ``report``'s label check
    ran; "" when it is not known."""
    import time

    at = getattr(report, "labels_checked_at", 0.0)
    if not at:
        return ""
    same_day = time.localtime(at)[:3] == time.localtime()[:3]
    return " of " + time.strftime("%H:%M" if same_day else "%d %b %H:%M",
                                  time.localtime(at))


def unchecked_line(report: Any) -> str:
    """The classes ``report``'s label check could not judge, in one sentence: "'Boletus'
    (1 image) was not checked: a class needs at least 2 images to be held out." ("" when
    it judged every class)."""
    q = quality_of(report)
    if q is None or not q.unchecked:
        return ""
    named = [f"{c!r} ({n} image{'s' if n != 1 else ''})"
             for c, n in q.unchecked[:UNCHECKED_SHOWN]]
    more = len(q.unchecked) - len(named)
    text = ", ".join(named) + (f" and {more} more class{'es' if more != 1 else ''}"
                               if more else "")
    one = len(q.unchecked) == 1
    return (f"{text} {'was' if one else 'were'} not checked: a class needs at least "
            f"{MIN_HELD_OUT} images to be held out (add images to check "
            f"{'it' if one else 'them'}).")


def quality_of(report: Any) -> LabelQuality | None:
    """The :class:`LabelQuality` of ``report``'s label check (its ``label_quality``, a
    dict as the JSON holds it), or None when it has none."""
    q = getattr(report, "label_quality", None)
    if not q:
        return None
    return q if isinstance(q, LabelQuality) else LabelQuality.from_dict(q)


def is_reliable(report: Any) -> bool:
    """Whether ``report``'s label findings can be acted on (True when the report does not
    say how well its networks did)."""
    q = quality_of(report)
    return q is None or q.reliable


def _folds(samples: list[tuple[str, int]], k: int, seed: int) -> list[list[int]]:
    """Stratified fold indices: each class's images dealt round-robin after a seeded
    shuffle, so every fold holds about 1/k of every class."""
    by_class: dict[int, list[int]] = {}
    for i, (_, label) in enumerate(samples):
        by_class.setdefault(label, []).append(i)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for label in sorted(by_class):
        ids = sorted(by_class[label], key=lambda i: samples[i][0])
        random.Random(f"workbench-folds:{seed}:{label}").shuffle(ids)
        for j, i in enumerate(ids):
            folds[(j + offset) % k].append(i)
        offset += len(ids)
    return [sorted(f) for f in folds]


def cross_validated_probs(experiment: Any, index: Any, folds: int = FOLDS,
                          epochs: int = FOLD_EPOCHS,
                          progress: Callable[[int, int, str], None] | None = None,
                          stop_event: threading.Event | None = None,
                          exclude: set[str] = frozenset()
                          ) -> tuple[list[tuple[str, int]], np.ndarray]:
    """``(samples, probs)``: every image (but ``exclude``) with its given label, and the
    class probabilities a network that never saw it gives it (``(n, classes)``).

    The images of a class too small to be held out (:func:`too_small`) train in every fold
    instead; their rows of ``probs`` are their own label (no held-out opinion, and
    :func:`label_issues` and :func:`label_quality` leave them out: :func:`held_out`).

    ``progress(fold, folds, text)`` before each fold; a set ``stop_event`` raises
    :class:`LabelCheckCancelled` between batches.
    """
    from workbench.core.bundle import Bundle
    from workbench.core.predict import Predictor
    from workbench.core.train.trainer import Trainer

    samples = [s for s in list(index.samples) + list(index.val_samples or [])
               if s[0] not in exclude]
    _check_enough(samples, folds, index.root)
    k = len(index.classes)
    probs = np.zeros((len(samples), k), dtype=np.float64)
    checked = held_out(samples)
    for i in set(range(len(samples))) - set(checked):
        probs[i, samples[i][1]] = 1.0
    stop = stop_event or threading.Event()
    parts = [[checked[j] for j in part] for part in
             _folds([samples[i] for i in checked], folds, int(experiment.data.seed))]
    for f, held in enumerate(parts):
        if stop.is_set():
            raise LabelCheckCancelled("the label check was cancelled")
        if progress is not None:
            progress(f, folds, f"training fold {f + 1} of {folds}")
        exp = experiment.copy()
        exp.data.use_folder_split = True
        exp.training.epochs = fold_epochs(experiment, epochs)
        exp.training.early_stopping = False
        trainer = Trainer(exp, stop_event=stop, index=_fold_index(index, samples, held))
        result = trainer.fit()
        if result.stopped:
            raise LabelCheckCancelled("the label check was cancelled")
        bundle = Bundle(result.experiment, list(result.classes),
                        {n: t.detach().cpu() for n, t in result.model.state_dict().items()})
        preds = Predictor(bundle).predict([samples[i][0] for i in held], top_k=k)
        column = {name: j for j, name in enumerate(index.classes)}
        for i, p in zip(held, preds):
            if p.error:
                probs[i] = 1.0 / k  # unreadable: no opinion
                continue
            for name, value in p.top:
                probs[i, column[name]] = value
    if progress is not None:
        progress(folds, folds, "ranking with confident learning")
    return samples, probs


def _check_enough(samples: list[tuple[str, int]], folds: int, root: Any) -> None:
    """Refuse, naming what is missing, a set the check cannot hold out in ``folds``
    folds: fewer than two classes, or images, to judge."""
    present = len({lb for _, lb in samples})
    if present < 2:
        raise WorkbenchError(f"the label check needs at least two classes with images; "
                             f"{root} has {present}")
    checked = held_out(samples)
    judged = len({samples[i][1] for i in checked})
    small = f" of {MIN_HELD_OUT} images or more (fewer cannot be held out)"
    if judged < 2:
        raise WorkbenchError(f"the label check needs at least two classes{small}; {root} "
                             f"has {judged}: add images to the smaller classes")
    if len(checked) < 2 * folds:
        where = f" in classes{small}" if len(checked) < len(samples) else ""
        raise WorkbenchError(f"the label check needs at least {2 * folds} images{where} "
                             f"({folds} folds); {root} has {len(checked)}")


def _fold_index(index: Any, samples: list[tuple[str, int]], held: list[int]) -> Any:
    """The dataset one fold trains on (every image of ``samples`` but the ``held`` ones)
    and validates on (the ``held`` ones): the classes with images only, so that a class
    whose every image is excluded, or unreadable, is not refused as one without usable
    training images (predictions are matched to classes by name)."""
    from workbench.core.data.index import DatasetIndex

    present = sorted({lb for _, lb in samples})
    new = {lb: j for j, lb in enumerate(present)}
    held_set = set(held)
    train = [(p, new[lb]) for i, (p, lb) in enumerate(samples) if i not in held_set]
    return DatasetIndex(index.root, [index.classes[lb] for lb in present], train,
                        val_samples=[(samples[i][0], new[samples[i][1]]) for i in held],
                        source=index.source)


def label_issues(samples: list[tuple[str, int]], probs: np.ndarray,
                 classes: list[str]) -> list[LabelIssue]:
    """The images confident learning flags, most likely wrong first (of the held-out
    images only: :func:`held_out`)."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    rows = held_out(samples)
    samples, probs = [samples[i] for i in rows], probs[rows]
    labels = np.array([lb for _, lb in samples])
    # cleanlab wants every class to appear among the labels; probabilities of classes
    # without images are folded away.
    present = sorted(set(labels.tolist()))
    remap = {c: j for j, c in enumerate(present)}
    p = probs[:, present]
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    y = np.array([remap[c] for c in labels])
    ranked = find_label_issues(y, p, return_indices_ranked_by="self_confidence")
    quality = get_label_quality_scores(y, p)
    return [LabelIssue(samples[i][0], classes[labels[i]], classes[present[int(p[i].argmax())]],
                       1.0 - float(quality[i])) for i in ranked]
