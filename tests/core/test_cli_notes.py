"""What the commands say that a user would otherwise not know: training on the built-in
demo dataset, ``data.exclude`` entries that match no image, an experiment file that lost
its ``model`` or ``data`` section, classes whose every file is unreadable, and what
``predict --csv`` wrote."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from helpers import random_bundle, refused, run_cli


# -- the demo dataset -------------------------------------------------------------------------
def test_init_without_data_says_it_trains_on_the_demo(capsys, tmp_path):
    code, out, err = run_cli(capsys, "init", "-o", tmp_path / "exp.json")
    assert code == 0, err
    assert json.loads((tmp_path / "exp.json").read_text())["data"]["folder"] == ""  # kept
    note = next(line for line in err.splitlines() if line.startswith("note:"))
    assert "built-in demo dataset" in note and "--data DIR" in note


def test_the_train_notes_name_the_demo_only_when_it_is_used(tiny_experiment):
    from workbench.cli.common import dataset_notes
    from workbench.core.experiment import Experiment

    assert dataset_notes(tiny_experiment) == []
    (note,) = dataset_notes(Experiment())
    assert "built-in demo dataset" in note and "--data DIR" in note


# -- data.exclude ---------------------------------------------------------------------------
@pytest.fixture
def typo_experiment(tmp_path, tiny_experiment):
    tiny_experiment.data.exclude = ["red/red_000.png", "red/red_0001.png", "gren/x.png"]
    path = tmp_path / "exp.json"
    tiny_experiment.save(path)
    return path


def test_check_names_exclude_entries_that_match_nothing(capsys, typo_experiment):
    code, out, err = run_cli(capsys, "check", "--experiment", typo_experiment)
    assert code == 0, err
    (note,) = [line for line in err.splitlines() if "data.exclude" in line]
    assert note.startswith("note:")
    assert "'red/red_0001.png'" in note and "'gren/x.png'" in note
    assert "'red/red_000.png'" not in note  # that one matched
    assert "(1 excluded by the experiment)" in out


def test_the_train_notes_name_exclude_entries_that_match_nothing(typo_experiment):
    from workbench.cli.common import dataset_notes
    from workbench.core.experiment import Experiment

    (note,) = dataset_notes(Experiment.load(typo_experiment))
    assert "'red/red_0001.png', 'gren/x.png' match no image" in note


def test_train_names_exclude_entries_that_match_nothing(capsys, tmp_path, typo_experiment):
    code, _, err = run_cli(capsys, "train", typo_experiment, "--epochs", "1", "--out",
                           tmp_path / "run")
    assert code == 0, err
    assert "note: data.exclude: 'red/red_0001.png', 'gren/x.png' match no image" in err


def test_matching_excludes_and_unreadable_ones_get_no_note(capsys, tmp_path,
                                                          tiny_experiment):
    from workbench.cli.common import exclude_note
    from workbench.core.data.scan import scan_folder

    broken = Path(tiny_experiment.data.folder) / "red" / "broken.png"
    broken.write_bytes(b"not a png")
    index = scan_folder(tiny_experiment.data.folder, verify=True)
    # An unreadable file may be excluded; a Windows path names the same file.
    assert exclude_note(index, ["red/broken.png", "blue/blue_003.png",
                                "green\\green_001.png"]) is None


# -- experiment files that lost a section ---------------------------------------------------
@pytest.mark.parametrize("section, words", [
    ("model", ["seed-cnn", '"model" section']),
    ("data", ["demo dataset", '"data" section']),
])
def test_an_experiment_file_without_model_or_data_is_refused(capsys, tmp_path,
                                                             tiny_experiment, section, words):
    doc = tiny_experiment.to_dict()
    del doc[section]
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(doc))
    refused(run_cli(capsys, "train", path, "--out", tmp_path / "run"),
            f"{section}: missing from {path}", *words)
    assert not (tmp_path / "run").exists()


def test_an_empty_experiment_file_is_still_the_default_experiment(tmp_path):
    from workbench.core.experiment import Experiment

    path = tmp_path / "exp.json"
    for text in ("{}", '{"name": "mine", "format_version": 1}'):
        path.write_text(text)
        assert Experiment.load(path).model.preset == "seed-cnn"
    # Partial dicts (the app's, the tests') are still completed with the defaults.
    assert Experiment.from_dict({"training": {"epochs": 3}}).training.epochs == 3


# -- scan: classes whose every file is unreadable -------------------------------------------
def test_scan_says_a_class_of_unreadable_files_has_no_images(capsys, tmp_path):
    from helpers import make_image_folder

    root = Path(make_image_folder(tmp_path / "d", classes=("blue", "red"), per_class=3))
    (root / "bad").mkdir()
    (root / "bad" / "1.png").write_bytes(b"not a png")
    (root / "empty").mkdir()
    code, out, err = run_cli(capsys, "scan", root)
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")
             and len(line.split()) > 1 and not line.strip().startswith("/")}
    assert "no readable images" in lines["bad"] and "left out" in lines["empty"]
    assert "no " not in lines["red"]
    code, out, err = run_cli(capsys, "scan", root, "--json")
    doc = json.loads(out)
    assert doc["unreadable_classes"] == ["bad"] and doc["empty_classes"] == ["empty"]
    assert doc["counts"]["bad"] == 0


# -- predict --csv --------------------------------------------------------------------------
def test_predict_csv_has_no_columns_beyond_the_classes_and_counts_errors_apart(
        capsys, tmp_path, tiny_experiment, tiny_folder):
    bundle = random_bundle(tmp_path / "bundle.pt", tiny_experiment)[0]  # 3 classes
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    out_csv = tmp_path / "p.csv"
    code, _, err = run_cli(capsys, "predict", bundle, Path(tiny_folder) / "red", broken,
                           "--csv", out_csv)  # --top-k 5 by default
    assert code == 0, err
    header = next(csv.reader(io.StringIO(out_csv.read_text())))
    assert header[-3:] == ["class_3", "prob_3", "error"]
    assert f"wrote 10 predictions and 1 unreadable file to {out_csv}" in err
