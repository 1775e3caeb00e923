"""A step given an image too small for it (a RandomCrop larger than the image without
pad_if_needed, or padding it by a reflection wider than it) is the user's mistake, not a
bug: an ImageTooSmall (a WorkbenchError) naming the step and the fix, wherever the
pipeline runs; ``train`` and ``check --experiment`` say it first as a ``warning:`` with a
paste-able ``--set`` (a walk-through: "unexpected ValueError ... This is a bug in
Workbench", and no word before the run)."""

from __future__ import annotations

import pickle
import re
import shlex

import pytest
from PIL import Image

from helpers import make_image_folder, run_cli
from workbench.core.data.augment.at_start import (may_stop, starting_hint_warnings,
                                                  stopping_hints)
from workbench.core.data.augment.common import ImageTooSmall
from workbench.core.data.augment.fixes import apply_fix
from workbench.core.data.augment.naming import describe_spec_error
from workbench.core.data.augment.pipeline_hints import pipeline_hints
from workbench.core.data.augment.preview import augment_tiles
from workbench.core.data.augment.transforms import build_train_transform
from workbench.core.data.scan import scan_folder
from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

CROP = {"size": [24, 24], "pad_if_needed": False}
SAID = ("the crop 24x24 (height x width) is larger than the 16x16 image: turn on "
        "pad_if_needed, crop less, or put a Resize before it")


def _exp(*steps, size=(24, 24)):
    exp = Experiment()
    exp.data.input_size = list(size)
    exp.augment.transforms = [Component(t, dict(p)) for t, p in steps]
    return exp


def test_a_crop_larger_than_the_image_names_the_step_and_the_fix():
    exp = _exp(("RandomHorizontalFlip", {}), ("RandomCrop", CROP))
    with pytest.raises(ImageTooSmall) as caught:
        build_train_transform(exp)(Image.new("RGB", (16, 16)))
    e = caught.value
    assert isinstance(e, WorkbenchError)
    assert e.field == "augment.transforms[1]"
    assert str(e) == f"augment.transforms[1]: RandomCrop: {SAID}"
    # As the Augment tab, its preview and the Train tab name it.
    assert describe_spec_error(e, exp.augment.transforms) == f"RandomCrop (step 2): {SAID}"
    with pytest.raises(ImageTooSmall, match="RandomCrop: the crop 24x24"):
        augment_tiles(exp, Image.new("RGB", (16, 16)), n=2, seed=0)


def test_a_reflection_wider_than_the_image_names_the_step_and_gets_a_hint():
    exp = _exp(("RandomCrop", {"size": [24, 24], "padding_mode": "reflect"}))
    with pytest.raises(ImageTooSmall) as caught:
        build_train_transform(exp)(Image.new("RGB", (8, 8)))
    assert str(caught.value) == (
        "augment.transforms[0]: RandomCrop: padding_mode reflect pads the 8x8 image by up "
        "to 16 pixels a side (to crop 24x24), more than it can mirror: use padding_mode "
        "constant or edge, crop less, or put a Resize before it")
    [hint] = pipeline_hints(exp.augment.transforms, (8, 8), (24, 24))
    assert hint.stops and "RandomCrop (step 1) pads images typically 8 high and 8 wide by " \
        "up to 16 pixels a side" in hint.text and "training stops with an error" in hint.text
    exp.augment.transforms = apply_fix(exp.augment.transforms, hint.fix)
    assert exp.augment.transforms[0].params["padding_mode"] == "edge"
    assert build_train_transform(exp)(Image.new("RGB", (8, 8))).shape == (3, 24, 24)
    # pad_if_needed pads each side by what the crop lacks. A mirror of the whole image
    # fits: symmetric pads by up to the image's size, reflect by one less, and the hint
    # draws the line where the transform does.
    for mode, side, fails in (("symmetric", 8, False), ("symmetric", 9, True),
                              ("reflect", 8, True), ("reflect", 7, False)):
        exp = _exp(("RandomCrop", {"size": [8 + side] * 2, "padding_mode": mode}),
                   size=(8 + side,) * 2)
        assert bool(pipeline_hints(exp.augment.transforms, (8, 8), (8, 8))) == fails
        try:
            build_train_transform(exp)(Image.new("RGB", (8, 8)))
        except ImageTooSmall:
            assert fails, mode
        else:
            assert not fails, mode


def test_the_error_keeps_its_type_and_words_through_a_loader_worker():
    from torch._utils import ExceptionWrapper

    exp = _exp(("RandomCrop", CROP))
    try:
        build_train_transform(exp)(Image.new("RGB", (16, 16)))
    except ImageTooSmall:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 0")
    with pytest.raises(ImageTooSmall) as caught:
        wrapped.reraise()  # as the DataLoader hands a worker's error over
    assert str(caught.value) == f"augment.transforms[0]: RandomCrop: {SAID}"
    assert caught.value.field == "augment.transforms[0]"
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and copy.problem == SAID


def test_the_hint_stops_a_run_only_where_the_crop_misses_the_images(monkeypatch):
    exp = _exp(("RandomCrop", CROP))
    assert may_stop(exp)
    [hint] = stopping_hints(exp, (16, 16))
    assert hint.text.startswith("RandomCrop (step 1) cuts 24x24 (height x width) out of "
                                "images typically 16 high and 16 wide")
    assert stopping_hints(exp, (32, 32)) == [] and stopping_hints(exp, None) == []
    exp.augment.transforms[0].params["pad_if_needed"] = True
    assert not may_stop(exp) and stopping_hints(exp, (16, 16)) == []


def test_no_header_is_read_unless_a_step_may_stop(tmp_path, monkeypatch):
    folder = make_image_folder(tmp_path / "colours", per_class=2, size=16)

    def read(*_a, **_k):
        raise AssertionError("headers read for a pipeline that cannot stop")
    monkeypatch.setattr("workbench.core.data.augment.pipeline_hints.typical_image_size", read)
    exp = _exp(("RandomCrop", {"size": [24, 24]}), ("RandomHorizontalFlip", {}))
    index = scan_folder(folder)
    assert starting_hint_warnings(exp, index.classes, index) == []


def _train(capsys, tmp_path, data, *extra):
    exp = tmp_path / "mlp.json"
    if not exp.exists():
        code, _, err = run_cli(capsys, "init", "--preset", "mlp", "--data", data, "-o", exp)
        assert code == 0, err
    crop = ('--set=augment.transforms=[{"type": "RandomCrop", "params": {"size": [24, 24], '
            '"pad_if_needed": false}}]')
    return run_cli(capsys, "train", exp, "--epochs", "1", "--device", "cpu", "--out",
                   tmp_path / f"run{len(extra)}", crop, *extra)


def test_train_warns_then_fails_with_the_steps_error_not_a_bug(tmp_path, capsys):
    data = make_image_folder(tmp_path / "colours", per_class=8, size=16)
    code, _, err = _train(capsys, tmp_path, data)
    assert code == 2, err
    assert "bug" not in err and "unexpected" not in err and "Traceback" not in err, err
    [warning] = [ln for ln in err.splitlines() if "RandomCrop (step 1)" in ln]
    assert warning.startswith("warning: RandomCrop (step 1) cuts 24x24 (height x width) out "
                              "of images typically 16 high and 16 wide: the crop is larger "
                              "than the image, so training stops with an error.")
    assert err.strip().splitlines()[-1].startswith(
        f"workbench train: error: augment.transforms[0]: RandomCrop: {SAID}. The image is "), err
    # The --set it gives, pasted as printed, trains.
    option = shlex.split(warning.split("on the command line ", 1)[1].rstrip("."))
    code, _, err = _train(capsys, tmp_path, data, *option)
    assert code == 0, err
    assert "RandomCrop" not in err, err


def test_the_image_too_small_is_named_and_excluding_it_trains(tmp_path, capsys):
    """Large images and one thumbnail: no warning (the typical image fits), and the run
    stops at the thumbnail, naming it as data.exclude does (review: the error named no
    file, so the user could not find the odd one out)."""
    data = make_image_folder(tmp_path / "colours", per_class=8, size=32)
    Image.new("RGB", (16, 16), (220, 30, 30)).save(tmp_path / "colours" / "red" / "thumb.png")
    code, _, err = _train(capsys, tmp_path, data)
    assert code == 2, err
    assert "RandomCrop (step 1)" not in err, err  # no warning: typically 32x32
    assert err.strip().splitlines()[-1] == (
        f"workbench train: error: augment.transforms[0]: RandomCrop: "
        f"{SAID}. The image is red/thumb.png; if "
        f"only a few are this small, exclude them (data.exclude)"), err
    code, _, err = _train(capsys, tmp_path, data, '--set=data.exclude=["red/thumb.png"]')
    assert code == 0, err


def test_the_named_image_survives_a_loader_worker(tmp_path):
    from torch._utils import ExceptionWrapper

    from workbench.core.data.dataset import ImageDataset

    Image.new("RGB", (16, 16)).save(tmp_path / "small.png")
    exp = _exp(("RandomCrop", CROP))
    ds = ImageDataset([(str(tmp_path / "small.png"), 0)], build_train_transform(exp), 3,
                      folder=str(tmp_path))
    try:
        ds[0]
    except ImageTooSmall:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 0")
    with pytest.raises(ImageTooSmall) as caught:
        wrapped.reraise()
    assert caught.value.field == "augment.transforms[0]"
    assert str(caught.value) == (f"augment.transforms[0]: RandomCrop: {SAID}. The image is "
                                 f"small.png; if only a few are this small, exclude them "
                                 f"(data.exclude)")
    # Outside the folder (or no folder known): the whole path.
    (tmp_path / "elsewhere").mkdir()
    for folder in (str(tmp_path / "elsewhere"), ""):
        ds.folder = folder
        with pytest.raises(ImageTooSmall, match=re.escape(f"is {tmp_path / 'small.png'};")):
            ds[0]


def test_check_experiment_says_it_as_train_would(tmp_path, capsys):
    data = make_image_folder(tmp_path / "colours", per_class=4, size=16)
    exp = _exp(("RandomCrop", CROP))
    exp.data.folder = data
    exp.save(tmp_path / "exp.json")
    code, _, err = run_cli(capsys, "check", "--experiment", tmp_path / "exp.json")
    assert code == 0, err
    assert "warning: RandomCrop (step 1) cuts 24x24 (height x width) out of images " \
           "typically 16 high and 16 wide" in err, err
    assert "pad_if_needed\": true" in err, err


def test_check_strict_fails_on_a_crop_that_stops_training(tmp_path, capsys):
    """--strict gates a pipeline on what would stop the run (review: it exited 0 on the
    crop the Train tab keeps Start disabled for, and train fails at its first batch), and
    not on a hint that only warns (a flip of left/right classes)."""
    data = make_image_folder(tmp_path / "colours", per_class=4, size=16)
    exp = _exp(("RandomCrop", CROP))
    exp.data.folder = data
    exp.save(tmp_path / "exp.json")
    code, _, err = run_cli(capsys, "check", "--experiment", tmp_path / "exp.json", "--strict")
    assert code == 5, err
    assert err.strip().splitlines()[-1] == (
        "workbench check: --strict: training would stop with an error at RandomCrop (step 1), "
        "which the typical image is too small for: exit code 5"), err
    exp.augment.transforms[0].params["pad_if_needed"] = True
    exp.save(tmp_path / "exp.json")
    code, _, err = run_cli(capsys, "check", "--experiment", tmp_path / "exp.json", "--strict")
    assert code == 0 and "--strict" not in err, err
    signs = make_image_folder(tmp_path / "signs", classes=("TurnLeft", "TurnRight"),
                              per_class=4, size=16)
    exp = _exp(("RandomHorizontalFlip", {}))
    exp.data.folder = signs
    exp.save(tmp_path / "flip.json")
    code, _, err = run_cli(capsys, "check", "--experiment", tmp_path / "flip.json", "--strict")
    assert code == 0 and "warning: RandomHorizontalFlip may change the label" in err, err
