"""Data health over every part of a dataset: copies between train/, val/ and test/ are leaks
naming their parts, conflicting labels with a test image are found, ``check`` without an
experiment names the split it really used, and ``check --strict`` gates a pipeline."""

from __future__ import annotations

import json
import shutil

from helpers import make_photo_folder, run_cli
from workbench.cli.health import EXIT_FINDINGS
from workbench.cli.parser import build_parser
from workbench.core.data.health.report import check_dataset
from workbench.core.experiment import Experiment


def _parts(root):
    for i, part in enumerate(("train", "val", "test")):
        make_photo_folder(root / part, per_class=6, seed=i)
    return root


def _experiment(folder) -> Experiment:
    exp = Experiment(name="health")
    exp.data.folder = str(folder)
    exp.data.input_size = [32, 32]
    return exp.validate()


def test_copies_of_test_images_in_training_and_validation_are_leaks_naming_the_parts(
        tmp_path):
    root = _parts(tmp_path / "d")
    test = root / "test"
    shutil.copy(test / "cats" / "cats_00.png", root / "train" / "cats" / "cats_copy.png")
    shutil.copy(test / "dogs" / "dogs_01.png", root / "val" / "dogs" / "dogs_copy.png")
    # A test image filed under another class in training: a conflict as well as a leak.
    shutil.copy(test / "owls" / "owls_02.png", root / "train" / "cats" / "owl_as_cat.png")
    report = check_dataset(_experiment(root))
    p = lambda rel: str(root / rel)  # noqa: E731
    assert report.parts == {"train": 20, "val": 19, "test": 18}
    assert report.num_images == 20 + 19 + 18
    assert report.side_of[p("test/cats/cats_00.png")] == "test"
    assert sorted(map(sorted, report.test_leaks)) == [
        [p("test/cats/cats_00.png"), p("train/cats/cats_copy.png")],
        [p("test/dogs/dogs_01.png"), p("val/dogs/dogs_copy.png")],
        [p("test/owls/owls_02.png"), p("train/cats/owl_as_cat.png")]]
    parts = sorted((g["parts"], sorted(g["paths"])) for g in report.leaks)
    assert [pt for pt, _ in parts] == [["train", "test"], ["train", "test"], ["val", "test"]]
    assert report.train_val_leaks == []  # none spans training and validation
    assert [sorted(g) for g in report.conflicting_labels] == [
        [p("test/owls/owls_02.png"), p("train/cats/owl_as_cat.png")]]
    # Three groups of copies, one of them a conflict too: three findings to fix.
    assert not report.clean and report.gating == 3


def test_check_prints_leaks_by_parts_and_names_the_folder_split_it_used(capsys, tmp_path):
    root = _parts(tmp_path / "d")
    shutil.copy(root / "test" / "cats" / "cats_00.png",
                root / "train" / "cats" / "cats_copy.png")
    code, out, err = run_cli(capsys, "check", root)
    assert code == 0, err
    assert "d: 55 images (19 for training, 18 for validation, 18 in test/), 3 classes" in out
    assert "train/test leaks (1): copies of test images in training inflate the test " \
           "accuracy" in out
    assert "test/cats/cats_00.png [test]  =  train/cats/cats_copy.png [train]" in out
    # The folder's own val/ is the validation part: no share was held out.
    assert ("note: no --experiment: checked with the folder's own val/ part as validation, "
            "input size") in err
    assert "0.2 held out" not in err
    code, out, _ = run_cli(capsys, "check", root, "--json")
    data = json.loads(out)
    assert data["leaks"][0]["parts"] == ["train", "test"] and len(data["test_leaks"]) == 1
    assert data["parts"] == {"train": 19, "val": 18, "test": 18}
    # Without val/, the share is held out of train/.
    shutil.rmtree(root / "val")
    code, _, err = run_cli(capsys, "check", root)
    assert "checked with the default split (0.2 held out of train/, seed 0)" in err


def test_strict_exits_with_its_own_code_on_conflicts_or_leaks_only(capsys, tmp_path):
    clean = make_photo_folder(tmp_path / "clean")
    code, _, err = run_cli(capsys, "check", clean, "--strict")
    assert code == 0, err
    bad = make_photo_folder(tmp_path / "bad")
    shutil.copy(bad / "cats" / "cats_00.png", bad / "dogs" / "dogs_copy.png")
    code, _, err = run_cli(capsys, "check", bad)
    assert code == 0  # the default is unchanged
    code, out, err = run_cli(capsys, "check", bad, "--strict")
    assert code == EXIT_FINDINGS == 5
    assert "conflicting labels (1)" in out
    assert f"--strict: 1 finding (conflicting labels, leaks between parts) would mislead " \
           f"a run's accuracy: exit code {EXIT_FINDINGS}" in err
    code, out, _ = run_cli(capsys, "check", bad, "--strict", "--json")
    assert code == EXIT_FINDINGS and json.loads(out)["conflicting_labels"]
    check = build_parser()._subparsers._group_actions[0].choices["check"]
    assert f"code {EXIT_FINDINGS}" in check.format_help().replace("\n", " ").replace(
        "  ", " ")


def test_check_lists_a_leak_once_and_counts_it_under_duplicates(capsys, tmp_path):
    # A leak is a copy too: listed again under duplicates, 66 leaks read as 136 problems
    # where the Health tab showed 70 (walk-manyclasses, defect 4).
    root = _parts(tmp_path / "d")
    shutil.copy(root / "test" / "cats" / "cats_00.png",
                root / "train" / "cats" / "cats_copy.png")
    shutil.copy(root / "train" / "dogs" / "dogs_01.png",
                root / "train" / "dogs" / "dogs_again.png")  # a copy within one part
    code, out, err = run_cli(capsys, "check", root)
    assert code == 0, err
    assert "train/test leaks (1):" in out
    assert "exact duplicates (1; 1 more counted under the kinds above): the same pixels" in out
    assert out.count("cats_copy.png") == 1 and out.count("dogs_again.png") == 1
    shutil.rmtree(root / "train" / "dogs")
    code, out, _ = run_cli(capsys, "check", root)
    assert "exact duplicates: 1, every one counted under the kinds above" in out
