"""What a study should rank its trials by on the data it searches: shared by the Tune tab (a
line under its Metric) and ``workbench tune`` (a ``note:`` before the first trial).

On training classes that the Data tab and ``workbench check`` call imbalanced
(:attr:`~workbench.core.data.stats.Imbalance.strong`), accuracy mostly measures the large
classes. A study ranked by val_acc scored a trial that never learnt the two smallest classes
at 94.3 %, against 100 % for the best trial. The balanced accuracy (val_bal_acc) gave those
two trials 50 % and 100 % (walk-imbalance). The advice says this, and how to search the class
balance (``data.balance``, a categorical field). A study's metric is never changed for the
user: a stored study keeps its own, and val_acc stays the default both in SPACE.json and on
the Tune tab.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

#: The field that chooses how training copes with classes of unequal size.
BALANCE_PATH = "data.balance"
#: The metric that weighs every class alike (the mean of each class's recall).
BALANCED_METRIC = "val_bal_acc"


def balance_choices() -> list[str]:
    """The values of ``data.balance``, in the order the Experiment declares them
    (``none``, ``weighted_loss``, ``weighted_sampler``)."""
    from workbench.core.experiment import DataConfig

    param = next(f.metadata["param"] for f in dataclasses.fields(DataConfig)
                 if f.name == "balance")
    return list(param.choices)


def train_counts(experiment: Any, index: Any) -> dict[str, int] | None:
    """Training images per class of the split ``experiment`` makes of the scan ``index``,
    as a run counts them (None: no usable split)."""
    from workbench.core.data.usage import usable_split

    use = usable_split(index, experiment.data)
    return use.per_class(list(index.classes))[0] if use is not None else None


def metric_advice(metric: str, counts: dict[str, int] | None, balance_searched: bool,
                  cli: bool = False) -> str | None:
    """The advice for a study ranked by ``metric`` whose training classes have ``counts``
    images. Returns None when there is nothing to say: the classes are balanced enough, a
    class has no images (training refuses that, saying so), or ``metric`` is already the
    balanced accuracy.

    ``balance_searched``: ``data.balance`` is searched already (the advice then does not
    suggest it). ``cli``: in SPACE.json's words (``workbench tune``), else in the Tune tab's.
    """
    from workbench.core.data.stats import imbalance

    found = imbalance(counts or {})
    if metric == BALANCED_METRIC or found is None or not found.strong \
            or math.isinf(found.ratio):
        return None
    text = f"the classes are imbalanced ({found.ratio:.1f}x in training: " \
           f"{found.extremes()}): {metric} mostly follows the large classes"
    if cli:
        choices = json.dumps({"type": "categorical", "choices": balance_choices()})
        text += (f'; "metric": "{BALANCED_METRIC}" in the space file ranks trials by every '
                 f"class alike (a new study's metric: a stored study keeps its own)")
        if not balance_searched:
            text += f', and "{BALANCE_PATH}": {choices} searches the class balance'
        return text
    text = (f"{text[:1].upper()}{text[1:]}. {BALANCED_METRIC} ranks trials by every class "
            f"alike (a new study's Metric: a stored study keeps its own)")
    return text + ("." if balance_searched else "; tick Class balance to search it too.")


def study_advice(experiment: Any, metric: str, params: dict[str, Any]) -> str | None:
    """:func:`metric_advice` for ``workbench tune``: the experiment's dataset is scanned
    (names only) for its training split; None also when it cannot be (the study says why)
    or a searched ``data.folder`` makes the dataset vary."""
    if metric == BALANCED_METRIC or "data.folder" in params:
        return None
    from workbench.core.data.demo import dataset_folder
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import WorkbenchError

    try:
        index = scan_folder(dataset_folder(experiment.data.folder))
        counts = train_counts(experiment, index)
    except (WorkbenchError, OSError):
        return None
    return metric_advice(metric, counts, BALANCE_PATH in params, cli=True)
