"""A dataset's health: :func:`check_dataset` runs the checks and returns a
:class:`HealthReport`, whose :meth:`~HealthReport.to_json` is what ``workbench check
--json`` prints.

The JSON keys ``exact_duplicates``, ``near_duplicates``, ``conflicting_labels``,
``train_val_leaks`` (lists of groups of paths) and ``label_issues`` (``[{"path", "given",
"suggested", "score"}]``, most likely wrong first) are a contract; so are
``blank_images``, ``extreme_aspect``, ``tiny_images`` and ``unreadable``. Images the
experiment excludes (``data.exclude``) are not checked: excluding a copy settles it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from workbench.core.data.health import cheap
from workbench.core.data.health.duplicates import conflicting, find_copies, leaks
from workbench.core.data.health.fpcache import cached_fingerprints

#: progress(stage, done, total): stage is "fingerprints" or "labels".
Progress = Callable[[str, int, int], None]


@dataclass
class HealthReport:
    """What :func:`check_dataset` found (paths as the scan lists them)."""

    root: str
    classes: list[str]
    num_images: int
    exact_duplicates: list[list[str]] = field(default_factory=list)
    near_duplicates: list[list[str]] = field(default_factory=list)
    conflicting_labels: list[list[str]] = field(default_factory=list)
    train_val_leaks: list[list[str]] = field(default_factory=list)
    label_issues: list[dict[str, Any]] = field(default_factory=list)
    blank_images: list[str] = field(default_factory=list)
    extreme_aspect: list[dict[str, Any]] = field(default_factory=list)
    tiny_images: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[dict[str, str]] = field(default_factory=list)
    labels_checked: bool = False
    excluded: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    #: path -> class name, and path -> "train"/"val", for whoever shows the findings.
    label_of: dict[str, str] = field(default_factory=dict)
    side_of: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not any((self.exact_duplicates, self.near_duplicates, self.conflicting_labels,
                        self.train_val_leaks, self.label_issues, self.blank_images,
                        self.extreme_aspect, self.tiny_images, self.unreadable))

    def to_json(self) -> dict[str, Any]:
        return {"root": self.root, "classes": list(self.classes),
                "num_images": self.num_images, "excluded": self.excluded,
                "exact_duplicates": self.exact_duplicates,
                "near_duplicates": self.near_duplicates,
                "conflicting_labels": self.conflicting_labels,
                "train_val_leaks": self.train_val_leaks,
                "label_issues": self.label_issues, "labels_checked": self.labels_checked,
                "blank_images": self.blank_images, "extreme_aspect": self.extreme_aspect,
                "tiny_images": self.tiny_images, "unreadable": self.unreadable,
                "seconds": {k: round(v, 2) for k, v in self.seconds.items()}}


def check_dataset(experiment: Any, index: Any = None, labels: bool = False,
                  progress: Progress | None = None,
                  stop_event: threading.Event | None = None, folds: int | None = None,
                  epochs: int | None = None) -> HealthReport:
    """Check the dataset of ``experiment`` (its folder, split settings, input size and,
    for ``labels``, its network, preprocessing and optimizer).

    ``index``: an already scanned (and verified) index of the folder; else it is scanned
    and verified here. The fast checks take seconds on thousands of images; ``labels``
    adds the cross-validated label check (:mod:`.labels`), which trains ``folds``
    networks. A set ``stop_event`` cancels it (:class:`~.labels.LabelCheckCancelled`).
    """
    from workbench.core.data.health.labels import (FOLD_EPOCHS, FOLDS, cross_validated_probs,
                                                   label_issues)
    from workbench.core.data.scan import scan_folder
    from workbench.core.data.split import excluded_paths, split_for

    t0 = time.perf_counter()
    if index is None:
        from workbench.core.data.demo import dataset_folder

        index = scan_folder(dataset_folder(experiment.data.folder), verify=True)
    drop = excluded_paths(index, list(experiment.data.exclude))
    train, val = split_for(index, experiment.data)
    samples = train + val
    report = HealthReport(str(index.root), list(index.classes), len(samples),
                          excluded=len(drop),
                          unreadable=[{"path": u.path, "reason": u.reason}
                                      for u in index.unreadable])
    report.label_of = {p: index.classes[lb] for p, lb in samples}
    report.side_of = {**{p: "train" for p, _ in train}, **{p: "val" for p, _ in val}}
    report.seconds["scan"] = time.perf_counter() - t0

    t = time.perf_counter()
    paths = [p for p, _ in samples]
    fps = cached_fingerprints(str(index.root), paths, None if progress is None else
                              (lambda done, total: progress("fingerprints", done, total)))
    for f in fps:
        if f.error and not any(u["path"] == f.path for u in report.unreadable):
            report.unreadable.append({"path": f.path, "reason": f.error})
    copies = find_copies(fps)
    report.exact_duplicates, report.near_duplicates = copies.exact, copies.near
    report.conflicting_labels = conflicting(copies.components, report.label_of)
    report.train_val_leaks = leaks(copies.components, {p for p, _ in val})
    report.blank_images = cheap.blank_images(fps)
    report.extreme_aspect = cheap.extreme_aspect(fps)
    report.tiny_images = cheap.tiny_images(fps, experiment.data.input_size)
    report.seconds["fast_checks"] = time.perf_counter() - t

    if labels:
        t = time.perf_counter()
        got, probs = cross_validated_probs(
            experiment, index, folds or FOLDS, epochs or FOLD_EPOCHS,
            None if progress is None else (lambda f, n, _text: progress("labels", f, n)),
            stop_event, exclude=drop)
        report.label_issues = [i.to_dict() for i in label_issues(got, probs, index.classes)]
        report.labels_checked = True
        report.seconds["labels"] = time.perf_counter() - t
    return report
