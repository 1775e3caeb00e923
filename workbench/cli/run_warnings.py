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

import shlex


def run_warnings(exp) -> list[str]:
    """What ``exp``'s run warns of as it starts, from one scan of its dataset: the Model
    doctor's warnings about the network (:func:`~workbench.core.model.doctor
    .network_check`), then, for a dataset of the learner's own, those about its data and
    augmentation. None when the dataset cannot be scanned (the run itself says why) or the
    network is refused; no data warnings for a dataset the run refuses (its one-line
    refusal is said alone)."""
    from workbench.core.data.augment.at_start import starting_hint_warnings
    from workbench.core.data.demo import dataset_folder
    from workbench.core.data.index import check_class_files
    from workbench.core.data.pitfalls import data_warnings
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import WorkbenchError
    from workbench.core.model.doctor import network_check

    try:
        index = scan_folder(dataset_folder(exp.data.folder))
    except (WorkbenchError, OSError):
        return []
    if not index.classes:
        return []
    refused, lines = network_check(exp, len(index.classes))
    if refused or not exp.data.folder:  # the built-in demo: nothing of the learner's data
        return lines
    try:
        check_class_files(index)
        index.check_trainable()
    except (WorkbenchError, OSError):
        return lines
    return lines + [f"{w}." for w in [*index.warnings,  # the scan's: a linked class...
                                      *data_warnings(index, exp.data, exp.data.folder,
                                                     give=give_folder)]] + \
        starting_hint_warnings(exp, index.classes)


def give_folder(parent: str) -> str:
    """The dataset folder to train on instead, as the command line gives it."""
    return f". Fix: on the command line --data {shlex.quote(parent)}"
