"""Classes a run cannot use as the user expects: a class whose every file is unreadable
(``train`` and a headless run refuse it as the app does, ``check`` names it and ``--strict``
fails on it), an empty class folder, and a class of one image that validation never
measures (a note from ``check``, ``train`` and ``scan``). Also ``check``'s words for its
stages and its thousands separators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from helpers import make_image_folder, refused, run_cli

REFUSAL = "class 'broken'"
WHY = "has no usable training images (all 3 of its files are unreadable)"


def _broken_class(root: Path) -> None:
    """``broken/`` with only unreadable files: empty, garbage, a truncated JPEG."""
    (root / "broken").mkdir()
    (root / "broken" / "a.jpg").write_bytes(b"")
    (root / "broken" / "b.png").write_bytes(b"garbage" * 20)
    whole = root.parent / "whole.jpg"
    Image.new("RGB", (64, 64), (90, 120, 30)).save(whole)
    data = whole.read_bytes()
    (root / "broken" / "c.jpg").write_bytes(data[:len(data) // 3])


@pytest.fixture
def broken_folder(tmp_path):
    root = Path(make_image_folder(tmp_path / "d", classes=("blue", "red"), per_class=6))
    _broken_class(root)
    return root


@pytest.fixture
def experiment_file(tmp_path, tiny_experiment):
    def write(folder) -> Path:
        tiny_experiment.data.folder = str(folder)
        tiny_experiment.training.epochs = 1
        path = tmp_path / "exp.json"
        tiny_experiment.save(path)
        return path
    return write


# -- train refuses a class of unreadable files ----------------------------------------------
def test_train_refuses_a_class_whose_every_file_is_unreadable(capsys, tmp_path,
                                                             broken_folder, experiment_file):
    out_dir = tmp_path / "runs" / "r1"
    line = refused(run_cli(capsys, "train", experiment_file(broken_folder), "--out", out_dir),
                   REFUSAL, WHY, "add readable images to it or remove the folder")
    assert line.startswith("workbench train: error:")
    assert not out_dir.exists()  # no run folder, no bundle left behind


def test_a_headless_run_refuses_it_as_the_app_does(tmp_path, broken_folder, tiny_experiment):
    from workbench.core.data.scan import scan_folder
    from workbench.core.train.run import run_training

    tiny_experiment.data.folder = str(broken_folder)
    tiny_experiment.training.epochs = 1
    # The app's verified scan refuses it; a run that scans for itself now says the same.
    with pytest.raises(Exception) as app:
        scan_folder(broken_folder, verify=True).check_trainable()
    outcome = run_training(tiny_experiment, runs_parent=tmp_path / "runs")
    assert outcome.failed and outcome.bundle_path is None
    assert str(outcome.error) == str(app.value) and WHY in outcome.message
    runs = tmp_path / "runs"
    assert outcome.run_dir is None or not outcome.run_dir.exists()
    assert not runs.exists() or not any(runs.iterdir())  # no run folder left behind


def test_the_header_counts_without_an_unreadable_file_found_before_the_run(
        capsys, tmp_path, experiment_file):
    root = Path(make_image_folder(tmp_path / "d", classes=("blue", "red"), per_class=6))
    (root / "red" / "-damaged.png").write_bytes(b"not a png")  # the class's first file
    code, out, err = run_cli(capsys, "train", experiment_file(root), "--out", tmp_path / "r")
    assert code == 0, err
    header = out.splitlines()[0]
    assert header.startswith("training ") and " 12 images (" in header, header
    assert "decoded-image cache: 12 images" in out
    assert "-damaged.png" in out and "left out" in out  # named before the run, not skipped
    assert "skipped" not in err and "were skipped" not in out


# -- check ------------------------------------------------------------------------------------
def test_check_names_what_training_would_refuse_and_strict_fails(capsys, broken_folder):
    (broken_folder / "empty").mkdir()
    code, out, err = run_cli(capsys, "check", broken_folder)
    assert code == 0, err
    assert "classes with no readable image (1): broken" in out
    assert "empty class folders, left out (1): empty" in out
    assert f"cannot be trained on: {REFUSAL}" in out and WHY in out
    code, out, err = run_cli(capsys, "check", broken_folder, "--json")
    doc = json.loads(out)
    assert doc["unreadable_classes"] == ["broken"] and doc["empty_classes"] == ["empty"]
    assert REFUSAL in doc["cannot_train"] and WHY in doc["cannot_train"]

    from workbench.cli.common import EXIT_FINDINGS

    code, out, err = run_cli(capsys, "check", broken_folder, "--strict")
    assert code == EXIT_FINDINGS and "training would refuse" in err, err


def test_check_strict_passes_a_folder_that_trains(capsys, tmp_path):
    root = make_image_folder(tmp_path / "d", classes=("blue", "red"), per_class=6)
    code, out, err = run_cli(capsys, "check", root, "--strict", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["cannot_train"] is None and doc["unreadable_classes"] == []
    assert doc["empty_classes"] == []


def test_check_says_its_stages_in_words_and_counts_with_separators(capsys):
    from workbench.cli.health import _print_text
    from workbench.core.data.health.report import HealthReport

    report = HealthReport("/data", ["a", "b"], 2968, parts={"train": 2379, "val": 589},
                          seconds={"scan": 0.7, "fast_checks": 9.3, "labels": 61.0})
    _print_text(report, {"unreadable_classes": [], "empty_classes": [],
                         "cannot_train": None})
    out = capsys.readouterr().out
    assert "/data: 2,968 images, 2 classes" in out
    assert "scanning 0.7 s, quick checks 9.3 s, label check 61.0 s" in out
    assert "fast_checks" not in out and "took scan" not in out


# -- a class of one image ---------------------------------------------------------------------
@pytest.fixture
def single_folder(tmp_path):
    root = Path(make_image_folder(tmp_path / "d", classes=("blue", "red"), per_class=6))
    (root / "único").mkdir()
    Image.new("RGB", (12, 12), (0, 0, 0)).save(root / "único" / "x.png")
    return root


NOTE = "class 'único' has 1 image"
UNMEASURED = "its validation accuracy is not measured"


def test_check_and_scan_note_a_class_of_one_image(capsys, single_folder):
    code, out, err = run_cli(capsys, "check", single_folder)
    assert code == 0, err
    (note,) = [line for line in err.splitlines() if NOTE in line]
    assert note.startswith("note:") and UNMEASURED in note
    code, out, err = run_cli(capsys, "check", single_folder, "--json")
    assert any(NOTE in n for n in json.loads(out)["notes"])
    code, out, err = run_cli(capsys, "scan", single_folder)
    assert code == 0 and any(line.startswith("note: ") and NOTE in line and UNMEASURED in line
                             for line in out.splitlines()), out
    code, out, err = run_cli(capsys, "scan", single_folder, "--json")
    assert any(NOTE in n for n in json.loads(out)["notes"])


def test_train_notes_a_class_of_one_image(capsys, tmp_path, single_folder, experiment_file):
    code, out, err = run_cli(capsys, "train", experiment_file(single_folder), "--out",
                             tmp_path / "r")
    assert code == 0, err
    assert any(line.startswith("note: ") and NOTE in line and UNMEASURED in line
               for line in out.splitlines()), out


def test_no_note_when_every_class_is_validated_or_nothing_is():
    from workbench.core.data.usage import unvalidated_note

    classes = ["a", "b", "c"]
    train = [("a1", 0), ("a2", 0), ("b1", 1), ("c1", 2)]
    assert unvalidated_note(classes, train, [("a3", 0), ("b2", 1), ("c2", 2)]) is None
    assert unvalidated_note(classes, train, []) is None  # no validation at all
    two = unvalidated_note(classes, train, [("a3", 0)])
    assert two.startswith("2 classes have no image held out for validation: 'b' (1 image), "
                          "'c' (1 image)")


def test_check_says_the_input_size_width_first_as_the_chosen_line_does(tmp_path, capsys):
    """A walkthrough: `check` said "33x32 (width x height)" in the chosen line, then "input
    size 32x33" (height first, unsaid) in its note."""
    root = make_image_folder(tmp_path / "wide", classes=("a", "b"), per_class=4,
                             size=(64, 48))
    code, _, err = run_cli(capsys, "check", root)
    assert code == 0, err
    assert "input 64x48 (width x height)" in err
    assert "input size 64x48 (width x height) and no exclusions" in err


def test_check_of_a_clean_folder_says_so_without_labels_too(tmp_path, capsys):
    """A walkthrough: `check` on a clean folder never said "no problems found" without
    --labels, where the Health tab says it."""
    from helpers import make_photo_folder

    root = make_photo_folder(tmp_path / "clean", classes=("a", "b"), per_class=4)
    code, out, _ = run_cli(capsys, "check", root)
    assert code == 0
    assert "no problems found (copies, conflicting labels, leaks, odd images)" in out
    assert "labels not checked: add --labels" in out
