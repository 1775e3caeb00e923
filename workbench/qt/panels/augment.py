"""Augment panel: a read-only view of the training and evaluation pipelines.

Both lists come from the same spec (``experiment.augment`` and ``experiment.data``); the
evaluation one keeps only the deterministic steps. A later version edits the spec here.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QListWidget, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

from ..common import MessageLabel, run_standalone


class AugmentPanel(QWidget):
    """Lists the steps an image goes through for training and for evaluation."""

    def __init__(self, experiment: Experiment, parent: QWidget | None = None):
        super().__init__(parent)
        self.experiment = experiment
        self.train_list = QListWidget()
        self.eval_list = QListWidget()
        for lst in (self.train_list, self.eval_list):
            lst.setWordWrap(True)
            lst.setAlternatingRowColors(True)
        train_box = QGroupBox("Training: random augmentation, then preprocessing")
        QVBoxLayout(train_box).addWidget(self.train_list)
        eval_box = QGroupBox("Validation and prediction: deterministic steps only")
        QVBoxLayout(eval_box).addWidget(self.eval_list)
        row = QHBoxLayout()
        row.addWidget(train_box)
        row.addWidget(eval_box)
        intro = QLabel("Each image is decoded, converted to the experiment's channels, then "
                       "passes through these steps. The evaluation pipeline is derived from the "
                       "same settings, so predictions see exactly the preprocessing used in "
                       "training. (Editing comes in a later version.)")
        intro.setWordWrap(True)
        self.message = MessageLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row, 1)
        layout.addWidget(self.message)
        self.refresh()

    def set_experiment(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.refresh()

    def refresh(self) -> None:
        """Rebuild both lists from the experiment."""
        from workbench.core.data.transforms import describe_pipeline

        self.message.show_message("")
        for lst, train in ((self.train_list, True), (self.eval_list, False)):
            lst.clear()
            try:
                steps = describe_pipeline(self.experiment, train=train)
            except WorkbenchError as e:
                self.message.show_message(str(e), "error")
                continue
            for i, step in enumerate(steps, 1):
                lst.addItem(f"{i}. {step}")

    def showEvent(self, event) -> None:  # noqa: N802  (Qt override)
        # Cheap, and the data settings may have changed while another tab was shown.
        self.refresh()
        super().showEvent(event)


if __name__ == "__main__":
    sys.exit(run_standalone(lambda: AugmentPanel(Experiment()), "Augment"))
