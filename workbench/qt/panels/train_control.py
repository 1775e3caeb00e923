"""The Train panel's run control: Pause/Resume, Continue, and what a failed run offers
(out of memory: start again at half the batch; diverged: the checkpoint kept).

A mixin of :class:`~workbench.qt.panels.train.TrainPanel`, which owns the widgets
(``pause_button``, ``more_epochs``, ``status``) and the :class:`~workbench.qt.workers.TrainingRun`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment


class RunControl:
    """Pause/Resume, Continue and failure handling for the Train panel."""

    def toggle_pause(self) -> None:
        """Pause the run, or resume a paused one."""
        if not self.is_running():
            return
        pause = self.pause_button.text() == "Pause"
        self.run.pause(pause)
        self.pause_button.setText("Resume" if pause else "Pause")
        if pause:
            self.status.show_message("Pausing before the next batch…")

    def continue_run(self, run_dir: str = "") -> None:
        """Continue a run (the last one, or ``run_dir``) from its last checkpoint for
        ``more_epochs`` epochs (a stopped run first finishes the epochs it had planned),
        at the learning rate now set in the optimizer form if it uses the same optimizer."""
        # A button's clicked(bool) may arrive here as the first argument.
        run_dir = run_dir if isinstance(run_dir, str) and run_dir else self.last_run_dir
        if self.is_running() or not run_dir:
            return
        try:
            from workbench.core.runs import read_run_info

            exp = Experiment.load(Path(run_dir) / "experiment.json")
            info = read_run_info(run_dir)
            done = int(info.get("epochs_done") or 0)
            planned = int(info.get("epochs_planned") or exp.training.epochs)
            status = info.get("status", "")
            unfinished = status in ("stopped", "out_of_memory", "failed", "diverged") \
                and done < planned
            exp.training.epochs = planned if unfinished else done + self.more_epochs.value()
            lr = self.experiment.optimizer.params.get("lr")
            if self.experiment.optimizer.type == exp.optimizer.type and lr is not None:
                exp.optimizer.params["lr"] = lr
        except WorkbenchError as e:
            self._report_error(str(e))
            return
        self.start(resume_from=run_dir, experiment=exp)

    def _on_paused(self, epoch: int, batch: int) -> None:
        self.pause_button.setText("Resume")
        self.status.show_message(f"Paused before batch {batch} of epoch {epoch}. Resume goes "
                                 f"on where it stopped; Stop keeps the finished epochs.",
                                 "warning")

    def _on_resumed(self) -> None:
        self.pause_button.setText("Pause")
        self.speed.reset()
        self.status.show_message("Resumed.")

    def _on_run_errored(self, message: str) -> None:
        failure = dict(self.run.last_failure)
        self.last_run_dir = failure.get("run_dir", "")
        self._end_run()
        kind, done = failure.get("kind"), int(failure.get("epochs_done") or 0)
        kept = (f" The {done} finished epoch{'' if done == 1 else 's'} and the last good "
                f"checkpoint are kept in {self.last_run_dir}." if done and self.last_run_dir
                else "")
        if kind == "out_of_memory":
            half = int(failure.get("suggested_batch_size") or 1)
            self.last_error = message
            self.status.show_message(f"Training stopped: {message}{kept}", "error")
            self.training_errored.emit(message)
            if self.ask("Out of memory", f"{message}.{kept}\n\nStart again with batch size "
                                         f"{half}?"):
                self.experiment.data.batch_size = half
                self.settings_changed.emit()
                self.start()
            return
        if kind == "diverged":
            message += (f".{kept} Lower the learning rate in the optimizer form, then press "
                        f"Continue to go on from that checkpoint, or Start to begin again"
                        if kept else "")
        self._report_error(message)
        self.training_errored.emit(message)

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes
