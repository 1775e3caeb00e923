"""The metrics a run records each epoch (metrics.json's ``epochs``) that can pick the best
epoch (``training.monitor``) or rank a study's trials (SPACE.json's ``metric``), each in
words for a tooltip, and :func:`metric_text`, a metric's value as training's lines print
it. Torch-free: the app's choosers and the Tune tab import it before torch is loaded."""

from __future__ import annotations

#: A metric's key -> what it measures, for people.
METRIC_WORDS = {
    "val_acc": "Validation accuracy: the share of validation images classified right.",
    "val_bal_acc": "Validation balanced accuracy: the mean of each class's share of its "
                   "validation images classified right (its recall), over the classes with "
                   "validation images; the Evaluate tab's macro average recall. With very "
                   "unequal classes, always answering the largest one scores a high "
                   "accuracy but a low balanced accuracy.",
    "val_loss": "Validation loss (lower is better).",
    "train_acc": "Training accuracy: measured on the images trained on, so it flatters the "
                 "model.",
    "train_loss": "Training loss (lower is better).",
}


def _fmt(value: float | None, pct: bool = False) -> str:
    return "-" if value is None else (f"{100 * value:.1f}%" if pct else f"{value:.4f}")


def metric_text(name: str, value: float | None) -> str:
    """``value`` of the metric ``name`` as training's lines print it: an accuracy as a
    percentage (``93.8%``), a loss to 4 decimals, ``-`` for none."""
    return _fmt(value, name.endswith("acc"))
