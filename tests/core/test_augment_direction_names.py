"""Direction classes named in CamelCase or joined (TurnLeft/TurnRight, leftArrow/rightArrow,
leftturn/rightturn) get the flip hints, the defaults and the doctor's check that
turn_left/turn_right get (a walk-through: traffic-sign classes kept a horizontal flip that
mirrored left turns into right ones, without a word); and a rotation large enough to turn
one direction class into another gets a hint with its limit, as digits' 6/9 do."""

from __future__ import annotations

import pytest

from helpers import make_image_folder, run_cli
from workbench.core.data.augment.hints import (augmentation_hints, direction_pairs,
                                               label_changing_hints, label_hints)
from workbench.core.data.defaults import data_defaults
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

H, V = "RandomHorizontalFlip", "RandomVerticalFlip"


@pytest.mark.parametrize("classes, flips", [
    (["TurnLeft", "TurnRight", "GoStraight"], [H]),
    (["leftArrow", "rightArrow"], [H]),
    (["TurnLeftAhead", "TurnRightAhead"], [H]),
    (["leftturn", "rightturn"], [H]),
    (["keep-Left", "KEEP_RIGHT"], [H]),
    (["ArrowUp", "ArrowDown"], [V]),
    (["SpinCW", "SpinCCW"], [H, V]),
    (["left_to_right", "right_to_left"], [H]),    # both words swapped by the same flip
    (["Bright", "Blight"], []),                   # "right" in a word, no pair
    (["bright", "dark", "upright"], []),
    (["upright", "right"], []),                   # "up"+"right": more than a direction
    (["upright", "up"], []),
    (["setup", "teardown"], []),
    (["TurnLeft", "GoStraight"], []),
    (["LeftArrow", "UpArrow"], []),               # a quarter-turn: no flip swaps them
])
def test_camel_case_and_joined_direction_names(classes, flips):
    assert sorted(direction_pairs(classes)) == sorted(flips)


def test_camel_case_classes_get_the_flip_hint_and_the_doctors_check():
    [hint] = label_hints(["TurnLeft", "TurnRight", "GoStraight"], [Component(H)])
    assert hint.text == (f"{H} may change the label: the classes 'TurnLeft'/'TurnRight' "
                         f"differ only by left and right, which it swaps. Remove it unless "
                         f"mirrored images keep their class.")
    assert hint.fix.label == "Remove the flip"
    exp = Experiment()
    exp.augment.transforms = [Component(H)]
    assert label_changing_hints(exp, ["leftArrow", "rightArrow"]) == \
        augmentation_hints(["leftArrow", "rightArrow"], [Component(H)])


def test_a_new_traffic_sign_dataset_has_no_horizontal_flip(tmp_path, capsys):
    folder = make_image_folder(tmp_path / "signs", classes=("TurnLeft", "TurnRight",
                                                            "GoStraight"), per_class=2)
    exp = Experiment()
    exp.augment.transforms = [Component(H), Component("RandomRotation")]
    defaults = data_defaults(exp, scan_folder(folder))
    assert defaults.removed == [H]
    assert ("no horizontal flip: the classes 'TurnLeft'/'TurnRight' differ only by left and "
            "right, which a horizontal flip swaps") in defaults.describe()
    code, out, err = run_cli(capsys, "init", "--preset", "mlp", "--data", folder, "-o", "-")
    assert code == 0, err
    assert H not in out and "no horizontal flip" in err, err


def _rotation(classes, name, degrees):
    return label_hints(classes, [Component(name, {"degrees": degrees})])


@pytest.mark.parametrize("name", ["RandomRotation", "RandomAffine"])
def test_a_quarter_turn_between_classes_limits_rotation_to_45_degrees(name):
    [hint] = _rotation(["left", "right", "up"], name, 180)
    assert hint.text == (f"{name} rotates up to 180 degrees, which may change the label: the "
                         f"classes 'left'/'up', 'right'/'up' are a quarter-turn apart. Keep "
                         f"it at 45 degrees or less.")
    assert hint.fix.label == "Limit rotation to 45°" and hint.fix.key == "rotation"
    assert hint.fix.edits[0].params == {"degrees": 45.0}
    assert _rotation(["left", "right", "up"], name, 60)
    assert not _rotation(["left", "right", "up"], name, 45)
    assert _rotation(["TurnLeft", "ArrowUp"], name, 50) == []  # more than the word differs
    assert _rotation(["LeftArrow", "UpArrow"], name, 50)


def test_a_half_turn_between_classes_limits_rotation_to_90_degrees():
    [hint] = _rotation(["TurnLeft", "TurnRight", "GoStraight"], "RandomRotation", 120)
    assert "the classes 'TurnLeft'/'TurnRight' are a half-turn apart. Keep it at 90 " \
           "degrees or less." in hint.text
    assert hint.fix.edits[0].params == {"degrees": 90.0}
    assert _rotation(["up", "down"], "RandomAffine", 100)
    assert not _rotation(["TurnLeft", "TurnRight"], "RandomRotation", 90)


def test_rotations_that_keep_every_class_get_no_hint():
    assert not _rotation(["spin_cw", "spin_ccw"], "RandomRotation", 180)  # a turn keeps it
    assert not _rotation(["cat", "dog"], "RandomRotation", 180)
    assert not _rotation(["Bright", "Blight", "upright"], "RandomRotation", 180)
    # Digits keep their own, tighter limit.
    [hint] = _rotation(["6", "9", "left", "up"], "RandomRotation", 40)
    assert "Keep it at 30 degrees or less" in hint.text
