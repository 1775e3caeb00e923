"""Classification metrics as pure functions of numpy arrays.

Everything here is checkable by hand: a confusion matrix is counted, the other numbers
follow from it. Conventions used throughout:

- Confusion matrices have one row per *true* class and one column per *predicted* class.
- A ratio whose denominator is 0 (the precision of a class never predicted, the recall of
  a class with no images) is defined as ``0.0``, as scikit-learn does with
  ``zero_division=0``: a number a table can sort and a JSON file can hold, where NaN could
  not. The exception is a class with no images (support 0), e.g. one a ``test/`` part
  lacks: nothing measured its recall, so its recall and F1 are ``None`` (shown as "—",
  JSON ``null``) rather than a 0 that reads as a failure, and the macro recall and F1
  average the classes with images only (scikit-learn would count such a class as 0).
- No input means a score of ``0.0`` (nothing was shown to be right).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], k: int) -> np.ndarray:
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    y_true, y_pred
        Class indices in ``[0, k)``, one pair per image.
    k
        Number of classes.

    Returns
    -------
    numpy.ndarray
        ``(k, k)`` int64 matrix; ``m[i, j]`` counts images of true class ``i`` predicted
        as ``j``. It sums to the number of images.

    Raises
    ------
    ValueError
        When the inputs differ in length or hold an index outside ``[0, k)``.
    """
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred {p.size}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.min() < 0 or a.max() >= k):
            raise ValueError(f"{name} holds a class index outside [0, {k})")
    # One bincount over the flattened (true, pred) pair index: O(n), no Python loop.
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def normalized_confusion(confusion: np.ndarray) -> np.ndarray:
    """Row-normalised confusion: each row sums to 1 (the share of a true class's images
    given each prediction); a row with no images stays all zeros."""
    m = np.asarray(confusion, dtype=np.float64)
    rows = m.sum(axis=1, keepdims=True)
    return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)


def accuracy_from_confusion(confusion: np.ndarray) -> float:
    """Share of images on the diagonal (0.0 for an empty matrix)."""
    m = np.asarray(confusion)
    return _ratio(np.trace(m), m.sum())


def per_class_metrics(confusion: np.ndarray,
                      classes: Sequence[str] | None = None) -> list[dict]:
    """Precision, recall, F1 and support of every class.

    Parameters
    ----------
    confusion
        ``(k, k)`` matrix, rows = true class (see :func:`confusion_matrix`).
    classes
        Names for the rows; class indices are used when omitted.

    Returns
    -------
    list of dict
        One ``{"class", "precision", "recall", "f1", "support"}`` per class, in class
        order. ``support`` is the number of images of the class. 0/0 is 0.0 (see the
        module docstring): precision of a class never predicted, F1 when precision and
        recall are both 0. A class with no support has recall and F1 ``None`` (not
        measured), and precision ``None`` too when it was never predicted either.
    """
    m = np.asarray(confusion, dtype=np.int64)
    k = m.shape[0]
    names = list(classes) if classes is not None else list(range(k))
    if len(names) != k:
        raise ValueError(f"{len(names)} class names for a {k}x{k} confusion matrix")
    predicted = m.sum(axis=0)
    support = m.sum(axis=1)
    rows = []
    for i in range(k):
        tp = int(m[i, i])
        precision = _ratio(tp, predicted[i]) if support[i] or predicted[i] else None
        recall = f1 = None
        if support[i]:
            recall = _ratio(tp, support[i])
            f1 = _ratio(2 * precision * recall, precision + recall)
        rows.append({"class": names[i], "precision": precision, "recall": recall,
                     "f1": f1, "support": int(support[i])})
    return rows


def macro_average(confusion: np.ndarray) -> dict:
    """Unweighted mean of precision, recall and F1 over the classes where each is
    measured: precision over the classes that have support or were predicted at least
    once, recall and F1 over the classes with support (a class with no images has no
    recall; scikit-learn's default would count it as 0 and drag the mean down without
    evidence). 0.0 where no class counts."""
    rows = per_class_metrics(np.asarray(confusion, dtype=np.int64))
    out = {}
    for key in ("precision", "recall", "f1"):
        values = [r[key] for r in rows if r[key] is not None]
        out[key] = float(np.mean(values)) if values else 0.0
    return out


def balanced_accuracy(confusion: np.ndarray) -> float:
    """The balanced accuracy: :func:`macro_average`'s recall, the mean of each class's
    recall over the classes with images. It is scikit-learn's ``balanced_accuracy_score``,
    which also leaves out a class with no true images. Always answering one class scores
    1 / (classes with images) however unequal the classes are. 0.0 for an empty matrix."""
    return macro_average(confusion)["recall"]


#: The k of the top-k accuracy when none is asked for, lowered below the number of classes.
DEFAULT_TOP_K = 5


def default_top_k(num_classes: int) -> int:
    """The k of the top-k accuracy when none is asked for (``workbench evaluate``, the
    Evaluate tab): :data:`DEFAULT_TOP_K`, but below the number of classes, where it would
    read 100% whatever the model (top-2 for 3 classes; top-1, the accuracy, for 2)."""
    return max(1, min(DEFAULT_TOP_K, int(num_classes) - 1))


def top_k_accuracy(probs: np.ndarray, y_true: Sequence[int], k: int) -> float:
    """Share of images whose true class is among the ``k`` highest scores.

    ``k`` larger than the number of classes counts as all classes (accuracy 1.0). Ties
    go in the image's favour: the true class is within the top ``k`` when fewer than
    ``k`` classes score strictly higher than it.
    """
    p = np.asarray(probs, dtype=np.float64)
    t = np.asarray(y_true, dtype=np.int64).ravel()
    if p.ndim != 2 or p.shape[0] != t.size:
        raise ValueError(f"probs must be (n, classes) with n = {t.size}, got {p.shape}")
    if t.size == 0:
        return 0.0
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    true_scores = p[np.arange(t.size), t]
    # Ranking by "how many classes beat it" is exact and independent of argsort's
    # tie-breaking order.
    better = (p > true_scores[:, None]).sum(axis=1)
    return float(np.mean(better < k))


def most_confused(confusion: np.ndarray, classes: Sequence[str], n: int = 10) -> list[dict]:
    """The ``n`` largest off-diagonal cells: which true class is most often taken for
    which other class.

    Returns
    -------
    list of dict
        ``{"true", "predicted", "count"}``, by count (largest first), then by true and
        predicted class order; cells with a count of 0 are left out.
    """
    m = np.asarray(confusion, dtype=np.int64)
    pairs = [(-int(m[i, j]), i, j) for i in range(m.shape[0]) for j in range(m.shape[1])
             if i != j and m[i, j] > 0]
    pairs.sort()
    return [{"true": classes[i], "predicted": classes[j], "count": -c}
            for c, i, j in pairs[:max(0, int(n))]]


def confidence_histogram(confidences: Sequence[float], correct: Sequence[bool],
                         bins: int = 10) -> dict:
    """Histogram of the top-class probability, separately for right and wrong predictions.

    A well-calibrated model is right about 70% of the time when it says 0.7; comparing
    the two histograms bin by bin (or ``accuracy`` with ``mean_confidence``) shows over-
    or under-confidence.

    Parameters
    ----------
    confidences
        The predicted class's probability per image, in ``[0, 1]``.
    correct
        Whether each prediction was right.
    bins
        Number of equal-width bins over ``[0, 1]``; the last includes 1.0.

    Returns
    -------
    dict
        ``edges`` (``bins + 1`` floats), ``correct`` and ``wrong`` (counts per bin),
        ``accuracy`` and ``mean_confidence`` per bin (``None`` for an empty bin), and
        ``ece``: the expected calibration error, the image-weighted mean of
        ``|accuracy - mean_confidence|`` over the bins (0.0 with no images).
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    c = np.clip(np.asarray(confidences, dtype=np.float64).ravel(), 0.0, 1.0)
    ok = np.asarray(correct, dtype=bool).ravel()
    if c.shape != ok.shape:
        raise ValueError(f"{c.size} confidences but {ok.size} correct flags")
    edges = np.linspace(0.0, 1.0, bins + 1)
    # floor(c * bins) puts c on [i/bins, (i+1)/bins); 1.0 joins the last bin.
    which = np.minimum((c * bins).astype(np.int64), bins - 1)
    right = np.bincount(which[ok], minlength=bins)
    wrong = np.bincount(which[~ok], minlength=bins)
    sums = np.bincount(which, weights=c, minlength=bins)
    totals = right + wrong
    accuracy, mean_conf, ece = [], [], 0.0
    for i in range(bins):
        if totals[i]:
            acc, conf = right[i] / totals[i], sums[i] / totals[i]
            accuracy.append(float(acc))
            mean_conf.append(float(conf))
            ece += totals[i] / c.size * abs(acc - conf)
        else:
            accuracy.append(None)
            mean_conf.append(None)
    return {"edges": [float(e) for e in edges], "correct": [int(v) for v in right],
            "wrong": [int(v) for v in wrong], "accuracy": accuracy,
            "mean_confidence": mean_conf, "ece": float(ece)}
