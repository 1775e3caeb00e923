"""What ``workbench train`` warns about before epoch 1, as the app's tabs do, from one
scan of the dataset: the Model doctor's warnings about the network
(:func:`workbench.core.model.doctor.network_check`), an augmentation that may change the
label (the Augment tab's hints,
:func:`workbench.core.data.augment.at_start.starting_hint_warnings`, with a paste-able
``--set``), a data folder that is the test or validation part of a dataset with parts,
a validation split too small for its accuracy to mean much (the Data tab's warnings,
:func:`workbench.core.data.pitfalls.data_warnings`) and the scan's own (a class folder
that is a link to the dataset or to another class, class names differing only in case).
Printed as ``warning:`` lines; they stop nothing."""

from __future__ import annotations

import copy
import os
import shlex
from typing import Any


def run_warnings(exp) -> list[str]:
    """What ``exp``'s run warns of as it starts, from one scan of its dataset: the Model
    doctor's warnings about the network (:func:`~workbench.core.model.doctor
    .network_check`), then, for a dataset of the learner's own, those about its data and
    augmentation. None when the dataset cannot be scanned (the run itself says why) or the
    network is refused; no data warnings for a dataset the run refuses (its one-line
    refusal is said alone)."""
    return warnings_and_index(exp)[0]


def warnings_and_index(exp) -> tuple[list[str], Any]:
    """:func:`run_warnings`, and the scan they were read from for the run to train on (its
    ``index``: one scan), or None where the run must scan for itself: a dataset that could
    not be scanned or is refused, the built-in demo, a relative ``data.folder`` (the run
    scans it made absolute). The scan is handed over as it was scanned, unchecked (the
    warnings' decode check runs on a copy), so the run checks it exactly as its own."""
    from workbench.core.data.augment.at_start import starting_hint_warnings
    from workbench.core.data.demo import dataset_folder
    from workbench.core.data.index import check_class_files
    from workbench.core.data.pitfalls import data_warnings
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import WorkbenchError
    from workbench.core.model.doctor import network_check

    try:
        scanned = scan_folder(dataset_folder(exp.data.folder))
    except (WorkbenchError, OSError):
        return [], None
    if not scanned.classes:
        return [], None
    refused, lines = network_check(exp, len(scanned.classes))
    if refused or not exp.data.folder:  # the built-in demo: nothing of the learner's data
        return lines, None
    index = copy.copy(scanned)  # checked here; the run checks ``scanned`` itself
    try:
        check_class_files(index)
        index.check_trainable()
    except (WorkbenchError, OSError):
        return lines, None
    lines = lines + [f"{w}." for w in [*index.warnings,  # the scan's: a linked class...
                                       *data_warnings(index, exp.data, exp.data.folder,
                                                      give=give_folder)]] + \
        starting_hint_warnings(exp, index.classes)
    return lines, scanned if os.path.isabs(exp.data.folder) else None


def give_folder(parent: str) -> str:
    """The dataset folder to train on instead, as the command line gives it."""
    return f". Fix: on the command line --data {shlex.quote(parent)}"
