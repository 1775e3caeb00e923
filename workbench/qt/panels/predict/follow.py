"""The Predict panel follows the saved runs and the model file it uses, as the Evaluate tab does.

- The model list is read again, off the GUI thread, whenever the tab is shown or the window
  activated, and when the Runs tab deletes or renames a run: a run trained in a terminal
  meanwhile is offered, a renamed one shows its new name, a deleted one is no longer offered,
  and each shows the epoch and accuracy its bundle holds now.
- The model in use is then looked at: a file deleted or moved is named, with what to do; a
  bundle saved again at the same path (its run continued, or ``workbench resume`` in a
  terminal) classifies again the rows its earlier weights classified, and says so, as the
  app's own Continue does (:meth:`~.panel.PredictPanel.set_bundle`). So is it when the rows
  being classified as it was saved are done.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal, Slot

from workbench.core.io import file_stamp
from workbench.qt.workers import TaskRunner
from workbench.qt.panels.predict.jobs import images, model_error
from workbench.qt.panels.predict.model import DONE, FAILED
from workbench.qt.panels.runs.model import bundle_choice_text, model_choices

#: Events after which the runs are listed again: the tab shown, the window activated.
_RELIST = (QEvent.Type.Show, QEvent.Type.WindowActivate)


class RunsFollower(QObject):
    """Lists the saved runs into ``panel``'s (a PredictPanel's) model chooser again and
    checks the model in use (see the module docstring).

    Signals
    -------
    runs_listed()
        The runs were listed again and the model in use checked.
    """

    runs_listed = Signal()

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self._runner = TaskRunner(self, supersede=True)
        self._runner.finished.connect(lambda _job, runs: self._show(runs, ""))
        self._runner.errored.connect(
            lambda _job, message: self._show([], f"Cannot list the saved runs: {message}"))
        panel.installEventFilter(self)
        self._show(None, panel.model_combo.refresh())  # now, on this thread: the panel is built

    @Slot()
    def refresh(self) -> None:
        """List the runs again, off the GUI thread."""
        if not self.panel._shut_down:
            self._runner.submit(lambda _state: model_choices())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.panel and event.type() in _RELIST:
            self.refresh()  # runs trained, continued, renamed or deleted meanwhile
        return False

    def _show(self, runs: list | None, problem: str) -> None:
        p = self.panel
        if runs is not None:
            p.model_combo.set_runs(runs)
        if problem:
            p.status.show_message(problem, "warning")
        p._choose_default()
        self.check_model()
        self.runs_listed.emit()

    def check_model(self) -> None:
        """Name the model in use when its file is gone; classify again the rows its earlier
        weights classified when it was saved again since (rows being classified wait)."""
        p = self.panel
        path = p.bundle_path
        if not path or p._shut_down:
            return
        stamp = file_stamp(path)
        if stamp is None and not os.path.exists(path):
            p.bundle_label.show_message(model_error(path, "")[0], "error")
            return
        stale = [i for i in p.model.items if i.status in (DONE, FAILED) and i.classified_with
                 and i.classified_with[0] == path and i.classified_with[1] != stamp]
        if not stale:
            return
        p.model_combo.select(path)  # its epoch and accuracy now
        p._drop_note = (f"{_saved_again(path)} since {images(len(stale))} "
                        f"{'was' if len(stale) == 1 else 'were'} classified: classified "
                        f"again with its new weights")
        p._predict(stale)

    def shutdown(self) -> None:
        self._runner.cancel_all()


def _saved_again(path: str) -> str:
    """"cli-cnn was saved again (val 82.0%, epoch 13)": the model as its chooser names it
    (the run's name, or the file's) and what its bundle holds now, where run.json says."""
    name, *rest = bundle_choice_text(path).split(" · ")
    now = rest[1].replace(" (epoch", ", epoch").rstrip(")") + ")" if len(rest) > 1 else ""
    return f"{name} was saved again" + (f" ({now}" if now else "")
