"""The Train panel's optimizer, learning-rate schedule and loss editors.

:class:`ComponentEditor` edits one registry :class:`~workbench.core.registry.Component` of
the Experiment (``optimizer``, ``scheduler`` or ``loss``): a combo box of the registry's
entries (help text as tooltips) and a :class:`~workbench.qt.forms.ParamForm` built from the
chosen entry's declared parameters. Binding is two-way: edits write the Experiment at once;
:meth:`refresh` shows the Experiment's values without echoing them back. Parameters that
need an editor of their own (the loss's per-class weights, :mod:`.loss`) can be left
out of the form.

A value the core would refuse (milestones out of order, a warm-up as long as the run) is
still written (the widgets and the Experiment never disagree) and the core's own message is
shown above the form, right under the Type row; pressing Start then refuses it with the
same words. A value the core accepts but that will very likely fail (Adam at lr 10,
:func:`optimizer_advice`) is shown there as a warning, with a button that sets the
suggested value; Start is not blocked. Above the form, not under it: a settings page
scrolls (:class:`~workbench.qt.panels.train.layout.WholeRowsScroll`), and at 1366x768 a
line under the form was below its visible part, so the warning went unseen. When the line
appears while the page is scrolled down, the page scrolls up to show it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.registry import Entry

from workbench.qt.common import MessageLabel
from workbench.qt.forms import ParamForm
from workbench.qt.keyboard import chain_after, focus_stops
from workbench.qt.startup import LOADING_TEXT

#: ``check(experiment)`` returns why the edited component cannot train, or ``""``.
Check = Callable[[Experiment], str]
#: ``advise(experiment)`` returns a warning about the edited component with a suggested
#: value (an :class:`~workbench.core.train.optim_advice.OptimizerAdvice`), or ``None``.
Advise = Callable[[Experiment], Any]


def optimizers() -> Any:
    """The optimizer registry (imports torch)."""
    from workbench.core.train.optim import OPTIMIZERS

    return OPTIMIZERS


def schedulers() -> Any:
    """The learning-rate schedule registry (imports torch)."""
    from workbench.core.train.schedules import SCHEDULERS

    return SCHEDULERS


def losses() -> Any:
    """The loss registry (imports torch)."""
    from workbench.core.train.optim import LOSSES

    return LOSSES


def optimizer_problem(exp: Experiment) -> str:
    """Why ``exp.optimizer`` would be refused, in the core's words, or ``""``."""
    try:
        entry = optimizers().get(exp.optimizer.type, "optimizer.type")
        entry.validate(exp.optimizer.params, "optimizer.params")
    except WorkbenchError as e:
        return str(e)
    return ""


def optimizer_advice(exp: Experiment) -> Any:
    """The warning about ``exp.optimizer`` that does not block a run (a learning rate far
    outside the optimizer's usual range), or ``None``."""
    from workbench.core.train.optim_advice import optimizer_advice as advice

    return advice(exp.optimizer)


#: The advice each edited field gets when the caller names none.
_ADVICE: dict[str, Advise] = {"optimizer": optimizer_advice}
#: What the form says for a (field, entry) with no parameters, where "none has no
#: parameters." would not read (the others say "<name> has no parameters.").
NO_PARAMS_TEXT = {("scheduler", "none"): "No schedule: the learning rate stays constant."}


def scheduler_problem(exp: Experiment) -> str:
    """Why ``exp.scheduler`` would be refused, in the core's words, or ``""``.

    Builds the schedule over a one-weight optimizer, so the checks that only the builder
    makes (milestones in order, a warm-up shorter than the run) are found while editing
    rather than when the run starts.
    """
    import torch

    from workbench.core.train.schedules import build_scheduler

    try:
        weight = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([weight], lr=1e-3, momentum=0.9)
        build_scheduler(exp.scheduler, opt, steps_per_epoch=1,
                        epochs=max(1, int(exp.training.epochs)))
    except WorkbenchError as e:
        return str(e)
    except (ValueError, TypeError) as e:  # torch's own refusal of a value we let through
        return f"scheduler.params: {e}"
    return ""


def loss_problem(exp: Experiment, num_classes: int | None = None) -> str:
    """Why ``exp.loss`` would be refused, in the core's words, or ``""``.

    Builds the loss, so that per-class weights that do not match the dataset's
    ``num_classes`` (when known) or that are all zero are found while editing.
    """
    from workbench.core.train.optim import build_loss

    try:
        build_loss(exp.loss, num_classes=num_classes)
    except WorkbenchError as e:
        return str(e)
    return ""


class ComponentEditor(QGroupBox):
    """Chooser and parameter form for one registry component of the Experiment.

    Parameters
    ----------
    title
        The group's title ("Optimizer", "Schedule").
    field
        The Experiment attribute edited: ``"optimizer"`` or ``"scheduler"``.
    check
        Returns the core's message for a value it would refuse, or ``""``.
    parent
        The parent widget.
    hidden_params
        Parameters left out of the form because another widget edits them; edits in the
        form keep their values.
    advise
        Returns a warning with a suggested value (see :data:`Advise`), shown above the
        form when nothing is refused, with a button that applies it; by default the
        optimizer gets :func:`optimizer_advice` and the other fields none.

    Signals
    -------
    changed()
        The user changed the component's type or one of its parameters.
    """

    changed = Signal()

    def __init__(self, title: str, field: str, check: Check,
                 parent: QWidget | None = None, hidden_params: tuple[str, ...] = (),
                 advise: Advise | None = None,
                 autos: Callable[[Experiment], dict] | None = None):
        super().__init__(title, parent)
        self.field = field
        # What an "auto" setting resolves to for the experiment (shown greyed, as the Model
        # tab's cards show theirs), e.g. a cosine schedule's T_max: the epochs left.
        self.autos = autos
        self.check = check
        self.advise = advise if advise is not None else _ADVICE.get(field)
        self.advice: Any = None  # the warning shown now
        self.hidden_params = tuple(hidden_params)
        self._form_entries: dict[str, Entry] = {}  # entry name -> entry less hidden params
        self.experiment: Experiment | None = None
        self.registry: Any = None
        self.form: ParamForm | None = None
        self.combo = QComboBox()
        self.combo.setPlaceholderText(LOADING_TEXT)
        self.combo.setEnabled(False)  # filled by set_registry once torch is imported
        self.combo.setToolTip(f"Choosing another {title.lower()} resets its settings to that "
                              f"one's defaults.")
        self.combo.currentTextChanged.connect(self._on_type_chosen)
        self.error_label = MessageLabel("")
        self.error_label.hide()
        self.advice_label = MessageLabel("")
        self.fix_button = QPushButton()
        self.fix_button.clicked.connect(self._on_fix_clicked)
        self.advice_row = QWidget()
        row = QHBoxLayout(self.advice_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.advice_label, 1)
        row.addWidget(self.fix_button, 0, Qt.AlignmentFlag.AlignTop)
        self.advice_row.hide()
        top = QFormLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addRow("Type:", self.combo)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(top)
        self._layout.addWidget(self.error_label)
        self._layout.addWidget(self.advice_row)
        self._layout.addStretch(1)
        self._reveal_timer = QTimer(self)
        self._reveal_timer.setSingleShot(True)
        self._reveal_timer.setInterval(0)  # once the line has its place in the page
        self._reveal_timer.timeout.connect(self._reveal)

    # -- binding -------------------------------------------------------------------------
    def component(self) -> Component:
        return getattr(self.experiment, self.field)

    def set_registry(self, registry: Any) -> None:
        """List ``registry``'s entries, each with its help as tooltip."""
        self.registry = registry
        self.combo.blockSignals(True)
        try:
            self.combo.clear()
            for entry in registry:
                self.combo.addItem(entry.name)
                self.combo.setItemData(self.combo.count() - 1, entry.help,
                                       Qt.ItemDataRole.ToolTipRole)
        finally:
            self.combo.blockSignals(False)
        self.combo.setEnabled(True)

    def set_experiment(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.refresh()

    def refresh(self) -> None:
        """Show the Experiment's component (without writing anything back)."""
        if self.experiment is None or self.registry is None:
            return
        comp = self.component()
        entry = self._form_entry(comp.type) if comp.type in self.registry else None
        self.combo.blockSignals(True)
        try:
            self.combo.setCurrentIndex(self.combo.findText(comp.type) if entry else -1)
        finally:
            self.combo.blockSignals(False)
        if entry is None:
            self._set_form(None)
        elif self.form is None or self.form.entry is not entry:
            self._set_form(ParamForm(entry, comp.params,
                                     empty_text=NO_PARAMS_TEXT.get((self.field, entry.name))))
        else:
            self.form.set_values(comp.params)
        self.show_problem()

    def show_problem(self) -> str:
        """Show (and return) why the current value would be refused; hide the line if not.

        When nothing is refused, the advice (if any) is shown instead, as a warning with
        its one-click fix: a refusal wins, since Start would stop at it first."""
        if self.experiment is None or self.registry is None:
            return ""
        shown = self.error_label.isVisibleTo(self), self.advice_row.isVisibleTo(self)
        if self.form is not None and self.autos is not None:
            self.form.show_auto_values(self.autos(self.experiment))
        problem = self.check(self.experiment)
        self.error_label.show_message(problem, "error")
        self.error_label.setVisible(bool(problem))
        self.advice = None if problem or self.advise is None else self.advise(self.experiment)
        if self.advice is not None:
            self.advice_label.show_message(self.advice.message, "warning")
            self.fix_button.setText(self.advice.fix_label)
            self.fix_button.setToolTip(f"Set {self.advice.param} to the suggested value")
        self.advice_row.setVisible(self.advice is not None)
        if (problem and not shown[0]) or (self.advice is not None and not shown[1]):
            self._reveal_timer.start()  # a line has just appeared
        return problem

    def _reveal(self) -> None:
        """Scroll the page this editor is on so that its message line shows (the page may
        have been scrolled down to a parameter low in the form)."""
        line = self.error_label if self.error_label.isVisibleTo(self) else self.advice_row
        area = self.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is None or not line.isVisibleTo(self) or area.widget() is None:
            return
        if area.widget().layout() is not None:
            area.widget().layout().activate()  # the line's place, now it is shown
        area.ensureWidgetVisible(line, 0, 0)

    def _form_entry(self, name: str) -> Entry:
        """The registry entry ``name`` as the form shows it: without the hidden parameters
        (one object per name, so that a refresh keeps the form it has)."""
        entry = self.registry.get(name)
        if not any(p.name in self.hidden_params for p in entry.params):
            return entry
        cached = self._form_entries.get(name)
        if cached is None or cached.builder is not entry.builder:
            cached = dataclasses.replace(entry, params=tuple(
                p for p in entry.params if p.name not in self.hidden_params))
            self._form_entries[name] = cached
        return cached

    def _set_form(self, form: ParamForm | None) -> None:
        if self.form is not None:
            self._layout.removeWidget(self.form)
            # Hidden and unparented at once: deleteLater waits for the event loop, and until
            # then the old form would still paint over the new one.
            self.form.hide()
            self.form.setParent(None)
            self.form.deleteLater()
        self.form = form
        if form is not None:
            form.layout().setContentsMargins(0, 0, 0, 0)
            form.changed.connect(self._on_params_edited)
            for note in form.findChildren(QLabel) if not form.editors else ():
                note.setWordWrap(True)  # "No schedule: …" no longer widens the page
            # Under the chooser and its message lines: a warning about a value shows where
            # it is seen first, not below the rows the page has room for. (A subclass's
            # own widgets, put in at the message lines' place, follow the form: the
            # loss's class weights.)
            for at, line in enumerate((self.error_label, self.advice_row), start=1):
                self._layout.removeWidget(line)
                self._layout.insertWidget(at, line)
            self._layout.insertWidget(3, form)
            # Tab goes from Type (and the advice's fix) on to the form's editors: a form
            # built once torch has loaded joined the end of the window's Tab order, after
            # the plots, so Tab went from this Type to the next group's.
            chain_after(self.combo, [self.fix_button] + focus_stops(form))

    # -- edits ---------------------------------------------------------------------------
    @Slot(str)
    def _on_type_chosen(self, name: str) -> None:
        if not name or self.experiment is None or name == self.component().type:
            return
        setattr(self.experiment, self.field,
                Component(name, self.registry.get(name).defaults()))
        self.refresh()
        self.changed.emit()

    @Slot()
    def _on_fix_clicked(self) -> None:
        advice = self.advice
        if advice is None or self.experiment is None:
            return
        self.component().params = {**self.component().params, advice.param: advice.suggested}
        self.refresh()  # the form shows the value, and the warning goes
        self.changed.emit()

    @Slot(dict)
    def _on_params_edited(self, values: dict) -> None:
        if self.experiment is None:
            return
        # Merged: the values of hidden parameters (edited elsewhere) are kept.
        self.component().params = {**self.component().params, **values}
        self.show_problem()
        self.changed.emit()


def schedule_autos(experiment: Experiment) -> dict:
    """The schedule's "auto" values for the experiment's epochs (a cosine's T_max: the
    epochs left after its warm-up), for the Schedule editor's ``autos``."""
    from workbench.core.train.schedules import auto_values

    return auto_values(experiment.scheduler, experiment.training.epochs)
