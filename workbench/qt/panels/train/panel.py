"""Train panel: training settings, Start/Stop, progress and live plots.

The run happens in :class:`~workbench.qt.workers.TrainingRun` (a worker on the shared training
thread); its signals feed :class:`~workbench.qt.plots.training.TrainingPlots` (a timer redraws).

The optimizer and schedule editors (:mod:`.settings`) build their forms from the
registries' declarations. Those registries need torch: until it is imported (in the
background at start-up, :mod:`workbench.qt.startup`) their lists are empty, and pressing
Start queues the run for when it is.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment

from workbench.qt.common import LogSpinBox, stop_busy, run_standalone, show_error
from workbench.qt.evented import subscribe
from workbench.qt.startup import LOADING_TEXT, when_torch_ready
from workbench.qt.workers import TrainingRun
from workbench.qt.panels.train.control import RunControl
from workbench.qt.panels.train.follow import Follower
from workbench.qt.panels.train.run_end import show_run_end
from workbench.qt.panels.train.last_notes import forget_last_run_notes
from workbench.qt.panels.train.skipped import with_skipped
from workbench.qt.panels.data.relist import changed_before_start
from workbench.qt.panels.train.settings import optimizers, schedulers
from workbench.qt.panels.train.status import (Speed, ending_text, metrics_text,
                                              progress_text, saved_model_line,
                                              show_start_notes)


class TrainPanel(RunControl, QWidget):
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
    training_not_started(message)
        Start was refused by the core before a batch trained (no run took place).
    folder_missing(folder)
        The experiment's dataset folder was found missing (checked when the tab shows).
    bundle_saved(path)
        The run's bundle was written to ``path``.

    Run control: Start; Pause/Resume (the run holds before its next batch, its optimizer
    and schedule untouched); Stop (the finished epochs, their checkpoints and a bundle are
    kept); Continue (the last run, from its last checkpoint, for more epochs). A device out
    of memory offers to start again at half the batch size; a diverged run keeps its last
    good checkpoint, which Continue resumes at the learning rate now set (the LR finder's
    proposal follows in the Doctor tab: :mod:`.after_divergence`).
    """

    settings_changed = Signal()
    training_started = Signal()
    training_finished = Signal(object)
    training_errored = Signal(str)
    training_not_started = Signal(str)
    folder_missing = Signal(str)
    bundle_saved = Signal(str)

    def __init__(self, experiment: Experiment | CurrentExperiment,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment.of(experiment)
        self.index: Any = None
        self.last_summary: dict | None = None
        self.last_error, self.last_run_dir = "", ""  # last_run_dir: what Continue resumes
        self.speed = Speed()
        self._resuming = False
        #: ``ask(title, text) -> bool``: the yes/no question after out of memory (for tests).
        self.ask = self._ask
        #: ``ask_continue(plan) -> plan | None``: the Continue dialog (replaceable in tests).
        self.ask_continue = self._ask_continue
        self.continue_summary = ""  # what a Continue is doing, for the status line
        self._torch = False  # the optimizer and schedule registries are available
        self._start_queued = False
        self._network_problem = ""  # why the Model tab's network cannot train, or ""
        self._data_problem = ""  # why the Data tab's dataset cannot be trained on, or ""
        self._augment_problem = ""  # why the Augment tab's transforms cannot be built, or ""
        self.run = TrainingRun(self)
        self.run.fit_started.connect(self._on_fit_started)
        self.run.batches_finished.connect(self._on_batches_finished)
        self.run.epoch_finished.connect(self._on_epoch_finished)
        self.run.paused.connect(self._on_paused)
        self.run.resumed.connect(self._on_resumed)
        self.run.skipped.connect(self._on_skipped)
        self.run.cache_progressed.connect(self._on_cache_progressed)
        self.run.finished.connect(self._on_run_finished)
        self._build()  # before the next: the sweep after a divergence starts before any box
        self.run.errored.connect(self._on_run_errored)
        self.follower = Follower(self)  # edits made elsewhere, the folder checked when shown
        self._clear_run_state()
        when_torch_ready(self._on_torch_ready, self)
        if not self._torch:
            self.refresh()
        subscribe(self, self.current.replaced, lambda _experiment: self.refresh())
        subscribe(self, self.current.dataset_changed, self.set_dataset, replay=True)
        subscribe(self, self.current.network_changed, self._on_network_changed, replay=True)

    @property
    def experiment(self) -> Experiment:
        return self.current.experiment

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        from workbench.qt.panels.train.layout import build_panel

        build_panel(self)

    @Slot()
    def _on_torch_ready(self) -> None:
        self._torch = True
        self.optimizer_editor.set_registry(optimizers())
        self.schedule_editor.set_registry(schedulers())
        self._set_running(self.is_running())
        self.refresh()  # the memory hint now knows the devices

    # -- binding ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment`` (it replaces the current one, for every view of it)."""
        self.current.replace(experiment)

    def set_dataset(self, index: Any) -> None:
        """The scanned dataset; reused by the next run when it is of the experiment's folder."""
        self.index = index
        self.set_data_problem(index)
        if index is not None:
            self.loss_editor.set_classes(list(index.classes))
            self.loss_editor.set_class_counts(dict(index.counts()))
        if self.lr_dialog is not None:
            self.lr_dialog.set_dataset(index)

    def refresh(self) -> None:
        """Show the experiment's values in the widgets (without echoing edits back)."""
        self.setup.set_experiment(self.experiment)
        # Before torch is imported the editors have no registry and show nothing yet.
        self.optimizer_editor.set_experiment(self.experiment)
        self.schedule_editor.set_experiment(self.experiment)
        self.loss_editor.set_experiment(self.experiment)
        self.options_editor.set_experiment(self.experiment)
        self._show_output_layer()
        self.check_settings()

    def _show_output_layer(self) -> None:
        layers = self.experiment.model.layers
        self.loss_editor.set_log_softmax_output(bool(layers) and layers[-1].type == "LogSoftmax")

    @Slot()
    def open_lr_finder(self) -> None:
        """The LR finder dialog on a snapshot of the experiment; its "Use this value"
        writes the rate into the optimizer form."""
        from workbench.qt.panels.train.lr_finder import LRFinderDialog

        if self.is_running():
            return
        if self.lr_dialog is not None:
            self.lr_dialog.shutdown()
            self.lr_dialog.deleteLater()
        index = self.index
        if index is not None and os.path.abspath(str(index.root)) != \
                os.path.abspath(self.experiment.data.folder or "."):
            index = None
        self.lr_dialog = LRFinderDialog(self.experiment, index=index, parent=self)
        self.lr_dialog.lr_chosen.connect(self._on_lr_chosen)
        self.lr_dialog.show()

    @Slot(float)
    def _on_lr_chosen(self, lr: float) -> None:
        self.experiment.announce("optimizer")
        self.optimizer_editor.refresh()
        self.status.show_message(f"Learning rate set to {lr:g} from the LR finder.", "ok")
        self.settings_changed.emit()

    @property
    def lr_spin(self) -> LogSpinBox | None:
        """The optimizer form's learning-rate editor (``None`` until torch is imported)."""
        form = self.optimizer_editor.form
        return form.editors.get("lr") if form is not None else None  # type: ignore[return-value]

    @Slot()
    def _on_epochs_edited(self) -> None:
        self.schedule_editor.show_problem()  # a warm-up must stay shorter than the run
        self.settings_changed.emit()

    # -- running ---------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.run.is_running()

    @Slot()
    def start(self, resume_from: str = "", experiment: Experiment | None = None) -> None:
        """Train a snapshot of the experiment; later edits do not affect this run.

        While torch is still being imported at start-up, the run is queued and starts as
        soon as it is. With ``resume_from`` (a run folder), ``experiment`` (that run's,
        with its new epoch count) continues the run from its last checkpoint.
        """
        if self.is_running() or self._start_queued or \
                (not resume_from and self.dataset_missing()):
            return  # (its line says so, and Start is disabled until it is back)
        if not self._torch:
            self._start_queued = True
            self.start_button.setEnabled(False)
            self.status.show_message(f"{LOADING_TEXT} Training starts as soon as it has "
                                     f"loaded.")
            when_torch_ready(self._start_queued_run, self)
            return
        experiment = experiment or self.experiment
        try:
            experiment.validate()
            if not resume_from:  # (a name too long for its folder: shorten it)
                self.setup.check_name()
        except WorkbenchError as e:
            self._report_cannot_start(e, experiment)
            return
        index = self.index
        if index is None or os.path.abspath(str(index.root)) != \
                os.path.abspath(experiment.data.folder or ".") or \
                changed_before_start(self.current, index):  # (the Data tab rescans it)
            index = None  # let the trainer scan the folder itself
        # Continuing the run on show keeps its plots; any other run starts them afresh.
        self._resuming = bool(resume_from) and resume_from == self.last_run_dir
        if not self._resuming:
            self._clear_run_state()
        self.speed.reset()
        self.last_summary, self.last_error = None, ""
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self.start_fix.show_line(experiment, index or self.index)  # the run line, its fix
        if not resume_from:
            self.continue_summary = ""
        self.status.show_message(f"{self.continue_summary}. Preparing the data and the "
                                 f"network…" if self.continue_summary else
                                 "Preparing the data and the network…")
        self._set_running(True)
        said = self.run_label  # the run line's warning (start_fix), kept in run.json
        self.run.start(experiment, index=index, resume_from=resume_from or None,
                       run_name="" if resume_from else self.setup.run_name(),
                       warnings=[said.text()] if said.level == "warning" else [])
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
            self.pause_button.setEnabled(False)
            self.status.show_message("Stopping after the current batch…")

    def shutdown(self) -> None:
        """Stop a run cooperatively and wait for its thread (the window is closing); a run
        still waiting for torch is cancelled."""
        self._start_queued = False
        if self.lr_dialog is not None:
            self.lr_dialog.shutdown()
        self.findings.shutdown()
        if getattr(self, "image_sizes", None) is not None:
            self.image_sizes.shutdown()  # the crop check's header reads
        self.plots.stop()
        self.run.shutdown()
        stop_busy(self.progress)

    # -- run events -------------------------------------------------------------------------
    def _clear_run_state(self) -> None:
        self.info: dict = {}
        self.skipped: list[tuple[str, str]] = []
        self.plots.clear_data()
        forget_last_run_notes(self)  # the notes line is the new run's
        self.cache_label.setText("")  # the last run's cache: this one says its own
        self.cache_bar.hide()

    @Slot(object)
    def _on_fit_started(self, info: dict) -> None:
        # The run becomes the last run (Continue…, the next session) once it has kept an
        # epoch: until then the last one stays, as a run that finishes none is removed.
        self.info = info
        bpe = max(1, int(info.get("batches_per_epoch", 1)))
        if info.get("history"):  # a resumed run: its epochs as on disk (those a resume in
            # another process added since it was shown too)
            self._show_run(str(info.get("run_dir") or ""), info["history"], bpe)
        self.plots.set_best_epoch((info.get("best") or {}).get("epoch"))
        total = max(1, int(info.get("epochs", 1)) * bpe)
        self.progress.setRange(0, total)
        self.progress.setValue(min(total, (int(info.get("start_epoch", 1)) - 1) * bpe))
        self.progress.setFormat("%p%")
        lead = f"{self.continue_summary}. " if self.continue_summary else ""
        self.status.show_message(
            f"{lead}Training on {info.get('device', '?')}: {info.get('num_train', 0):,} "
            f"training and "
            f"{info.get('num_val', 0):,} validation images, "
            f"{len(info.get('classes', []))} classes, {info.get('num_params', 0):,} parameters.")
        show_start_notes(self.notes_label, info.get("notes"))
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
        if done >= total:  # ``total``: the images it holds, not the files found unreadable
            note = re.sub(r"^[\d,]+ images", f"{total:,} images", str(self.info.get("cache", "")))
            self.cache_label.setText(f"Decoded-image cache full: {note}. Later epochs skip "
                                     f"decoding.")

    @Slot(object)
    def _on_batches_finished(self, chunk: dict) -> None:
        per_epoch = int(self.info.get("batches_per_epoch") or chunk["num_batches"] or 1)
        if chunk.get("steps"):
            self.plots.add_batches(chunk["steps"], chunk["losses"], per_epoch)
        names = self.info.get("norm_layers") or []
        for step, grads, weights in chunk.get("norms") or []:
            self.plots.add_norms(step, names, grads, weights)
        if not chunk.get("steps"):
            return
        self.speed.update(float(chunk.get("rate") or 0.0))
        self.progress.setValue(min(chunk["step"], self.progress.maximum()))
        self.status.show_message(progress_text(chunk, self.info, self.speed))

    @Slot(object)
    def _on_epoch_finished(self, m: dict) -> None:
        self._keep_run(str(self.info.get("run_dir") or ""))
        self.plots.add_epoch(m)
        best = m.get("best") or {}
        self.plots.set_best_epoch(best.get("epoch"))
        mark = " (best so far)" if best.get("epoch") == m["epoch"] else ""
        self.status.show_message(f"Epoch {m['epoch']}/{self.info.get('epochs', '?')} done"
                                 f"{mark}: " + metrics_text(m, best.get("metric")))

    @Slot(str, str)
    def _on_skipped(self, path: str, reason: str) -> None:
        self.skipped.append((path, reason))

    @Slot(object)
    def _on_run_finished(self, summary: dict) -> None:
        self.last_summary = summary
        run_dir = str(summary.get("run_dir") or "")
        self._keep_run(run_dir)
        self._end_run()
        self.setup.name_edit.clear()  # the next run gets a name of its own
        self.setup.update_name()
        text, level = ending_text(summary)
        show_run_end(self, str(summary.get("status") or ""), len(summary.get("history") or []))
        if summary.get("stopped"):  # the batches of the unfinished epoch were dropped
            bpe = max(1, int(self.info.get("batches_per_epoch") or 1))
            kept = run_dir and run_dir == self.last_run_dir
            self._show_run(run_dir if kept else "", summary.get("history") if kept else [],
                           bpe, (summary.get("best") or {}).get("epoch") if kept else None)
        text, level = with_skipped(text, level, self.skipped, self.experiment.data.folder)
        self.status.show_message(text, level)
        if summary.get("bundle"):
            self.run_label.show_message(*saved_model_line(summary))
        else:
            self.run_label.show_message(self._nothing_kept_text(), "warning")
        self.training_finished.emit(summary)
        if summary.get("bundle"):
            self.bundle_saved.emit(summary["bundle"])

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

    def _on_network_changed(self, summary: Any, problem: str) -> None:
        # The Model tab's news: Start waits for a network that fits; the batch size's
        # memory hint and the run name's network part follow its shapes.
        self.set_network_problem(problem)
        self.setup.set_summary(summary)

    def _run_device(self) -> Any:
        """The listed device a run would train on (None until the devices are known)."""
        options = self.options_editor
        name = self.experiment.training.device
        if name == "auto":
            return options.auto_device()
        return next((d for d in options.devices or [] if d.name == name), None)

    def _set_running(self, running: bool) -> None:
        # The run trains a snapshot: edits made meanwhile would not apply, so don't invite them.
        for w in (self.optimizer_editor, self.schedule_editor, self.loss_editor,
                  self.lr_find_button):
            w.setEnabled(not running)
        self.options_editor.set_running(running)
        self.start_button.setEnabled(not running and not self._start_queued
                                     and not self._problem()[0])
        self.stop_button.setEnabled(running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.continue_button.setEnabled(not running and self._can_continue())
        self.setup.set_running(running)

    def _can_continue(self) -> bool:
        from workbench.core.runs.store import continuable

        return bool(self.last_run_dir) and continuable(self.last_run_dir)


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
