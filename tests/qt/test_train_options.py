"""Train panel: the run options editor (device, precision, seed, gradients, early stopping),
bound two-way to ``experiment.training``."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionComboBox

from workbench.core.experiment import Experiment
from workbench.core.train.device import DeviceInfo, list_devices
from workbench.qt.panels.train.options import RunOptionsEditor, automatic_text, short_label

CPU = DeviceInfo("cpu", "CPU (2 cores, 7.8 GB RAM)", "cpu", 8 * 10**9)
GPU0 = DeviceInfo("cuda:0", "cuda:0 — NVIDIA H200 (139.8 GB)", "cuda", 150 * 10**9)
GPU1 = DeviceInfo("cuda:1", "cuda:1 — NVIDIA L4 (22.0 GB)", "cuda", 23 * 10**9)


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


@pytest.fixture
def editor(qtbot, tiny_experiment):
    w = RunOptionsEditor(tiny_experiment)
    qtbot.addWidget(w)
    return w


def _items(combo):
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]


def test_device_chooser_lists_this_machine_with_automatic_first(editor):
    combo = editor.device_combo
    devices = list_devices()  # the chooser was filled from the real list
    assert combo.isEnabled()
    assert combo.itemData(0) == "auto"
    # auto picks CUDA, then MPS, then the CPU (what resolve_device("auto") does)
    picked = next((d for kind in ("cuda", "mps", "cpu") for d in devices if d.kind == kind))
    assert combo.itemText(0) == automatic_text(picked)
    assert picked.label in combo.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert [combo.itemData(i) for i in range(1, len(devices) + 1)] == \
        [d.name for d in devices]
    assert [combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
            for i in range(1, len(devices) + 1)] == [d.label for d in devices]
    assert combo.currentData() == "cpu"  # tiny_experiment trains on the CPU


def test_automatic_names_the_gpu_it_would_pick(editor, tiny_experiment):
    tiny_experiment.training.device = "auto"
    editor.set_devices([CPU, GPU0, GPU1])
    combo = editor.device_combo
    assert _items(combo) == [("Automatic (cuda:0)", "auto"), ("CPU", "cpu"),
                             ("cuda:0 — H200", "cuda:0"), ("cuda:1 — L4", "cuda:1")]
    assert combo.currentData() == "auto"
    # The details are in the tooltips: the chosen device's first, in the box's own.
    assert GPU0.label in combo.toolTip()
    assert combo.itemData(1, Qt.ItemDataRole.ToolTipRole) == CPU.label
    assert editor.editor("amp").isEnabled()  # auto means the GPU here: precision applies
    editor.set_devices([CPU])
    assert combo.itemText(0) == "Automatic (CPU)"
    assert not editor.editor("amp").isEnabled()


def test_device_of_another_machine_stays_selected_with_a_warning(editor, tiny_experiment):
    tiny_experiment.training.device = "cuda:1"
    before = tiny_experiment.to_dict()
    editor.set_devices([CPU, GPU0])
    combo = editor.device_combo
    assert combo.currentData() == "cuda:1"
    assert combo.currentText() == "cuda:1 (not here)"
    assert not editor.device_warning.isHidden()
    assert "cuda:1" in editor.device_warning.text()
    assert "choose Automatic" in editor.device_warning.text()
    assert tiny_experiment.to_dict() == before  # showing it changed nothing

    combo.setCurrentIndex(combo.findData("cuda:0"))  # the user picks a GPU that is here
    assert tiny_experiment.training.device == "cuda:0"
    assert editor.device_warning.isHidden()


def test_choosing_a_device_writes_it_and_enables_gpu_options(editor, tiny_experiment,
                                                             qtbot):
    editor.set_devices([CPU, GPU0])
    amp, channels_last = editor.editor("amp"), editor.editor("channels_last")
    assert not amp.isEnabled() and not channels_last.isEnabled()  # cpu
    assert "CUDA GPU" in amp.toolTip()
    combo = editor.device_combo
    with qtbot.waitSignal(editor.changed, timeout=1000):
        combo.setCurrentIndex(combo.findData("cuda:0"))
    assert tiny_experiment.training.device == "cuda:0"
    assert amp.isEnabled() and channels_last.isEnabled()
    assert not amp.toolTip().startswith("Applies on a CUDA GPU only")
    combo.setCurrentIndex(combo.findData("auto"))
    assert tiny_experiment.training.device == "auto"
    tiny_experiment.copy().validate()


def test_widget_edits_write_the_experiment(editor, tiny_experiment):
    t = tiny_experiment.training
    changed = []
    editor.changed.connect(lambda: changed.append(1))
    editor.editor("seed").setValue(42)
    editor.editor("deterministic").setChecked(True)
    editor.editor("grad_clip").setValue(1.5)
    editor.editor("accumulate").setValue(4)
    editor.editor("monitor").setCurrentIndex(editor.editor("monitor").findData("val_acc"))
    editor.editor("early_stopping").setChecked(True)
    editor.editor("patience").setValue(3)
    editor.editor("min_delta").setValue(0.002)
    editor.editor("restore_best").setChecked(False)
    editor.set_devices([CPU, GPU0])
    editor.device_combo.setCurrentIndex(editor.device_combo.findData("cuda:0"))
    editor.editor("amp").setCurrentIndex(editor.editor("amp").findData("bf16"))
    editor.editor("channels_last").setChecked(False)
    assert (t.seed, t.deterministic, t.grad_clip, t.accumulate) == (42, True, 1.5, 4)
    assert (t.monitor, t.early_stopping, t.patience) == ("val_acc", True, 3)
    assert t.min_delta == pytest.approx(0.002) and t.restore_best is False
    assert (t.device, t.amp, t.channels_last) == ("cuda:0", "bf16", False)
    assert len(changed) == 12
    assert Experiment.from_json(tiny_experiment.to_json()).training == t  # valid as written


def test_experiment_values_show_in_the_widgets_without_echo(editor, tiny_experiment):
    other = tiny_experiment.copy()
    t = other.training
    t.device, t.amp, t.channels_last = "cuda:0", "fp16", False
    t.seed, t.deterministic, t.grad_clip, t.accumulate = 7, True, 0.5, 8
    t.monitor, t.early_stopping, t.patience, t.min_delta, t.restore_best = \
        "train_loss", True, 12, 0.01, False
    before = other.to_dict()
    changed = []
    editor.changed.connect(lambda: changed.append(1))
    editor.set_devices([CPU, GPU0])
    editor.set_experiment(other)
    assert editor.device_combo.currentData() == "cuda:0"
    assert editor.editor("amp").currentData() == "fp16"
    assert not editor.editor("channels_last").isChecked()
    assert editor.editor("seed").value() == 7
    assert editor.editor("deterministic").isChecked()
    assert editor.editor("grad_clip").value() == pytest.approx(0.5)
    assert editor.editor("accumulate").value() == 8
    assert editor.editor("monitor").currentData() == "train_loss"
    assert editor.editor("early_stopping").isChecked()
    assert editor.editor("patience").value() == 12 and editor.editor("patience").isEnabled()
    assert editor.editor("min_delta").value() == pytest.approx(0.01)
    assert not editor.editor("restore_best").isChecked()
    assert changed == [] and other.to_dict() == before

    editor.editor("seed").setValue(8)  # edits now go to the new experiment
    assert other.training.seed == 8 and tiny_experiment.training.seed == 0


def test_early_stopping_settings_apply_only_when_it_is_on(editor, tiny_experiment):
    patience, min_delta, restore = (editor.editor(n) for n in
                                    ("patience", "min_delta", "restore_best"))
    assert not tiny_experiment.training.early_stopping
    assert not patience.isEnabled() and not min_delta.isEnabled() and not restore.isEnabled()
    assert "early_stopping is on" in patience.toolTip()
    editor.editor("early_stopping").setChecked(True)
    assert tiny_experiment.training.early_stopping is True
    assert patience.isEnabled() and min_delta.isEnabled() and restore.isEnabled()
    editor.editor("early_stopping").setChecked(False)
    assert not patience.isEnabled()


def test_running_locks_the_options_and_keeps_the_dependent_states(editor, tiny_experiment):
    editor.set_running(True)
    assert not editor.isEnabled()
    assert not editor.editor("seed").isEnabled()
    editor.set_running(False)
    assert editor.editor("seed").isEnabled()
    assert not editor.editor("patience").isEnabled()  # early stopping is still off
    assert not editor.editor("amp").isEnabled()  # still the CPU


def test_before_torch_the_chooser_shows_the_experiment_device(qtbot, monkeypatch):
    import workbench.qt.panels.train.options as mod

    waiting = []
    monkeypatch.setattr(mod, "when_torch_ready", lambda fn, owner=None: waiting.append(fn))
    exp = Experiment()
    exp.training.device = "cuda:2"
    w = RunOptionsEditor(exp)
    qtbot.addWidget(w)
    assert not w.device_combo.isEnabled()
    assert w.device_combo.currentText() == "cuda:2"
    assert w.editor("seed").isEnabled()  # the rest needs no torch
    waiting[0]()  # torch is ready: the real list arrives
    assert w.device_combo.isEnabled()
    assert w.device_combo.currentText() == "cuda:2 (not here)" or \
        w.device_combo.currentData() == "cuda:2"
    assert exp.training.device == "cuda:2"


def test_loader_workers_are_bound_both_ways(qtbot):
    from workbench.core.experiment import Experiment
    from workbench.qt.panels.train.options import RunOptionsEditor

    exp = Experiment()
    editor = RunOptionsEditor(exp)
    qtbot.addWidget(editor)
    with qtbot.waitSignal(editor.changed, timeout=WAIT_MS):
        editor.workers_spin.setValue(3)
    assert exp.data.num_workers == 3
    exp.data.num_workers = 1
    editor.refresh()
    assert editor.workers_spin.value() == 1 and exp.data.num_workers == 1


def _text_room(combo) -> int:
    """Width of the box's text field as laid out (the box less its arrow and frame)."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    return combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                        QStyle.SubControl.SC_ComboBoxEditField, combo).width()


@pytest.mark.parametrize("width", [690, 1040])  # the settings' width at 1100 and 1366
def test_the_device_box_shows_its_text_whole_at_laptop_widths(qtbot, tiny_experiment, width):
    """It read "Automatic: CPU (2" at 1100x780."""
    tiny_experiment.training.device = "auto"
    w = RunOptionsEditor(tiny_experiment)
    qtbot.addWidget(w)
    w.set_devices([CPU, GPU0, GPU1])
    w.resize(width, 200)
    w.show()
    qtbot.waitExposed(w)
    QApplication.processEvents()
    combo = w.device_combo
    assert w.minimumSizeHint().width() <= width  # fits without scrolling the settings
    assert w.width() <= width
    metrics = combo.fontMetrics()
    for i in range(combo.count()):  # whichever is chosen, it is shown whole
        assert metrics.horizontalAdvance(combo.itemText(i)) <= _text_room(combo), \
            combo.itemText(i)
    assert combo.currentText() == "Automatic (cuda:0)"


def test_short_labels_keep_what_tells_devices_apart():
    from workbench.core.train.device import DeviceInfo

    assert short_label(CPU) == "CPU"
    assert short_label(GPU0) == "cuda:0 — H200"
    assert short_label(DeviceInfo("mps", "Apple GPU (MPS)", "mps")) == "Apple GPU (MPS)"
    long_name = DeviceInfo("cuda:3", "cuda:3 — NVIDIA GeForce RTX 4090 Laptop GPU (16.0 GB)",
                           "cuda")
    assert short_label(long_name) == "cuda:3"
