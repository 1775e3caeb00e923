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

    ``progress(fold, folds, text)`` before each fold; a set ``stop_event`` raises
    :class:`LabelCheckCancelled` between batches.
    """
    from workbench.core.bundle import Bundle
    from workbench.core.data.index import DatasetIndex
    from workbench.core.predict import Predictor
    from workbench.core.train.trainer import Trainer

    samples = [s for s in list(index.samples) + list(index.val_samples or [])
               if s[0] not in exclude]
    counts = np.bincount([lb for _, lb in samples], minlength=len(index.classes))
    if (counts > 0).sum() < 2:
        raise WorkbenchError(f"the label check needs at least two classes with images; "
                             f"{index.root} has {int((counts > 0).sum())}")
    if len(samples) < 2 * folds:
        raise WorkbenchError(f"the label check needs at least {2 * folds} images ({folds} "
                             f"folds); {index.root} has {len(samples)}")
    k = len(index.classes)
    probs = np.zeros((len(samples), k), dtype=np.float64)
    stop = stop_event or threading.Event()
    parts = _folds(samples, folds, int(experiment.data.seed))
    for f, held in enumerate(parts):
        if stop.is_set():
            raise LabelCheckCancelled("the label check was cancelled")
        if progress is not None:
            progress(f, folds, f"training fold {f + 1} of {folds}")
        held_set = set(held)
        fold_index = DatasetIndex(
            index.root, list(index.classes),
            [s for i, s in enumerate(samples) if i not in held_set],
            val_samples=[samples[i] for i in held], source=index.source)
        exp = experiment.copy()
        exp.data.use_folder_split = True
        exp.training.epochs = max(1, min(int(epochs), int(experiment.training.epochs)))
        exp.training.early_stopping = False
        trainer = Trainer(exp, stop_event=stop, index=fold_index)
        result = trainer.fit()
        if result.stopped:
            raise LabelCheckCancelled("the label check was cancelled")
        bundle = Bundle(result.experiment, list(result.classes),
                        {n: t.detach().cpu() for n, t in result.model.state_dict().items()})
        preds = Predictor(bundle).predict([samples[i][0] for i in held], top_k=k)
        column = {name: j for j, name in enumerate(result.classes)}
        for i, p in zip(held, preds):
            if p.error:
                probs[i] = 1.0 / k  # unreadable: no opinion
                continue
            for name, value in p.top:
                probs[i, column[name]] = value
    if progress is not None:
        progress(folds, folds, "ranking with confident learning")
    return samples, probs


def label_issues(samples: list[tuple[str, int]], probs: np.ndarray,
                 classes: list[str]) -> list[LabelIssue]:
    """The images confident learning flags, most likely wrong first."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

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
