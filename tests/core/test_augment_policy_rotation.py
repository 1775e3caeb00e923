"""The policies rotate too: TrivialAugmentWide by up to 135 degrees (torchvision's wide
space), RandAugment by its magnitude in degrees (30 at most), AutoAugment by up to 30.
A policy that rotates past what the classes bear (digits, letters, left/up, left/right)
gets the rotation hint a RandomRotation gets, with a fix (a walk-through: no hint for
TrivialAugmentWide on digits or arrows, where RandomRotation(135) got one)."""

from __future__ import annotations

import pytest
from torchvision.transforms import v2

from workbench.core.data.augment.at_start import starting_hint_warnings
from workbench.core.data.augment.fixes import apply_fix
from workbench.core.data.augment.hints import POLICY_ROTATION, label_hints, largest_rotation
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

DIGITS = [str(d) for d in range(10)]


def test_the_policies_largest_rotations_are_torchvisions():
    wide = v2.TrivialAugmentWide()._AUGMENTATION_SPACE["Rotate"][0](31, 8, 8)
    assert POLICY_ROTATION["TrivialAugmentWide"] == float(wide.max())
    rand = v2.RandAugment()._AUGMENTATION_SPACE["Rotate"][0](31, 8, 8)
    assert largest_rotation("RandAugment", {"magnitude": 30}) == float(rand[30])
    assert largest_rotation("RandAugment", {"magnitude": 9}) == float(rand[9])
    for policy in v2.AutoAugmentPolicy:
        auto = v2.AutoAugment(policy)
        space = auto._AUGMENTATION_SPACE["Rotate"][0](10, 8, 8)
        assert max(float(space[m]) for ops in auto._policies for op, _, m in ops
                   if op == "Rotate") <= POLICY_ROTATION["AutoAugment"]


@pytest.mark.parametrize("classes, limit, why", [
    (DIGITS, 30, "look like digits or letters"),
    (["6", "9"], 30, "'6'/'9' are a half-turn apart"),
    (["b", "d"], 30, "look like digits or letters"),
    (["left", "up"], 45, "are a quarter-turn apart"),
    (["left", "right", "circle"], 90, "are a half-turn apart"),
])
def test_trivial_augment_gets_the_rotation_hint_and_a_fix(classes, limit, why):
    transforms = [Component("RandomResizedCrop"), Component("TrivialAugmentWide")]
    hints = label_hints(classes, transforms)
    assert len(hints) == 1
    hint = hints[0]
    assert hint.index == 1
    assert hint.text.startswith("TrivialAugmentWide rotates up to 135 degrees")
    assert why in hint.text
    assert f"Keep rotations at {limit} degrees or less: use RandAugment instead" in hint.text
    assert hint.fix.label == "Remove TrivialAugmentWide"
    assert [t.type for t in apply_fix(transforms, hint.fix)] == ["RandomResizedCrop"]


@pytest.mark.parametrize("classes", [DIGITS, ["left", "up"], ["left", "right"]])
@pytest.mark.parametrize("policy", [Component("RandAugment"),
                                    Component("RandAugment", {"magnitude": 30}),
                                    Component("AutoAugment")])
def test_randaugment_and_autoaugment_stay_within_the_limits(classes, policy):
    assert label_hints(classes, [policy]) == []


def test_photos_keep_trivial_augment_without_a_hint():
    assert label_hints(["cat", "dog"], [Component("TrivialAugmentWide")]) == []


def test_train_says_it_as_the_run_starts():
    exp = Experiment()
    exp.augment.transforms = [Component("TrivialAugmentWide")]
    said = "\n".join(starting_hint_warnings(exp, DIGITS))
    assert "TrivialAugmentWide rotates up to 135 degrees" in said
