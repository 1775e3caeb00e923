"""Classes that differ only by a direction (left/right, up/down, clockwise/counterclockwise):
the flip that swaps it gets a hint with its one-click fix, a new dataset's defaults drop it,
and the training doctor can ask whether an experiment's augmentation changes labels."""

from __future__ import annotations

import pytest

from helpers import make_image_folder
from workbench.core.data.augment.fixes import FLIPS, apply_fix, offered_fixes
from workbench.core.data.augment.hints import (augmentation_hints, direction_pairs,
                                               label_changing_hints, label_hints)
from workbench.core.data.defaults import data_defaults
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

H, V = "RandomHorizontalFlip", "RandomVerticalFlip"


@pytest.mark.parametrize("classes, flips", [
    (["left_arrow", "right_arrow"], [H]),
    (["Turn-Left", "turn right", "stop"], [H]),
    (["up", "DOWN", "none"], [V]),
    (["rotate_cw", "rotate_ccw"], [H, V]),
    (["clockwise", "counter clockwise"], [H, V]),
    (["Clockwise", "anti-clockwise"], [H, V]),
    (["anticlockwise", "counterclockwise"], []),   # the same direction
    (["L", "R"], []),                              # single letters: no direction words
    (["left_arrow", "up_arrow"], []),              # different axes: no flip swaps them
    (["left", "right_arrow"], []),                 # differ by more than the word
    (["cat", "dog"], []),
])
def test_direction_pairs(classes, flips):
    assert sorted(direction_pairs(classes)) == sorted(flips)


def test_a_flip_that_swaps_left_and_right_gets_a_hint_and_the_flip_fix():
    classes = ["turn_left", "turn_right", "straight"]
    transforms = [Component(H), Component("RandomRotation", {"degrees": 10}), Component(V)]
    [h] = label_hints(classes, transforms)
    assert h.text == (f"{H} may change the label: the classes 'turn_left'/'turn_right' "
                      f"differ only by left and right, which it swaps. Remove it unless "
                      f"mirrored images keep their class.")
    assert h.index == 0 and h.fix.key == FLIPS and h.fix.label == "Remove the flip"
    assert [t.type for t in apply_fix(transforms, h.fix)] == ["RandomRotation", V]


def test_clockwise_classes_lose_both_flips_in_one_click():
    transforms = [Component(H), Component(V)]
    hints = label_hints(["spin_cw", "spin_ccw"], transforms)
    assert [h.index for h in hints] == [0, 1]
    assert "differ only by clockwise and counterclockwise" in hints[1].text
    [fix] = offered_fixes(hints)
    assert fix.label == "Remove the flips" and apply_fix(transforms, fix) == []


def test_up_and_down_only_touch_the_vertical_flip():
    hints = augmentation_hints(["up", "down"], [Component(H), Component(V)])
    assert len(hints) == 1 and hints[0].startswith(V)
    assert "differ only by up and down" in hints[0]


def test_label_changing_hints_reads_the_experiment():
    exp = Experiment()
    exp.augment.transforms = [Component(H)]
    [text] = label_changing_hints(exp, ["left", "right"])
    assert text.startswith(f"{H} may change the label")
    assert label_changing_hints(exp, ["cat", "dog"]) == []
    exp.data.folder = "/data/mnist/train"   # the folder's name says digits
    assert len(label_changing_hints(exp, ["cat", "dog"])) == 1
    assert label_changing_hints(object(), ["left", "right"]) == []  # never raises


def test_a_new_left_right_dataset_drops_the_horizontal_flip_and_says_why(tmp_path):
    folder = make_image_folder(tmp_path / "arrows", classes=("left_arrow", "right_arrow"),
                               per_class=1)
    exp = Experiment()
    exp.augment.transforms = [Component(H), Component("RandomRotation"), Component(V)]
    defaults = data_defaults(exp, scan_folder(folder))
    assert [t.type for t in defaults.transforms] == ["RandomRotation", V]
    assert defaults.removed == [H]
    assert ("no horizontal flip: the classes 'left_arrow'/'right_arrow' differ only by left "
            "and right, which a horizontal flip swaps") in defaults.describe()
    assert [t.type for t in defaults.changes["augment.transforms"]] == ["RandomRotation", V]


def test_photos_keep_their_flips(tmp_path):
    folder = make_image_folder(tmp_path / "pets", classes=("cat", "dog"), per_class=1)
    exp = Experiment()
    exp.augment.transforms = [Component(H), Component(V)]
    assert data_defaults(exp, scan_folder(folder)).removed == []
