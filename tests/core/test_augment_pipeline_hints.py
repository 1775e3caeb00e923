"""Hints about the pipeline itself (sizes that miss the images, a second normalisation),
and invalid steps named the way the Augment tab shows them."""

from __future__ import annotations

import pytest

from workbench.core.data.augment.fixes import apply_fix
from workbench.core.data.augment.pipeline_hints import pipeline_hints, typical_image_size
from workbench.core.registry import Component

IMAGES = (120, 160)  # height, width: the tester's 160x120 photos
INPUT = (120, 160)


def _hints(*ts, image=IMAGES, input_size=INPUT):
    return pipeline_hints(list(ts), image, input_size, [0.5], [0.5])


def test_a_crop_far_larger_than_the_images_names_the_step_and_the_image_size():
    [h] = _hints(Component("CenterCrop", {"size": [4096, 4096]}))
    assert h.text.startswith("CenterCrop (step 1) cuts 4096x4096")
    assert "120 high and 160 wide" in h.text and "padding" in h.text
    assert "Evaluation and prediction" in h.text  # the eval pipeline crops too
    assert h.fix.label == "Crop to the input size (120x160)"
    assert _hints(*apply_fix([Component("CenterCrop", {"size": [4096, 4096]})], h.fix)) == []


def test_a_crop_keeping_a_sliver_of_the_image_gets_a_hint():
    [h] = _hints(Component("CenterCrop", {"size": [1, 1]}))
    assert "keeps 1x1" in h.text and "under 0.01% of each image" in h.text
    # An input size that would be mostly padding too: then the fix is to remove the crop.
    [h] = _hints(Component("CenterCrop", {"size": [1, 1]}), input_size=(512, 512))
    assert h.fix.label == "Remove CenterCrop"


def test_usual_crops_and_unknown_image_sizes_give_no_hint():
    assert _hints(Component("Resize", {"size": [256]}),
                  Component("CenterCrop", {"size": [224, 224]}), image=(375, 500),
                  input_size=(224, 224)) == []
    assert _hints(Component("CenterCrop", {"size": [100, 140]})) == []
    assert _hints(Component("CenterCrop", {"size": [4096, 4096]}), image=None) == []


def test_the_crop_is_judged_on_the_size_the_steps_before_it_make():
    [h] = _hints(Component("Resize", {"size": [32, 32]}),
                 Component("CenterCrop", {"size": [120, 160]}))
    assert "CenterCrop (step 2)" in h.text and "the 32x32 images Resize (step 1) makes" \
        in h.text


def test_a_resize_far_larger_than_images_and_input_offers_the_input_size():
    [h] = _hints(Component("Resize", {"size": [4096, 4096]}))
    assert h.text.startswith("Resize (step 1) makes 4096x4096")
    assert h.fix.label == "Use the input size (120x160)"
    fixed = apply_fix([Component("Resize", {"size": [4096, 4096]})], h.fix)
    assert fixed[0].params["size"] is None and _hints(*fixed) == []
    [h] = _hints(Component("RandomResizedCrop", {"size": [4096, 4096]}))
    assert h.text.startswith("RandomResizedCrop (step 1) resizes its crops")


def test_normalize_on_top_of_the_data_normalisation_gets_a_hint():
    assert _hints(Component("Normalize")) == []  # mean 0, std 1: changes nothing
    [h] = _hints(Component("Normalize", {"mean": [0.5, 0.5, 0.5], "std": [1e-06]}))
    assert h.text.startswith("Normalize (step 1)") and "normalised twice" in h.text
    assert "data.mean [0.5]" in h.text and "1,000,000" in h.text
    assert h.fix.label == "Remove Normalize"
    [h] = _hints(Component("Normalize", {"mean": [0.5], "std": [0.5]}))
    assert "1,000,000" not in h.text


def test_invalid_steps_are_named_as_the_list_shows_them():
    from workbench.core.data.augment.naming import describe_spec_error, user_field
    from workbench.core.data.augment.transforms import describe_pipeline
    from workbench.core.errors import SpecError
    from workbench.core.experiment import Experiment

    exp = Experiment()
    exp.augment.transforms = [Component("RandomRotation"),
                              Component("RandomResizedCrop", {"scale": [1.0, 0.5]})]
    with pytest.raises(SpecError) as info:
        describe_pipeline(exp, train=True)
    text = describe_spec_error(info.value, exp.augment.transforms)
    assert text.startswith("RandomResizedCrop (step 2) → scale: [1, 0.5] is not a range")
    assert "augment.transforms" not in text
    assert user_field("data.batch_size", []) == "data.batch_size"
    assert user_field("augment.transforms[0].type", ["Nope"]) == "Nope (step 1)"


def test_typical_image_size_reads_headers(tmp_path):
    from helpers import make_image_folder
    from workbench.core.data.scan import scan_folder

    root = make_image_folder(tmp_path / "d", classes=("a", "b"), per_class=3,
                             size=(160, 120))
    assert typical_image_size(scan_folder(root)) == (120, 160)
