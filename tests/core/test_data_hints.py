"""Hints where an augmentation may change the label; never errors."""

from __future__ import annotations

from workbench.core.data.augment.hints import augmentation_hints
from workbench.core.registry import Component

DIGITS = [str(i) for i in range(10)]


def test_vertical_flip_on_digits_names_the_transform_and_the_pair():
    hints = augmentation_hints(DIGITS, [Component("RandomVerticalFlip", {"p": 0.5})])
    assert len(hints) == 1
    assert "RandomVerticalFlip" in hints[0] and "'6'/'9'" in hints[0]


def test_letters_and_number_words():
    [h] = augmentation_hints(["b", "d", "p", "q"], [Component("RandomVerticalFlip")])
    assert "'b'/'q'" in h and "'d'/'p'" in h
    [h] = augmentation_hints(["six", "nine"], [{"type": "RandomVerticalFlip"}])
    assert "'six'/'nine'" in h
    [h] = augmentation_hints(["b", "d"], ["RandomHorizontalFlip"])
    assert "RandomHorizontalFlip" in h and "'b'/'d'" in h


def test_only_large_rotations_hint():
    small = [Component("RandomRotation", {"degrees": 15}),
             Component("RandomAffine", {"degrees": 30})]
    assert augmentation_hints(DIGITS, small) == []
    large = [Component("RandomRotation", {"degrees": 45}),
             Component("RandomAffine", {"degrees": 90})]
    hints = augmentation_hints(DIGITS, large)
    assert [h.split()[0] for h in hints] == ["RandomRotation", "RandomAffine"]
    assert "45 degrees" in hints[0] and "'6'" in hints[0]


def test_photos_get_no_orientation_hints():
    ts = [Component("RandomVerticalFlip"), Component("RandomRotation", {"degrees": 90}),
          Component("RandomHorizontalFlip")]
    assert augmentation_hints(["cat", "dog", "horse"], ts) == []


def test_colour_classes_by_name():
    ts = [Component("ColorJitter", {"hue": 0.2, "saturation": 0.0}),
          Component("RandomGrayscale", {"p": 0.2}), Component("Grayscale")]
    hints = augmentation_hints(["red_apple", "green apple", "Yellow-Apple"], ts)
    assert [h.split()[0] for h in hints] == ["ColorJitter", "RandomGrayscale", "Grayscale"]
    assert "hue 0.2" in hints[0] and "'red_apple'" in hints[0]


def test_colour_jitter_thresholds():
    classes = ["red", "green"]
    assert augmentation_hints(classes, [Component("ColorJitter", {"hue": 0.05,
                                                                  "saturation": 0.0})]) == []
    assert len(augmentation_hints(classes, [Component("ColorJitter", {"hue": 0.0,
                                                                      "saturation": 0.3})])) == 1
    assert augmentation_hints(classes, [Component("ColorJitter", {"brightness": 0.5,
                                                                  "hue": 0.0,
                                                                  "saturation": 0.0})]) == []


def test_colour_classes_by_mean_colour():
    ts = [Component("Grayscale")]
    far = {"cat": (220, 30, 30), "dog": (30, 40, 220)}
    near = {"cat": (0.50, 0.40, 0.30), "dog": (0.52, 0.41, 0.33)}
    [h] = augmentation_hints(["cat", "dog"], ts, class_colours=far)
    assert "Grayscale" in h and "'cat', 'dog'" in h
    assert augmentation_hints(["cat", "dog"], ts, class_colours=near) == []
    assert augmentation_hints(["cat", "dog"], ts) == []


def test_unknown_or_incomplete_transforms_never_raise():
    assert augmentation_hints(DIGITS, [Component("Nope", {"x": 1}), {"type": "RandomRotation"},
                                       "MixUp"]) == []


def test_class_colours_are_measured_and_drive_the_colour_hint(tmp_path):
    from helpers import make_image_folder
    from workbench.core.data.augment.hints import augmentation_hints, class_mean_colours
    from workbench.core.data.scan import scan_folder

    # Class names that say nothing about colour; the images differ only by colour.
    root = make_image_folder(tmp_path / "d", classes=("alpha", "beta"), per_class=6)
    for name, colour in (("alpha", (220, 30, 30)), ("beta", (30, 40, 220))):
        for f in (tmp_path / "d" / name).iterdir():
            from PIL import Image

            Image.new("RGB", (12, 12), colour).save(f)
    index = scan_folder(root)
    colours = class_mean_colours(index)
    assert set(colours) == {"alpha", "beta"}
    assert colours["alpha"][0] > 0.8 and colours["alpha"][2] < 0.2
    assert colours["beta"][2] > 0.8
    jitter = [{"type": "ColorJitter", "params": {"hue": 0.3}}]
    assert augmentation_hints(["alpha", "beta"], jitter) == []
    hints = augmentation_hints(["alpha", "beta"], jitter, colours)
    assert hints and "ColorJitter" in hints[0]


def test_horizontal_flip_on_digits_names_the_classes():
    [h] = augmentation_hints(DIGITS, [Component("RandomHorizontalFlip", {"p": 0.5})])
    assert h.startswith("RandomHorizontalFlip may change the label")
    assert "'0', '1'" in h and "digits" in h and "Remove it" in h
    # Off (p 0), it warns about nothing.
    assert augmentation_hints(DIGITS, [Component("RandomHorizontalFlip", {"p": 0.0})]) == []


def test_horizontal_flip_hint_for_letters_text_and_telling_dataset_names():
    [h] = augmentation_hints(["a", "e", "k"], ["RandomHorizontalFlip"])
    assert "letters" in h and "'k'" in h
    [h] = augmentation_hints(["word_cat", "word_dog"], ["RandomHorizontalFlip"])
    assert "'word_cat'" in h and "text" in h
    [h] = augmentation_hints(["cat", "dog"], ["RandomHorizontalFlip"], folder="/data/mnist")
    assert "'mnist'" in h and "'cat', 'dog'" in h
    assert augmentation_hints(["cat", "dog"], ["RandomHorizontalFlip"],
                              folder="/data/fashion-mnist/train") == []


def test_the_flips_hinted_about_are_the_ones_that_change_the_label():
    from workbench.core.data.augment.fixes import FLIPS
    from workbench.core.data.augment.hints import label_hints

    def flips(classes, folder=""):
        return [h.index for h in label_hints(classes, ts, folder=folder)
                if h.fix is not None and h.fix.key == FLIPS]

    ts = [Component("RandomHorizontalFlip"), Component("RandomRotation", {"degrees": 10}),
          Component("RandomVerticalFlip"), Component("RandomHorizontalFlip", {"p": 0.0})]
    assert flips(DIGITS) == [0, 2]  # a flip with p 0 does nothing: no hint
    assert flips(["cat", "dog"]) == []
    assert flips(["cat", "dog"], folder="/data/letters/train") == [0, 2]


# -- one-click fixes ----------------------------------------------------------------------
def test_large_rotations_get_one_limit_fix_that_silences_their_hints():
    from workbench.core.data.augment.fixes import apply_fix, offered_fixes
    from workbench.core.data.augment.hints import label_hints

    ts = [Component("RandomRotation", {"degrees": 180.0}),
          Component("RandomAffine", {"degrees": 180.0, "shear": 5.0})]
    [fix] = offered_fixes(label_hints(DIGITS, ts))
    assert fix.label == "Limit rotation to 30°"
    assert "RandomRotation (step 1): set degrees to 30" in fix.describe()
    fixed = apply_fix(ts, fix)
    assert [t.params["degrees"] for t in fixed] == [30.0, 30.0]
    assert fixed[1].params["shear"] == 5.0  # the rest of the step is left alone
    assert ts[0].params["degrees"] == 180.0  # the list given is not changed
    assert augmentation_hints(DIGITS, fixed) == []


def test_flip_hints_share_one_remove_button():
    from workbench.core.data.augment.fixes import FLIPS, apply_fix, offered_fixes
    from workbench.core.data.augment.hints import label_hints

    ts = [Component("RandomHorizontalFlip"), Component("RandomRotation", {"degrees": 10.0}),
          Component("RandomVerticalFlip")]
    [fix] = offered_fixes(label_hints(DIGITS, ts))
    assert fix.key == FLIPS and fix.label == "Remove the flips"
    assert [t.type for t in apply_fix(ts, fix)] == ["RandomRotation"]
    [one] = offered_fixes(label_hints(DIGITS, ts[:1]))
    assert one.label == "Remove the flip"


def test_colour_jitter_hint_advises_only_what_is_not_already_done():
    from workbench.core.data.augment.fixes import apply_fix
    from workbench.core.data.augment.hints import label_hints

    classes = ["red", "green"]
    # hue already 0: the hint and its fix are about saturation alone.
    [h] = label_hints(classes, [Component("ColorJitter", {"hue": 0.0, "saturation": 0.4})])
    assert "hue" not in h.text.lower() and "saturation 0.4" in h.text
    assert "Lower saturation to 0.1" in h.text and h.fix.label == "Lower saturation to 0.1"
    # saturation already low: only the hue.
    [h] = label_hints(classes, [Component("ColorJitter", {"hue": 0.3, "saturation": 0.05})])
    assert "Set hue to 0, or remove it" in h.text and "saturation" not in h.text
    assert h.fix.label == "Set hue to 0"
    both = [Component("ColorJitter", {"brightness": 0.4, "hue": 0.3, "saturation": 0.5})]
    [h] = label_hints(classes, both)
    fixed = apply_fix(both, h.fix)
    assert fixed[0].params == {"brightness": 0.4, "hue": 0.0, "saturation": 0.1}
    assert label_hints(classes, fixed) == []


def test_grayscale_hints_offer_to_remove_the_step():
    from workbench.core.data.augment.fixes import apply_fix, offered_fixes
    from workbench.core.data.augment.hints import label_hints

    ts = [Component("RandomGrayscale", {"p": 0.2}), Component("RandomRotation"),
          Component("Grayscale")]
    fixes = offered_fixes(label_hints(["red", "green"], ts))
    assert [f.label for f in fixes] == ["Remove RandomGrayscale", "Remove Grayscale"]
    for fix in reversed(fixes):  # from the end: earlier positions stay valid
        ts = apply_fix(ts, fix)
    assert [t.type for t in ts] == ["RandomRotation"]


def test_a_fix_skips_a_step_that_is_no_longer_there():
    from workbench.core.data.augment.fixes import apply_fix
    from workbench.core.data.augment.hints import label_hints

    ts = [Component("RandomRotation", {"degrees": 90.0})]
    [h] = label_hints(DIGITS, ts)
    moved = [Component("RandomHorizontalFlip"), ts[0]]
    assert apply_fix(moved, h.fix) == moved  # index 0 is a flip now: left alone
