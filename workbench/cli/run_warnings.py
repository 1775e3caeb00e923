"""What ``workbench train`` warns about before epoch 1, as the app's tabs do, from one
scan of the dataset: the Model doctor's warnings about the network
(:func:`workbench.core.model.doctor.network_check`), a batch size that leaves too few steps
an epoch (:func:`batch_warnings`), an augmentation that may change the
label or stops training on the images (a crop larger than them) (the Augment tab's hints,
:func:`workbench.core.data.augment.at_start.starting_hint_warnings`, with a paste-able
``--set``), a data folder that is the test or validation part of a dataset with parts,
a validation split too small for its accuracy to mean much (the Data tab's warnings,
:func:`workbench.core.data.pitfalls.data_warnings`) and the scan's own (a class folder
that is a link to the dataset or to another class, class names differing only in case).
Printed as ``warning:`` lines; they stop nothing. ``workbench check --experiment`` says
what is said of the network, the batch size and the augmentation too
(:func:`network_said`)."""

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
    from workbench.core.data.pitfalls import dataset_warnings
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
    if refused:
        return lines, None
    if not exp.data.folder:  # the built-in demo: nothing of the learner's data
        return lines + batch_warnings(exp, scanned), None
    index = copy.copy(scanned)  # checked here; the run checks ``scanned`` itself
    try:
        check_class_files(index)
        index.check_trainable()
    except (WorkbenchError, OSError):
        return lines, None
    lines = lines + batch_warnings(exp, index) + \
        dataset_warnings(index, exp.data, exp.data.folder, give=give_folder) + \
        starting_hint_warnings(exp, index.classes, index)
    return lines, scanned if os.path.isabs(exp.data.folder) else None


def batch_warnings(exp, index) -> list[str]:
    """The warning about a batch size that leaves ``index``'s training images (the split
    ``exp`` makes of them) too few steps an epoch (weight updates: ``training.accumulate``
    counted), with its ``--set`` fix, as one line
    (:func:`workbench.core.train.doctor.causes.steps_cause`, the rule the Train tab and
    the training doctor follow); none when it leaves enough."""
    from workbench.core.train.doctor.causes import split_steps_cause

    cause = split_steps_cause(index, exp)
    return [] if cause is None else [f"{cause.why[:1].upper()}{cause.why[1:]}. Fix: "
                                     f"{cause.fix}."]


def network_said(exp, num_classes: int, index=None) -> tuple[str, list[str]]:
    """What ``workbench check --experiment`` says of ``exp``'s network, as ``train`` would
    as it starts: why a run refuses it (the layer that does not fit, as the run's error
    says it, or the Model doctor's error; batches of one image with BatchNorm as the run
    refuses them, with a batch size that fits the training images of ``index``, the
    dataset as scanned; ``""``: none), else the Model doctor's warnings
    (:func:`~workbench.core.model.doctor.network_check`)."""
    from workbench.core.model.doctor import diagnose, misfit_finding, network_check

    refused, lines = network_check(exp, num_classes)
    if not refused:
        return "", lines
    try:
        from workbench.core.model.builder import infer_shapes

        shape = (int(exp.data.channels), *(int(n) for n in exp.data.input_size))
        misfit = misfit_finding(infer_shapes(list(exp.model.layers), shape, num_classes))
    except Exception:  # noqa: BLE001  (the doctor's error says it then)
        misfit = None
    if misfit is not None:
        return misfit.title, []
    error = next((f for f in diagnose(exp, num_classes) if f.severity == "error"), None)
    if error is not None and error.code == "batchnorm-batch-one":
        return _batch_of_one(exp, index), []
    return (f"{error.title}. {error.explanation}" if error is not None else
            "the network cannot be trained (the Model tab says why)"), []


def _batch_of_one(exp, index) -> str:
    """The run's refusal of batches of one image with BatchNorm, its batch size fitting
    the training images of the split ``exp`` makes of ``index`` (None: not known)."""
    from workbench.core.data.usage import usable_split
    from workbench.core.train.failures import batch_of_one_error

    use = usable_split(index, exp.data)
    refusal = batch_of_one_error(1, True, len(use.train) if use is not None else 0,
                                 exp.training.accumulate)
    return str(refusal)


def give_folder(parent: str) -> str:
    """The dataset folder to train on instead, as the command line gives it."""
    return f". Fix: on the command line --data {shlex.quote(parent)}"
