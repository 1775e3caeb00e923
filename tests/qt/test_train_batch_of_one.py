"""The Train tab notes, under the Batch size box, that batches of one image (without
BatchNorm) are noisy and slow (walk-explain report, 5: 168-192 s an epoch against 7-13 s at
32, and no word), with a button that sets the batch size the fixes propose; the run line at
Start says it too. With BatchNorm the Model doctor's refusal says it instead."""

from __future__ import annotations

from PySide6.QtCore import Qt

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder

SAID = ("The batch size is 1, so each of the 135 steps an epoch learns from a single image: "
        "its gradient is noisy, and an epoch takes many times longer than in batches of 32 "
        "(5 steps).")


def _panel(train_panel, tiny_experiment, tmp_path):
    folder = make_image_folder(tmp_path / "sixty", per_class=60, size=16)
    tiny_experiment.data.folder = folder  # 180 images, 135 for training
    tiny_experiment.data.batch_size = 1
    panel = train_panel()
    panel.current.set_dataset(scan_folder(folder))  # the Data tab's scan
    return panel


def test_batches_of_one_are_noted_and_the_button_sets_the_usual_size(
        qtbot, train_panel, tiny_experiment, tmp_path):
    from workbench.qt.panels.train.status import model_doctor_line

    panel = _panel(train_panel, tiny_experiment, tmp_path)
    line = panel.setup.steps_line
    assert line.isVisibleTo(panel)
    assert line.label.text() == SAID
    assert line.button.text() == "Set the batch size to 32"
    text, _ = model_doctor_line(panel.experiment, panel.current.dataset)
    assert SAID[:-1] in text and "“Set the batch size to 32” under Batch size" in text
    qtbot.mouseClick(line.button, Qt.MouseButton.LeftButton)
    assert panel.batch_spin.value() == 32 and panel.experiment.data.batch_size == 32
    assert not line.isVisibleTo(panel)
    panel.batch_spin.setValue(1)  # typed again: said again
    assert line.isVisibleTo(panel) and line.label.text() == SAID


def test_with_batchnorm_the_refusal_says_it_not_this_note(qtbot, train_panel,
                                                          tiny_experiment, tmp_path):
    from workbench.core.registry import Component

    panel = _panel(train_panel, tiny_experiment, tmp_path)
    line = panel.setup.steps_line
    assert line.isVisibleTo(panel)
    layers = list(panel.experiment.model.layers)
    layers.insert(2, Component("BatchNorm1d"))
    panel.experiment.model.layers = layers  # a Model tab edit
    assert not line.isVisibleTo(panel)
