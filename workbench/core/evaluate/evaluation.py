"""Evaluating a trained bundle on a labelled folder.

:func:`evaluate` classifies every image of a dataset (a folder or ``.csv`` file, or the
validation split of the data the bundle was trained on) with the bundle's own evaluation
preprocessing, and returns an :class:`EvaluationResult`: the predictions plus every metric
derived from them (accuracy, top-k accuracy, per-class precision/recall/F1, the confusion
matrix, the most-confused pairs, a confidence histogram and the largest-loss images),
as JSON-ready data, a text report or CSV files.

The metric functions themselves live in :mod:`.metrics`; the text and CSV
formats in :mod:`.report`; which images are evaluated in :mod:`.samples`.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from workbench.core.evaluate import metrics
from workbench.core.evaluate.report import absent_class_notes
from workbench.core.evaluate.samples import labelled_samples  # noqa: F401  (re-exported)
from workbench.core.bundle import Bundle
from workbench.core.errors import DataError, SpecError, WorkbenchError

SPLITS = ("all", "val", "test", "auto")
#: Largest-loss images kept in :meth:`EvaluationResult.to_dict` by default.
WORST_DEFAULT = 16


class EvaluationCancelled(WorkbenchError):
    """The evaluation was stopped through its ``stop_event``."""


@dataclass(eq=False)  # arrays inside: == would be ambiguous, so compare by identity
class EvaluationResult:
    """Predictions over a labelled dataset, and the metrics derived from them.

    Attributes
    ----------
    classes
        The bundle's classes (label order); every matrix and table follows it.
    paths
        The images that were read, in dataset order.
    y_true
        True class index (into ``classes``) of each image in ``paths``.
    probs
        ``(n, len(classes))`` float32 softmax probabilities.
    losses
        Cross-entropy of each image (``-log p(true class)``, from the log-softmax, so a
        very confident mistake gets a large finite loss rather than infinity).
    top_k
        The ``k`` of :attr:`top_k_accuracy` (at most the number of classes).
    unreadable
        ``(path, reason)`` of images that could not be decoded; they are left out of
        every metric.
    source
        The dataset folder or CSV file evaluated.
    split
        ``"all"`` (every image of ``source``), ``"test"`` (its test part) or ``"val"`` (its
        validation split, as the bundle's experiment makes it).
    bundle_path
        Where the bundle was read from, when known.
    notes
        What a user should hear with the numbers (printed as ``note:`` lines): a
        validation split recomputed because the bundle has no record of its run's, a
        checkpoint read as the model.
    """

    classes: list[str]
    paths: list[str]
    y_true: np.ndarray
    probs: np.ndarray
    losses: np.ndarray
    top_k: int = 5
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    source: str = ""
    split: str = "all"
    bundle_path: str | None = None
    notes: list[str] = field(default_factory=list)

    # -- derived arrays (computed once; the result is not meant to be mutated) -----------
    @cached_property
    def y_pred(self) -> np.ndarray:
        """Predicted class index of each image (the highest probability)."""
        return self.probs.argmax(axis=1) if len(self.paths) else np.zeros(0, np.int64)

    @cached_property
    def confusion(self) -> np.ndarray:
        """``(k, k)`` counts, rows = true class, columns = predicted class."""
        return metrics.confusion_matrix(self.y_true, self.y_pred, len(self.classes))

    @property
    def confidences(self) -> np.ndarray:
        """Probability of the predicted class per image."""
        return self.probs.max(axis=1) if len(self.paths) else np.zeros(0, np.float32)

    @property
    def correct(self) -> np.ndarray:
        return self.y_pred == self.y_true

    @property
    def num_images(self) -> int:
        """Images classified (unreadable ones not counted)."""
        return len(self.paths)

    @property
    def accuracy(self) -> float:
        return metrics.accuracy_from_confusion(self.confusion)

    @property
    def top_k_accuracy(self) -> float:
        return metrics.top_k_accuracy(self.probs, self.y_true, self.top_k)

    def normalized_confusion(self) -> np.ndarray:
        """The confusion matrix with each row divided by the class's support."""
        return metrics.normalized_confusion(self.confusion)

    def per_class(self) -> list[dict]:
        """Precision, recall, F1 and support per class (see
        :func:`~.metrics.per_class_metrics`: 0/0 counts as 0.0, except a class with no
        images, whose recall and F1 are None)."""
        return metrics.per_class_metrics(self.confusion, self.classes)

    def macro_average(self) -> dict:
        return metrics.macro_average(self.confusion)

    def most_confused(self, n: int = 10) -> list[dict]:
        """The ``n`` most frequent (true, predicted) mistakes."""
        return metrics.most_confused(self.confusion, self.classes, n)

    def confidence_histogram(self, bins: int = 10) -> dict:
        """Confidence of right and wrong predictions (see
        :func:`~.metrics.confidence_histogram`)."""
        return metrics.confidence_histogram(self.confidences, self.correct, bins)

    def worst(self, n: int = WORST_DEFAULT, top: int = 3) -> list[dict]:
        """The ``n`` images with the largest loss, largest first.

        Each is ``{"path", "true", "predicted", "loss", "true_prob", "top"}`` where
        ``top`` lists the ``top`` most probable classes as ``{"class", "prob"}``.
        """
        order = np.argsort(-self.losses, kind="stable")[:max(0, int(n))]
        top = max(1, min(int(top), len(self.classes)))
        out = []
        for i in order.tolist():
            p = self.probs[i]
            best = np.argsort(-p, kind="stable")[:top].tolist()
            out.append({"path": self.paths[i], "true": self.classes[int(self.y_true[i])],
                        "predicted": self.classes[int(self.y_pred[i])],
                        "loss": float(self.losses[i]),
                        "true_prob": float(p[int(self.y_true[i])]),
                        "top": [{"class": self.classes[j], "prob": float(p[j])} for j in best]})
        return out

    # -- output ----------------------------------------------------------------------------
    def to_dict(self, worst: int = WORST_DEFAULT) -> dict:
        """Everything as JSON-ready data (what ``workbench evaluate --json`` prints).

        Keys: ``bundle``, ``source``, ``split``, ``classes``, ``num_images``,
        ``accuracy``, ``top_k_accuracy`` (``{"k", "accuracy"}``), ``per_class``,
        ``macro_average``, ``confusion`` (list of rows, row = true class), ``most_confused``,
        ``confidence_histogram``, ``worst`` (the ``worst`` largest-loss images) and
        ``unreadable`` (``{"path", "reason"}``) and ``notes``. ``top_k_accuracy``'s
        ``accuracy`` is None, and its ``reason`` says why, when k is not below the number
        of classes (it would be 100% whatever the model), as the text report leaves it out.
        """
        from workbench.core.evaluate.report import top_k_dict

        return {
            "bundle": self.bundle_path,
            "source": self.source,
            "split": self.split,
            "classes": list(self.classes),
            "num_images": self.num_images,
            "accuracy": self.accuracy,
            "top_k_accuracy": top_k_dict(self),
            "per_class": self.per_class(),
            "macro_average": self.macro_average(),
            "confusion": self.confusion.tolist(),
            "most_confused": self.most_confused(),
            "confidence_histogram": self.confidence_histogram(),
            "worst": self.worst(worst),
            "unreadable": [{"path": p, "reason": r} for p, r in self.unreadable],
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        """A report for people: accuracy, top-k, the per-class table, the confusion matrix
        with class names, the most-confused pairs and any unreadable images."""
        from workbench.core.evaluate.report import format_report

        return format_report(self)

    def per_class_csv(self, path: str | Path) -> Path:
        """Write ``class,precision,recall,f1,support`` rows, the last the macro average
        (atomically)."""
        from workbench.core.evaluate.report import per_class_csv_text

        return _write(path, per_class_csv_text(self))

    def confusion_csv(self, path: str | Path) -> Path:
        """Write the confusion matrix with class names as the header row and first column."""
        from workbench.core.evaluate.report import confusion_csv_text

        return _write(path, confusion_csv_text(self))

    def predictions_csv(self, path: str | Path) -> Path:
        """Write one row per image: path, true, predicted, correct, confidence, true_prob,
        loss, error (unreadable images have only path and error)."""
        from workbench.core.evaluate.report import predictions_csv_text

        return _write(path, predictions_csv_text(self))

    def write_csvs(self, folder: str | Path) -> list[Path]:
        """Write ``per_class.csv`` (its last row the macro average, as ``workbench evaluate``
        prints it), ``confusion.csv`` and ``predictions.csv`` into ``folder``; their paths."""
        return [self.per_class_csv(Path(folder) / "per_class.csv"),
                self.confusion_csv(Path(folder) / "confusion.csv"),
                self.predictions_csv(Path(folder) / "predictions.csv")]


def _write(path: str | Path, text: str) -> Path:
    from workbench.core.io import atomic_write_text

    path = Path(path)
    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise WorkbenchError(f"cannot write {path}: {e.strerror or e}; choose a folder you "
                             f"can write to") from None
    return path


def evaluate(bundle: Bundle | str | os.PathLike, folder: str | os.PathLike | None = None,
             split: str | None = None, top_k: int | None = None,
             progress: Callable[[int, int], None] | None = None,
             stop_event: threading.Event | None = None, batch_size: int = 64,
             device: str | torch.device = "cpu", current: Any = None) -> EvaluationResult:
    """Classify every image of a labelled dataset and measure the results.

    Parameters
    ----------
    bundle
        A :class:`~..bundle.Bundle` or the path of a bundle file.
    folder
        The dataset (class-per-folder, ``train/`` + ``val/``, or ``.csv``). Its classes
        are matched to the bundle's by name (equal after NFC normalisation): it may hold
        fewer (the others get support 0), but not one the model does not know.
        ``None``: the dataset the bundle was trained on.
    split
        ``"all"``, ``"val"``, ``"test"`` or ``"auto"`` (see
        :func:`.samples.labelled_samples`); default ``"auto"`` when ``folder`` is ``None``
        (the test part when the dataset has one with images to evaluate, else the
        validation split: images training did not learn from), else
        ``"all"``.
    top_k
        ``k`` of the top-k accuracy; more than the number of classes means all of them.
        None: :func:`.metrics.default_top_k` (5, lowered below the number of classes).
    progress
        Called as ``progress(done, total)`` before the first batch and after each one.
    stop_event
        Checked before each batch; once set, :class:`EvaluationCancelled` is raised.
    batch_size
        Images per forward pass.
    device
        Where to run the network.
    current
        The ``data`` section of the experiment open in the app: on the same dataset, its
        ``data.exclude`` made since the model was trained leaves test images out too
        (:func:`.samples.labelled_samples`).

    Returns
    -------
    EvaluationResult

    Raises
    ------
    BundleError, DataError, SpecError
        For an unreadable bundle, an unusable dataset (see :func:`labelled_samples`), a
        dataset none of whose images can be read, or a bad argument.
    EvaluationCancelled
        When ``stop_event`` was set.
    """
    from workbench.core.evaluate.overlap import said_of
    from workbench.core.predict import Predictor

    if split is None:
        split = "auto" if folder is None else "all"
    if split not in SPLITS:
        raise SpecError("split", f"must be one of {', '.join(SPLITS)}, got {split!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise SpecError("top_k", f"must be a whole number of at least 1, got {top_k!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise SpecError("batch_size", f"must be a whole number of at least 1, got "
                                      f"{batch_size!r}")
    # The Predictor holds the bundle's network and evaluation transform: evaluating through
    # it guarantees the same preprocessing as `workbench predict` and the GUI.
    predictor = Predictor(bundle, device=device)
    b = predictor.bundle
    notes = list(b.notes)
    samples, source, split = labelled_samples(b, folder, split, notes, current)
    k = len(b.classes)
    top_k = min(top_k or metrics.default_top_k(k), k)  # more than k: all of them
    total = len(samples)

    def load(sample: tuple[str, int]):
        try:
            return predictor.load(sample[0])
        except WorkbenchError as e:
            return getattr(e, "reason", None) or str(e)
        except (OSError, ValueError) as e:
            return f"cannot read image: {e}"

    paths: list[str] = []
    labels: list[int] = []
    probs: list[np.ndarray] = []
    losses: list[np.ndarray] = []
    unreadable: list[tuple[str, str]] = []
    if progress is not None:
        progress(0, total)
    # Decoding dominates on CPU; PIL releases the GIL while decoding, so a few threads help.
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wb-evaluate") as pool:
        for start in range(0, total, batch_size):
            if stop_event is not None and stop_event.is_set():
                raise EvaluationCancelled(f"the evaluation of {source} was stopped after "
                                          f"{start} of {total} images")
            chunk = samples[start:start + batch_size]
            tensors, batch_labels = [], []
            for (path, label), loaded in zip(chunk, pool.map(load, chunk)):
                if isinstance(loaded, str):
                    unreadable.append((path, loaded))
                    continue
                tensors.append(loaded)
                batch_labels.append(label)
                paths.append(path)
            if tensors:
                with torch.no_grad():
                    x = torch.stack(tensors).to(predictor.device)
                    logp = torch.log_softmax(predictor.model(x).float(), dim=1).cpu()
                target = torch.tensor(batch_labels, dtype=torch.long)
                losses.append((0.0 - logp.gather(1, target[:, None])[:, 0]).numpy())  # +0, not -0
                probs.append(logp.exp().numpy().astype(np.float32))
                labels.extend(batch_labels)
            if progress is not None:
                progress(min(start + batch_size, total), total)
    if not paths:
        path, reason = unreadable[0]
        raise DataError(f"none of the {total} images of {source} could be read (the first, "
                        f"{path}: {reason}); check the dataset with: workbench scan {source}")
    result = EvaluationResult(
        classes=list(b.classes), paths=paths, y_true=np.asarray(labels, dtype=np.int64),
        probs=np.concatenate(probs), losses=np.concatenate(losses).astype(np.float64),
        top_k=top_k, unreadable=unreadable, source=str(source), split=split,
        bundle_path=b.path, notes=said_of(notes, paths))
    result.notes += absent_class_notes(result)  # a class with no images: recall unmeasured
    return result
