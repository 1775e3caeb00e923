"""The Train tab's run line as a run starts, and the Augment tab's one-click fix beside it.

The line (:func:`~workbench.qt.panels.train.status.model_doctor_line`) says what the
optimizer advice, the Model doctor and the Augment tab's label hints
(:func:`workbench.core.data.augment.at_start.run_hints`: a flip of left/right arrows) warn
about the run just started. When an augmentation may change the label, the button beside
the line is the Augment tab's own fix (:func:`~workbench.core.data.augment.at_start.
offered_fix`: "Remove the flip"): pressed, it makes that edit on the current Experiment,
which every tab hears (the Augment tab's list follows); the run going on trains its
snapshot, so the line then says that the next run trains without it. A run on a small set
ends in seconds, before the line is read: while the current Experiment still has the
step, the warning then leads the run's end line (without its why, which the button's
tooltip has) and the button stays (as it does after a failed or refused start, while the
line naming it stays). The button goes when pressed, when the hint is gone (the step was
removed on the Augment tab), when a new run starts or another experiment is opened, and
when another line replaces the one naming it after a failure.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from workbench.core.errors import WorkbenchError
from workbench.qt.evented import subscribe
from workbench.qt.panels.train.status import augment_warning, model_doctor_line


def _classes(index: Any) -> list[str]:
    return [str(c) for c in getattr(index, "classes", None) or []]


def _fix_key(fix: Any) -> str:
    """What tells an offered fix from another: its key ("flips"), else its label."""
    return fix.key or fix.label


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
        # After the run's end (the warning leads its end line): that line without it, and
        # the line shown, to put back when the button goes (unless replaced meanwhile).
        self._end: tuple[str, str] | None = None
        self._shown = ""
        self._start = ""  # the start line shown with the button
        # After the panel's own handler, which writes the end line (connected before this).
        panel.run.finished.connect(self._on_run_finished)
        # After every handler of the failure (they may replace the line, or start again).
        panel.run.errored.connect(lambda _m: QTimer.singleShot(0, self, self._after_error))
        subscribe(self, panel.current.changed, self._on_experiment_changed)
        subscribe(self, panel.current.replaced, lambda _experiment: self.withdraw())
        # The warning under the batch size, before Start, follows the app's dataset too.
        panel.setup.steps_line.follow(panel.current)

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
        self._end, self._start = None, self.panel.run_label.text()
        self._classes = _classes(index)
        hints = run_hints(experiment, self._classes)
        fix = offered_fix(hints)
        self._key = _fix_key(fix) if fix is not None else ""
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

    @Slot(object)
    def _on_run_finished(self, _summary: Any) -> None:
        """The run ended: while the current Experiment still has the hint's cause, the
        warning leads the end line and the button stays; else the button goes."""
        experiment = self.panel.experiment
        fix = self._fix(experiment) if self._key else None
        if fix is None or _fix_key(fix) != self._key:
            self.withdraw()
            return
        label = self.panel.run_label
        self._end = (label.text(), label.level)
        warning = augment_warning(experiment, self._classes, why=False)
        self._shown = f"The Augment tab warns that {warning} {label.text()}".strip()
        label.show_message(self._shown, "warning")

    @Slot()
    def _after_error(self) -> None:
        """The run failed (or was refused before it trained): the button stays while the
        start line naming it does."""
        if self._key and not self.panel.is_running() and \
                self.panel.run_label.text() != self._start:
            self.withdraw()

    @Slot()
    def withdraw(self) -> None:
        """The button goes; after a run, its end line is shown again without the warning
        (unless another line has replaced it meanwhile)."""
        self._key = ""
        self.button.hide()
        end, self._end = self._end, None
        if end is not None and self.panel.run_label.text() == self._shown:
            self.panel.run_label.show_message(*end)

    @Slot()
    def apply(self) -> None:
        """Make the fix on the current Experiment (as the Augment tab's button does)."""
        from workbench.core.data.augment.at_start import fixed_transforms
        from workbench.qt.panels.train.fixes import apply_settings

        panel, key = self.panel, self._key
        fix = self._fix(panel.experiment)
        label = self.button.text()
        end = self._end[0] if self._end is not None else ""  # after the run: its end line
        self.withdraw()
        if fix is None or _fix_key(fix) != key:
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
               f"Start training trains without it. {end}".strip()), "ok")

    def _on_experiment_changed(self, section: str, _field: str | None) -> None:
        if section == "augment" and self._key:
            fix = self._fix(self.panel.experiment)
            if fix is None or _fix_key(fix) != self._key:
                self.withdraw()  # fixed on the Augment tab (or the step edited away)
