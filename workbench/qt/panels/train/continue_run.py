"""The Continue dialog: a run's own settings, and an explicit choice of how far to go.

Continuing never takes the Train form's values: the dialog shows the run's epochs done and
planned, its optimizer, learning rate and schedule (:class:`~workbench.core.runs.plan.
ContinuePlan`), which dataset folder it continues on when that needs saying (the run's
folder is missing and the Data tab's replaces it, or another folder is open there) and a
hand edit of its experiment.json applied; the user picks "finish the planned epochs" or "N
more", and may type a new learning rate. A fix made on the Model or Augment tab since the
run (the Train tab's Doctor shows it as fixed there) is said too: continuing goes on with the
run's own network and weights, so only a new run trains it.

So is everything else continuing will not use, before the user accepts: the settings the
tabs hold now that differ from the run's (the plan's notes, :mod:`workbench.core.runs.
unused`), and what changed in the dataset since the checkpoint (images added, removed,
moved: :func:`~workbench.core.runs.plan.dataset_change`, worked out off the GUI thread, as
it may list the folder; the line says "Checking…" meanwhile). The one Model tab change it
uses is said as used too, among the plan's notes: a Backbone's mode or backbone_lr_scale
(fine-tuning the backbone from the trained head: :mod:`workbench.core.train.regroup`).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QFormLayout,
                               QHBoxLayout, QLabel, QRadioButton, QSpinBox, QVBoxLayout,
                               QWidget)

from workbench.core.runs.plan import FINISH, MORE, ContinuePlan, dataset_change

from workbench.qt.accessible import name_field
from workbench.qt.colours import follow_palette
from workbench.qt.common import LogSpinBox
from workbench.qt.keyboard import tab_as_drawn
from workbench.qt.workers import TaskRunner


def _plural(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


class ContinueDialog(QDialog):
    """Edits a :class:`ContinuePlan`; :meth:`plan` is the user's choice once accepted."""

    def __init__(self, plan: ContinuePlan, parent: QWidget | None = None, warning: str = "",
                 index: Any = None):
        super().__init__(parent)
        self._plan = plan
        self.setWindowTitle(f"Continue {plan.name}")
        # A damaged run.json: the name and status read back from it, as the Train tab's
        # last-run line says them, and that it is damaged (the continued run rewrites it).
        status = "; ".join(w for w in (plan.status.replace("_", " "), "run.json damaged"
                                       if plan.info_damaged else "") if w) or "unknown"
        heading = QLabel(f"<b>{html.escape(plan.name)}</b> ({status}): {plan.done} of {plan.planned} "
                         f"planned epochs done.")
        heading.setWordWrap(True)
        settings = QLabel(f"Its settings: {plan.settings_text()}. Continuing goes on with "
                          f"them, from its last checkpoint (weights, optimizer, schedule).")
        settings.setWordWrap(True)
        # Which dataset folder it continues on (when not simply the run's own, there), and
        # the run's experiment.json edit applied: said before the user accepts.
        lines = [plan.data_note] + [f"Note: {n}" for n in plan.notes]
        self.notes_label = QLabel("\n".join(line for line in lines if line))
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextFormat(Qt.TextFormat.PlainText)  # a folder named "<b>x<"
        self.notes_label.setVisible(bool(self.notes_label.text()))
        #: What changed in the dataset since the checkpoint; hidden when nothing did.
        self.dataset_label = QLabel(f"Checking the dataset for changes since epoch "
                                    f"{plan.done}…")
        self.dataset_label.setWordWrap(True)
        self.dataset_label.setTextFormat(Qt.TextFormat.PlainText)  # it names classes
        self._check_dataset(plan, index)
        #: A fix continuing cannot apply (see :func:`ask_continue`); hidden when none.
        self.warning_label = QLabel(warning)
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextFormat(Qt.TextFormat.PlainText)
        follow_palette(self.warning_label, "warning")  # readable on a dark window too
        self.warning_label.setVisible(bool(warning))

        self.finish_radio = QRadioButton()
        self.more_radio = QRadioButton()
        self.more_spin = QSpinBox()
        self.more_spin.setRange(1, 100000)
        self.more_spin.setValue(plan.more)
        self.more_spin.setSuffix(" more")
        name_field(None, self.more_spin, "More epochs")
        group = QButtonGroup(self)
        group.addButton(self.finish_radio)
        group.addButton(self.more_radio)
        self.finish_radio.setEnabled(plan.can_finish)
        (self.finish_radio if plan.mode == FINISH and plan.can_finish
         else self.more_radio).setChecked(True)
        more_row = QHBoxLayout()
        more_row.addWidget(self.more_radio)
        more_row.addWidget(self.more_spin)
        more_row.addStretch(1)

        self.lr_spin = LogSpinBox()
        if plan.lr is not None:
            self.lr_spin.setValue(plan.new_lr if plan.new_lr is not None else plan.lr)
        else:
            self.lr_spin.setEnabled(False)
        self.lr_note = QLabel("")
        self.lr_note.setWordWrap(True)
        lr_row = QHBoxLayout()
        lr_row.addWidget(self.lr_spin)
        lr_row.addWidget(self.lr_note, 1)
        lr_label = QLabel("Learning rate:")
        name_field(lr_label, self.lr_spin)
        form = QFormLayout()
        form.addRow(lr_label, lr_row)

        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.continue_button = buttons.addButton("Continue training",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(settings)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.dataset_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.finish_radio)
        layout.addLayout(more_row)
        layout.addLayout(form)
        layout.addWidget(self.outcome)
        layout.addWidget(buttons)
        tab_as_drawn(buttons)  # "Continue training", then Cancel
        for signal in (self.finish_radio.toggled, self.more_radio.toggled,
                       self.more_spin.valueChanged, self.lr_spin.valueChanged):
            signal.connect(self._update)
        self.more_spin.valueChanged.connect(lambda _v: self.more_radio.setChecked(True))
        self._update()
        self.setMinimumWidth(460)

    def _check_dataset(self, plan: ContinuePlan, index: Any) -> None:
        """Work out :func:`dataset_change` off the GUI thread (``index``: the Data tab's
        scan of the folder the run continues on, else None: the job scans it)."""
        self._dataset_job = TaskRunner(self)
        self._dataset_job.finished.connect(lambda _job, note: self._show_dataset(note))
        self._dataset_job.errored.connect(lambda _job, _message: self._show_dataset(""))
        self._dataset_job.submit(lambda state: dataset_change(plan, index))

    def _show_dataset(self, note: str) -> None:
        note = note.strip()
        if note and not note.endswith("."):
            note += "."
        self.dataset_label.setText(f"Note: {note[:1].upper()}{note[1:]}" if note else "")
        self.dataset_label.setVisible(bool(note))
        self.adjustSize()

    def done(self, result: int) -> None:  # noqa: D401  (Qt override: accept, reject, Esc)
        self._dataset_job.cancel_all()
        super().done(result)

    def plan(self) -> ContinuePlan:
        """The plan as the dialog shows it now."""
        p = self._plan
        p.choose(FINISH if self.finish_radio.isChecked() else MORE, self.more_spin.value(),
                 self.lr_spin.value() if self.lr_spin.isEnabled() else None)
        return p

    def _update(self, *_args: object) -> None:
        p = self._plan
        left = p.planned - p.done
        self.finish_radio.setText(
            f"Finish the planned epochs: {left} more, to epoch {p.planned}"
            if p.can_finish else f"Finish the planned epochs (all {p.planned} are done)")
        self.more_radio.setText(f"Train more epochs, to epoch {p.done + self.more_spin.value()}:")
        plan = self.plan()
        if plan.lr_changed and plan.done >= plan.schedule_length and plan.schedule_has_end:
            self.lr_note.setText(f"changed from the run's {p.lr:.3g}: its schedule has "
                                 f"ended, so the added epochs train at this rate, held")
        elif plan.lr_changed:
            self.lr_note.setText(f"changed from the run's {p.lr:.3g}: the schedule's rates "
                                 f"scale by the same factor")
        else:
            self.lr_note.setText("the run's own")
        # What the schedule and early stopping do over these epochs, as the run says it.
        notes = "".join(f" {n}" for n in (plan.schedule_note(), plan.patience_note()) if n)
        self.outcome.setText(f"Trains epochs {p.done + 1} to {plan.target} "
                             f"({_plural(plan.target - p.done)}).{notes}")


def ask_continue(parent: QWidget, plan: ContinuePlan) -> ContinuePlan | None:
    """Show the dialog; the chosen plan, or None when cancelled. A Train panel ``parent``
    says a fix made on another tab since the run that continuing cannot apply (its
    ``findings.continue_note``)."""
    findings = getattr(parent, "findings", None)
    note = getattr(findings, "continue_note", None)
    dialog = ContinueDialog(plan, parent, note(plan.run_dir) if callable(note) else "",
                            _scan_of(getattr(parent, "index", None), plan))
    try:
        return dialog.plan() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()


def _scan_of(index: Any, plan: ContinuePlan) -> Any:
    """``index`` (the Data tab's scan) when it is of the folder ``plan`` continues on, as
    the run would use it; else None."""
    folder = plan.data_folder or (plan.base.data.folder if plan.base is not None else "")
    from workbench.qt.panels.data.health.findings import same_path

    if index is None or not folder:
        return None
    return index if same_path(index.root, folder) else None
