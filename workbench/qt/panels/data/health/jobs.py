"""The Health view's background job: the dataset checks of
:func:`~workbench.core.data.health.report.check_dataset`, run by a TaskRunner off the GUI
thread."""

from __future__ import annotations

from typing import Any

from workbench.qt.workers import TaskState


def check(experiment: Any, index: Any, labels: bool, state: TaskState
          ) -> tuple[Any, Any, dict[str, tuple[int, int]]]:
    """``(report, index, sizes)``: ``experiment``'s dataset checked (``labels``: the
    cross-validated label check too), the scan it was checked on (``index``, or the
    folder scanned here when None), and the pixel size of every image in a group of
    copies (:func:`group_sizes`).

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
    return report, index, group_sizes(report)


def group_sizes(report: Any) -> dict[str, tuple[int, int]]:
    """``path -> (width, height)`` of the images of ``report``'s groups of copies, from
    their headers (as displayed: EXIF rotation applied), so that the rows can say which
    copy is the big one; images whose header cannot be read are left out."""
    from workbench.core.data.summary import image_header

    paths = {p for groups in (report.conflicting_labels, report.train_val_leaks,
                              report.exact_duplicates, report.near_duplicates,
                              getattr(report, "test_leaks", None) or [])
             for g in groups for p in g}
    sizes = {}
    for p in sorted(paths):
        header = image_header(p)
        if header is not None:
            sizes[p] = header[0]
    return sizes
