"""The Train tab follows what changes outside it, so that what it shows is what Start trains.

- An edit of the Experiment made elsewhere (a Doctor or Tune fix through
  :func:`~workbench.qt.panels.train.fixes.apply_settings`, the Model tab, a script) shows at
  once in the box that edits it: the epochs, the batch size, the run options, the
  optimizer, schedule and loss forms. A box is shown again only where it shows another
  value than the Experiment's: its own edits, written as the user types, are not echoed
  back into it mid-typing (the component forms say theirs through :meth:`Follower.own`).
- The dataset folder is checked again whenever the tab is shown and whenever the window is
  activated (the folder may have been moved or deleted meanwhile), so Start is disabled and
  the line says why before Start is pressed, not after.
- So is the last run's folder, while no run trains: a run continued elsewhere meanwhile
  (``workbench resume`` in a terminal) is shown again as its run.json and metrics.json
  now say (its epochs, "Finished: 5 of 5 epochs", the model it kept; the status line no
  longer says how it ended here, but what it says at start-up), and a "Cannot
  continue: … is training right now" is taken back once that run's lock is free.
- The runs selected on the Runs tab are overlaid on the plots, but not the tab's own run
  (:meth:`Follower.set_overlays`), again as each run starts and ends.
"""

from __future__ import annotations

import math
import os
from typing import Any

from PySide6.QtCore import QEvent, QObject

from workbench.qt.evented import subscribe
from workbench.qt.panels.train.saved_run import run_stamp, saved_state

#: Events after which the dataset folder is checked again: the tab shown, the window active.
_RECHECK = (QEvent.Type.Show, QEvent.Type.WindowActivate)


def _differs(shown: Any, wanted: Any) -> bool:
    """Whether a box showing ``shown`` shows another value than ``wanted`` (a float as the
    box rounds it counts as the same)."""
    if isinstance(wanted, float) and isinstance(shown, (int, float)) \
            and not isinstance(shown, bool):
        return not math.isclose(float(shown), wanted, rel_tol=1e-6, abs_tol=1e-12)
    return shown != wanted


class Follower(QObject):
    """Keeps ``panel``'s (a :class:`~workbench.qt.panels.train.panel.TrainPanel`) boxes on
    the current Experiment and its dataset folder checked (see the module docstring)."""

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self._own = ""  # the section a form of the panel is announcing (not echoed back)
        self._looked = ("", None)  # the last run's folder and its files' stamps, last seen
        self._overlays: list[tuple[dict, str]] = []  # the Runs tab's: (run, its folder)
        # The component forms change params in place: the Experiment says so.
        for editor, section in ((panel.optimizer_editor, "optimizer"),
                                (panel.schedule_editor, "scheduler"),
                                (panel.loss_editor, "loss")):
            editor.changed.connect(lambda _s=section: self.own(_s))
        subscribe(self, panel.current.changed, self._on_changed)
        panel.installEventFilter(self)
        for signal in (panel.training_started, panel.run.fit_started,
                       panel.training_finished, panel.training_errored):
            signal.connect(lambda *_: self.show_overlays())  # the tab's own run changed

    def own(self, section: str) -> None:
        """Announce the panel's own edit of ``section`` (a component form's)."""
        self._own = section
        try:
            self.panel.experiment.announce(section)
        finally:
            self._own = ""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.panel and event.type() in _RECHECK and \
                not self.panel.is_running():
            self.panel.check_settings()  # the folder moved or deleted meanwhile?
            self.follow_last_run()
        return False

    # -- the last run's folder ----------------------------------------------------------------
    def follow_last_run(self) -> None:
        """Show the last run again where its folder changed since the tab showed it (a
        ``workbench resume`` in a terminal), and take back a "training right now" once
        its lock is free. Reads run.json only when a file's stamp changed."""
        p = self.panel
        run_dir = p.last_run_dir
        if p.is_running():
            return
        said = p.status.text()
        p.drop_stale_refusal()
        stamp = run_stamp(run_dir) if run_dir else None
        if not run_dir or self._looked == (run_dir, stamp):
            return
        from workbench.core.runs.store import read_run_info

        self._looked = (run_dir, stamp)
        info = read_run_info(run_dir)
        shown, state = getattr(p, "shown_run", None), saved_state(info)
        if shown is None or shown[0] != run_dir:
            p.shown_run = (run_dir, state)  # shown as a run of this session, before
        elif shown[1] != state and stamp[0] is not None:
            p._show_saved_run(run_dir, info)
            p.findings.show_saved_run(run_dir)  # the Doctor tab: what that run found
            p._set_running(False)  # Continue…: its checkpoint may be new, or gone
            if p.status.text() == said:  # how it ended here ("Stopped after…"): no more
                p.show_idle_status()

    # -- the Runs tab's overlays --------------------------------------------------------------
    def set_overlays(self, runs: list[dict], paths: list[str]) -> None:
        """Overlay the runs selected on the Runs tab (``runs``, for
        :meth:`~workbench.qt.plots.training.TrainingPlots.set_overlays`; their folders
        ``paths``, in the same order) on the plots, leaving out the tab's own run."""
        self._overlays = list(zip(runs, paths))
        self.show_overlays()

    def show_overlays(self) -> None:
        """Overlay the selected runs but the one the plots show as the tab's own (drawn
        twice, it read as another run lying on it): the run training, or while none is
        (or while the last run is continued), the last run."""
        p = self.panel
        running = p.is_running()
        own = {p.last_run_dir if not running or p._resuming else "",
               str(p.info.get("run_dir") or "") if running else ""}
        own = {os.path.realpath(d) for d in own if d}
        p.plots.set_overlays([run for run, path in self._overlays
                              if os.path.realpath(str(path)) not in own])

    # -- the Experiment's edits --------------------------------------------------------------
    def _on_changed(self, section: str, field: str | None) -> None:
        p = self.panel
        if section in ("data", "augment"):
            p.check_settings()  # a blur's even kernel, a step after Normalize, the folder
        if section == "training":
            self._training(field)
        elif section == "data":
            self._data(field)
        elif section == "model":
            p._show_output_layer()
        elif section in ("optimizer", "scheduler", "loss") and section != self._own:
            editor = {"optimizer": p.optimizer_editor, "scheduler": p.schedule_editor,
                      "loss": p.loss_editor}[section]
            editor.refresh()
            if section == "optimizer":
                p.setup.update_memory()  # Adam keeps more state than SGD

    def _training(self, field: str | None) -> None:
        p = self.panel
        t = p.experiment.training
        if field in ("epochs", None) and _differs(p.setup.epochs_spin.value(), t.epochs):
            p.setup.refresh()
            p.schedule_editor.show_problem()  # a warm-up must stay shorter than the run
        if field != "epochs" and self._options_differ(field):
            p.options_editor.refresh()
            p.setup.update_memory()  # the device

    def _data(self, field: str | None) -> None:
        p = self.panel
        data = p.experiment.data
        if field in ("batch_size", None) and \
                _differs(p.setup.batch_spin.value(), data.batch_size):
            p.setup.refresh()
        if field in ("num_workers", None) and \
                _differs(p.options_editor.workers_spin.value(), data.num_workers):
            p.options_editor.refresh()

    def _options_differ(self, field: str | None) -> bool:
        """Whether the run options editor shows another value of ``training.<field>``
        (``None``: of any field) than the Experiment's."""
        options = self.panel.options_editor
        t = self.panel.experiment.training
        if field in ("device", None) and \
                _differs(options.device_combo.currentData(), t.device):
            return True
        for name, form in options.forms.items():
            if field in (name, None) and name in form.values() and \
                    _differs(form.values()[name], getattr(t, name, None)):
                return True
        return False
