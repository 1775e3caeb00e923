"""What ``workbench train`` warns about its data before epoch 1, as the app's tabs do: an
augmentation that may change the label (the Augment tab's hints,
:func:`workbench.core.data.augment.at_start.starting_hint_warnings`, with a paste-able
``--set``), a data folder that is the test or validation part of a dataset with parts,
and a validation split too small for its accuracy to mean much (the Data tab's warnings,
:func:`workbench.core.data.pitfalls.data_warnings`). Printed as ``warning:`` lines; they
stop nothing."""

from __future__ import annotations

import shlex


def run_warnings(exp) -> list[str]:
    """The warnings about ``exp``'s training data and augmentation; none when the
    dataset cannot be scanned (the run itself says why)."""
    from workbench.core.data.augment.at_start import starting_hint_warnings
    from workbench.core.data.pitfalls import data_warnings
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import WorkbenchError

    if not exp.data.folder:  # the built-in demo dataset: nothing of the learner's to warn
        return []
    folder = exp.data.folder
    try:
        index = scan_folder(folder)
    except (WorkbenchError, OSError):
        return []
    from workbench.core.data.index import check_class_files

    from workbench.core.model.doctor import network_refused

    try:  # a dataset or network the run refuses gets its one-line refusal, no advice first
        check_class_files(index)
        index.check_trainable()
        if network_refused(exp, len(index.classes)):
            return []
    except (WorkbenchError, OSError):
        return []
    return [f"{w}." for w in data_warnings(index, exp.data, folder, give=give_folder)] + \
        starting_hint_warnings(exp, index.classes)


def give_folder(parent: str) -> str:
    """The dataset folder to train on instead, as the command line gives it."""
    return f". Fix: on the command line --data {shlex.quote(parent)}"
