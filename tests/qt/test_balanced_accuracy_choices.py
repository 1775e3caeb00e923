"""The validation balanced accuracy (val_bal_acc) in the app: the Train tab's best-epoch
metric offers it in words, the run's lines say it when it picks the best epoch, the Tune tab's
Metric offers it, and the Data tab's imbalance warning points to it."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from qt_helpers import loaded_data_panel
from helpers import make_image_folder

RUN_TIMEOUT_MS = 120000


def test_the_best_epoch_metric_offers_the_balanced_accuracy_in_words(qtbot, tiny_experiment):
    from workbench.core.experiment import Experiment
    from workbench.qt.panels.train.options import RunOptionsEditor

    editor = RunOptionsEditor(tiny_experiment)
    qtbot.addWidget(editor)
    combo = editor.editor("monitor")
    i = combo.findData("val_bal_acc")
    assert i >= 0 and combo.itemText(i) == "val_bal_acc"  # the words in its tooltip
    tip = combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
    assert "balanced accuracy" in tip and "recall" in tip and "largest" in tip
    assert "val_bal_acc, the balanced accuracy" in combo.toolTip()
    combo.setCurrentIndex(i)
    assert tiny_experiment.training.monitor == "val_bal_acc"
    assert Experiment.from_json(tiny_experiment.to_json()).training.monitor == "val_bal_acc"


@pytest.mark.parametrize("width", [690, 1040])  # the settings' width at 1100 and 1366
def test_the_metric_is_shown_whole_at_laptop_widths(qtbot, tiny_experiment, width):
    from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionComboBox

    from workbench.qt.panels.train.options import RunOptionsEditor

    tiny_experiment.training.monitor = "val_bal_acc"
    editor = RunOptionsEditor(tiny_experiment)
    qtbot.addWidget(editor)
    editor.resize(width, 260)
    editor.show()
    qtbot.waitExposed(editor)
    QApplication.processEvents()
    assert editor.minimumSizeHint().width() <= width and editor.width() <= width
    combo = editor.editor("monitor")
    assert combo.currentText() == "val_bal_acc"
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    room = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                        QStyle.SubControl.SC_ComboBoxEditField, combo).width()
    assert combo.fontMetrics().horizontalAdvance(combo.currentText()) <= room
    assert combo.visibleRegion().boundingRect().width() == combo.width()  # not cut off
    assert combo.geometry().right() <= combo.parentWidget().contentsRect().right()


def test_a_run_that_follows_it_says_it_each_epoch_and_at_the_end(qtbot, train_panel):
    panel = train_panel(epochs=2)
    panel.experiment.training.monitor = "val_bal_acc"
    epoch_lines = []
    # Connected after the panel's own slot: hears the line the panel has just shown.
    panel.run.epoch_finished.connect(lambda m: epoch_lines.append(panel.status.text()))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start_button.click()
    summary = blocker.args[0]
    history = summary["history"]
    assert summary["best"]["metric"] == "val_bal_acc"
    assert len(epoch_lines) == 2
    for line, m in zip(epoch_lines, history):
        assert f"balanced accuracy {100 * m['val_bal_acc']:.1f}%" in line, line
    kept = summary["model"]["metrics"]
    assert f"balanced accuracy {100 * kept['val_bal_acc']:.1f}%" in panel.status.text()


def test_tune_ranks_trials_by_it_if_asked(qtbot, tiny_experiment):
    from workbench.core.tune.space import SearchSpace
    from workbench.qt.panels.tune.panel import TunePanel

    panel = TunePanel(tiny_experiment)
    qtbot.addWidget(panel)
    combo = panel.metric_combo
    i = combo.findText("val_bal_acc")
    assert i >= 0
    assert "balanced accuracy" in combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(i)
    assert "balanced accuracy" in combo.toolTip()
    space = SearchSpace.from_dict(panel.space_dict())
    assert (space.metric, space.direction) == ("val_bal_acc", "maximize")
    panel.shutdown()


def test_the_imbalance_warning_points_to_the_balanced_accuracy(qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "skewed", classes=("few", "many"), per_class=4)
    for i in range(36):
        Image.new("RGB", (4, 4)).save(tmp_path / "skewed" / "many" / f"more{i}.png")
    panel = loaded_data_panel(qtbot, folder)
    label = panel.settings.imbalance_label
    qtbot.waitUntil(lambda: label.level == "warning", timeout=30000)
    assert "the Train tab's best epoch can follow the balanced accuracy" in label.text()
    assert "val_bal_acc" in label.toolTip() and "'many'" in label.toolTip()
    # Compensated: the line says so, without the advice.
    combo = panel.settings.balance_combo
    combo.setCurrentIndex(combo.findData("weighted_loss"))
    assert label.level == "info" and "balanced accuracy" not in label.text()
    assert "val_bal_acc" not in label.toolTip()
