"""The Data panel's settings: split, input size and channels, normalisation, class balance.

Every control is bound both ways to ``experiment.data``: an edit writes the field at once
(the Experiment announces it) and emits ``experiment_changed``; a change made elsewhere (the
Model tab's backbone preprocessing, a new dataset's defaults, another experiment opened) is
heard from the Experiment's events and shown. Computing the normalisation statistics of the
training split runs off the GUI thread with a progress bar and a Cancel button.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QProgressBar, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel, stop_busy
from workbench.qt.evented import subscribe
from workbench.qt.panels.data.stats import (adapt, close_values, fmt_values, imbalance_line,
                                            preset_names, preset_values)
from workbench.qt.startup import torch_loader
from workbench.qt.workers import TaskRunner, TaskState

CUSTOM = "Custom"
BALANCE_CHOICES = (("none", "None"),
                   ("weighted_loss", "Class-weighted loss"),
                   ("weighted_sampler", "Weighted sampler"))
#: The imbalance warning's tooltip, after the counts: how to pick the best epoch by class.
BALANCED_TIP = ("Always answering the largest class scores a high accuracy. On the Train "
                "tab, set Best epoch & early stopping's monitor to val_bal_acc (the balanced "
                "accuracy: the mean of each class's recall) to keep the epoch that does best "
                "over all classes; Tune can rank trials by it too.")


def _compute_mean_std(samples: list, experiment: Experiment, state: TaskState) -> Any:
    from workbench.core.data.stats import compute_mean_std

    return compute_mean_std(samples, experiment, progress=state.set_progress,
                            is_cancelled=state.is_cancelled)


class DataSettings(QWidget):
    """Controls bound to ``experiment.data``.

    Signals
    -------
    experiment_changed()
        A control changed ``experiment.data``.
    split_changed()
        The validation fraction or the seed changed (the per-class split counts are stale).
    normalization_computed(mean, std)
        The statistics of the training split were computed and stored in the experiment.
    """

    experiment_changed = Signal()
    split_changed = Signal()
    normalization_computed = Signal(list, list)

    def __init__(self, experiment: Experiment | CurrentExperiment,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment.of(experiment)
        self._train_samples: list | None = None
        self._train_counts: dict[str, int] | None = None
        self._updating = False
        self._writing = False  # a control is writing the experiment: its events echo it
        self._imbalance_queued = False
        self._runner = TaskRunner(self, supersede=True)
        self._runner.progressed.connect(self._on_stats_progressed)
        self._runner.finished.connect(self._on_stats_finished)
        self._runner.errored.connect(self._on_stats_errored)
        self._build()
        self.refresh()
        subscribe(self, self.current.replaced, self._on_experiment_replaced)
        subscribe(self, self.current.changed, self._on_experiment_changed)

    @property
    def experiment(self) -> Experiment:
        """The current Experiment (the holder's: never a copy of its own)."""
        return self.current.experiment

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.val_fraction = QDoubleSpinBox()
        self.val_fraction.setRange(0.0, 0.9)
        self.val_fraction.setSingleStep(0.05)
        self.val_fraction.setDecimals(2)
        self.val_fraction.setToolTip("Share of each class held out for validation (stratified: "
                                     "every class keeps its proportion). 0.1-0.2 is usual.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the train/validation split: the same seed gives the same "
                             "split on every machine.")
        self.stratified = QCheckBox("Stratified split")
        self.stratified.setToolTip("Split each class on its own, so training and validation "
                                   "keep the same class proportions (recommended). Off: one "
                                   "random split over all images.")
        self.folder_split = QCheckBox("Use the folder's own train/ and val/")
        self.folder_split.setToolTip("This folder has train/ and val/ sub-folders. On: their "
                                     "images are used as they are and the validation fraction "
                                     "is ignored. Off: both are pooled and split by the "
                                     "validation fraction.")
        self.folder_split.hide()
        self._layout_is_train_val = False
        self.height_spin, self.width_spin = QSpinBox(), QSpinBox()
        for spin, what in ((self.height_spin, "Height"), (self.width_spin, "Width")):
            spin.setRange(1, 4096)
            spin.setToolTip(f"{what} every image is resized to. 32-64 for small images, 224 "
                            f"for photos and pretrained-style networks.")
        size_row = QHBoxLayout()
        size_row.addWidget(self.height_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.width_spin)
        size_row.addStretch(1)
        size_label = QLabel("Input size (H × W):")
        name_field(size_label, self.height_spin, "Input height")
        name_field(None, self.width_spin, "Input width")
        self.channels_combo = QComboBox()
        self.channels_combo.addItem("RGB (3 channels)", 3)
        self.channels_combo.addItem("Grayscale (1 channel)", 1)
        self.channels_combo.setToolTip("Images are converted to this on loading, for training "
                                       "and prediction alike.")

        self.norm_combo = QComboBox()
        self.norm_combo.setToolTip("Mean and standard deviation subtracted and divided per "
                                   "channel after scaling pixels to [0, 1].")
        self.norm_values = QLabel()
        self.norm_values.setWordWrap(True)
        self.compute_button = QPushButton("Compute from training split")
        self.compute_button.setToolTip("Measure the mean and standard deviation of the training "
                                       "images at the input size and channels above.")
        self.compute_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.stats_progress = QProgressBar()
        self.stats_progress.setFormat("%v / %m images")
        self.stats_progress.hide()
        compute_row = QHBoxLayout()
        compute_row.addWidget(self.compute_button)
        compute_row.addWidget(self.cancel_button)
        compute_row.addStretch(1)

        self.balance_combo = QComboBox()
        for value, text in BALANCE_CHOICES:
            self.balance_combo.addItem(text, value)
        self.balance_combo.setToolTip("How training copes with classes of unequal size: a "
                                      "loss weighted by inverse class frequency, or a sampler "
                                      "that draws every class equally often.")
        self.imbalance_label = MessageLabel("")
        for combo in (self.channels_combo, self.norm_combo, self.balance_combo):
            # Long entries must not widen the settings column: elide instead.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)

        form = QFormLayout()
        form.addRow("Validation fraction:", self.val_fraction)
        form.addRow("Split seed:", self.seed)
        form.addRow(self.folder_split)
        form.addRow("", self.stratified)
        form.addRow(size_label, size_row)
        form.addRow("Channels:", self.channels_combo)
        form.addRow("Normalisation:", self.norm_combo)
        form.addRow("", self.norm_values)
        form.addRow("", compute_row)
        form.addRow("", self.stats_progress)
        form.addRow("Class balance:", self.balance_combo)
        form.addRow("", self.imbalance_label)
        self.stats_message = MessageLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.stats_message)
        layout.addStretch(1)

        self.val_fraction.valueChanged.connect(self._on_split_edited)
        self.seed.valueChanged.connect(self._on_split_edited)
        self.stratified.toggled.connect(self._on_split_edited)
        self.folder_split.toggled.connect(self._on_split_edited)
        self.height_spin.valueChanged.connect(self._on_size_edited)
        self.width_spin.valueChanged.connect(self._on_size_edited)
        self.channels_combo.currentIndexChanged.connect(self._on_channels_edited)
        self.norm_combo.currentIndexChanged.connect(self._on_preset_chosen)
        self.balance_combo.currentIndexChanged.connect(self._on_balance_edited)
        self.compute_button.clicked.connect(self.compute_normalization)
        self.cancel_button.clicked.connect(self.cancel_computation)

    # -- experiment -> widgets -----------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment`` (it replaces the current one, for every view of it)."""
        self.current.replace(experiment)

    def _on_experiment_replaced(self, _experiment: Experiment) -> None:
        self.cancel_computation()
        self.refresh()

    def _on_experiment_changed(self, section: str, _field: str | None) -> None:
        if section == "data" and not self._writing:
            self.refresh()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """Write ``experiment.data`` from the controls (the events of it are not shown back)."""
        self._writing = True
        try:
            yield self.experiment.data
        finally:
            self._writing = False

    def refresh(self) -> None:
        """Show the experiment's values (without writing them back)."""
        d = self.experiment.data
        self._updating = True
        try:
            self.val_fraction.setValue(d.val_fraction)
            self.seed.setValue(d.seed)
            self.stratified.setChecked(d.stratified)
            self.folder_split.setChecked(d.use_folder_split)
            self._enable_split_controls()
            self.height_spin.setValue(int(d.input_size[0]))
            self.width_spin.setValue(int(d.input_size[1]))
            self.channels_combo.setCurrentIndex(self.channels_combo.findData(d.channels))
            self.balance_combo.setCurrentIndex(max(0, self.balance_combo.findData(d.balance)))
            self._refresh_normalization()
        finally:
            self._updating = False
        self._show_imbalance()

    def _refresh_normalization(self) -> None:
        d = self.experiment.data
        current = (adapt(d.mean, d.channels), adapt(d.std, d.channels))
        self.norm_combo.blockSignals(True)
        self.norm_combo.clear()
        chosen = -1
        for name in preset_names():
            self.norm_combo.addItem(name, name)
            if close_values(preset_values(name, d.channels), current):
                chosen = self.norm_combo.count() - 1
        self.norm_combo.addItem(CUSTOM, CUSTOM)
        self.norm_combo.setCurrentIndex(chosen if chosen >= 0 else self.norm_combo.count() - 1)
        self.norm_combo.blockSignals(False)
        self.norm_values.setText(f"mean {fmt_values(d.mean)}, std {fmt_values(d.std)}")

    def set_dataset(self, index: Any, train_samples: list | None,
                    train_counts: dict[str, int] | None) -> None:
        """The scanned dataset (None: none) and its training split, for the statistics and
        the imbalance line."""
        self._train_samples = train_samples
        self.compute_button.setEnabled(bool(train_samples) and not self._runner.is_busy())
        self._layout_is_train_val = index is not None and index.val_samples is not None
        self.folder_split.setVisible(self._layout_is_train_val)
        self._enable_split_controls()
        self._train_counts = train_counts
        self._show_imbalance()

    def _enable_split_controls(self) -> None:
        # The folder's own split makes the fraction, seed and stratification irrelevant.
        fixed = self._layout_is_train_val and self.folder_split.isChecked()
        for w in (self.val_fraction, self.seed, self.stratified):
            w.setEnabled(not fixed)

    def _show_imbalance(self) -> None:
        counts = self._train_counts
        if not counts:
            self.imbalance_label.show_message("")
            return
        loader = torch_loader()
        if loader.is_pending() or loader.state == "failed":
            # At start-up, torch is still being imported in the background: show the line
            # when it is (this runs again then, with the counts of that moment).
            self.imbalance_label.show_message("")
            if not self._imbalance_queued and loader.is_pending():
                self._imbalance_queued = True
                loader.call_when_ready(self._show_imbalance_when_ready, self)
            return
        ratio, text, tip = imbalance_line(counts)  # names the two classes
        self.imbalance_label.setToolTip(tip)
        if math.isinf(ratio):
            self.imbalance_label.show_message("A class has no training images: see the "
                                              "message at the top.", "warning")
            return
        from workbench.core.data.stats import IMBALANCE_WARNING  # as `workbench check` says

        balance = self.experiment.data.balance
        if ratio <= IMBALANCE_WARNING:
            self.imbalance_label.show_message(text, "info")
        elif balance != "none":
            self.imbalance_label.show_message(
                f"{text}; compensated by the {self.balance_combo.currentText().lower()}.",
                "info")
        else:
            self.imbalance_label.setToolTip(f"{tip}\n\n{BALANCED_TIP}" if tip else BALANCED_TIP)
            self.imbalance_label.show_message(
                text + ". Imbalanced: consider the class-weighted loss or the weighted sampler, "
                       "and judge the model per class, not by accuracy alone (the Train tab's "
                       "best epoch can follow the balanced accuracy).", "warning")

    def _show_imbalance_when_ready(self) -> None:
        self._imbalance_queued = False
        self._show_imbalance()

    # -- widgets -> experiment -----------------------------------------------------------
    def _changed(self) -> None:
        self.experiment_changed.emit()

    @Slot()
    def _on_split_edited(self) -> None:
        if self._updating:
            return
        with self._write() as d:
            d.val_fraction = round(self.val_fraction.value(), 4)
            d.seed = self.seed.value()
            d.stratified = self.stratified.isChecked()
            d.use_folder_split = self.folder_split.isChecked()
        self._enable_split_controls()
        self._changed()
        self.split_changed.emit()

    @Slot()
    def _on_size_edited(self) -> None:
        if self._updating:
            return
        with self._write() as d:
            d.input_size = [self.height_spin.value(), self.width_spin.value()]
        self._changed()

    def set_channels(self, channels: int) -> None:
        """Choose ``channels`` (1 or 3) as if the user picked it: the normalisation adapts
        and ``experiment_changed`` is emitted (nothing when it is already chosen)."""
        self.channels_combo.setCurrentIndex(self.channels_combo.findData(int(channels)))

    @Slot()
    def _on_channels_edited(self) -> None:
        if self._updating:
            return
        with self._write() as d:
            d.channels = int(self.channels_combo.currentData())
            # Keep mean/std valid for the new channel count (1 value, or one per channel).
            if len(d.mean) not in (1, d.channels):
                d.mean = adapt(d.mean, d.channels)
            if len(d.std) not in (1, d.channels):
                d.std = adapt(d.std, d.channels)
        self._refresh_normalization()
        self._changed()

    @Slot()
    def _on_preset_chosen(self) -> None:
        name = self.norm_combo.currentData()
        if self._updating or name not in preset_names():
            return
        with self._write() as d:
            d.mean, d.std = preset_values(name, d.channels)
        self.norm_values.setText(f"mean {fmt_values(d.mean)}, std {fmt_values(d.std)}")
        self._changed()

    @Slot()
    def _on_balance_edited(self) -> None:
        if self._updating:
            return
        with self._write() as d:
            d.balance = self.balance_combo.currentData()
        self._show_imbalance()
        self._changed()

    # -- normalisation statistics --------------------------------------------------------
    @Slot()
    def compute_normalization(self) -> None:
        """Compute mean and std of the training split in the background."""
        if not self._train_samples:
            self.stats_message.show_message("Load a dataset first.", "warning")
            return
        samples, exp = list(self._train_samples), self.experiment.copy()
        self.stats_progress.setRange(0, 0)
        self.stats_progress.show()
        self.cancel_button.show()
        self.compute_button.setEnabled(False)
        self.stats_message.show_message(f"Measuring {len(samples):,} training images…")
        self._runner.submit(lambda state: _compute_mean_std(samples, exp, state))

    def is_computing(self) -> bool:
        return self._runner.is_busy()

    @Slot()
    def cancel_computation(self) -> None:
        if not self._runner.is_busy():
            return
        self._runner.cancel_all()
        self._end_computation()
        self.stats_message.show_message("Cancelled: the normalisation is unchanged.", "warning")

    def _end_computation(self) -> None:
        stop_busy(self.stats_progress)
        self.stats_progress.hide()
        self.cancel_button.hide()
        self.compute_button.setEnabled(bool(self._train_samples))

    @Slot(int, int, int)
    def _on_stats_progressed(self, job: int, done: int, total: int) -> None:
        self.stats_progress.setRange(0, max(total, 1))
        self.stats_progress.setValue(done)

    @Slot(int, object)
    def _on_stats_finished(self, job: int, result: Any) -> None:
        self._end_computation()
        mean, std = ([round(float(v), 6) for v in part] for part in result)
        with self._write() as d:
            d.mean, d.std = mean, std
        self._refresh_normalization()
        self.stats_message.show_message(f"Computed from the training split: mean "
                                        f"{fmt_values(mean)}, std {fmt_values(std)}.", "ok")
        self._changed()
        self.normalization_computed.emit(mean, std)

    @Slot(int, str)
    def _on_stats_errored(self, job: int, message: str) -> None:
        self._end_computation()
        self.stats_message.show_message(f"Could not compute the statistics: {message}", "error")

    def shutdown(self) -> None:
        self._runner.cancel_all()
        stop_busy(self.stats_progress)

