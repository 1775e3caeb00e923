"""An earlier segment of a run on the Train tab's plots (a run reopened or continued that this
window did not train): its epochs, and the batch losses and layer-norm samples metrics.json
keeps (:mod:`workbench.core.runs.batches`), and the metric that picks its best epoch (its
run.json's ``best``)."""

from __future__ import annotations

from typing import Any


def load_run(plots: Any, run_dir: str, history: list[dict],
             batches_per_epoch: int = 0) -> None:
    """Show ``run_dir``'s ``history`` and what it kept of its batches and norms on the
    :class:`~workbench.qt.plots.training.TrainingPlots` ``plots`` (after ``clear_data``);
    ``batches_per_epoch`` 0: as the kept batches say."""
    from workbench.core.runs.batches import read_batches, read_norms
    from workbench.core.runs.store import read_run_info

    plots.load_history(history, batches_per_epoch, read_batches(run_dir) if run_dir else [])
    best = (read_run_info(run_dir).get("best") if run_dir else None) or {}
    if isinstance(best, dict) and isinstance(best.get("metric"), str):
        epoch = best.get("epoch")  # named "best: epoch 3 (val_bal_acc)"
        plots.set_best_epoch(epoch if isinstance(epoch, int) else None, best["metric"])
    for entry in read_norms(run_dir) if run_dir else []:
        for step, grads, weights in entry["samples"]:
            plots.add_norms(step, entry["names"], grads, weights)
