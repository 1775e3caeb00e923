"""The Train panel's run control: whether Start can be pressed (:mod:`.start_checks`),
Pause/Resume, Continue, and what a failed run offers (out of memory: start again at half the batch; diverged: the
checkpoint kept).

A run that diverged is said once, in the status line, with the Doctor tab's finding
beside it: no message box over the plots (the learner's rate was too large, not the app
broken). A run that failed otherwise (a bug, a file gone) still gets its box.

A mixin of :class:`~workbench.qt.panels.train.panel.TrainPanel`, which owns the widgets
(``pause_button``, ``status``) and the :class:`~workbench.qt.workers.TrainingRun`.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from workbench.core.errors import WorkbenchError
from workbench.core.runs.store import continuable, read_run_info
from workbench.qt.common import show_error
from workbench.qt.panels.train.after_divergence import goes_on
from workbench.qt.panels.train.run_end import offer_fix, show_run_end
from workbench.qt.panels.train.last_notes import show_last_run_notes
from workbench.qt.panels.train.saved_run import last_run_line, saved_state
from workbench.qt.panels.train.start_checks import IDLE_TEXT, StartChecks

#: How :func:`~workbench.core.runs.plan.continue_plan` refuses a run another process trains.
_LIVE_REFUSAL = " is training right now: "


class RunControl(StartChecks):
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

    def restore_last_run(self, run_dir: str) -> bool:
        """Show the last session's run ``run_dir`` as the last run: its epochs in the plots,
        a line saying where it stands, the progress bar at its epochs done of those planned,
        and Continue… going on from it. False (nothing changes) while a run trains. Reads
        run.json and metrics.json only: at start-up this runs before torch is imported,
        which the GUI thread must not do."""
        if self.is_running() or self.last_run_dir or not Path(run_dir, "run.json").is_file():
            return False  # (a folder deleted since: nothing to show)
        self.last_run_dir = str(run_dir)
        self._show_saved_run(run_dir)
        self.findings.show_saved_run(run_dir)  # the Doctor tab, its fix buttons
        self._set_running(False)  # Continue… follows the run's checkpoint
        return True

    def _show_saved_run(self, run_dir: str, info: dict | None = None) -> None:
        """Show ``run_dir`` as its folder keeps it (``info``: its run.json, when read
        already): its epochs plotted, the line saying where it stands, the progress bar at
        its epochs done of those planned."""
        from workbench.core.runs.record import read_history
        from workbench.core.runs.store import current_status

        info = read_run_info(run_dir) if info is None else info
        history = read_history(run_dir)
        self.shown_run = (str(run_dir), saved_state(info))  # (Follower: changed since?)
        self._show_run(run_dir, history, best=(info.get("best") or {}).get("epoch"))
        self.run_label.show_message(*last_run_line(run_dir, info))  # "Last run: …"
        # What it said as it started (its weights, its features), as when it ran.
        show_last_run_notes(self, run_dir, info)
        done, planned = _count(info.get("epochs_done"), len(history)), \
            _count(info.get("epochs_planned"), 0)
        if planned:  # as a run that ended here would show it
            show_run_end(self, current_status(run_dir, str(info.get("status") or "")), done,
                         planned, per_epoch=1)

    def _show_run(self, run_dir: str, history: list[dict], batches_per_epoch: int = 0,
                  best: int | None = None) -> None:
        """Plot ``run_dir`` as its folder keeps it (``history``: its epochs): what was
        plotted before is replaced, the batches of an epoch that was dropped included."""
        from workbench.qt.plots.earlier import load_run

        self.plots.clear_data()
        load_run(self.plots, run_dir, history, batches_per_epoch)
        self.plots.set_best_epoch(best)
        self.plots.update_curves()

    def _show_last_run_line(self, run_dir: str) -> None:
        """``Last run: NAME (stopped), 3 of 8 planned epochs. Model kept: …`` under the
        plots (:func:`~workbench.qt.panels.train.saved_run.last_run_line`)."""
        self.run_label.show_message(*last_run_line(run_dir, read_run_info(run_dir)))

    def _keep_run(self, run_dir: str) -> None:
        """A run ended in ``run_dir``: it is the last run (what Continue… and the next
        session go on from) when its folder holds a run; one that kept nothing (no epoch
        finished: its folder was removed) leaves the last run as it was."""
        if run_dir and Path(run_dir, "run.json").is_file():
            self.last_run_dir = str(run_dir)
            self.shown_run = (str(run_dir), saved_state(read_run_info(run_dir)))  # as left

    def _nothing_kept_text(self) -> str:
        """The line under the plots after a run that finished no epoch (and so kept
        nothing): Continue… still goes on from the last run, when there is one."""
        text = "Nothing was saved: no epoch was completed."
        if self._can_continue():
            name = read_run_info(self.last_run_dir).get("name") or \
                Path(self.last_run_dir).name
            text += f" Continue… still goes on from the last run, {name}."
        return text

    def continue_run(self, run_dir: str = "", settings: dict | None = None) -> bool:
        """Continue a run (the last one, or ``run_dir``) from its last checkpoint, with the
        run's own settings: :attr:`ask_continue` shows them and asks how far to go (finish
        the planned epochs, or N more) and whether to change the learning rate.

        The run trains on its own dataset folder; where that is gone, on the folder open on
        the Data tab when it has the run's classes
        (:func:`~workbench.core.runs.plan.choose_dataset`): the dialog says which.

        ``settings`` (``{dotted experiment path: value}``, a training doctor's fix) change
        the run's settings too: a learning rate among them is the one the dialog offers.
        True when the continued run was started."""
        # A button's clicked(bool) may arrive here as the first argument.
        run_dir = run_dir if isinstance(run_dir, str) and run_dir else self.last_run_dir
        if self.is_running() or not run_dir:
            return False
        if not self._torch:  # the run's settings are read from its checkpoint (torch)
            from workbench.qt.startup import LOADING_TEXT, when_torch_ready

            self.status.show_message(f"{LOADING_TEXT} Continue… opens as soon as it has "
                                     f"loaded.")
            when_torch_ready(lambda: self._torch and self.continue_run(run_dir, settings),
                             self)
            return False
        from workbench.core.runs.plan import continue_plan

        settings = dict(settings or {})
        try:
            plan = continue_plan(run_dir, *self._open_dataset(), current=self.experiment,
                                 applied=settings)  # the tabs' edits it will not use
        except WorkbenchError as e:  # no checkpoint, a dataset gone, say: nothing trains
            self._report_cannot_continue(str(e), run_dir)
            return False
        self.drop_stale_refusal(run_dir)  # it may be continued now: not "training right now"
        if plan.done != self.plots.point_counts()["epochs"] and run_dir == self.last_run_dir:
            self._show_saved_run(run_dir)  # resumed elsewhere since it was shown
        if plan.status == "diverged" and "optimizer.params.lr" not in settings:
            settings.update(_proposed_rate(run_dir))  # not again at the rate that diverged
        lr = settings.get("optimizer.params.lr")
        if plan.lr is not None and isinstance(lr, (int, float)) and not isinstance(lr, bool) \
                and "optimizer.type" not in settings:
            plan.choose(plan.mode, lr=float(settings.pop("optimizer.params.lr")))
        plan = self.ask_continue(plan)
        if plan is None:
            return False  # cancelled: nothing changes
        try:
            exp = plan.experiment()
            if settings:
                from workbench.core.tune.space import apply_params

                exp = apply_params(exp, settings)
        except WorkbenchError as e:
            self._report_cannot_continue(str(e))
            return False
        from workbench.qt.panels.train.fixes import settings_text

        shown = settings_text(settings)
        self.continue_summary = plan.summary() + (f"; with {shown}" if shown else "")
        self.start(resume_from=run_dir, experiment=exp)
        return True

    def _open_dataset(self) -> tuple[str, list[str] | None]:
        """The dataset folder open on the Data tab and its classes (None: not scanned yet,
        or the scan is of another folder)."""
        folder = self.experiment.data.folder
        index = self.index
        same = index is not None and folder and \
            os.path.abspath(str(index.root)) == os.path.abspath(folder)
        return folder, (list(index.classes) if same else None)

    def forget_runs(self, run_dirs: list[str]) -> bool:
        """The Runs tab deleted ``run_dirs``: when the last run is one of them, forget it (no
        Continue…, no plots of it, a line saying so). True when it was forgotten."""
        last = self.last_run_dir
        if not last or self.is_running() or \
                Path(last).resolve() not in {Path(d).resolve() for d in run_dirs}:
            return False
        self.last_run_dir = ""
        self.plots.clear_data()
        self.plots.update_curves()
        if self.findings.run_dir == last:
            self.findings.view.clear()
            self.findings.run_dir = ""
        self.run_label.show_message(f"Last run {Path(last).name} was deleted (Runs tab).",
                                    "warning")
        self._set_running(False)  # Continue… has nothing to go on from
        return True

    def _report_cannot_start(self, error: WorkbenchError, experiment) -> None:
        """The experiment does not validate: say so with a transform's field named as the
        Augment tab names it; no run began, so nothing "failed"."""
        from workbench.core.data.augment.naming import describe_spec_error

        message = describe_spec_error(error, experiment.augment.transforms)
        self.last_error = message
        self.status.show_message(f"Cannot start training: {message}", "error")
        show_error(self, "Cannot start training", message)

    def _report_cannot_continue(self, message: str, run_dir: str = "") -> None:
        self.status.show_message(f"Cannot continue: {message}", "error")
        # Refused as another process trains it (not a dataset gone): taken back once not.
        self._live_refusal = (run_dir, self.status.text()) \
            if run_dir and _LIVE_REFUSAL in message else ("", "")
        show_error(self, "Cannot continue", message)

    def show_idle_status(self) -> None:
        """The status line as at start-up: "Press Start…", or what keeps Start disabled; a
        "Cannot continue: … training right now" stays (:meth:`drop_stale_refusal`)."""
        refusal = getattr(self, "_live_refusal", ("", ""))[1]
        if refusal and self.status.text() == refusal:
            return
        if self._problem()[0]:
            self._show_problems()
        else:
            self.status.show_message(IDLE_TEXT)

    def drop_stale_refusal(self, free: str = "") -> None:
        """Take back "Cannot continue: the run … is training right now" once that run's
        lock is free (the process that trained it finished, or was stopped); ``free``: a
        run known to be free now (its Continue… has opened)."""
        from workbench.core.runs.store import run_is_live

        run_dir, text = getattr(self, "_live_refusal", ("", ""))
        if not text or self.status.text() != text or \
                (run_dir != free and run_is_live(run_dir)):
            return
        self._live_refusal = ("", "")
        name = read_run_info(run_dir).get("name") or Path(run_dir).name
        self.status.show_message(f"The run {name} is no longer training elsewhere: "
                                 f"Continue… goes on from it.")

    def _on_paused(self, epoch: int, batch: int) -> None:
        self.pause_button.setText("Resume")
        self.status.show_message(f"Paused before batch {batch} of epoch {epoch}. Resume goes "
                                 f"on where it stopped; Stop keeps the finished epochs.",
                                 "warning")

    def _on_resumed(self) -> None:
        self.pause_button.setText("Pause")  # the speed goes on: the pause is not in it
        self.status.show_message("Resumed.")

    def _on_run_errored(self, message: str) -> None:
        failure = dict(self.run.last_failure)
        self._keep_run(failure.get("run_dir", ""))
        self._end_run()
        kind, done = failure.get("kind"), int(failure.get("epochs_done") or 0)
        fix = failure.get("action")
        if kind == "failed" and isinstance(fix, dict) and fix.get("set"):
            offer_fix(self, message, fix)  # before a batch trained: nothing ran to report
            return
        if kind not in ("diverged", "out_of_memory"):  # the epochs shown were finished
            done = int(self.plots.point_counts().get("epochs", 0))
        show_run_end(self, kind if kind in ("diverged", "out_of_memory") else "failed", done)
        kept = (f" The {done} finished epoch{'' if done == 1 else 's'} and the last good "
                f"checkpoint are kept in {self.last_run_dir}." if done and self.last_run_dir
                and kind in ("diverged", "out_of_memory") else "")
        if kind == "out_of_memory":
            half = int(failure.get("suggested_batch_size") or 1)
            self.last_error = message
            self.status.show_message(f"Training stopped: {_full_stop(message)}{kept}",
                                     "error")
            self.training_errored.emit(message)
            if self.ask("Out of memory", f"{_full_stop(message)}{kept}\n\nStart again with "
                                         f"batch size {half}?"):
                self.experiment.data.batch_size = half
                self.settings_changed.emit()
                self.start()
            return
        if self.last_run_dir and continuable(self.last_run_dir):
            self._show_last_run_line(self.last_run_dir)  # still there to continue
        if kind == "diverged":
            if kept and not goes_on(self.last_run_dir):  # its weights are wrecked too
                kept = (f" The {done} finished epoch{'' if done == 1 else 's'} "
                        f"{'is' if done == 1 else 'are'} kept in {self.last_run_dir}, but "
                        f"the checkpoint is no sound place to go on from:")
                message = _full_stop(message) + (
                    f"{kept} set the Doctor tab's rate (its button) and press Start training "
                    f"to train again from the start.")
            else:
                message = _full_stop(message) + (
                    f"{kept} Continue… goes on from that checkpoint at a lower learning "
                    f"rate (it offers the Doctor tab's); or set one in the optimizer form and "
                    f"press Start training to begin again." if kept else
                    " The Doctor tab says how to start again.")  # the rate, or the network's
            # Said once, here: the Doctor tab explains it, a box over the plots would not.
            self.last_error = message
            self.status.show_message(message[:1].upper() + message[1:], "error")
        else:
            self._report_error(message)
        self.training_errored.emit(message)

    def _ask_continue(self, plan):
        from workbench.qt.panels.train.continue_run import ask_continue

        return ask_continue(self, plan)

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes


def _proposed_rate(run_dir: str) -> dict:
    """``{"optimizer.params.lr": rate}``: what the training doctor proposed after the run
    diverged (the LR finder's rate once it has run), from run.json; ``{}`` when none."""
    from workbench.qt.panels.train.findings import run_findings

    for f in run_findings(run_dir):
        lr = (f["action"] or {}).get("set", {}).get("optimizer.params.lr")
        if f["kind"] == "diverged" and isinstance(lr, (int, float)) and \
                not isinstance(lr, bool):
            return {"optimizer.params.lr": float(lr)}
    return {}


def _full_stop(text: str) -> str:
    """``text`` ending as a sentence does (the core's messages may end without)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _count(value, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else int(default)
