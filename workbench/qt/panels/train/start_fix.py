"""The Train tab's run line as a run starts, and the Augment tab's one-click fix beside it.

The line (:func:`~workbench.qt.panels.train.status.model_doctor_line`) says what the
optimizer advice, the Model doctor and the Augment tab's label hints
(:func:`workbench.core.data.augment.at_start.run_hints`: a flip of left/right arrows) warn
about the run just started. When an augmentation may change the label, the button beside
the line is the Augment tab's own fix (:func:`~workbench.core.data.augment.at_start.
offered_fix`: "Remove the flip"): pressed, it makes that edit on the current Experiment,
which every tab hears (the Augment tab's list follows); the run going on trains its
snapshot, so the line then says that the next run trains without it. The button goes when
the run ends (its line is replaced), when pressed, and when the hint is gone (the step was
removed on the Augment tab).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from workbench.core.errors import WorkbenchError
from workbench.qt.evented import subscribe
from workbench.qt.panels.train.status import model_doctor_line


def _classes(index: Any) -> list[str]:
    return [str(c) for c in getattr(index, "classes", None) or []]


class StartFix(QObject):
    """Shows the run line as a run starts and owns the fix button beside it
    (:attr:`button`, laid out by :meth:`row`)."""

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self.button = QPushButton()
        self.button.hide()
        self.button.clicked.connect(self.apply)
        self._key = ""  # the offered fix's key ("flips"), or "" while none is offered
        self._classes: list[str] = []
        panel.run.finished.connect(lambda _summary: self.withdraw())
        panel.run.errored.connect(lambda _message: self.withdraw())
        subscribe(self, panel.current.changed, self._on_experiment_changed)
        subscribe(self, panel.current.replaced, lambda _experiment: self.withdraw())

    def row(self) -> QHBoxLayout:
        """The run line with the button at its right."""
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.panel.run_label, 1)
        row.addWidget(self.button)
        return row

    def show_line(self, experiment: Any, index: Any) -> None:
        """The run line for ``experiment`` starting on the dataset ``index`` (None: not
        scanned yet, so no hint on its classes), and the fix of its first label hint."""
        from workbench.core.data.augment.at_start import offered_fix, run_hints

        self.panel.run_label.show_message(*model_doctor_line(experiment, index))
        self._classes = _classes(index)
        hints = run_hints(experiment, self._classes)
        fix = offered_fix(hints)
        self._key = (fix.key or fix.label) if fix is not None else ""
        if fix is None:
            self.button.hide()
            return
        said = " ".join(h.text for h in hints)
        self.button.setText(fix.label)
        self.button.setToolTip(f"{said}\n\nThe Augment tab's fix: {fix.describe()} The run "
                               f"going on keeps its augmentation; the next one trains "
                               f"without it.")
        self.button.show()

    def _fix(self, experiment: Any):
        from workbench.core.data.augment.at_start import offered_fix, run_hints

        return offered_fix(run_hints(experiment, self._classes))

    @Slot()
    def withdraw(self) -> None:
        self._key = ""
        self.button.hide()

    @Slot()
    def apply(self) -> None:
        """Make the fix on the current Experiment (as the Augment tab's button does)."""
        from workbench.core.data.augment.at_start import fixed_transforms
        from workbench.qt.panels.train.fixes import apply_settings

        panel, key = self.panel, self._key
        fix = self._fix(panel.experiment)
        label = self.button.text()
        self.withdraw()
        if fix is None or (fix.key or fix.label) != key:
            panel.run_label.show_message(f"{label}: the Augment tab has no such fix to make "
                                         f"any more.")
            return
        transforms = fixed_transforms(list(panel.experiment.augment.transforms), [fix])
        try:
            apply_settings(panel.current, {"augment.transforms": transforms})
        except WorkbenchError as e:
            panel.run_label.show_message(f"Cannot apply “{label}”: {e}", "error")
            return
        panel.settings_changed.emit()
        running = panel.is_running()
        panel.run_label.show_message(
            f"{label}: done on the Augment tab. "
            + ("This run goes on with its own augmentation: Stop it and press Start "
               "training to train without it." if running else
               "Start training trains without it."), "ok")

    def _on_experiment_changed(self, section: str, _field: str | None) -> None:
        if section == "augment" and self._key:
            fix = self._fix(self.panel.experiment)
            if fix is None or (fix.key or fix.label) != self._key:
                self.withdraw()  # fixed on the Augment tab (or the step edited away)
