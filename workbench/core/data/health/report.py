"""A dataset's health: :func:`check_dataset` runs the checks and returns a
:class:`HealthReport`, whose :meth:`~HealthReport.to_json` is what ``workbench check
--json`` prints.

The JSON keys ``exact_duplicates``, ``near_duplicates``, ``conflicting_labels``,
``train_val_leaks`` (lists of groups of paths) and ``label_issues`` (``[{"path", "given",
"suggested", "score"}]``, most likely wrong first) are a contract; so are
``blank_images``, ``extreme_aspect``, ``tiny_images`` and ``unreadable``. Images the
experiment excludes (``data.exclude``) are not checked: excluding a copy settles it.

The dataset's test part (a ``test/`` folder) is checked with the rest: a copy of a test
image in training (or validation) makes the test score, the honest number, look better
than the model is. ``leaks`` lists every group of copies that spans parts, with the parts
(``{"parts": ["train", "test"], "paths": [...]}``); ``train_val_leaks`` keeps the groups
with images in both training and validation, and ``test_leaks`` those with a test image
and a training or validation one. ``parts`` counts the images checked in each part.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from workbench.core.data.health import cheap
from workbench.core.data.health.duplicates import conflicting, find_copies
from workbench.core.data.health.fpcache import cached_fingerprints

#: progress(stage, done, total): stage is "fingerprints" or "labels".
Progress = Callable[[str, int, int], None]

#: The dataset's parts, in the order a leak names them.
PARTS = ("train", "val", "test")


def part_leaks(groups: list[list[str]], side_of: dict[str, str]) -> list[dict[str, Any]]:
    """The groups of copies (``groups``) whose images lie in more than one part of the
    dataset (``side_of``: path -> "train"/"val"/"test"), each as ``{"parts", "paths"}``."""
    out = []
    for g in groups:
        parts = {side_of.get(p) for p in g}
        if len(parts & set(PARTS)) > 1:
            out.append({"parts": [p for p in PARTS if p in parts], "paths": list(g)})
    return out


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
    #: Groups of copies spanning parts: ``{"parts": [...], "paths": [...]}``.
    leaks: list[dict[str, Any]] = field(default_factory=list)
    test_leaks: list[list[str]] = field(default_factory=list)
    #: Images checked per part: ``{"train": n, "val": n}`` and ``"test"`` with a test part.
    parts: dict[str, int] = field(default_factory=dict)
    #: What the scan said a user should know (e.g. images in no class folder, unused).
    notes: list[str] = field(default_factory=list)
    #: path -> class name, and path -> "train"/"val"/"test", for whoever shows the findings.
    label_of: dict[str, str] = field(default_factory=dict)
    side_of: dict[str, str] = field(default_factory=dict)
    #: How far the label check's networks can be trusted (:func:`~.labels.label_quality`'s
    #: ``to_dict()``): None when the labels were not checked.
    label_quality: dict[str, Any] | None = None
    #: Groups of copies that only look alike (every link near a limit, none exact): shown
    #: for review rather than as the same picture (:attr:`.duplicates.CopyGroups.look_alike`).
    look_alike: list[list[str]] = field(default_factory=list)
    #: When the label check shown ran (``time.time()``; 0: not known); ``labels_kept``:
    #: it is an earlier check's, carried into this one (:func:`~.saved.keep_labels`),
    #: ``labels_moved`` of its flagged images moved to another class since.
    labels_checked_at: float = 0.0
    labels_kept: bool = False
    labels_moved: int = 0

    @property
    def clean(self) -> bool:
        return not any((self.exact_duplicates, self.near_duplicates, self.conflicting_labels,
                        self.train_val_leaks, self.test_leaks, self.label_issues,
                        self.blank_images, self.extreme_aspect, self.tiny_images,
                        self.unreadable))

    @property
    def gating(self) -> int:
        """How many groups of copies would mislead a run's numbers: those with conflicting
        labels or spanning parts, each counted once (what ``workbench check --strict``
        fails on)."""
        groups = [*self.conflicting_labels, *(g["paths"] for g in self.leaks)]
        return len({frozenset(g) for g in groups})

    def to_json(self) -> dict[str, Any]:
        return {"root": self.root, "classes": list(self.classes),
                "num_images": self.num_images, "excluded": self.excluded,
                "exact_duplicates": self.exact_duplicates,
                "near_duplicates": self.near_duplicates,
                "conflicting_labels": self.conflicting_labels,
                "train_val_leaks": self.train_val_leaks, "test_leaks": self.test_leaks,
                "leaks": self.leaks, "parts": dict(self.parts), "notes": list(self.notes),
                "label_issues": self.label_issues, "labels_checked": self.labels_checked,
                "label_quality": self.label_quality, "look_alike": self.look_alike,
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
                                                   fold_epochs, label_issues, label_quality)
    from workbench.core.data.scan import scan_folder
    from workbench.core.data.split import split_for
    from workbench.core.data.usage import excluded_images, test_part

    t0 = time.perf_counter()
    if index is None:
        from workbench.core.data.demo import dataset_folder

        index = scan_folder(dataset_folder(experiment.data.folder), verify=True)
    drop = excluded_images(index, list(experiment.data.exclude))
    train, val = split_for(index, experiment.data)
    test = test_part(index, experiment.data, drop=drop) or []
    samples = train + val + test
    report = HealthReport(str(index.root), list(index.classes), len(samples),
                          excluded=len(drop),
                          unreadable=[{"path": u.path, "reason": u.reason}
                                      for u in index.unreadable],
                          notes=list(getattr(index, "notes", None) or []))
    report.parts = {"train": len(train), "val": len(val)}
    if index.test_samples is not None:
        report.parts["test"] = len(test)
    report.label_of = {p: index.classes[lb] for p, lb in samples}
    report.side_of = {**{p: "train" for p, _ in train}, **{p: "val" for p, _ in val},
                      **{p: "test" for p, _ in test}}
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
    report.look_alike = [list(g) for g in copies.look_alike]
    report.leaks = part_leaks(copies.components, report.side_of)
    report.train_val_leaks = [g["paths"] for g in report.leaks
                              if {"train", "val"} <= set(g["parts"])]
    report.test_leaks = [g["paths"] for g in report.leaks if "test" in g["parts"]]
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
        report.label_quality = label_quality(got, probs, fold_epochs(
            experiment, epochs or FOLD_EPOCHS), epochs or FOLD_EPOCHS,
            classes=index.classes, flagged=len(report.label_issues)).to_dict()
        report.labels_checked, report.labels_checked_at = True, time.time()
        report.seconds["labels"] = time.perf_counter() - t
    return report
