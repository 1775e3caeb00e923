"""The Tune tab on imbalanced classes (walk-imbalance report, item 6). A line under Metric says
that val_acc mostly follows the large classes and names val_bal_acc, as the Data tab warns. The
Metric itself is left as it is. Class balance (``data.balance``) is a field to search, and the
space with it ticked is the SPACE.json that ``workbench tune`` reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder
from workbench.core.tune.space import SearchSpace

BALANCE = {"type": "categorical", "choices": ["none", "weighted_loss", "weighted_sampler"]}


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """'blue' 40 images of 16x16, 'green' and 'red' 4 each (the tune_panel's dataset)."""
    folder = tmp_path / "imbalanced"
    make_image_folder(folder, classes=("blue",), per_class=40, size=16)
    make_image_folder(folder, classes=("green", "red"), per_class=4, size=16)
    return folder


def _shown(qtbot, panel):
    panel.resize(1366, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel.metric_hint


def test_metric_says_why_on_imbalanced_classes_and_class_balance_is_searched(
        qtbot, tune_panel, image_folder, tmp_path):
    panel = tune_panel
    hint = _shown(qtbot, panel)
    assert hint.isHidden()  # no scan yet: nothing known of the classes
    panel.current.set_dataset(scan_folder(str(image_folder)))  # as the Data tab publishes it
    assert hint.isVisible() and hint.level == "warning"
    assert hint.text() == (
        "The classes are imbalanced (10.0x in training: 'blue' 30 / 'green' 3): val_acc "
        "mostly follows the large classes. val_bal_acc ranks trials by every class alike (a "
        "new study's Metric: a stored study keeps its own); tick Class balance to search it "
        "too.")
    qtbot.waitUntil(lambda: hint.height() >= hint.fontMetrics().lineSpacing())  # laid out
    assert panel.metric_combo.geometry().bottom() < hint.y() < panel.trials_spin.y()  # under it
    assert hint.height() <= 4 * hint.fontMetrics().lineSpacing() + 4  # its lines, no more
    assert panel.metric_combo.currentText() == "val_acc"  # never changed for the user

    editor = panel.editor
    assert editor.label_of("data.balance") == "Class balance"
    editor.set_checked("data.balance")
    assert hint.text().endswith("(a new study's Metric: a stored study keeps its own).")
    space = panel.space_dict()
    assert space["params"]["data.balance"] == BALANCE and space["metric"] == "val_acc"
    path = tmp_path / "space.json"
    panel.ask_save_path = lambda _parent, _suggested: str(path)
    panel.save_space()
    loaded = SearchSpace.load(path)  # as `workbench tune --space` reads it
    assert loaded.params["data.balance"].grid_values() == BALANCE["choices"]
    loaded.check(panel.experiment)

    panel.metric_combo.setCurrentText("val_bal_acc")
    assert hint.isHidden()
    panel.metric_combo.setCurrentText("val_loss")
    assert hint.isVisible() and "val_loss mostly follows the large classes" in hint.text()
    # Classes within 3x (the Data tab's rule): nothing to say.
    panel.experiment.data.exclude = [f"blue/blue_{i:03d}.png" for i in range(30)]
    assert hint.isHidden()


def test_nothing_is_said_for_balanced_classes_or_another_folders_scan(
        qtbot, tune_panel, image_folder, tmp_path):
    panel = tune_panel
    hint = _shown(qtbot, panel)
    balanced = make_image_folder(tmp_path / "balanced", per_class=12, size=16)
    panel.experiment.data.folder = balanced  # another dataset opened since the scan
    panel.current.set_dataset(scan_folder(str(image_folder)))
    assert hint.isHidden()
    panel.current.set_dataset(scan_folder(balanced))
    assert hint.isHidden()  # its own scan, and the classes are balanced
    panel.experiment.data.folder = str(image_folder)
    panel.current.set_dataset(scan_folder(str(image_folder)))
    assert hint.isVisible()
