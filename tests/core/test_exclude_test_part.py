"""``data.exclude`` naming a test/ image (a copy of a training image, found by Health's
leak check) leaves it out of what the test part measures: run.json's test count, the
test split ``evaluate`` and ``report`` score, and ``check``'s leaks all agree, and the
entry is not called one that matches no image."""

from __future__ import annotations

from types import SimpleNamespace

from helpers import LEAK, make_leaky_parts
from workbench.core.data.health.report import check_dataset
from workbench.core.data.scan import scan_folder
from workbench.core.data.usage import data_use, excluded_images, unmatched_excludes
from workbench.core.evaluate.evaluation import labelled_samples
from workbench.core.experiment import Experiment


def _leaky(tmp_path):
    """train/ and test/ of three classes (6 images each), and a test/ copy of a training
    image; an experiment on it that excludes the copy."""
    root = make_leaky_parts(tmp_path / "d")
    exp = Experiment(name="leak")
    exp.data.folder = str(root)
    exp.data.input_size = [32, 32]
    exp.data.exclude = [LEAK]
    return root, exp.validate(), scan_folder(str(root))


def test_an_excluded_test_image_is_left_out_of_the_test_part_everywhere(tmp_path):
    root, exp, index = _leaky(tmp_path)
    assert len(index.test_samples) == 19
    # It names an image: no "matches no image" note on the Data tab or from check/train.
    assert unmatched_excludes(index, exp.data.exclude) == []
    assert excluded_images(index, exp.data.exclude) == {str(root / LEAK)}
    # run.json's counts (and the training header's words).
    use = data_use(index, exp.data)
    assert use.to_json()["test"] == 18 and use.to_json()["excluded"] == 1
    assert use.to_json()["excluded_test"] == 1
    assert len(use.train) + len(use.val) == 18  # no training image is left out
    # Measured before: "left out: 1 excluded", read as one of the training images.
    assert use.describe().endswith("left out: 1 excluded from test/; 18 in test/, never "
                                   "trained on")
    # What evaluate --split test (and report, and the Evaluate tab) measure: the same 18.
    bundle = SimpleNamespace(experiment=exp, classes=list(index.classes))
    notes: list = []
    samples, _, split = labelled_samples(bundle, None, "test", notes)
    assert split == "test" and len(samples) == 18
    assert str(root / LEAK) not in {p for p, _ in samples}
    assert notes == ["the experiment's data.exclude leaves out 1 of the test part's 19 "
                     "images"]
    # check --experiment: the excluded copy is no longer a leak (excluding it settled it).
    report = check_dataset(exp, index=index)
    assert report.test_leaks == [] and report.excluded == 1
    assert report.parts["test"] == 18 and report.num_images == 18 + 18


def test_without_the_exclusion_the_leak_is_measured_and_reported(tmp_path):
    root, exp, index = _leaky(tmp_path)
    exp.data.exclude = []
    assert data_use(index, exp.data).to_json()["test"] == 19
    bundle = SimpleNamespace(experiment=exp, classes=list(index.classes))
    notes: list = []
    assert len(labelled_samples(bundle, None, "test", notes)[0]) == 19 and notes == []
    report = check_dataset(exp, index=index)
    assert [sorted(g) for g in report.test_leaks] == [
        sorted([str(root / "train" / "cats" / "cats_00.png"), str(root / LEAK)])]


def test_a_test_image_excluded_since_the_model_was_trained_is_left_out_with_a_note(tmp_path):
    # Measured before: the bundle's own data.exclude only: a test/ copy excluded in the app
    # after the run (Health: "Excluded ... from evaluation on the test part") was scored.
    root, exp, index = _leaky(tmp_path)
    trained = exp.copy()
    trained.data.exclude = []  # the run was trained before the leak was found
    bundle = SimpleNamespace(experiment=trained, classes=list(index.classes))
    notes: list = []
    samples, _, split = labelled_samples(bundle, None, "test", notes, current=exp.data)
    assert split == "test" and len(samples) == 18
    assert str(root / LEAK) not in {p for p, _ in samples}
    assert notes == [f"1 test image excluded (data.exclude) since the model was trained is "
                     f"left out too: {LEAK}"]
    # The app open on another folder: its exclusions name other images.
    elsewhere = exp.copy()
    elsewhere.data.folder = str(tmp_path / "other")
    notes = []
    assert len(labelled_samples(bundle, None, "test", notes, current=elsewhere.data)[0]) == 19
    assert notes == []


def test_a_test_part_whose_every_image_is_excluded_says_so(tmp_path):
    # Measured before: "... has no test part (a test/ folder beside train/) with images",
    # of a test/ whose 19 images were there, excluded.
    import pytest

    from workbench.core.errors import DataError

    root, exp, index = _leaky(tmp_path)
    exp.data.exclude = [p[len(str(root)) + 1:] for p, _ in index.test_samples]
    bundle = SimpleNamespace(experiment=exp, classes=list(index.classes))
    with pytest.raises(DataError) as info:
        labelled_samples(bundle, None, "test", [])
    assert str(info.value) == (f"{root} has no test image to evaluate (data.exclude leaves "
                               f"out all 19 of its test/ images): include some again, or "
                               f"evaluate its validation split instead")


def test_an_excluded_training_image_and_test_image_are_counted_apart(tmp_path):
    root, exp, index = _leaky(tmp_path)
    exp.data.exclude = [LEAK, "train/dogs/dogs_00.png"]
    use = data_use(index, exp.data)
    assert use.describe().endswith("left out: 1 excluded, 1 excluded from test/; 18 in "
                                   "test/, never trained on")


def test_continuing_does_not_call_a_test_image_excluded_since_a_setting_it_drops(tmp_path):
    """Walk: the Continue dialog said "Data tab: 1 excluded image (the run's 0)" of the
    leaked test/ copy excluded since, which never changes training (and Evaluate already
    leaves it out of this run's test score)."""
    from workbench.core.runs.unused import unused_settings

    _root, now, _index = _leaky(tmp_path)
    run = now.copy()
    run.data.exclude = []
    assert unused_settings(run, now) == []
    now.data.exclude.append("train/dogs/dogs_01.png")  # a training image: said
    assert unused_settings(run, now) == ["Data tab: 1 excluded image (the run's 0)"]
