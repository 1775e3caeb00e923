"""Data panel settings: two-way binding with experiment.data, normalisation statistics."""

from __future__ import annotations

import threading

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.qt.panels.data import settings as data_settings
from qt_helpers import loaded_data_panel
from workbench.qt.panels.data.panel import DataPanel




def test_widgets_write_the_experiment(qtbot):
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    s, d = panel.settings, panel.experiment.data
    changes = []
    panel.experiment_changed.connect(lambda: changes.append(1))
    s.val_fraction.setValue(0.3)
    s.seed.setValue(7)
    s.height_spin.setValue(48)
    s.width_spin.setValue(64)
    s.balance_combo.setCurrentIndex(s.balance_combo.findData("weighted_sampler"))
    s.norm_combo.setCurrentIndex(s.norm_combo.findData("ImageNet"))
    assert (d.val_fraction, d.seed, d.input_size, d.balance) == \
        (0.3, 7, [48, 64], "weighted_sampler")
    assert d.mean == pytest.approx([0.485, 0.456, 0.406])
    s.channels_combo.setCurrentIndex(s.channels_combo.findData(1))
    assert d.channels == 1
    assert d.mean == pytest.approx([(0.485 + 0.456 + 0.406) / 3], abs=1e-3)  # gray ImageNet
    assert s.norm_combo.currentData() == "ImageNet"
    assert len(changes) >= 7
    again = Experiment.from_json(panel.experiment.to_json())  # still a valid experiment
    assert again.data.channels == 1 and again.data.balance == "weighted_sampler"


def test_experiment_values_show_in_the_widgets(qtbot):
    exp = Experiment()
    exp.data.val_fraction, exp.data.seed, exp.data.input_size = 0.1, 3, [20, 30]
    exp.data.channels, exp.data.mean, exp.data.std = 1, [0.25], [0.125]
    exp.data.balance = "weighted_loss"
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    changes = []
    panel.experiment_changed.connect(lambda: changes.append(1))
    panel.set_experiment(exp)
    s = panel.settings
    assert (s.val_fraction.value(), s.seed.value(), s.height_spin.value(),
            s.width_spin.value()) == (0.1, 3, 20, 30)
    assert s.channels_combo.currentData() == 1
    assert s.balance_combo.currentData() == "weighted_loss"
    assert s.norm_combo.currentData() == data_settings.CUSTOM
    assert "0.250" in s.norm_values.text() and "0.125" in s.norm_values.text()
    assert changes == []  # showing values does not write them back
    assert exp.data.mean == [0.25]


def test_compute_mean_std_stores_the_result(qtbot, image_folder):
    panel = loaded_data_panel(qtbot, image_folder)
    s = panel.settings
    assert s.compute_button.isEnabled()
    with qtbot.waitSignal(s.normalization_computed, timeout=20000) as blocker:
        s.compute_button.click()
    mean, std = blocker.args
    d = panel.experiment.data
    assert d.mean == mean and d.std == std and len(mean) == 3
    # The fixture's classes are pure-ish blue, green and red: every channel is lit in a
    # third of the images, so the means sit well inside (0, 1).
    assert all(0.1 < m < 0.6 for m in mean) and all(s_ > 0.1 for s_ in std)
    assert s.norm_combo.currentData() == data_settings.CUSTOM
    assert s.stats_progress.isHidden() and s.stats_message.level == "ok"


def test_compute_can_be_cancelled_and_changes_nothing(qtbot, image_folder, monkeypatch):
    started, saw_cancel = threading.Event(), threading.Event()

    def slow(samples, experiment, state):
        started.set()
        while not state.is_cancelled():
            started.wait(0.01)
        saw_cancel.set()
        raise WorkbenchError("cancelled")

    monkeypatch.setattr(data_settings, "_compute_mean_std", slow)
    panel = loaded_data_panel(qtbot, image_folder)
    s = panel.settings
    before = (list(panel.experiment.data.mean), list(panel.experiment.data.std))
    s.compute_button.click()
    assert s.cancel_button.isVisibleTo(panel) and not s.compute_button.isEnabled()
    qtbot.waitUntil(started.is_set, timeout=10000)
    s.cancel_button.click()
    qtbot.waitUntil(saw_cancel.is_set, timeout=10000)
    assert (panel.experiment.data.mean, panel.experiment.data.std) == before
    assert s.stats_progress.isHidden() and not s.cancel_button.isVisibleTo(panel)
    assert s.compute_button.isEnabled()
    assert "Cancelled" in s.stats_message.text()


def test_a_class_of_one_image_is_said_to_be_never_validated(qtbot, tmp_path):
    """A walkthrough: a class of one image (none held out for validation) got no word in
    the Data tab, though `train` and `check` now note it."""
    from PIL import Image

    from helpers import make_image_folder
    from qt_helpers import loaded_data_panel

    root = make_image_folder(tmp_path / "d", classes=("blue", "red"), per_class=6)
    (tmp_path / "d" / "único").mkdir()
    Image.new("RGB", (16, 16), (0, 200, 0)).save(tmp_path / "d" / "único" / "one.png")
    panel = loaded_data_panel(qtbot, root)
    text = panel.message.text()
    assert text.startswith("Ready: 3 classes, 13 images.")
    assert "class 'único' has 1 image" in text and "not measured" in text
