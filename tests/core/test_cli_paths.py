"""Where the commands read and write: an archive of a dataset folder is a dataset for every
command that takes one (not only ``scan``), ``-`` prints a single output to stdout (and is
refused where there are several files), and ``report --data`` evaluates a run whose
dataset has moved."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from helpers import random_bundle, refused, run_cli


@pytest.fixture
def archive(tmp_path, tiny_folder):
    """``tiny_folder`` as ``tiny.zip`` (the folder itself inside it, as zip tools make it)."""
    return shutil.make_archive(str(tmp_path / "tiny"), "zip", Path(tiny_folder).parent,
                               Path(tiny_folder).name)


@pytest.fixture
def bundle(tmp_path, tiny_experiment):
    return random_bundle(tmp_path / "bundle.pt", tiny_experiment)[0]


# -- archives -------------------------------------------------------------------------------
def test_init_on_an_archive_records_it_and_fits_the_preset_to_its_images(capsys, archive,
                                                                        tmp_path):
    code, out, err = run_cli(capsys, "init", "--data", archive)
    assert code == 0, err
    exp = json.loads(out)
    assert exp["data"]["folder"] == str(Path(archive).resolve())  # as the app records it
    assert exp["data"]["input_size"] == [12, 12]  # the images were read: 12x12
    assert "note:" not in err  # a dataset was given: no word about the demo


def test_train_on_an_archive_trains_on_its_images(capsys, archive, tmp_path,
                                                   tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(exp_file)
    code, out, err = run_cli(capsys, "train", exp_file, "--data", archive,
                             "--out", tmp_path / "run")
    assert code == 0, err
    assert "30 images" in out and "3 classes" in out
    recorded = json.loads((tmp_path / "run" / "experiment.json").read_text())
    assert recorded["data"]["folder"] == str(Path(archive).resolve())


def test_check_and_evaluate_take_an_archive(capsys, archive, bundle):
    code, out, err = run_cli(capsys, "check", archive)
    assert code == 0, err
    assert "30 images, 3 classes" in out
    code, out, err = run_cli(capsys, "evaluate", bundle, archive, "--json")
    assert code == 0, err
    assert json.loads(out)["num_images"] == 30


def test_a_file_that_is_no_dataset_names_every_kind_accepted(capsys, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    refused(run_cli(capsys, "check", other), str(other), "a .csv file", ".zip or .tar(.gz)")
    refused(run_cli(capsys, "check", tmp_path / "missing.zip"), "does not exist", ".zip")


# -- "-" ------------------------------------------------------------------------------------
def test_predict_csv_dash_prints_the_csv_and_writes_no_file(capsys, bundle, tiny_folder,
                                                           tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "predict", bundle, Path(tiny_folder) / "red", "--csv", "-")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 10 and all(r["predicted"] in ("blue", "green", "red") for r in rows)
    assert not (tmp_path / "-").exists()


def test_predict_csv_dash_with_json_is_refused(capsys, bundle, tiny_folder):
    refused(run_cli(capsys, "predict", bundle, tiny_folder, "--csv", "-", "--json"),
            "--csv -", "--json")


def test_evaluate_csv_dir_dash_is_refused_before_evaluating(capsys, bundle, tiny_folder,
                                                            tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(run_cli(capsys, "evaluate", bundle, tiny_folder, "--csv-dir", "-"),
            "--csv-dir", "folder")
    assert not (tmp_path / "-").exists()


def test_evaluate_help_says_what_it_evaluates_by_default(capsys):
    code, out, _ = run_cli(capsys, "evaluate", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "test/ part when it has one, else the validation split" in text


# -- report ---------------------------------------------------------------------------------
@pytest.fixture
def run_dir(capsys, tmp_path, tiny_experiment):
    """A run of one epoch on a copy of the tiny folder (which a test may move)."""
    data = Path(shutil.copytree(tiny_experiment.data.folder, tmp_path / "data"))
    tiny_experiment.data.folder = str(data)
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(tmp_path / "exp.json")
    code, _, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", tmp_path / "run")
    assert code == 0, err
    return tmp_path / "run"


def test_report_dash_prints_the_html(capsys, run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "report", run_dir, "-o", "-")
    assert code == 0, err
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
    assert "Accuracy" in out and not (tmp_path / "-").exists()


def test_report_of_a_run_whose_dataset_moved_says_so_and_takes_data(capsys, run_dir,
                                                                    tmp_path):
    moved = tmp_path / "moved"
    (tmp_path / "data").rename(moved)
    code, out, err = run_cli(capsys, "report", run_dir, "-o", tmp_path / "r.html")
    assert code == 0, err
    assert "note: the model was not evaluated" in err and "--data DIR" in err
    assert "Not evaluated" in (tmp_path / "r.html").read_text()

    code, out, err = run_cli(capsys, "report", run_dir, "-o", tmp_path / "r2.html",
                             "--data", moved)
    assert code == 0, err
    assert "note:" not in err
    html = (tmp_path / "r2.html").read_text()
    assert "Not evaluated" not in html and "(the validation split)" in html


def test_report_data_that_does_not_exist_is_one_line(capsys, run_dir, tmp_path):
    refused(run_cli(capsys, "report", run_dir, "-o", tmp_path / "r.html", "--data",
                    tmp_path / "nowhere"), "nowhere", "does not exist")
    assert not (tmp_path / "r.html").exists()
