"""Evaluate panel: measure a trained model on its validation split or on any labelled folder.

Choose a model (a saved run's bundle, the run just trained, or "Load bundle…") and the data
(its dataset's test part, its validation split, or a folder: see :mod:`.data_choice`), press
Evaluate (where the model's dataset folder moved, its parts are those of the dataset open
on the Data tab when it has the model's classes: :mod:`.moved_data`). The evaluation runs
off the GUI thread (:func:`workbench.core.evaluate.evaluation.evaluate`, with progress and Cancel) and
fills four views: the sortable per-class table, the confusion matrix (click a cell to see
its images), the confidence histogram of right against wrong predictions, and the images
with the largest loss (right-click one, or an image of a matrix cell, to explain it).
"Export CSV…" writes the per-class, confusion and prediction tables; "Save PNG…" saves the
view on show (:mod:`.figures`).

Importing this module does not import torch; the evaluation does, once the start-up import
(:mod:`workbench.qt.startup`) has finished.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from workbench.core.events import CurrentExperiment
from workbench.core.io import file_stamp

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel, run_standalone, stop_busy
from workbench.qt.evented import subscribe
from workbench.qt.startup import LOADING_TEXT, torch_loader
from workbench.qt.workers import TaskRunner
from workbench.qt.panels.evaluate import exports, image_menu
from workbench.qt.panels.evaluate.chooser import ModelChooser
from workbench.qt.panels.evaluate.data_choice import (FOLDER, VAL, DataChoice,
                                                      dataset_has_test_part)
from workbench.qt.panels.evaluate.job import evaluation_job
from workbench.qt.panels.evaluate.layout import (CHOOSE_TEXT, GONE_TEXT, NO_RESULT_TEXT,
                                                 TopKBox, build_results, gone_text,
                                                 summary_text)
from workbench.qt.panels.evaluate.moved_data import dataset_now
from workbench.qt.panels.evaluate.pairing import Pairing


# Dialogs: attributes of the panel, so tests can answer them without a person.
def ask_folder(parent: QWidget, title: str, start: str) -> str:
    return QFileDialog.getExistingDirectory(parent, title, start)


def ask_png_path(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save the view as PNG", suggested,
                                          "PNG images (*.png)")
    return path


class EvaluatePanel(QWidget):
    """Evaluates a bundle on labelled data and shows every metric of the result.

    Parameters
    ----------
    bundle, folder
        Optional model and dataset to start with (see :meth:`set_bundle`, :meth:`set_folder`).
    runs_root
        The runs folder listed in the model chooser (default: the app's runs folder).
    experiment
        The app's :class:`~workbench.core.events.CurrentExperiment`: the chooser marks the
        models trained on other classes than its dataset's.

    Signals
    -------
    evaluated(result)
        An evaluation finished: its :class:`~workbench.core.evaluate.evaluation.EvaluationResult`.
    failed(message)
        An evaluation could not run; ``message`` (also shown in the panel) says why.
    bundle_changed(path)
        The chosen model changed.
    explain_requested(bundle_path, image_path)
        "Explain…" on an image of the results (the window opens the Explain dialog).
    """

    evaluated = Signal(object)
    failed = Signal(str)
    bundle_changed = Signal(str)
    explain_requested = Signal(str, str)

    def __init__(self, bundle: str | None = None, folder: str | None = None,
                 runs_root: str | Path | None = None, parent: QWidget | None = None,
                 experiment: CurrentExperiment | None = None):
        super().__init__(parent)
        self.result: Any = None
        self._result_of: tuple | None = None  # _chosen() when it was evaluated
        self.ask_folder: Callable[[QWidget, str, str], str] = ask_folder
        self.ask_png_path: Callable[[QWidget, str], str] = ask_png_path
        self._stop: threading.Event | None = None
        self._shut_down = False
        self._current = experiment  # its data.exclude: test images excluded since training
        self._runner = TaskRunner(self, supersede=True)
        self._runner.progressed.connect(self._on_progressed)
        self._runner.finished.connect(self._on_evaluated)
        self._runner.errored.connect(self._on_failed)
        self.chooser = ModelChooser(runs_root)
        self.chooser.bundle_changed.connect(self._on_bundle_changed)
        self.chooser.bundle_changed.connect(self.bundle_changed)
        self.chooser.runs_listed.connect(self._check_bundle_file)  # resumed in a terminal?
        self.chooser.model_gone.connect(lambda path: self.message.show_message(
            gone_text(path, self.chooser.combo.currentText()), "warning"))
        self._build()
        self.pairing = Pairing(self)  # the user's choices told from the window's
        image_menu.install_on(self)  # Explain… and Copy path on the images of the results
        if bundle:
            self.set_bundle(bundle)
        if folder:
            self.set_folder(folder)
        self._update_buttons()
        if experiment is not None:
            subscribe(self, experiment.dataset_changed,
                      lambda index: self.chooser.set_dataset_classes(index.classes), replay=True)

    # -- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.data_combo = DataChoice()
        self.data_combo.currentIndexChanged.connect(self._data_index_changed)
        self.top_k = TopKBox()
        self.top_k.valueChanged.connect(self._on_top_k_changed)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setDefault(True)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        name_field(None, self.top_k, "Top-k accuracy: k")
        model_label, data_label = QLabel("Model:"), QLabel("Data:")
        name_field(model_label, self.chooser.combo)
        name_field(data_label, self.data_combo)
        chooser = QHBoxLayout()
        chooser.addWidget(model_label)
        chooser.addWidget(self.chooser, 3)  # the run name tells models apart
        chooser.addSpacing(12)
        chooser.addWidget(data_label)
        chooser.addWidget(self.data_combo, 2)
        run = QHBoxLayout()
        run.addWidget(self.top_k)
        run.addWidget(self.evaluate_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.progress)
        run.addStretch(1)
        self.message = MessageLabel(CHOOSE_TEXT)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        stack, exports = build_results(self)

        layout = QVBoxLayout(self)
        layout.addLayout(chooser)
        layout.addLayout(run)
        layout.addWidget(self.message)
        layout.addWidget(self.summary)
        layout.addWidget(stack, 1)
        layout.addLayout(exports)

    # -- model -----------------------------------------------------------------------------
    def bundle_path(self) -> str:
        """The chosen bundle's path ("" when none)."""
        return self.chooser.bundle_path()

    def set_bundle(self, path: str) -> None:
        """Choose the bundle at ``path`` (added to the chooser when it is not listed); a
        result of the file it held before (the same run, continued) is dropped."""
        self.chooser.set_bundle(path)
        self._check_bundle_file()

    def restore_bundle(self, path: str) -> None:
        """Choose ``path`` (the last session's model) unless a model was chosen already."""
        self.chooser.restore(path)

    def bundle_paths(self) -> list[str]:
        """Every bundle the chooser offers, in its order."""
        return self.chooser.bundle_paths()

    @Slot()
    def refresh_runs(self) -> None:
        """List the saved runs that have a bundle (off the GUI thread)."""
        self.chooser.refresh_runs()

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Show, QEvent.Type.WindowActivate):
            self.refresh_runs()  # runs trained, resumed, renamed or deleted meanwhile
        return super().event(event)

    # -- data ------------------------------------------------------------------------------
    @property
    def folder(self) -> str:
        """The folder chosen for "All images of a folder…" ("" when none was)."""
        return self.data_combo.folder

    def set_folder(self, path: str) -> None:
        """Evaluate on every image of the labelled folder (or .csv file) ``path``."""
        self.data_combo.set_folder(path)
        self._choice_changed()  # another folder while Folder was already chosen

    def use_validation_split(self) -> None:
        """Evaluate on the validation split of the data the bundle was trained on."""
        self.data_combo.choose(VAL)

    def _on_bundle_changed(self, path: str) -> None:
        from workbench.core.runs.classes import bundle_data_folder

        was = self.data_combo.key()
        # The test part is offered where the model's dataset has one.
        self.data_combo.set_has_test(dataset_has_test_part(bundle_data_folder(path))
                                     if path else None)
        self._choice_changed()
        if not self.chooser.picking:  # chosen for the user: a run trained, the Runs tab
            self.pairing.model_set(was)

    # -- evaluating ------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._stop is not None

    @Slot()
    def evaluate(self) -> None:
        """Evaluate the chosen model on the chosen data (off the GUI thread)."""
        if self._shut_down or self.is_running():
            return
        bundle = self.bundle_path()
        if not bundle:
            self._show_failure("Choose a model first: train one on the Train tab, pick a saved "
                               "run, or use Load bundle…")
            return
        if not os.path.isfile(bundle):
            self.refresh_runs()  # it is no longer offered
            return self._show_failure(f"Cannot evaluate: {bundle} is no longer there (moved, "
                                      f"or its run deleted): {GONE_TEXT}")
        key = self.data_combo.key()
        folder = self.folder if key == FOLDER else None
        if key == FOLDER and not folder:
            self._show_failure("Choose the folder to evaluate on (Data: All images of a "
                               "folder…)")
            return
        loader = torch_loader()
        if not loader.is_ready():
            if loader.state == "failed":
                self._show_failure(f"PyTorch could not be loaded ({loader.error}): "
                                   f"reinstall the app and start it again")
                return
            # A pool thread must not be the first to import torch: evaluate once it is.
            self.message.show_message(f"{LOADING_TEXT} The evaluation starts when it has "
                                      f"loaded.")
            loader.call_when_ready(self.evaluate, self)
            return
        # Its own dataset moved: the Data tab's in its place when it has the model's classes.
        moved, was, problem = ("", "", "") if key == FOLDER else dataset_now(
            bundle, self._current.dataset if self._current is not None else None, "Evaluate")
        if problem:
            return self._show_failure(f"Cannot evaluate on {self.data_combo.described()}: "
                                      f"{problem}")
        stop = self._stop = threading.Event()
        self._forget_result("Evaluating…")
        self._result_of = self._chosen()
        now = self._current.experiment.copy().data if self._current is not None else None
        self._runner.submit(evaluation_job(
            bundle, folder or moved or None, None if key == FOLDER else key,
            self.top_k.value(), stop, now, (was, moved) if moved else None))
        self.message.show_message(f"Evaluating {os.path.basename(bundle)} on "
                                  f"{self.data_combo.described()}…")
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.setVisible(True)
        self._update_buttons()

    @Slot()
    def cancel(self) -> None:
        """Stop the evaluation in progress; its partial result is dropped."""
        if not self.is_running():
            return
        self._stop.set()
        self._runner.cancel_all()
        self._finish_run()
        self._forget_result("Cancelled: no result. Press Evaluate to measure again.")
        self.message.show_message("Evaluation cancelled.", "warning")

    def _finish_run(self) -> None:
        self._stop = None
        stop_busy(self.progress)
        self.progress.setVisible(False)
        self._update_buttons()

    @Slot(int, int, int)
    def _on_progressed(self, _job: int, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total} images")

    @Slot(int, object)
    def _on_evaluated(self, _job: int, result: Any) -> None:
        self._finish_run()
        self.show_result(result)
        self.evaluated.emit(result)
        self._check_bundle_file()  # saved again while it was being evaluated

    @Slot(int, str)
    def _on_failed(self, _job: int, message: str) -> None:
        self._finish_run()
        self._forget_result("No result: the evaluation failed (the message above says why).")
        self._show_failure(f"Cannot evaluate: {message}")

    def _show_failure(self, message: str) -> None:
        self.message.show_message(message, "error")
        self.failed.emit(message)

    def show_result(self, result: Any) -> None:
        """Fill every view with an :class:`~workbench.core.evaluate.evaluation.EvaluationResult`."""
        self.result = result
        self.result_stack.setCurrentWidget(self.results)
        self.summary.setText(summary_text(result))
        self.summary.setToolTip("\n".join(f"{p}: {r}" for p, r in result.unreadable[:20]))
        what = {"val": "its validation split", "test": "its test part (never trained on)"
                }.get(result.split, "all images")
        # What the numbers rest on: a split recomputed (may hold trained-on images), a
        # run's checkpoint read as the model.
        notes = list(getattr(result, "notes", []) or [])
        self.message.show_message(
            f"Evaluated {result.bundle_path or 'the model'} on {what} of {result.source}."
            + "".join(f" Note: {n[:1].upper()}{n[1:]}." for n in notes),
            "warning" if notes else "ok")
        self.per_class.set_result(result)
        self.confusion.set_result(result)
        self.calibration.set_result(result)
        self.worst.set_result(result)
        self.results.setEnabled(True)
        self._update_buttons()

    def request_explain(self, image_path: str) -> None:
        """Ask for an explanation of ``image_path`` by the model evaluated."""
        bundle = (self.result.bundle_path if self.result is not None else "") or \
            self.bundle_path()
        if bundle and image_path:
            self.explain_requested.emit(str(bundle), image_path)

    # -- export ----------------------------------------------------------------------------
    @Slot()
    def export_csv(self) -> list[str]:
        """Ask for a folder and write per_class.csv, confusion.csv and predictions.csv there."""
        return exports.export_csv(self)

    @Slot()
    def save_png(self) -> str:
        """Ask for a file name and save the view on show as a PNG image."""
        return exports.save_png(self)

    # -- state -----------------------------------------------------------------------------
    def _chosen(self) -> tuple:
        """``(bundle, its file's stamp, data choice, folder)`` chosen now (folder None: the
        bundle's own): a bundle saved again at the same path is another model."""
        key, bundle = self.data_combo.key(), self.bundle_path()
        return bundle, file_stamp(bundle) if bundle else None, key, \
            self.folder if key == FOLDER else None

    def _check_bundle_file(self) -> None:
        """Drop the result when it is no longer of the model chosen: its bundle file was
        saved again since (its run continued here, or resumed by ``workbench resume``)."""
        chosen = self._chosen()
        was = self._result_of  # None: a result shown without an evaluation (kept)
        if self.result is None or was is None or self.is_running() or chosen == was or (
                chosen[0] == was[0] and chosen[1] is None):  # deleted: kept
            return
        self._forget_result(NO_RESULT_TEXT)
        if chosen[0] != self._result_of[0]:  # chosen while it was evaluated
            self.message.show_message(CHOOSE_TEXT)
            return
        self.message.show_message(f"{chosen[0]} was saved again since it was evaluated (its "
                                  f"run went on): press Evaluate to measure the new weights.",
                                  "warning")

    @Slot(int)
    def _on_top_k_changed(self, k: int) -> None:
        """The result's top-k accuracy for the new k (from its probabilities: no new
        evaluation), so the summary never names a k the spin box no longer shows."""
        if self.result is not None:
            self.result.top_k = min(int(k), len(self.result.classes))
            self.summary.setText(summary_text(self.result))

    @Slot(int)
    def _data_index_changed(self, _index: int) -> None:
        # "All images of a folder…" is chosen by its dialog (set_folder); cancelled, the
        # choice before is back: the result shown stays until a folder is chosen.
        if self.data_combo.key() != FOLDER:
            self._choice_changed()

    def _choice_changed(self) -> None:
        self.top_k.follow_model(self.bundle_path(), self.chooser.bundle_classes())
        shown = self.result is not None or self.no_result.text() != NO_RESULT_TEXT
        if shown and not self.is_running() and self._chosen() != self._result_of:
            self._forget_result(NO_RESULT_TEXT)
            # The lines said what was evaluated (or chosen again): not what is chosen now.
            self.message.show_message(CHOOSE_TEXT)
        self._update_buttons()

    def _forget_result(self, text: str) -> None:
        """Take the result off screen (its exports with it): it is not of the model and
        data chosen, or a new evaluation replaces it."""
        self.result = None
        self.summary.setText("")
        self.summary.setToolTip("")
        self.no_result.setText(text)
        self.result_stack.setCurrentWidget(self.no_result)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.evaluate_button.setEnabled(not running and bool(self.bundle_path()))
        self.cancel_button.setEnabled(running)
        for w in (self.chooser, self.data_combo, self.top_k):
            w.setEnabled(not running)
        has_result = self.result is not None
        self.export_button.setEnabled(has_result)
        self.png_button.setEnabled(has_result)

    def shutdown(self) -> None:
        """Stop the evaluation and the thumbnail decoders (the window is closing)."""
        self._shut_down = True
        if self._stop is not None:
            self._stop.set()
        self._runner.cancel_all()
        self.pairing.shutdown()
        self.chooser.shutdown()
        stop_busy(self.progress)
        self.confusion.shutdown()
        self.worst.shutdown()


def _main() -> int:
    bundle = sys.argv[1] if len(sys.argv) > 1 else None
    folder = sys.argv[2] if len(sys.argv) > 2 else None
    return run_standalone(lambda: EvaluatePanel(bundle, folder), "Evaluate")


if __name__ == "__main__":
    sys.exit(_main())
