"""The data a run is given, judged before it trains (workbench.core.data.pitfalls and
workbench.core.data.augment.at_start): the test or validation part of a dataset given as
the dataset, a handful of validation images, and an augmentation that may change the
label, with a ``--set`` fix that silences it when pasted."""

from __future__ import annotations

import shlex

import pytest

from helpers import make_image_folder
from workbench.core.data.pitfalls import (SMALL_VAL, data_warnings, dataset_part,
                                          small_validation)


@pytest.fixture
def parts(tmp_path):
    """``split/`` with train/, val/ and test/, 3 classes each."""
    root = tmp_path / "split"
    for part, n in (("train", 8), ("val", 3), ("test", 5)):
        make_image_folder(root / part, per_class=n, size=8)
    return root


def test_the_test_and_validation_parts_are_named_with_the_folder_to_give(parts,
                                                                         monkeypatch):
    test = dataset_part(str(parts / "test"))
    assert test is not None and test.part == "test" and test.parent == str(parts)
    assert test.text() == (
        f"{parts / 'test'} is the test part of the dataset {parts} (it has train/ beside "
        f"it): it is kept to measure the finished model on images it never saw, so training "
        f"on it leaves nothing unseen to judge the model by. Train on {parts} instead: it "
        f"trains on train/, validates on val/ and keeps test/ for evaluation")
    val = dataset_part(str(parts / "val"))
    assert val.part == "val" and "is the validation part of the dataset" in val.text()
    assert dataset_part(str(parts / "train")) is None  # trained on as it should be
    assert dataset_part(str(parts)) is None
    assert dataset_part(str(parts / "test" / "red")) is None  # a class folder
    monkeypatch.chdir(parts)
    rel = dataset_part("test")
    assert rel.folder == "test" and rel.parent == str(parts)  # a path, never "."
    assert rel.text(lambda p: f". Fix: --data {p}").endswith(f"evaluation. Fix: --data {parts}")


def test_a_kaggle_test_set_in_a_folder_of_its_own_name_is_a_part_too(tmp_path):
    root = tmp_path / "cats"
    make_image_folder(root / "training_set" / "training_set", per_class=4, size=8)
    make_image_folder(root / "test_set" / "test_set", per_class=4, size=8)
    for given in (root / "test_set", root / "test_set" / "test_set"):
        part = dataset_part(str(given))
        assert part is not None and part.parent == str(root), given
        assert "keeps test_set/test_set/ for evaluation" in part.text()


def test_a_dataset_beside_parts_it_is_not_one_of_is_left_alone(tmp_path):
    make_image_folder(tmp_path / "train", per_class=2, size=8)
    make_image_folder(tmp_path / "test", per_class=2, size=8)
    other = make_image_folder(tmp_path / "mine", per_class=2, size=8)
    assert dataset_part(other) is None
    assert dataset_part(str(tmp_path / "missing")) is None


@pytest.mark.parametrize("n, said", [(0, False), (1, True), (3, True), (SMALL_VAL - 1, True),
                                     (SMALL_VAL, False)])
def test_few_validation_images_say_what_one_image_is_worth(n, said):
    text = small_validation(n)
    assert bool(text) == said
    if n == 3:
        assert text.startswith("only 3 validation images: one image moves accuracy by 33 "
                               "points, so the validation accuracy says little")


def test_the_training_doctor_says_it_by_the_same_rule():
    from workbench.core.train.doctor.view import RunView

    for n in (3, SMALL_VAL - 1, SMALL_VAL):
        view = RunView(classes=["a", "b", "c"], history=[], chance=1 / 3, lr=1e-3,
                       default_lr=1e-3, val_counts=[n, 0, 0])
        assert bool(view.small_val_caveat()) == bool(small_validation(n))
    assert "one image moves accuracy by 33 points" in RunView(
        classes=["a"], history=[], chance=1.0, lr=1e-3, default_lr=1e-3,
        val_counts=[3]).small_val_caveat()


def test_data_warnings_count_the_split_as_the_run_does(tmp_path, parts):
    from workbench.core.data.scan import scan_folder
    from workbench.core.experiment import Experiment

    data = Experiment().data
    few = make_image_folder(tmp_path / "few", per_class=2, size=8)
    (said,) = data_warnings(scan_folder(few), data)
    assert said.startswith("Only 3 validation images: one image moves accuracy by 33 points")
    assert "hold out a larger validation share" in said
    # The dataset's own val/ folder: more images go there.
    (said,) = data_warnings(scan_folder(str(parts)), data)
    assert said.startswith("Only 9 validation images") and "add images to val/" in said
    test, small = data_warnings(scan_folder(str(parts / "test")), data)
    assert "is the test part of the dataset" in test and small.startswith("Only 3 ")
    big = make_image_folder(tmp_path / "big", per_class=40, size=8)
    assert data_warnings(scan_folder(big), data) == []


def _arrows(tmp_path, transforms):
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component

    exp = Experiment()
    exp.data.folder = str(tmp_path / "arrows")
    exp.augment.transforms = [Component(t, p) for t, p in transforms]
    return exp


def _pasted(exp, line):
    """``exp`` with the ``--set`` a warning line prints, pasted as a shell splits it."""
    from workbench.cli.common import apply_sets

    args = shlex.split(line.split("on the command line ", 1)[1].rstrip("."))
    assert args[0] == "--set" and len(args) == 2, args
    return apply_sets(exp, [args[1]])


def test_a_flip_of_left_and_right_is_warned_with_a_set_that_silences_it(tmp_path):
    from workbench.core.data.augment.at_start import starting_hint_warnings

    exp = _arrows(tmp_path, [("RandomHorizontalFlip", {"p": 0.5}),
                             ("RandomCrop", {"size": [32, 32], "padding": 4})])
    (line,) = starting_hint_warnings(exp, ["left", "right"])
    assert line.startswith("RandomHorizontalFlip may change the label: the classes "
                           "'left'/'right' differ only by left and right, which it swaps.")
    assert ("Fix: remove the flip, on the command line --set 'augment.transforms=[{\"type\": "
            "\"RandomCrop\", \"params\": {\"size\": [32, 32], \"padding\": 4}}]'.") in line
    fixed = _pasted(exp, line)
    (crop,) = fixed.augment.transforms
    assert crop.type == "RandomCrop" and crop.params["size"] == [32, 32] and \
        crop.params["padding"] == 4  # the other steps are kept as they were
    assert starting_hint_warnings(fixed, ["left", "right"]) == []
    assert starting_hint_warnings(exp, ["cat", "dog"]) == []  # a mirrored cat is a cat


def test_several_hints_get_one_fix_for_all(tmp_path):
    from workbench.core.data.augment.at_start import starting_hint_warnings

    exp = _arrows(tmp_path, [("RandomHorizontalFlip", {}), ("RandomVerticalFlip", {}),
                             ("RandomRotation", {"degrees": 90})])
    lines = starting_hint_warnings(exp, ["b", "d", "6", "9"])
    assert len(lines) == 4 and lines[-1].startswith(
        "Fix for the 3 augmentation warnings above: remove the flips and limit rotation")
    fixed = _pasted(exp, lines[-1])  # one --set: two would override each other
    (rotation,) = fixed.augment.transforms
    assert rotation.type == "RandomRotation" and rotation.params["degrees"] == 30.0
    assert starting_hint_warnings(fixed, ["b", "d", "6", "9"]) == []


def test_a_validation_share_that_holds_out_no_image_is_said_with_what_the_run_uses(tmp_path):
    """1 image a class: the 0.2 share holds out none; the accuracy shown is the training
    accuracy and the best epoch follows the training loss (the learner's report)."""
    from workbench.core.data.scan import scan_folder
    from workbench.core.experiment import Experiment

    data = Experiment().data
    one = scan_folder(make_image_folder(tmp_path / "one", per_class=1, size=8))
    (said,) = data_warnings(one, data)
    assert said == (
        "No validation images: the validation share 0.2 of 3 training images holds out none "
        "(each class has a single image, and a class's only image always trains). The "
        "accuracy shown is then the training accuracy, which says nothing about new images, "
        "and the best epoch and early stopping follow the training loss (a val_* best-epoch "
        "metric is refused): add images (a class of 2 or more holds one out), or give the "
        "dataset a val/ folder beside train/")
    data.stratified, data.val_fraction = False, 0.1  # one draw over all 3: 0.3 rounds to 0
    (said,) = data_warnings(one, data)
    assert said.startswith("No validation images: the validation share 0.1 of 3 training "
                           "images holds out none. The accuracy shown")
    assert said.endswith(": hold out a larger validation share, add images, or give the "
                         "dataset a val/ folder beside train/")
    data.val_fraction = 0.0  # no validation asked for: nothing to say
    assert data_warnings(one, data) == []
    # The dataset's own val/ folder, with no image of the training classes.
    root = tmp_path / "split"
    make_image_folder(root / "train", per_class=4, size=8)
    for name in ("blue", "green", "red"):
        (root / "val" / name).mkdir(parents=True)
    (said,) = data_warnings(scan_folder(str(root)), Experiment().data)
    assert said.startswith("No validation images: val/ holds no image of the training "
                           "classes. The accuracy shown is then the training accuracy")
    assert said.endswith(": add images to val/")
