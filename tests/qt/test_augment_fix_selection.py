"""A hint's one-click fix keeps the step it changed selected, its form showing the change
(a walk-through: "Limit rotation to 90°" selected step 1, RandomResizedCrop, and the new
90 was out of view); its Undo selects the step as it was."""

from __future__ import annotations

import pytest

from helpers import make_image_folder
from test_augment_fixes import _button, _panel, _with_data
from workbench.core.registry import Component


@pytest.fixture
def arrows(tmp_path):
    return make_image_folder(tmp_path / "arrows", classes=("left", "right"), per_class=2,
                             size=28)


def test_the_limited_rotation_stays_selected_with_its_new_value(qtbot, arrows):
    panel = _panel(qtbot, [Component("RandomResizedCrop"), Component("ColorJitter"),
                           Component("RandomRotation", {"degrees": 170.0})])
    _with_data(qtbot, panel, arrows)
    panel.list.setCurrentRow(2)
    assert panel.form.values()["degrees"] == 170.0
    _button(panel, "Limit rotation to 90°").click()
    assert panel.experiment.augment.transforms[2].params["degrees"] == 90.0
    assert panel.list.currentRow() == 2
    assert panel.form.values()["degrees"] == 90.0
    panel.hint_view.undo_button.click()
    assert panel.list.currentRow() == 2
    assert panel.form.values()["degrees"] == 170.0
    panel.shutdown()


def test_the_fixed_step_is_selected_wherever_the_selection_was(qtbot, arrows):
    panel = _panel(qtbot, [Component("RandomResizedCrop"), Component("ColorJitter"),
                           Component("RandomRotation", {"degrees": 170.0})])
    _with_data(qtbot, panel, arrows)
    panel.list.setCurrentRow(1)
    _button(panel, "Limit rotation to 90°").click()
    assert panel.list.currentRow() == 2
    assert panel.form.values()["degrees"] == 90.0
    panel.shutdown()


def test_a_removed_step_leaves_the_step_that_took_its_place_selected(qtbot, arrows):
    panel = _panel(qtbot, [Component("RandomResizedCrop"), Component("RandomHorizontalFlip"),
                           Component("ColorJitter")])
    _with_data(qtbot, panel, arrows)
    panel.list.setCurrentRow(1)
    panel.remove_flips_button.click()
    assert [t.type for t in panel.experiment.augment.transforms] == [
        "RandomResizedCrop", "ColorJitter"]
    assert panel.list.currentItem().text().startswith("ColorJitter")
    panel.shutdown()


def test_the_row_after_a_fix_that_puts_a_step_in_or_removes_the_last():
    from workbench.core.data.augment.fixes import insert_before, remove
    from workbench.qt.panels.augment.edits import _row_after_fix

    steps = [Component("RandomHorizontalFlip"), Component("RandomCrop")]
    resize = insert_before(1, "RandomCrop", {"type": "Resize", "params": {"size": [74]}},
                           "Resize to 74 first")
    assert _row_after_fix(steps, resize, 0) == 1  # the Resize put in, before the crop
    assert _row_after_fix(steps, remove(1, "RandomCrop"), 1) == 0
    assert _row_after_fix(steps, remove(0, "RandomHorizontalFlip"), 1) == 0
    assert _row_after_fix(steps, remove(0, "Grayscale"), 1) == 1  # stale: left alone
