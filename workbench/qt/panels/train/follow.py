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
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, QObject

from workbench.qt.evented import subscribe

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
        # The component forms change params in place: the Experiment says so.
        for editor, section in ((panel.optimizer_editor, "optimizer"),
                                (panel.schedule_editor, "scheduler"),
                                (panel.loss_editor, "loss")):
            editor.changed.connect(lambda _s=section: self.own(_s))
        subscribe(self, panel.current.changed, self._on_changed)
        panel.installEventFilter(self)

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
        return False

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
