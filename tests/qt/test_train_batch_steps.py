"""The Train tab warns, before Start, of a batch size that leaves the training images too
few steps an epoch (walk-learner report, 3: the demo's 800 training images at batch size
1000 trained one step an epoch, 55 % after 8 epochs, and nothing said so), and its button
sets the batch size it proposes, as typing it would; the run line at Start says it too
(and so run.json's start_warnings)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder

SAID = ("The batch size (200) is larger than the 135 training images, so each epoch is a "
        "single step (the weights change once an epoch) and the network barely learns.")


def _panel(train_panel, tiny_experiment, tmp_path, batch_size=200):
    folder = make_image_folder(tmp_path / "sixty", per_class=60, size=16)
    tiny_experiment.data.folder = folder  # 180 images, 135 for training
    tiny_experiment.data.batch_size = batch_size
    panel = train_panel()
    panel.current.set_dataset(scan_folder(folder))  # the Data tab's scan
    return panel


def test_the_warning_shows_before_start_and_its_button_sets_the_batch_size(
        qtbot, train_panel, tiny_experiment, tmp_path):
    panel = _panel(train_panel, tiny_experiment, tmp_path)
    line = panel.setup.steps_line
    assert line.isVisibleTo(panel)
    assert line.label.text() == SAID and line.label.level == "warning"
    assert line.button.text() == "Set the batch size to 32"
    assert panel.start_button.isEnabled()  # a warning: Start is not blocked
    qtbot.mouseClick(line.button, Qt.MouseButton.LeftButton)
    assert panel.batch_spin.value() == 32 and panel.experiment.data.batch_size == 32
    assert not line.isVisibleTo(panel)
    panel.batch_spin.setValue(300)  # typed again: said again
    assert line.isVisibleTo(panel) and "batch size (300)" in line.label.text()


def test_nothing_is_said_at_a_batch_size_with_steps_enough_or_for_another_folder(
        qtbot, train_panel, tiny_experiment, tmp_path):
    panel = _panel(train_panel, tiny_experiment, tmp_path, batch_size=32)
    line = panel.setup.steps_line
    assert not line.isVisibleTo(panel)
    panel.current.set_dataset(scan_folder(make_image_folder(tmp_path / "other",
                                                            per_class=5)))
    panel.batch_spin.setValue(500)
    assert not line.isVisibleTo(panel)  # the scan is not of the experiment's folder


def test_the_run_line_at_start_says_it_with_where_the_fix_is(qtbot, train_panel,
                                                              tiny_experiment, tmp_path):
    from workbench.qt.panels.train.status import model_doctor_line

    panel = _panel(train_panel, tiny_experiment, tmp_path)
    text, level = model_doctor_line(panel.experiment, panel.current.dataset)
    assert level == "warning" and SAID[:-1] in text
    assert "“Set the batch size to 32” under Batch size fixes it for the next run." in text


def test_the_accumulation_is_counted_and_a_fix_that_lowers_it_sets_it(
        qtbot, train_panel, tiny_experiment, tmp_path):
    """training.accumulate: the weights change once every N batches. Batch 40 on 135
    images is 4 batches: 1 weight update accumulated over 64, which no batch size makes
    up for, so the fix lowers the accumulation too."""
    from workbench.qt.panels.train.fixes import apply_settings

    panel = _panel(train_panel, tiny_experiment, tmp_path, batch_size=40)
    line = panel.setup.steps_line
    assert not line.isVisibleTo(panel)
    apply_settings(panel.current, {"training.accumulate": 64})  # an edit of Accumulate
    assert line.isVisibleTo(panel)
    assert line.label.text() == (
        "The batch size (40) cuts the 135 training images into 4 batches, and with "
        "gradients accumulated over 64 batches (training.accumulate) the weights change "
        "once an epoch, so the network barely learns.")
    assert line.button.text() == "Set the batch size to 32 and do not accumulate"
    qtbot.mouseClick(line.button, Qt.MouseButton.LeftButton)
    assert panel.batch_spin.value() == 32 and panel.experiment.data.batch_size == 32
    assert panel.experiment.training.accumulate == 1
    assert not line.isVisibleTo(panel)
