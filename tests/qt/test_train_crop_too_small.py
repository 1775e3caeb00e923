"""A RandomCrop larger than the images, without pad_if_needed (a walk-through: the preview
said "This is a bug in Workbench", Start stayed enabled and the run failed with an
"unexpected error"): the Augment preview names the step and the fix; the Train tab keeps
Start disabled, naming the Augment tab, while the dataset's typical image is smaller than
the crop (its size read off the GUI thread, Start waiting for it), and a run that meets a
smaller image says which step and which image, as a user's error."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder
from workbench.core.registry import Component
from workbench.qt.panels.train.start_checks import IDLE_TEXT

RUN_TIMEOUT_MS = 120000
CROP = {"size": [24, 24], "pad_if_needed": False}


def test_the_preview_names_the_step_not_a_bug(qtbot, capfd):
    from workbench.core.experiment import Experiment
    from workbench.qt.panels.augment.preview import AugmentPreview
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    exp = Experiment()
    exp.data.input_size = [24, 24]
    exp.augment.transforms = [Component("RandomHorizontalFlip"),
                              Component("RandomCrop", dict(CROP))]
    preview = AugmentPreview(exp)
    qtbot.addWidget(preview)
    with qtbot.waitSignal(preview.runner.errored, timeout=20000):
        preview.set_image(Image.new("RGB", (16, 16)), "small.png")
    assert preview.message.level == "error"
    assert preview.message.text() == (
        "Cannot preview: RandomCrop (step 2): the crop 24x24 (height x width) is larger than "
        "the 16x16 image: turn on pad_if_needed, crop less, or put a Resize before it")
    assert "Traceback" not in capfd.readouterr().err
    preview.shutdown()


@pytest.fixture
def panel(train_panel):
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    return train_panel(epochs=1)


def test_start_waits_while_the_crop_is_larger_than_the_images(qtbot, panel, image_folder,
                                                             monkeypatch):
    import threading

    from workbench.core.data.augment import pipeline_hints
    from workbench.qt.panels.train.start_checks import MEASURING

    read_on = []  # the threads the headers are read on (review: the GUI thread, 200 files)
    measure = pipeline_hints.typical_image_size
    monkeypatch.setattr(pipeline_hints, "typical_image_size", lambda index, **kw: (
        read_on.append(threading.current_thread()) or measure(index, **kw)))
    exp = panel.experiment
    exp.augment.transforms = [Component("RandomCrop", dict(CROP))]
    exp.data.input_size = [24, 24]
    exp.augment.announce("transforms")
    panel.set_dataset(scan_folder(image_folder))  # 16x16 images
    assert not panel.start_button.isEnabled()  # waiting for the size, then for the fix
    assert panel.start_button.toolTip() == MEASURING == panel.status.text()
    qtbot.waitUntil(lambda: panel.status.text().startswith("Cannot train yet"), timeout=20000)
    assert read_on and threading.main_thread() not in read_on
    problem = ("RandomCrop (step 1) cuts 24x24 (height x width) out of images typically 16 "
               "high and 16 wide: the crop is larger than the image, so training stops with "
               "an error. Turn on pad_if_needed, crop at most the images' size, or put a "
               "Resize first")
    assert panel.status.text() == f"Cannot train yet: {problem} (Augment tab)"
    assert panel.start_button.toolTip() == \
        f"Fix the augmentation on the Augment tab first: {problem}"
    exp.augment.transforms[0].params["pad_if_needed"] = True
    exp.augment.announce("transforms")
    assert panel.start_button.isEnabled()
    assert not panel.status.text().startswith("Cannot train yet")
    exp.augment.transforms[0].params["pad_if_needed"] = False  # the same scan: measured once
    exp.augment.announce("transforms")
    assert not panel.start_button.isEnabled() and panel.status.text().startswith(
        f"Cannot train yet: {problem}")
    assert len(read_on) == 1


def test_a_run_meeting_a_smaller_image_says_which_step(qtbot, panel, tmp_path,
                                                        train_error_boxes):
    folder = make_image_folder(tmp_path / "mixed", per_class=6, size=32)
    for c in ("blue", "green", "red"):  # a third of the images: some are trained on
        for i in range(3):
            Image.new("RGB", (16, 16)).save(tmp_path / "mixed" / c / f"small_{i}.png")
    exp = panel.experiment
    exp.data.folder = folder
    exp.data.val_fraction = 0.1
    exp.augment.transforms = [Component("RandomCrop", dict(CROP))]
    exp.data.input_size = [24, 24]
    exp.augment.announce("transforms")
    panel.set_dataset(scan_folder(folder))  # most images fit the crop: Start is enabled
    qtbot.waitUntil(panel.start_button.isEnabled, timeout=20000)  # once their size is read
    assert panel.status.text() == IDLE_TEXT
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as err:
        panel.start_button.click()
    said = err.args[0]
    assert re.fullmatch(
        r"augment\.transforms\[0\]: RandomCrop: the crop 24x24 \(height x width\) is larger "
        r"than the 16x16 image: turn on pad_if_needed, crop less, or put a Resize before it\. "
        r"The image is (blue|green|red)/small_\d\.png; if only a few are this small, exclude "
        r"them \(data\.exclude\)", said), said
    assert panel.status.text() == f"Training failed: {said}"
    assert "bug" not in panel.status.text()
    assert [title for title, _ in train_error_boxes] == ["Training failed"]
