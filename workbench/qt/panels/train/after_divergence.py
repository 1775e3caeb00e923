"""After a run diverged: the LR finder's rate for its network and data, found in the background.

``workbench train`` runs the LR finder after a diverged run when its sweep fits in a minute
(:func:`~workbench.core.train.doctor.suggest.lr_after_divergence`); the Train tab does the
same, off the GUI thread, with the experiment the run trained. The Doctor tab's
``diverged`` finding then proposes the finder's rate instead of a guess (its button, "Use
lr …", sets it; its row says "Updated: …" when the rate changed), run.json keeps it (when
the run kept a folder), and the line under the plots says so. While the sweep runs that
line says what is happening; a new run, or closing the window, stops it at its next batch
and changes nothing; a fix chosen meanwhile stops it too, and the line says so.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot

from workbench.core.train.optim_advice import fmt

from workbench.qt.workers import TaskRunner, TaskState

#: How long shutting down waits for a stopped sweep to leave the core (it stops at the
#: next batch).
CLOSE_WAIT_S = 30.0


class LRAfterDivergence(QObject):
    """Runs the sweep for the Train panel ``panel`` after a run that diverged, and shows its
    rate in ``panel.findings`` (a :class:`~workbench.qt.panels.train.fixes.TrainFindings`)."""

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self.runner = TaskRunner(self, supersede=True)
        self.runner.finished.connect(self._on_finished)
        self.runner.errored.connect(self._on_errored)
        self._job: int | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        #: The last sweep's outcome: (rate or None, a sentence), or None before any.
        self.outcome: tuple[float | None, str] | None = None
        panel.run.errored.connect(self._on_run_errored)
        panel.training_started.connect(self.stop)

    def is_running(self) -> bool:
        return self._job is not None

    @Slot(str)
    def _on_run_errored(self, _message: str) -> None:
        failure = self.panel.run.last_failure
        if failure.get("kind") != "diverged":
            return
        from workbench.core.errors import WorkbenchError
        from workbench.core.experiment import Experiment
        from workbench.core.train.doctor.suggest import lr_after_divergence

        try:  # what the run trained (the forms may have changed since it started)
            experiment = Experiment.from_dict(failure["experiment"])
        except (KeyError, TypeError, WorkbenchError):
            experiment = self.panel.experiment.copy()
        # No folder when the run failed before making one: then there is nothing to write.
        run_dir = str(failure.get("run_dir") or "") or None
        index = self.panel.index
        if index is None or Path(str(index.root)).resolve() != \
                Path(experiment.data.folder or ".").resolve():
            index = None  # the sweep scans the folder itself
        # Plain data made here: the job never touches a widget.
        findings = [dict(f) for f in self.panel.findings.findings]
        stop, done = threading.Event(), threading.Event()
        self._stop, self._done = stop, done

        def job(state: TaskState) -> Any:
            try:
                return lr_after_divergence(experiment, findings, run_dir, index,
                                           stop_event=stop,
                                           finder="Find learning rate… on this tab"), findings
            finally:
                done.set()

        self.outcome = None
        self._job = self.runner.submit(job)
        self.panel.run_label.show_message(
            "The learning-rate finder is looking for a rate that trains this network on "
            "this data (a minute at most)…")

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        if job_id != self._job:
            return
        self._job = None
        (lr, text), findings = result
        self.outcome = (lr, text)
        if lr is None:
            if text != "the LR finder was stopped":
                self.panel.run_label.show_message(_not_proposed(text), "warning")
            return
        view = self.panel.findings.view
        before = {f["kind"]: f["action"]["set"].get("optimizer.params.lr")
                  for f in view.findings if f["action"]}.get("diverged")
        view.set_findings(findings)
        self.panel.findings.recheck()  # the rows are new: fixes made elsewhere, again
        for i, f in enumerate(view.findings):
            now = f["action"]["set"].get("optimizer.params.lr") if f["action"] else None
            if f["kind"] == "diverged" and now is not None and before is not None \
                    and float(now) != float(before):
                view.set_remark(i, f"Updated: the LR finder proposes {float(now):g} for this "
                                   f"network and data (instead of {float(before):g}).")
        self.panel.run_label.show_message(
            f"The learning-rate finder proposes {fmt(lr)} for this network and data: the "
            f"Doctor tab's “Use lr {fmt(lr)}” sets it, then Start training trains with it.",
            "ok")

    @Slot(int, str)
    def _on_errored(self, job_id: int, message: str) -> None:
        if job_id == self._job:
            self._job = None
            self.outcome = (None, message)
            self.panel.run_label.show_message(f"The learning-rate finder failed: {message}",
                                              "warning")

    @Slot()
    def stop(self) -> None:
        """End a running sweep at its next batch; its result is dropped."""
        if self._job is None:
            return
        self._job = None
        self._stop.set()
        self.runner.cancel_all()
        self.panel.run_label.show_message("")

    def shutdown(self) -> None:
        """Stop a running sweep and wait for its thread to leave the core (closing)."""
        running = self._job is not None
        self.stop()
        if running:
            self._done.wait(CLOSE_WAIT_S)


def _not_proposed(text: str) -> str:
    """The line saying why the sweep proposes no rate (``text``: from
    :func:`~workbench.core.train.doctor.suggest.lr_after_divergence`); a sweep given up as
    too slow follows on from the line that said it takes "a minute at most"."""
    slow = re.fullmatch(r"the LR finder would take about (\S+) s here, so it was not run: "
                        r"(.*)", text, re.DOTALL)
    if slow:
        return (f"The learning-rate finder stopped: it would take about {slow[1]} s here, "
                f"more than the minute it is given: {slow[2]}.")
    return f"No learning rate proposed: {text}."


def goes_on(run_dir: str) -> bool:
    """Whether the training doctor's way forward after the run in ``run_dir`` diverged goes
    on from its checkpoint (run.json's ``diverged`` finding): not when its rate fix trains
    again from the start (the checkpoint's weights are wrecked, or they are what failed)."""
    from workbench.qt.panels.train.findings import run_findings

    act = next((f["action"] or {} for f in reversed(run_findings(run_dir))
                if f["kind"] == "diverged"), {})
    return bool(act.get("continue")) or "optimizer.params.lr" not in (act.get("set") or {})
