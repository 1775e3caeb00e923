"""The Tune tab's line under Metric, shown when the classes are imbalanced and the metric
would mostly follow the large ones (:func:`workbench.core.tune.advice.metric_advice`,
which ``workbench tune`` prints as a note).

The tab never changes the Metric by itself. val_acc stays the default, as in SPACE.json, and
a stored study keeps its own metric (Start with another one is refused). The line says what
val_bal_acc would do, and that the Class balance row searches ``data.balance``. It follows
the Data tab's scan and split of the experiment's dataset (nothing is said while the scan is
of another folder, or before there is one), the Metric box, and whether Class balance is
ticked.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout

from workbench.qt.common import BoundedMessageLabel
from workbench.qt.evented import subscribe


class MetricHint(BoundedMessageLabel):
    """The advice on the ``panel``'s Metric, put in ``form`` right under its Metric row:
    as tall as its lines (a plain wrapped label got the height of twice as many in the
    form), at most 4, and hidden while it has nothing to say.

    Attributes
    ----------
    counts : dict or None
        The training images per class of the scanned dataset's split (None: not known).
    """

    def __init__(self, panel: Any, form: QFormLayout):
        super().__init__("", max_lines=4)
        self.panel = panel
        self.counts: dict[str, int] | None = None
        self._key: tuple | None = None  # the scan and split the counts were made of
        self._queued = False
        row, _role = form.getWidgetPosition(panel.metric_combo)
        form.insertRow(row + 1, "", self)
        current = panel.current
        subscribe(self, current.dataset_changed, lambda _index: self.refresh(), replay=True)
        subscribe(self, current.changed, lambda section, _f: section == "data" and self.refresh())
        subscribe(self, current.replaced, lambda _experiment: self.refresh())
        panel.metric_combo.currentTextChanged.connect(lambda _t: self.refresh())
        panel.editor.edited.connect(self.refresh)
        self.refresh()

    def setText(self, text: str) -> None:  # noqa: N802  (Qt override)
        super().setText(text)
        if not text or self.parentWidget() is not None:  # never a window of its own
            self.setHidden(not text)

    def _train_counts(self) -> dict[str, int] | None:
        """The training split's counts, made again only when the scan or the split changed."""
        from workbench.qt.panels.train.batch_steps import same_dataset

        current = self.panel.current
        index, data = current.dataset, current.experiment.data
        if index is None or not same_dataset(index, data.folder):
            return None
        key = (id(index), data.folder, data.val_fraction, data.seed, data.stratified,
               data.use_folder_split, tuple(data.exclude or ()))
        if key != self._key:
            from workbench.core.tune.advice import train_counts

            self._key, self.counts = key, train_counts(current.experiment, index)
        return self.counts

    def refresh(self) -> None:
        """Say the advice for the Metric shown now, or hide."""
        from workbench.qt.startup import torch_loader

        loader = torch_loader()
        if loader.is_pending() or loader.state == "failed":
            # Torch (and numpy) still imported in the background at start-up: said once it
            # is, as the Data tab's imbalance line (this runs again then).
            self.setText("")
            if not self._queued and loader.is_pending():
                self._queued = True
                loader.call_when_ready(self._when_ready, self)
            return
        from workbench.core.tune.advice import BALANCE_PATH, metric_advice

        counts = self._train_counts()
        searched = BALANCE_PATH in self.panel.editor.checked_paths()
        text = metric_advice(self.panel.metric_combo.currentText(), counts, searched)
        self.show_message(text or "", "warning")

    def _when_ready(self) -> None:
        self._queued = False
        self.refresh()
