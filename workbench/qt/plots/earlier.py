"""An earlier segment of a run on the Train tab's plots (a run reopened or continued that this
window did not train): its epochs, and the batch losses and layer-norm samples metrics.json
keeps (:mod:`workbench.core.runs.batches`)."""

from __future__ import annotations

from typing import Any


def load_run(plots: Any, run_dir: str, history: list[dict],
             batches_per_epoch: int = 0) -> None:
    """Show ``run_dir``'s ``history`` and what it kept of its batches and norms on the
    :class:`~workbench.qt.plots.training.TrainingPlots` ``plots`` (after ``clear_data``);
    ``batches_per_epoch`` 0: as the kept batches say."""
    from workbench.core.runs.batches import read_batches, read_norms

    plots.load_history(history, batches_per_epoch, read_batches(run_dir) if run_dir else [])
    for entry in read_norms(run_dir) if run_dir else []:
        for step, grads, weights in entry["samples"]:
            plots.add_norms(step, entry["names"], grads, weights)
