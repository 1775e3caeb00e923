"""The learning-rate finder dialog: sweep the rate, see the loss curve, adopt a rate.

:class:`LRFinderDialog` runs :func:`workbench.core.train.lr_find.find_lr` on a copy of the
Experiment off the GUI thread (a :class:`~workbench.qt.workers.TaskRunner` job), drawing the
smoothed loss as it comes in. When the sweep ends (or is stopped: the points so far are
kept) the plot shows every point, a marker at the suggested rate and the core's reason;
clicking on the plot picks another measured rate. "Use this value" writes the marked rate
into the Experiment with :func:`~workbench.core.train.lr_find.set_lr` and emits
:attr:`LRFinderDialog.lr_chosen`.

Closing the dialog mid-sweep stops the sweep and waits for its thread to leave the core
(the stop is checked at every batch), so nothing runs on after the dialog is gone.

``python -m workbench.qt.panels.train.lr_finder [folder]`` shows it on a folder (the demo
dataset by default).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (QDialog, QFormLayout, QHBoxLayout, QProgressBar, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

from workbench.qt.common import LogSpinBox, MessageLabel, run_standalone, stop_busy
from workbench.qt.plots.header import stacked
from workbench.qt.screen_fit import fit_to_screen
from workbench.qt.startup import LOADING_TEXT, when_torch_ready
from workbench.qt.workers import TaskRunner, TaskState
from workbench.qt.panels.train.lr_finder_plot import LRCurvePlot
from workbench.qt.panels.train.lr_finder_text import sweep_message

DEFAULT_START_LR, DEFAULT_END_LR, DEFAULT_STEPS = 1e-7, 10.0, 100
LIVE_INTERVAL_MS = 100  # redraw of the curve while the sweep runs
#: How long closing waits for a stopped sweep to leave the core (it stops at the next
#: batch; only a slow first scan or cache fill of a large dataset takes this long).
CLOSE_WAIT_S = 30.0


def rounded_lr(lr: float) -> float:
    """``lr`` to 3 significant digits, as the learning-rate box shows and a person types."""
    return float(f"{lr:.3g}")


class LRFinderDialog(QDialog):
    """Sweeps the learning rate for an Experiment and lets the user adopt one.

    Parameters
    ----------
    experiment
        The Experiment to sweep (a copy is swept; "Use this value" writes its optimizer's
        learning rate).
    index
        An already scanned dataset index of the experiment's folder, or None (scanned
        at Start).
    parent
        The parent widget.

    Signals
    -------
    lr_chosen(float)
        "Use this value" wrote this learning rate into the Experiment.
    sweep_finished(object)
        A sweep ended (ran through, diverged or was stopped) with this
        :class:`~workbench.core.train.lr_find.LRFindResult`.
    sweep_errored(str)
        A sweep could not run; the message (also shown in the dialog) says why.
    """

    lr_chosen = Signal(float)
    sweep_finished = Signal(object)
    sweep_errored = Signal(str)

    def __init__(self, experiment: Experiment, index: Any = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Learning-rate finder")
        self.experiment = experiment
        self.index = index
        self.last_result: Any = None  # the last LRFindResult (result() is QDialog's)
        self.chosen_lr: float | None = None
        self._job: int | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._live: list[tuple[float, float]] = []  # appended by the sweep's thread
        self._drawn = 0
        self.runner = TaskRunner(self)
        self.runner.progressed.connect(self._on_progressed)
        self.runner.finished.connect(self._on_finished)
        self.runner.errored.connect(self._on_errored)
        self._timer = QTimer(self)
        self._timer.setInterval(LIVE_INTERVAL_MS)
        self._timer.timeout.connect(self._draw_live)
        self._build()
        self._set_running(False)

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.start_spin = LogSpinBox()
        self.start_spin.setRange(1e-10, 1.0)
        self.start_spin.setValue(DEFAULT_START_LR)
        self.start_spin.setToolTip("The first learning rate of the sweep: low enough that "
                                   "the loss barely moves.")
        self.end_spin = LogSpinBox()
        self.end_spin.setRange(1e-6, 100.0)
        self.end_spin.setValue(DEFAULT_END_LR)
        self.end_spin.setToolTip("The last learning rate: high enough that the loss blows "
                                 "up (the sweep stops there).")
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(2, 10000)
        self.steps_spin.setValue(DEFAULT_STEPS)
        self.steps_spin.setToolTip("Training batches, one per rate (the training set is "
                                   "cycled when it has fewer); 100 is usual.")
        form = QFormLayout()
        form.addRow("Start lr:", self.start_spin)
        form.addRow("End lr:", self.end_spin)
        form.addRow("Steps:", self.steps_spin)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.setToolTip("Train a few batches at rising learning rates on a copy "
                                     "of the network; the experiment is not changed.")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop at the next batch and show the curve so far")
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.current_label = MessageLabel("")
        top = QHBoxLayout()
        top.addLayout(form)
        side = QVBoxLayout()
        side.addWidget(self.current_label)
        run_row = QHBoxLayout()
        run_row.addWidget(self.start_button)
        run_row.addWidget(self.stop_button)
        run_row.addWidget(self.progress, 1)
        side.addLayout(run_row)
        side.addStretch(1)
        top.addSpacing(12)
        top.addLayout(side, 1)

        self.plot = LRCurvePlot()
        self.plot.setMinimumHeight(260)
        self.plot.lr_picked.connect(self._on_lr_picked)
        self._frame_sweep()  # before one: the rates it will sweep
        for spin in (self.start_spin, self.end_spin):
            spin.valueChanged.connect(self._frame_sweep)
        self.reason_label = MessageLabel("Press Start to sweep the learning rate. Then click "
                                         "on the curve to pick a rate, or use the suggested "
                                         "one.")
        self.chosen_label = MessageLabel("")
        self.use_button = QPushButton("Use this value")
        self.use_button.setToolTip("Set the optimizer's learning rate to the marked rate "
                                   "and close")
        self.use_button.clicked.connect(self.use_value)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.chosen_label, 1)
        bottom.addWidget(self.use_button)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(stacked(self.plot.header, self.plot), 1)
        layout.addWidget(self.reason_label)
        layout.addLayout(bottom)
        fit_to_screen(self, 760, 560)
        self._show_current_lr()

    @Slot()
    def _frame_sweep(self) -> None:
        if not self.plot.lrs and not self.is_running():
            self.plot.frame(self.start_spin.value(), self.end_spin.value())

    def _show_current_lr(self) -> None:
        opt = self.experiment.optimizer
        lr = opt.params.get("lr")
        self.current_label.show_message(
            f"Now: {opt.type} at lr {lr:.3g}" if isinstance(lr, (int, float)) else
            f"Now: {opt.type}")

    # -- the sweep -----------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job is not None

    def set_dataset(self, index: Any) -> None:
        """The scanned dataset of the experiment's folder, reused by the next sweep."""
        self.index = index

    @Slot()
    def start(self) -> None:
        """Start a sweep with the dialog's settings (once torch is imported)."""
        if self.is_running():
            return
        self.last_result, self.chosen_lr = None, None
        self.plot.clear_curves()
        self._show_choice()
        self._set_running(True)
        self.progress.setRange(0, 0)  # busy: scanning and building come before step 1
        self._job = -1  # reserved: the job is submitted once torch is ready
        when_torch_ready(self._submit, self)
        if self._job == -1:  # still waiting for torch
            self.reason_label.show_message(LOADING_TEXT)

    def _submit(self) -> None:
        if self._job != -1:
            return  # stopped or closed while torch loaded
        from workbench.core.train.lr_find import find_lr

        # Everything the job uses is plain data made here: it never touches a widget.
        exp, index = self.experiment.copy(), self.index
        start, end, steps = self.start_spin.value(), self.end_spin.value(), \
            self.steps_spin.value()
        stop, done, live = threading.Event(), threading.Event(), []
        self._stop, self._done, self._live, self._drawn = stop, done, live, 0

        def job(state: TaskState) -> Any:
            def progress(step: int, total: int, lr: float, smoothed: float) -> None:
                live.append((lr, smoothed))
                state.set_progress(step, total)
                if state.is_cancelled():
                    stop.set()

            try:
                return find_lr(exp, start, end, steps, progress=progress, stop_event=stop,
                               index=index)
            finally:
                done.set()

        self._job = self.runner.submit(job)
        self.plot.begin_sweep(start, end)
        self._timer.start()
        self.reason_label.show_message("Preparing the data and the network…")

    @Slot()
    def stop(self) -> None:
        """End the sweep at the next batch; the curve so far is shown."""
        if not self.is_running():
            return
        if self._job == -1:  # not submitted yet (torch still loading): nothing to wait for
            self._job = None
            self._end_running("Stopped before the sweep began.")
            return
        self._stop.set()
        self.stop_button.setEnabled(False)
        self.reason_label.show_message("Stopping after this batch…")

    def shutdown(self) -> None:
        """Stop a running sweep and wait for its thread to leave the core."""
        if not self.is_running():
            return
        submitted = self._job != -1
        self._job = None  # its result, if any still comes, is not shown
        self._stop.set()
        self.runner.cancel_all()
        if submitted:
            self._done.wait(CLOSE_WAIT_S)
        self._end_running("")

    def done(self, result: int) -> None:  # noqa: D401  (Qt override: accept, reject, Esc)
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802  (Qt override)
        # A dialog closed while hidden (or by its window's close button) may not pass
        # through done(): stop the sweep here too.
        self.shutdown()
        super().closeEvent(event)

    @Slot(int, int, int)
    def _on_progressed(self, job_id: int, done: int, total: int) -> None:
        if job_id != self._job:
            return
        if self.progress.maximum() != total:
            self.progress.setRange(0, total)
            self.reason_label.show_message("Sweeping…")
        self.progress.setValue(done)

    @Slot()
    def _draw_live(self) -> None:
        points = list(self._live)  # a snapshot: the sweep's thread appends meanwhile
        if len(points) != self._drawn:
            self._drawn = len(points)
            self.plot.show_live([p[0] for p in points], [p[1] for p in points])

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        if job_id != self._job:
            return
        self._job = None
        self.last_result = result
        self._end_running(sweep_message(result, self.start_spin.value(),
                                        self.start_spin.minimum()))
        # The sweep is over, even one that ended early (it diverged): a bar left at 73%
        # read as still running, or stopped halfway.
        self.progress.setValue(self.progress.maximum())
        self.plot.show_sweep(result.lrs, result.losses, result.smoothed)
        self.chosen_lr = result.suggested_lr
        self.plot.show_lr(self.chosen_lr)
        self._show_choice()
        self.sweep_finished.emit(result)

    @Slot(int, str)
    def _on_errored(self, job_id: int, message: str) -> None:
        if job_id != self._job:
            return
        self._job = None
        self._end_running("")
        self.plot.clear_curves()
        self.reason_label.show_message(message, "error")
        self.sweep_errored.emit(message)

    def _end_running(self, message: str) -> None:
        self._timer.stop()
        stop_busy(self.progress)
        self._set_running(False)
        if message:
            self.reason_label.show_message(message)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (self.start_spin, self.end_spin, self.steps_spin):
            w.setEnabled(not running)
        self.use_button.setEnabled(not running and self.chosen_lr is not None)

    # -- the choice ----------------------------------------------------------------------
    @Slot(float)
    def _on_lr_picked(self, lr: float) -> None:
        if self.is_running():
            return
        self.chosen_lr = lr
        self._show_choice()

    def _show_choice(self) -> None:
        lr = self.chosen_lr
        if lr is None:
            self.chosen_label.show_message("")
        elif self.last_result is not None and lr == self.last_result.suggested_lr:
            self.chosen_label.show_message(f"Chosen: {rounded_lr(lr):g} (the suggestion)")
        else:
            self.chosen_label.show_message(f"Chosen: {rounded_lr(lr):g} (picked on the curve)")
        self.use_button.setEnabled(lr is not None and not self.is_running())

    @Slot()
    def use_value(self) -> None:
        """Write the marked rate (3 significant digits) into the Experiment, emit
        :attr:`lr_chosen` and close."""
        if self.chosen_lr is None:
            return
        from workbench.core.train.lr_find import set_lr

        lr = rounded_lr(self.chosen_lr)
        try:
            set_lr(self.experiment, lr)
        except WorkbenchError as e:  # e.g. above the optimizer's declared maximum
            self.reason_label.show_message(str(e), "error")
            return
        self._show_current_lr()
        self.lr_chosen.emit(lr)
        self.accept()


def _main() -> int:
    def make() -> LRFinderDialog:
        from workbench.core.data.demo import ensure_demo_dataset

        exp = Experiment()
        exp.data.folder = sys.argv[1] if len(sys.argv) > 1 else str(ensure_demo_dataset())
        return LRFinderDialog(exp)

    return run_standalone(make, "Learning-rate finder")


if __name__ == "__main__":
    sys.exit(_main())
