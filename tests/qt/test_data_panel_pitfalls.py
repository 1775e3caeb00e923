"""Data tab: opening the test part of a dataset with parts, or a dataset of a handful of
validation images, says so in the tab's message, in the words ``workbench train`` warns
with (workbench.core.data.pitfalls.data_warnings)."""

from __future__ import annotations

import os

from helpers import make_image_folder
from qt_helpers import loaded_data_panel


def test_opening_the_test_part_says_which_folder_to_open_instead(qtbot, tmp_path):
    root = tmp_path / "split"
    for part, n in (("train", 10), ("val", 8), ("test", 5)):
        make_image_folder(root / part, per_class=n, size=8)
    panel = loaded_data_panel(qtbot, root / "test")
    text = panel.message.text()
    assert panel.message.level == "warning"
    assert text.startswith("Ready: 3 classes, 15 images. Warning: ")
    assert (f"Warning: {root / 'test'} is the test part of the dataset {root} (it has train/ "
            f"beside it): it is kept to measure the finished model on images it never saw, "
            f"so training on it leaves nothing unseen to judge the model by. Train on {root} "
            f"instead: it trains on train/, validates on val/ and keeps test/ for "
            f"evaluation.") in text
    assert "Warning: Only 3 validation images: one image moves accuracy by 33 points" in text
    # The dataset itself: its parts are used as they should be; 24 validation images.
    panel = loaded_data_panel(qtbot, root)
    assert "Warning" not in panel.message.text() and panel.message.level == "ok"


def test_a_handful_of_validation_images_is_warned(qtbot, tmp_path):
    panel = loaded_data_panel(qtbot, make_image_folder(tmp_path / "few", per_class=2))
    assert panel.message.level == "warning"
    assert panel.message.text() == (
        "Ready: 3 classes, 6 images. Warning: Only 3 validation images: one image moves "
        "accuracy by 33 points, so the validation accuracy says little about how good the "
        "model is (add images, or hold out a larger validation share; 20 or more make it "
        "firmer).")


def test_the_data_tab_names_a_class_folder_that_is_a_link(qtbot, tmp_path):
    root = tmp_path / "data"
    make_image_folder(root, per_class=6, size=8)
    os.symlink(root, root / "rootloop")
    os.symlink("red", root / "red_alias")
    panel = loaded_data_panel(qtbot, root)
    text = panel.message.text()
    assert panel.message.level == "warning"
    assert "Warning: class 'rootloop' is a link to the dataset folder itself" in text, text
    assert "Warning: class 'red_alias' is a link to class 'red'" in text


def test_a_validation_share_that_holds_out_no_image_is_warned(qtbot, tmp_path):
    panel = loaded_data_panel(qtbot, make_image_folder(tmp_path / "one", per_class=1))
    assert panel.message.level == "warning"
    text = panel.message.text()
    assert text.startswith("Ready: 3 classes, 3 images. Warning: No validation images: the "
                           "validation share 0.2 of 3 training images holds out none"), text
    assert "the best epoch and early stopping follow the training loss" in text
