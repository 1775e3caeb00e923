"""Train panel: training settings, Start/Stop, progress and live plots.

The run happens in :class:`~workbench.qt.workers.TrainingRun` (a QObject worker in its own
QThread). Its signals feed :class:`~workbench.qt.plots.TrainingPlots`, which redraws on a
timer rather than per batch.

The optimizer and schedule editors (:mod:`.train_settings`) build their forms from the
registries' declarations. Those registries need torch: until it is imported (in the
background at start-up, :mod:`workbench.qt.startup`) their lists are empty, and pressing
Start queues the run for when it is.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment, TrainingConfig

from ..common import LogSpinBox, MessageLabel, stop_busy, run_standalone, show_error
from ..plots import TrainingPlots
from ..startup import LOADING_TEXT, when_torch_ready
from ..workers import TrainingRun
from .train_settings import (ComponentEditor, optimizer_problem, optimizers, scheduler_problem,
                             schedulers)


def _field_param(cls: type, name: str) -> Any:
    return {f.name: f for f in dataclasses.fields(cls)}[name].metadata["param"]


class TrainPanel(QWidget):
    """Edits the training settings of an :class:`Experiment` and runs it.

    Signals
    -------
    settings_changed()
        Epochs, the optimizer or the schedule (or one of their settings) were changed in
        the panel.
    training_started()
    training_finished(summary)
        The run ended (completed or stopped); ``summary`` as in
        :class:`~workbench.qt.workers.TrainingWorker`.
    training_errored(message)
    bundle_saved(path)
        The run's bundle was written to ``path``.
    """

    settings_changed = Signal()
    training_started = Signal()
    training_finished = Signal(object)
    training_errored = Signal(str)
    bundle_saved = Signal(str)

    def __init__(self, experiment: Experiment, parent: QWidget | None = None):
        super().__init__(parent)
        self.experiment = experiment
        self.index: Any = None
        self.last_summary: dict | None = None
        self.last_error = ""
        self._torch = False  # the optimizer and schedule registries are available
        self._start_queued = False
        self._network_problem = ""  # why the Model tab's network cannot train, or ""
        self.run = TrainingRun(self)
        self.run.fit_started.connect(self._on_fit_started)
        self.run.batches_finished.connect(self._on_batches_finished)
        self.run.epoch_finished.connect(self._on_epoch_finished)
        self.run.skipped.connect(self._on_skipped)
        self.run.cache_progressed.connect(self._on_cache_progressed)
        self.run.finished.connect(self._on_run_finished)
        self.run.errored.connect(self._on_run_errored)
        self._build()
        self._clear_run_state()
        when_torch_ready(self._on_torch_ready, self)
        if not self._torch:
            self.refresh()

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        epochs_param = _field_param(TrainingConfig, "epochs")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(int(epochs_param.min), int(epochs_param.max))
        self.epochs_spin.setToolTip(epochs_param.help)
        self.epochs_spin.valueChanged.connect(self._on_epochs_edited)
        self.optimizer_editor = ComponentEditor("Optimizer", "optimizer", optimizer_problem)
        self.optimizer_editor.combo.setToolTip("Choosing an optimizer resets its settings "
                                               "(learning rate included) to its defaults.")
        self.optimizer_editor.changed.connect(self.settings_changed)
        self.optimizer_combo: QComboBox = self.optimizer_editor.combo
        self.schedule_editor = ComponentEditor("Schedule", "scheduler", scheduler_problem)
        self.schedule_editor.combo.setToolTip("How the learning rate changes during the run; "
                                              "choosing one resets its settings to its "
                                              "defaults.")
        self.schedule_editor.changed.connect(self.settings_changed)
        form = QFormLayout()
        form.addRow("Epochs:", self.epochs_spin)

        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.setToolTip("Stop after the current batch; finished epochs are kept "
                                    "and saved")
        self.stop_button.clicked.connect(self.stop)
        buttons = QVBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(buttons)
        top = QHBoxLayout()
        top.addLayout(left)
        top.addSpacing(12)
        top.addWidget(self.optimizer_editor, 1)
        top.addWidget(self.schedule_editor, 1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.status = MessageLabel("Press Start to train the model on the loaded dataset.")
        self.run_label = MessageLabel("")
        # What the run decided at its start that the learner should know (e.g. a backbone
        # trained from random weights because no pretrained file was found).
        self.notes_label = MessageLabel("")
        self.notes_label.hide()
        # The decoded-image cache fills during the first epoch; later epochs skip decoding.
        self.cache_bar = QProgressBar()
        self.cache_bar.setFixedWidth(180)
        self.cache_bar.setFormat("%v / %m")
        self.cache_bar.setToolTip("Images decoded into the cache so far")
        self.cache_label = QLabel("")
        self.cache_label.setWordWrap(True)
        cache_row = QHBoxLayout()
        cache_row.addWidget(self.cache_bar)
        cache_row.addWidget(self.cache_label, 1)
        self.cache_bar.hide()

        self.plots = TrainingPlots()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.notes_label)
        layout.addLayout(cache_row)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.run_label)

    @Slot()
    def _on_torch_ready(self) -> None:
        self._torch = True
        self.optimizer_editor.set_registry(optimizers())
        self.schedule_editor.set_registry(schedulers())
        self._set_running(self.is_running())
        self.refresh()

    # -- binding ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.refresh()

    def set_dataset(self, index: Any) -> None:
        """The scanned dataset; reused by the next run when it is of the experiment's folder."""
        self.index = index

    def refresh(self) -> None:
        """Show the experiment's values in the widgets (without echoing edits back)."""
        self.epochs_spin.blockSignals(True)
        try:
            self.epochs_spin.setValue(self.experiment.training.epochs)
        finally:
            self.epochs_spin.blockSignals(False)
        # Before torch is imported the editors have no registry and show nothing yet.
        self.optimizer_editor.set_experiment(self.experiment)
        self.schedule_editor.set_experiment(self.experiment)

    @property
    def lr_spin(self) -> LogSpinBox | None:
        """The optimizer form's learning-rate editor (``None`` until torch is imported)."""
        form = self.optimizer_editor.form
        return form.editors.get("lr") if form is not None else None  # type: ignore[return-value]

    @Slot(int)
    def _on_epochs_edited(self, value: int) -> None:
        self.experiment.training.epochs = int(value)
        self.schedule_editor.show_problem()  # a warm-up must stay shorter than the run
        self.settings_changed.emit()

    # -- running ---------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.run.is_running()

    @Slot()
    def start(self) -> None:
        """Train a snapshot of the experiment; later edits do not affect this run.

        While torch is still being imported at start-up, the run is queued and starts as
        soon as it is.
        """
        if self.is_running() or self._start_queued:
            return
        if not self._torch:
            self._start_queued = True
            self.start_button.setEnabled(False)
            self.status.show_message(f"{LOADING_TEXT} Training starts as soon as it has "
                                     f"loaded.")
            when_torch_ready(self._start_queued_run, self)
            return
        try:
            self.experiment.validate()
        except WorkbenchError as e:
            self._report_error(str(e))
            return
        index = self.index
        if index is None or os.path.abspath(str(index.root)) != \
                os.path.abspath(self.experiment.data.folder or "."):
            index = None  # let the trainer scan the folder itself
        self._clear_run_state()
        self.last_summary, self.last_error = None, ""
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self.run_label.show_message("")
        self.status.show_message("Preparing the data and the network…")
        self._set_running(True)
        self.run.start(self.experiment, index=index)
        self.plots.start()
        self.training_started.emit()

    def _start_queued_run(self) -> None:
        if not self._start_queued:
            return  # cancelled: the window closed before torch was ready
        self._start_queued = False
        self.start()

    @Slot()
    def stop(self) -> None:
        if self.is_running():
            self.run.stop()
            self.stop_button.setEnabled(False)
            self.status.show_message("Stopping after the current batch…")

    def shutdown(self) -> None:
        """Stop a run cooperatively and wait for its thread (the window is closing); a run
        still waiting for torch is cancelled."""
        self._start_queued = False
        self.plots.stop()
        self.run.shutdown()
        stop_busy(self.progress)

    # -- run events -------------------------------------------------------------------------
    def _clear_run_state(self) -> None:
        self.info: dict = {}
        self.skipped: list[tuple[str, str]] = []
        self.plots.clear_data()
        self.notes_label.hide()

    @Slot(object)
    def _on_fit_started(self, info: dict) -> None:
        self.info = info
        total = max(1, int(info.get("epochs", 1)) * max(1, int(info.get("batches_per_epoch", 1))))
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status.show_message(
            f"Training on {info.get('device', '?')}: {info.get('num_train', 0):,} training and "
            f"{info.get('num_val', 0):,} validation images, "
            f"{len(info.get('classes', []))} classes, {info.get('num_params', 0):,} parameters.")
        notes = [str(n) for n in info.get("notes") or []]
        self.notes_label.show_message("\n".join(f"Note: {n}" for n in notes),
                                      "warning" if any("random" in n for n in notes) else "info")
        self.notes_label.setVisible(bool(notes))
        note = str(info.get("cache", ""))
        self.cache_label.setText(f"Decoded-image cache: {note}" if note else "")
        self.cache_bar.setVisible(bool(note) and not note.startswith("off"))
        self.cache_bar.setRange(0, max(1, int(info.get("num_train", 0))
                                       + int(info.get("num_val", 0))))
        self.cache_bar.setValue(0)

    @Slot(int, int)
    def _on_cache_progressed(self, done: int, total: int) -> None:
        self.cache_bar.setRange(0, max(1, total))
        self.cache_bar.setValue(done)
        if done >= total:
            note = str(self.info.get("cache", ""))
            self.cache_label.setText(f"Decoded-image cache full: {note}. Later epochs skip "
                                     f"decoding.")

    @Slot(object)
    def _on_batches_finished(self, chunk: dict) -> None:
        per_epoch = int(self.info.get("batches_per_epoch") or chunk["num_batches"] or 1)
        self.plots.add_batches(chunk["steps"], chunk["losses"], per_epoch)
        self.progress.setValue(min(chunk["step"], self.progress.maximum()))
        epochs = self.info.get("epochs", "?")
        self.status.show_message(f"Epoch {chunk['epoch']}/{epochs} · batch {chunk['batch']}/"
                                 f"{chunk['num_batches']} · loss {chunk['losses'][-1]:.4f}")

    @Slot(object)
    def _on_epoch_finished(self, m: dict) -> None:
        self.plots.add_epoch(m)
        self.status.show_message(f"Epoch {m['epoch']}/{self.info.get('epochs', '?')} done: "
                                 + _metrics_text(m))

    @Slot(str, str)
    def _on_skipped(self, path: str, reason: str) -> None:
        self.skipped.append((path, reason))

    @Slot(object)
    def _on_run_finished(self, summary: dict) -> None:
        self._end_run()
        self.last_summary = summary
        history = summary.get("history") or []
        if summary.get("stopped"):
            text = (f"Stopped after {len(history)} complete epoch"
                    f"{'s' if len(history) != 1 else ''}.")
            level = "warning"
        else:
            text = f"Finished {len(history)} epoch{'' if len(history) == 1 else 's'}."
            level = "ok"
            self.progress.setValue(self.progress.maximum())
        if history:
            text += " Last epoch: " + _metrics_text(history[-1])
        if self.skipped:
            text += f" {len(self.skipped)} unreadable images were skipped."
        self.status.show_message(text, level)
        if summary.get("bundle"):
            self.run_label.show_message(f"Model saved to {summary['bundle']} (try it on the "
                                        f"Predict tab).")
        else:
            self.run_label.show_message("Nothing was saved: no epoch was completed.", "warning")
        self.training_finished.emit(summary)
        if summary.get("bundle"):
            self.bundle_saved.emit(summary["bundle"])

    @Slot(str)
    def _on_run_errored(self, message: str) -> None:
        self._end_run()
        self._report_error(message)
        self.training_errored.emit(message)

    def _report_error(self, message: str) -> None:
        self.last_error = message
        self.status.show_message(f"Training failed: {message}", "error")
        show_error(self, "Training failed", message)

    def _end_run(self) -> None:
        self.plots.stop()
        if self.progress.maximum() == 0:  # still "busy": the run ended during setup
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        self._set_running(False)

    def set_network_problem(self, problem: str) -> None:
        """Disable Start while the network does not fit, saying why (``""``: it fits)."""
        if problem == self._network_problem:
            return
        self._network_problem = problem
        self.start_button.setToolTip(f"Fix the network on the Model tab first: {problem}"
                                     if problem else "")
        if not self.is_running():
            self._set_running(False)
            if problem:
                self.status.show_message(f"Cannot train yet: {problem} (Model tab)", "warning")
            elif self.status.text().startswith("Cannot train yet"):
                self.status.show_message("Press Start to train the model on the loaded "
                                         "dataset.")

    def _set_running(self, running: bool) -> None:
        # The run trains a snapshot: edits made meanwhile would not apply, so don't invite them.
        for w in (self.epochs_spin, self.optimizer_editor, self.schedule_editor):
            w.setEnabled(not running)
        self.start_button.setEnabled(not running and not self._start_queued
                                     and not self._network_problem)
        self.stop_button.setEnabled(running)


def _metrics_text(m: dict) -> str:
    def pct(v: Any) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    def num(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    text = f"train loss {num(m.get('train_loss'))}, accuracy {pct(m.get('train_acc'))}"
    if m.get("val_loss") is not None:
        text += f"; validation loss {num(m.get('val_loss'))}, accuracy {pct(m.get('val_acc'))}"
    if m.get("lr") is not None:  # the rate the epoch trained at: shows a schedule at work
        text += f"; lr {m['lr']:.3g}"
    if m.get("seconds") is not None:
        text += f" ({m['seconds']:.1f} s)"
    return text


def _main() -> int:
    def make() -> TrainPanel:
        from workbench.core.data.demo import ensure_demo_dataset

        exp = Experiment()
        exp.data.folder = sys.argv[1] if len(sys.argv) > 1 else str(ensure_demo_dataset())
        if not exp.model.layers:
            from workbench.core.model.presets import preset_layers

            exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
        return TrainPanel(exp)

    return run_standalone(make, "Train")


if __name__ == "__main__":
    sys.exit(_main())
