"""The Train panel's run options: device, precision, seed, gradient handling, early stopping.

:class:`RunOptionsEditor` edits the run fields of ``experiment.training`` in three groups,
"Device", "Run" and "Best epoch & early stopping". Every editor but the device's comes from
the :class:`~workbench.core.registry.Param` declared in the field's metadata (a
:class:`~workbench.qt.forms.ParamForm` per group), so bounds, choices and help text are
those the core validates with. The device is a chooser of what this machine has
(:func:`workbench.core.train.device.list_devices`), "Automatic" first, naming what it would
pick. Its items are short ("Automatic (CPU)", "cuda:0 — H200"), so the box shows them whole
at a laptop's width; the details (cores, memory, the GPU's full name) are in each item's
tooltip and in the box's.

Binding is two-way, as in :class:`~.settings.ComponentEditor`: an edit writes the
Experiment at once and emits :attr:`~RunOptionsEditor.changed`; :meth:`refresh` shows the
Experiment without echoing it back. Listing the devices imports torch, so the list is filled
once torch is imported (:func:`~workbench.qt.startup.when_torch_ready`); until then the
chooser shows the Experiment's device string alone.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QSpinBox, QVBoxLayout, QWidget)

from workbench.core.experiment import DataConfig, Experiment, TrainingConfig
from workbench.core.registry import Entry, Param
from workbench.core.train.metric_words import METRIC_WORDS

from workbench.qt.common import MessageLabel
from workbench.qt.forms import ParamForm, param_tooltip
from workbench.qt.startup import when_torch_ready

#: The groups and the ``training`` fields each edits, in order. (Epochs stay with the
#: panel's Start button.)
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Device", ("amp", "channels_last")),  # the device chooser comes first in this group
    ("Run", ("seed", "deterministic", "grad_clip", "accumulate", "feature_cache",
             "feature_views")),
    ("Best epoch && early stopping", ("monitor", "early_stopping", "patience", "min_delta",
                                      "restore_best")),
)
CUDA_ONLY = ("amp", "channels_last")
EARLY_STOPPING_ONLY = ("patience", "min_delta", "restore_best")
CUDA_ONLY_TIP = "Applies on a CUDA GPU only; the chosen device is not one."
EARLY_STOPPING_TIP = "Used only when early_stopping is on."

# Steps of a spin box that suit the value (the form's default step follows the declared
# range, 1.0 for these, which is far too coarse for a clipping norm or a tolerance).
_STEPS = {"grad_clip": (0.1, 3), "min_delta": (0.001, 4)}


def training_param(name: str) -> Param:
    """The :class:`Param` declared for ``training.<name>``."""
    for f in dataclasses.fields(TrainingConfig):
        if f.name == name:
            return f.metadata["param"]
    raise KeyError(name)


def device_kind(name: str) -> str:
    """``"cuda"``, ``"mps"`` or ``"cpu"`` for an Experiment's device string."""
    return "cuda" if name.startswith("cuda") else name


#: Longest device text shown as it is; longer labels are shortened (:func:`short_label`).
_SHORT = 20


def short_label(device: Any) -> str:
    """A device's name for the chooser: its label when short ("Apple GPU (MPS)"), else
    without the details in brackets and the vendor ("CPU", "cuda:0 — H200"), else its
    device string ("cuda:0"). The full label is the item's tooltip."""
    label = str(device.label)
    if len(label) <= _SHORT:
        return label
    short = label.split(" (", 1)[0].replace("NVIDIA ", "")
    return short if len(short) <= _SHORT + 4 else str(device.name)


def automatic_text(device: Any) -> str:
    """The "Automatic" item, naming what it picks here: "Automatic (CPU)", "Automatic
    (cuda:0)"."""
    if device is None:
        return "Automatic"
    return f"Automatic ({'CPU' if device.kind == 'cpu' else device.name})"


class RunOptionsEditor(QWidget):
    """Editors for the run options of ``experiment.training``.

    Parameters
    ----------
    experiment
        The Experiment edited (or later, :meth:`set_experiment`).
    parent
        The parent widget.

    Signals
    -------
    changed()
        The user changed one of the options (the Experiment already holds it).
    """

    changed = Signal()

    def __init__(self, experiment: Experiment | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.experiment = experiment
        self.devices: list[Any] | None = None  # DeviceInfo list, once torch is imported
        self.missing_device = ""  # the Experiment's device when this machine lacks it
        self.forms: dict[str, ParamForm] = {}
        self.groups: list[QGroupBox] = []
        self.device_combo = QComboBox()
        self.device_combo.setToolTip(training_param("device").help)
        # As wide as its longest (short) item, so the chosen device is never cut off.
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.device_combo.setEnabled(False)  # filled once torch is imported
        self.device_combo.currentIndexChanged.connect(self._on_device_chosen)
        self.device_warning = MessageLabel("")
        self.device_warning.hide()
        # data.num_workers: how images are loaded is a device matter to the person training.
        workers_param = next(f.metadata["param"] for f in dataclasses.fields(DataConfig)
                             if f.name == "num_workers")
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(int(workers_param.min), int(workers_param.max))
        self.workers_spin.setToolTip(workers_param.help)
        self.workers_spin.valueChanged.connect(self._on_workers_edited)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for title, names in GROUPS:
            box = QGroupBox(title)
            box_layout = QVBoxLayout(box)
            form = ParamForm(Entry(title, _no_builder, tuple(training_param(n) for n in names)))
            form.layout().setContentsMargins(0, 0, 0, 0)
            form.changed.connect(self._on_form_edited)
            if title == "Device":
                device_row = QFormLayout()
                device_row.setContentsMargins(0, 0, 0, 0)
                # The whole row, under the group's title "Device": the box keeps the width
                # its items need when the Train tab is narrow.
                device_row.addRow(self.device_combo)
                device_row.addRow("loader workers", self.workers_spin)
                box_layout.addLayout(device_row)
                box_layout.addWidget(self.device_warning)
            box_layout.addWidget(form)
            box_layout.addStretch(1)
            for name in names:
                self.forms[name] = form
            self.groups.append(box)
            row.addWidget(box, 1)
        for name, (step, decimals) in _STEPS.items():
            box = self.editor(name)
            if isinstance(box, QDoubleSpinBox):
                box.setDecimals(decimals)
                box.setSingleStep(step)
        self._explain_monitor()
        when_torch_ready(self._load_devices, self)
        self.refresh()

    def _explain_monitor(self) -> None:
        """Each metric of the monitor chooser in words, in its item's tooltip (the items
        are the keys, as the Tune tab's Metric shows them: words beside them made the row
        too wide at a laptop's width)."""
        monitor = self.editor("monitor")
        for i in range(monitor.count()):
            if monitor.itemData(i) in METRIC_WORDS:
                monitor.setItemData(i, METRIC_WORDS[monitor.itemData(i)],
                                    Qt.ItemDataRole.ToolTipRole)

    def editor(self, name: str) -> QWidget:
        """The editor of ``training.<name>`` (the device chooser for ``"device"``)."""
        if name == "device":
            return self.device_combo
        return self.forms[name].editors[name]

    # -- devices -------------------------------------------------------------------------
    def _load_devices(self) -> None:
        from workbench.core.train.device import list_devices

        self.set_devices(list_devices())

    def set_devices(self, devices: Sequence[Any]) -> None:
        """List ``devices`` (:class:`~workbench.core.train.device.DeviceInfo`, the CPU
        first) in the chooser, after "Automatic"."""
        self.devices = list(devices)
        self.device_combo.setEnabled(True)
        self.refresh()

    def auto_device(self) -> Any:
        """The listed device ``auto`` would pick (CUDA, then MPS, then the CPU, as
        :func:`~workbench.core.train.device.resolve_device` does), or None before the
        list is known."""
        if not self.devices:
            return None
        for kind in ("cuda", "mps"):
            for d in self.devices:
                if d.kind == kind:
                    return d
        return self.devices[0]

    def _fill_devices(self, current: str) -> None:
        """Rebuild the chooser's items: Automatic, the listed devices, and ``current``
        when it is not among them (a device of another machine)."""
        combo = self.device_combo
        self.missing_device = ""
        combo.blockSignals(True)
        try:
            combo.clear()
            if self.devices is None:
                combo.addItem(current, current)  # what the Experiment says, until known
                return
            auto = self.auto_device()
            self._add_device_item(automatic_text(auto), "auto",
                                  "Automatic: a CUDA GPU, else an Apple GPU, else the CPU"
                                  + (f"; here {auto.label}" if auto else ""))
            for d in self.devices:
                self._add_device_item(short_label(d), d.name, d.label)
            if combo.findData(current) < 0:
                # Kept selectable (and selected): the file may be meant for another machine.
                first_gpu = next((d for d in self.devices if d.kind == "cuda"), None)
                if current == "cuda" and first_gpu is not None:
                    self._add_device_item("cuda (current GPU)", current,
                                          f"cuda: the current GPU, here {first_gpu.label}")
                else:
                    self._add_device_item(f"{current} (not here)", current,
                                          f"{current}: not on this machine")
                    self.missing_device = current
            combo.setCurrentIndex(combo.findData(current))
        finally:
            combo.blockSignals(False)
        self._show_device_tip()

    def _add_device_item(self, text: str, name: str, details: str) -> None:
        combo = self.device_combo
        combo.addItem(text, name)
        combo.setItemData(combo.count() - 1, details, Qt.ItemDataRole.ToolTipRole)

    def _show_device_tip(self) -> None:
        """The box's tooltip: the chosen device in full, then what the setting does."""
        combo, help_text = self.device_combo, training_param("device").help
        details = combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole)
        combo.setToolTip(f"{details}\n\n{help_text}" if details else help_text)

    def _show_device_state(self) -> None:
        """The warning for a device this machine lacks, and which options apply."""
        name = self.experiment.training.device if self.experiment is not None else "auto"
        warning = ""
        if name and name == self.missing_device:
            warning = (f"training.device: {name} is not on this machine, so a run here would "
                       f"fail: choose Automatic or a listed device")
        self.device_warning.show_message(warning, "warning")
        self.device_warning.setVisible(bool(warning))
        if name == "auto":
            auto = self.auto_device()
            kind = auto.kind if auto is not None else "cuda"  # unknown yet: leave them on
        else:
            kind = device_kind(name)
        for option in CUDA_ONLY:
            self._set_applies(option, kind == "cuda", CUDA_ONLY_TIP)

    def _show_early_stopping_state(self) -> None:
        on = bool(self.experiment.training.early_stopping) if self.experiment else False
        for option in EARLY_STOPPING_ONLY:
            self._set_applies(option, on, EARLY_STOPPING_TIP)

    def _set_applies(self, name: str, applies: bool, why_not: str) -> None:
        """Enable ``name``'s editor (and label) when it applies; else grey it out and say
        why in its tooltip."""
        editor = self.editor(name)
        tip = param_tooltip(training_param(name))
        editor.setEnabled(applies)
        editor.setToolTip(tip if applies else f"{why_not} {tip}")
        form_layout = self.forms[name].layout()
        label = form_layout.labelForField(editor) if isinstance(form_layout, QFormLayout) \
            else None
        if label is not None:
            label.setEnabled(applies)
            label.setToolTip(editor.toolTip())

    # -- binding -------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.refresh()

    def refresh(self) -> None:
        """Show the Experiment's run options (without writing anything back)."""
        if self.experiment is None:
            return
        t = self.experiment.training
        self._fill_devices(t.device)
        self.workers_spin.blockSignals(True)
        try:
            self.workers_spin.setValue(self.experiment.data.num_workers)
        finally:
            self.workers_spin.blockSignals(False)
        values = {f.name: getattr(t, f.name) for f in dataclasses.fields(t)}
        for form in set(self.forms.values()):
            form.set_values(values)
        self._show_device_state()
        self._show_early_stopping_state()

    def set_running(self, running: bool) -> None:
        """Lock the options while a run goes (the run uses the values it started with)."""
        self.setEnabled(not running)
        self.setToolTip("The run uses the options it started with; stop it to change them."
                        if running else "")

    # -- edits ---------------------------------------------------------------------------
    @Slot(int)
    def _on_device_chosen(self, index: int) -> None:
        name = self.device_combo.itemData(index)
        if self.experiment is None or not name or name == self.experiment.training.device:
            return
        self.experiment.training.device = str(name)
        self._show_device_tip()
        self._show_device_state()
        self.changed.emit()

    @Slot(int)
    def _on_workers_edited(self, value: int) -> None:
        if self.experiment is None or value == self.experiment.data.num_workers:
            return
        self.experiment.data.num_workers = int(value)
        self.changed.emit()

    @Slot(dict)
    def _on_form_edited(self, values: dict) -> None:
        if self.experiment is None:
            return
        t = self.experiment.training
        for name, value in values.items():
            setattr(t, name, value)
        self._show_early_stopping_state()
        self.changed.emit()


def _no_builder(**_: Any) -> None:
    """The groups' forms are built from an :class:`Entry` that nothing builds."""
    return None


def _main() -> int:
    import sys

    from workbench.qt.common import run_standalone

    exp = Experiment()
    if len(sys.argv) > 1:
        exp.training.device = sys.argv[1]  # e.g. cuda:3, to see a device of another machine
    return run_standalone(lambda: RunOptionsEditor(exp), "Run options")


if __name__ == "__main__":
    raise SystemExit(_main())
