"""The Train tab's run setup: the run's name, epochs, and the batch size with a memory hint.

The name defaults to something telling (``<dataset>-<network>-<n>``, e.g.
``digits-seed-cnn-3``: :func:`~workbench.core.runs.names.suggest_run_name`) and follows the
dataset and the network until the user types one of their own. A typed name is for the
dataset folder and network it was typed for: tuning the experiment keeps it, but another
experiment opened in its place (File → Open, New, a restart with another experiment file)
of another folder or network drops it, said under the box. A name is a run's own: one
typed that another run already has (case aside, as the Runs tab's rename compares) gets
the first free ``-2``, ``-3``… (:func:`~workbench.core.runs.names.free_run_name`), said under
the box, and a name kept from the last session that a run took meanwhile is not shown
again. A typed name too long for a folder's name is said under the box as it is typed, and
Start refuses it (:meth:`RunSetup.check_name`). The batch size edits ``data.batch_size``
and says roughly how much memory a training step takes on the chosen device
(:mod:`workbench.core.train.memory`), warning when it may not fit, and when it leaves the
training images too few steps an epoch (:mod:`.batch_steps`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFormLayout, QLineEdit, QSpinBox, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import DataConfig, Experiment, TrainingConfig
from workbench.core.runs.names import (dataset_label, free_run_name, run_name_problem,
                                       run_name_scope, run_names)

from workbench.qt.common import BoundedMessageLabel
from workbench.qt.fitted import FittedMessageLabel
from workbench.qt.panels.train.batch_steps import BatchStepsLine
from workbench.qt.panels.train.status import format_bytes

#: Above this share of the device's memory the hint warns.
TIGHT = 0.8


def _param(cls: type, name: str) -> Any:
    return {f.name: f for f in dataclasses.fields(cls)}[name].metadata["param"]


class RunSetup(QWidget):
    """Run name, epochs and batch size of the next run.

    Parameters
    ----------
    device
        Returns the :class:`~workbench.core.train.device.DeviceInfo` the run would use, or
        None while unknown (the memory hint then names no device).

    Signals
    -------
    epochs_changed()
    batch_size_changed()
    """

    epochs_changed = Signal()
    batch_size_changed = Signal()

    def __init__(self, experiment: Experiment, device: Callable[[], Any] = lambda: None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.experiment = experiment
        self._device = device
        self._summary: Any = None
        self._suggested = ""
        self._base = ""  # the <dataset>-<network> part of the suggestion
        self._typed_folder = ""  # the dataset folder a typed name is for (run_name_scope's)
        self.name_edit = QLineEdit()
        self.name_edit.setToolTip("The new run's name, on the Runs tab and in the Evaluate and "
                                  "Predict model choosers (its folder is named after it too)")
        # A taken name: what it gets; a typed name dropped: for what it was typed; one too
        # long: that it is.
        self.name_note = BoundedMessageLabel("", max_lines=2)
        self.name_note.hide()
        self.name_edit.textChanged.connect(self._on_text_changed)
        self.name_edit.textEdited.connect(self._on_typed)
        self.name_edit.editingFinished.connect(self.run_name)
        epochs = _param(TrainingConfig, "epochs")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(int(epochs.min), int(epochs.max))
        self.epochs_spin.setToolTip(epochs.help)
        self.epochs_spin.valueChanged.connect(self._on_epochs_edited)
        batch = _param(DataConfig, "batch_size")
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(int(batch.min), int(batch.max))
        self.batch_spin.setToolTip(f"{batch.help} Larger batches train faster per image but "
                                   f"need more memory; halve it if the device runs out.")
        self.batch_spin.valueChanged.connect(self._on_batch_edited)
        # Its height is all its lines (a larger font wraps it): the next row was laid over
        # its second line.
        self.memory_label = FittedMessageLabel("")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Run name:", self.name_edit)
        form.addRow(self.name_note)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow("Batch size:", self.batch_spin)
        form.addRow(self.memory_label)
        # Too few steps an epoch for the dataset (StartFix binds it to the app's dataset).
        self.steps_line = BatchStepsLine(self.batch_spin)
        form.addRow(self.steps_line)
        self.refresh()

    # -- binding -------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment``; one in place of another (not the same one, tuned) drops a
        typed name when its dataset folder or network is another (:meth:`_not_kept`)."""
        dropped = self.typed_name() if experiment is not self.experiment else ""
        scope = run_name_scope(self.experiment) if dropped else ("", "")
        if dropped and scope == run_name_scope(experiment):
            dropped = ""
        elif dropped:
            self.name_edit.clear()
        self.experiment = experiment
        self.refresh()
        if dropped:
            self._not_kept(dropped, scope)

    def refresh(self) -> None:
        """Show the experiment's epochs and batch size (without echoing them back)."""
        for spin, value in ((self.epochs_spin, self.experiment.training.epochs),
                            (self.batch_spin, self.experiment.data.batch_size)):
            spin.blockSignals(True)
            try:
                spin.setValue(int(value))
            finally:
                spin.blockSignals(False)
        self.update_name()
        self.update_memory()

    def set_summary(self, summary: Any) -> None:
        """The network's :class:`~workbench.core.model.builder.NetworkSummary` (None while
        it does not fit): the memory hint's input."""
        self._summary = summary if summary is not None and getattr(summary, "ok", False) \
            else None
        self.update_name(force=False)
        self.update_memory()

    # -- the name ------------------------------------------------------------------------
    def run_name(self) -> str:
        """The name the next run gets: the user's, else the suggestion; one another run
        already has gets the first free ``-2``, ``-3``…, which the line under the box
        says."""
        typed = self.name_edit.text().strip()
        if typed in ("", self._suggested):  # a run renamed on the Runs tab may have it now
            taken = run_names()
            if self._suggested.casefold() in taken:
                self.update_name(taken=taken)
            return self._suggested
        if self.name_problem():
            return typed  # (said under the box; Start refuses it: check_name)
        free = free_run_name(typed)
        self.name_note.show_message(f"Another run has this name: this run is named {free} "
                                    f"(or type another).")
        self.name_note.setVisible(free != typed)
        return free

    def typed_name(self) -> str:
        """The name the user typed for the next run; ``""`` when the field shows the
        suggestion (or nothing), so the next run is named automatically."""
        typed = self.name_edit.text().strip()
        return typed if typed != self._suggested else ""

    def name_problem(self) -> str:
        """What keeps the typed name from naming a run (``""``: nothing): too long for its
        folder's name (:func:`~workbench.core.runs.names.run_name_problem`)."""
        return run_name_problem(self.typed_name())

    def check_name(self) -> None:
        """Raise :class:`~workbench.core.errors.WorkbenchError` saying what is wrong with
        the typed name (:meth:`name_problem`), for Start to refuse it."""
        problem = self.name_problem()
        if problem:
            raise WorkbenchError(problem)

    def _on_text_changed(self, *_: Any) -> None:
        problem = self.name_problem()
        if problem:
            self.name_note.show_message(f"{problem[:1].upper()}{problem[1:]}.")
        self.name_note.setVisible(bool(problem))

    def set_typed_name(self, name: str, typed_for: tuple[str, str] | None = None) -> None:
        """Show ``name`` as typed by the user (the last session's): it is kept as the
        network changes, until a run takes it. ``""``, or a name a run already has (it
        took it: the window closed while it trained), changes nothing; nor does one typed
        for another dataset folder or network than the experiment's: ``typed_for``, the
        last session's experiment's :func:`~workbench.core.runs.names.run_name_scope` (the
        app opened with another experiment file, or ``--data``), which the line under the
        box says."""
        name = name.strip()
        if not name or name == self._suggested or free_run_name(name) != name:
            return
        if typed_for is not None and tuple(typed_for) != run_name_scope(self.experiment):
            self._not_kept(name, tuple(typed_for))
            return
        self.name_edit.setText(name)
        self._on_typed()

    def _on_typed(self, *_: Any) -> None:
        self._typed_folder = run_name_scope(self.experiment)[0]

    def _not_kept(self, name: str, scope: tuple[str, str]) -> None:
        """Say that ``name``, typed for ``scope`` (dataset folder, network), is not used."""
        folder, network = scope
        self.name_note.show_message(
            f"“{name}” was typed for {dataset_label(folder)} with {network}: not kept for "
            f"this dataset and network.")
        self.name_note.show()

    def update_name(self, force: bool = True, taken: set[str] | None = None) -> None:
        """Suggest a name again (the dataset, network or the runs changed); a name the
        user typed is kept. ``force=False``: only when the dataset or network part changed
        (no listing of the runs folder on every network edit); ``taken``: the runs' names
        (:func:`~workbench.core.runs.names.run_names`), when listed already."""
        from workbench.core.runs.names import run_name_base, suggest_run_name

        base = run_name_base(self.experiment)
        if not force and base == self._base:
            return
        self._base = base
        typed = self.name_edit.text().strip()
        suggestion = suggest_run_name(self.experiment,
                                      taken=run_names() if taken is None else taken)
        keep = bool(typed) and typed != self._suggested
        scope = run_name_scope(self.experiment)
        if keep and self._typed_folder and scope[0] != self._typed_folder:
            keep = False  # typed for another dataset (one opened on the Data tab)
            self._not_kept(typed, (self._typed_folder, scope[1]))
        self._suggested = suggestion
        self.name_edit.setPlaceholderText(suggestion)
        if not keep:
            self.name_edit.setText(suggestion)

    # -- the batch size and its memory ---------------------------------------------------
    def update_memory(self) -> None:
        """Say roughly how much memory a step needs at this batch size, on the device."""
        summary = self._summary
        if summary is None:
            self.memory_label.show_message("")
            self.memory_label.hide()
            return
        from workbench.core.train.memory import estimate

        opt = self.experiment.optimizer
        need = estimate(summary, opt.type, float(opt.params.get("momentum", 0.9) or 0.0))
        bs = int(self.experiment.data.batch_size)
        text = f"≈ {format_bytes(need.total(bs))} per step"
        level = "info"
        device = self._device()
        memory = getattr(device, "memory_bytes", None) if device is not None else None
        if device is not None:
            where = "GPU" if device.kind == "cuda" else "RAM" if device.kind == "cpu" else ""
            text += f" · {device.name}: {format_bytes(memory)} {where}".rstrip() if memory \
                else f" · {device.name}"
            if memory and need.total(bs) > TIGHT * memory:
                fits = need.largest_batch(TIGHT * memory)
                level = "warning"
                text += (f": may not fit, try batch {fits} or less" if fits else
                         ": the network alone may not fit")
        self.memory_label.setToolTip(
            f"About {format_bytes(need.total(bs))} of memory per training step at batch size "
            f"{bs} (rough, within about a factor of two): {format_bytes(need.fixed)} for the "
            f"weights, their gradients and the optimizer's state, and "
            f"{format_bytes(need.per_image)} per image for its activations, kept for the "
            f"backward pass.")
        self.memory_label.show_message(text, level)
        self.memory_label.show()

    def set_running(self, running: bool) -> None:
        for w in (self.name_edit, self.epochs_spin, self.batch_spin, self.steps_line.button):
            w.setEnabled(not running)

    @Slot(int)
    def _on_epochs_edited(self, value: int) -> None:
        self.experiment.training.epochs = int(value)
        self.epochs_changed.emit()

    @Slot(int)
    def _on_batch_edited(self, value: int) -> None:
        self.experiment.data.batch_size = int(value)
        self.update_memory()
        self.batch_size_changed.emit()
