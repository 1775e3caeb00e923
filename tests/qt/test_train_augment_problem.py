"""Start waits for transforms that can be built, naming the step as the Augment tab does;
an experiment that does not validate says it cannot start, not that training failed."""

from __future__ import annotations

import pytest

from workbench.core.registry import Component


@pytest.fixture
def panel(train_panel):
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    return train_panel(epochs=1)


def test_start_waits_for_a_blur_with_an_odd_kernel(qtbot, panel, train_error_boxes):
    # From a learner's day: an even blur kernel left Start enabled, and Start said
    # "Training failed: augment.transforms[3].params.kernel_size: 4 is even" in a box.
    exp = panel.experiment
    exp.augment.transforms = [Component("RandomHorizontalFlip"), Component("GaussianBlur")]
    exp.augment.announce("transforms")
    assert panel.start_button.isEnabled()
    exp.augment.transforms[1].params["kernel_size"] = 4
    exp.augment.announce("transforms")
    assert not panel.start_button.isEnabled()
    problem = "GaussianBlur (step 2) → kernel_size: 4 is even: use an odd size (3, 5, 7...)"
    assert panel.start_button.toolTip() == \
        f"Fix the augmentation on the Augment tab first: {problem}"
    assert panel.status.text() == f"Cannot train yet: {problem} (Augment tab)"
    exp.augment.transforms[1].params["kernel_size"] = 5
    exp.augment.announce("transforms")
    assert panel.start_button.isEnabled()
    assert not panel.status.text().startswith("Cannot train yet")
    assert train_error_boxes == []


def test_a_step_after_normalize_disables_start_too(panel):
    exp = panel.experiment
    exp.augment.transforms = [Component("Normalize"), Component("TrivialAugmentWide")]
    exp.augment.announce("transforms")
    assert not panel.start_button.isEnabled()
    assert "TrivialAugmentWide (step 2): TrivialAugmentWide must come before Normalize" in \
        panel.start_button.toolTip()


def test_an_experiment_that_does_not_validate_cannot_start_and_says_which_step(
        panel, train_error_boxes):
    exp = panel.experiment
    exp.augment.transforms = [Component("RandomHorizontalFlip"),
                              Component("GaussianBlur", {"kernel_size": 4})]
    panel.start()  # e.g. reached before the panel heard of the edit
    assert not panel.is_running()
    assert [title for title, _ in train_error_boxes] == ["Cannot start training"]
    assert panel.status.text() == ("Cannot start training: GaussianBlur (step 2) → "
                                   "kernel_size: 4 is even: use an odd size (3, 5, 7...)")
