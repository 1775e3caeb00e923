"""The Health view's background job: the dataset checks of
:func:`~workbench.core.data.health.report.check_dataset`, run by a TaskRunner off the GUI
thread."""

from __future__ import annotations

from typing import Any

from workbench.qt.workers import TaskState


def check(experiment: Any, index: Any, labels: bool, state: TaskState) -> tuple[Any, Any]:
    """``(report, index)``: ``experiment``'s dataset checked (``labels``: the
    cross-validated label check too), and the scan it was checked on (``index``, or the
    folder scanned here when None).

    Progress goes out as ``state.send((stage, done, total))``: ``stage`` is
    "fingerprints" or "labels" (``done`` folds trained of ``total``). Cancelling the job
    stops the label check at the next batch (it raises
    :class:`~workbench.core.data.health.labels.LabelCheckCancelled`).
    """
    from workbench.core.data.health.report import check_dataset

    if index is None:
        from workbench.core.data.demo import dataset_folder
        from workbench.core.data.scan import scan_folder

        index = scan_folder(dataset_folder(experiment.data.folder), verify=True,
                            is_cancelled=state.is_cancelled)
    report = check_dataset(experiment, index=index, labels=labels,
                           progress=lambda stage, d, t: state.send((stage, d, t)),
                           stop_event=state.cancel_event)
    return report, index
