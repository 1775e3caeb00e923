"""The Train tab's warning, under the batch size, that it leaves too few steps an epoch,
or that batches of one image are noisy and slow (without BatchNorm, which refuses them).

A batch size of 1000 on the demo's 800 training images makes each epoch a single step: the
network barely learns, and the run looked fine until its curves stayed flat. The rule is
the training doctor's (:func:`~workbench.core.train.doctor.causes.steps_cause`, which
``workbench train`` and ``check`` warn by too): said here before Start, from the Data
tab's scan and the split the experiment makes of it, with a button that sets the batch
size it proposes in the Batch size box (as typing it would), and lowers
``training.accumulate`` where the fix says to. Nothing is said while the
dataset is not scanned, or the scan is of another folder.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QPushButton, QSpinBox, QVBoxLayout, QWidget

from workbench.qt.common import MessageLabel
from workbench.qt.evented import subscribe


def same_dataset(index: Any, folder: str) -> bool:
    """Whether the scan ``index`` is of the experiment's dataset ``folder`` ("": the demo)."""
    from workbench.core.data.demo import default_demo_root
    from workbench.qt.panels.data.health.findings import same_path

    return same_path(getattr(index, "root", ""), folder or default_demo_root())


class BatchStepsLine(QWidget):
    """The warning and its fix button (hidden while the batch size leaves steps enough).

    ``spin``: the Batch size box, which the fix sets. :meth:`follow` binds it to the app's
    :class:`~workbench.core.events.CurrentExperiment` (its scans and its edits).
    """

    def __init__(self, spin: QSpinBox, parent: QWidget | None = None):
        super().__init__(parent)
        self.spin = spin
        self.current: Any = None
        self.cause: Any = None  # the steps_cause shown now
        self._count: tuple[tuple, int] | None = None  # (the split's key, training images)
        self.label = MessageLabel("")
        self.button = QPushButton()
        self.button.clicked.connect(self.apply)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        self.hide()

    def follow(self, current: Any) -> None:
        """Say the warning for ``current``'s experiment and dataset from now on."""
        self.current = current
        subscribe(self, current.dataset_changed, lambda _index: self.refresh(), replay=True)
        # The model too: BatchNorm turns batches of one from a note into a refusal.
        subscribe(self, current.changed, lambda section, field: (section in ("data", "model")
                  or (section, field) == ("training", "accumulate")) and self.refresh())
        subscribe(self, current.replaced, lambda _experiment: self.refresh())
        self.refresh()

    def train_images(self) -> int:
        """The training images of the experiment's split of the scanned dataset (0: not
        known), counted again only when the scan or the split settings change."""
        index = getattr(self.current, "dataset", None)
        data = self.current.experiment.data if self.current is not None else None
        if index is None or data is None or not same_dataset(index, data.folder):
            return 0
        key = (id(index), data.val_fraction, data.seed, data.stratified,
               data.use_folder_split, tuple(data.exclude or ()))
        if self._count is None or self._count[0] != key:
            from workbench.core.data.usage import usable_split

            use = usable_split(index, data)
            self._count = (key, len(use.train) if use is not None else 0)
        return self._count[1]

    @Slot()
    def refresh(self) -> None:
        """Show the warning when the batch size leaves too few steps an epoch, else hide."""
        from workbench.core.train.doctor.causes import (BATCH_SIZE, epoch_steps,
                                                        one_image_cause, steps_cause)

        batch = int(self.current.experiment.data.batch_size) if self.current else 0
        # At the usual size or under nothing is said, but batches of one: no split is made.
        if batch > BATCH_SIZE:
            self.cause = steps_cause(batch, self.train_images(),
                                     self.current.experiment.training.accumulate)
        elif batch == 1 and self.train_images():
            self.cause = one_image_cause(self.current.experiment, self.train_images(),
                                         len(self.current.dataset.classes))
        else:
            self.cause = None
        if self.cause is None:
            self.hide()
            return
        why, sets = self.cause.why, self.cause.action["set"]
        size = int(sets["data.batch_size"])
        accumulate = int(sets.get("training.accumulate",
                                  self.current.experiment.training.accumulate))
        steps = epoch_steps(self.train_images(), size, accumulate)
        self.label.show_message(f"{why[:1].upper()}{why[1:]}.", "warning")
        self.button.setText(self.cause.action["label"])
        also = "" if "training.accumulate" not in sets else \
            f" and the gradient accumulation to {accumulate}"
        self.button.setToolTip(f"Sets the Batch size box to {size}{also}: {steps} steps an "
                               f"epoch for the next run")
        self.show()

    @Slot()
    def apply(self) -> None:
        """Set the proposed batch size in the Batch size box, as typing it would (and the
        gradient accumulation, where the fix lowers it, as the Train tab's fixes do)."""
        if self.cause is not None:
            sets = dict(self.cause.action["set"])
            self.spin.setValue(int(sets.pop("data.batch_size")))
            if sets:
                from workbench.qt.panels.train.fixes import apply_settings

                apply_settings(self.current, sets)
        self.refresh()
