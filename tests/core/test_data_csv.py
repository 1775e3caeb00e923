"""CSV datasets: ``path,label`` rows accepted wherever a dataset folder is."""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

from workbench.cli import main
from workbench.core.data.index import ScanCancelled
from workbench.core.data.scan import scan_folder
from workbench.core.data.split import split_samples
from workbench.core.errors import DataError


def _img(path, colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (6, 6), colour).save(path)
    return str(path)


def _dataset(tmp_path, header=True):
    """images/ with 3 reds and 3 blues, listed in a CSV beside it (one absolute path)."""
    reds = [_img(tmp_path / "images" / f"r{i}.png") for i in range(3)]
    blues = [_img(tmp_path / "images" / f"b {i} ü.png", (30, 30, 220)) for i in range(3)]
    elsewhere = _img(tmp_path / "other" / "far.png", (30, 30, 220))
    rows = (["path,label"] if header else []) + \
        [f"images/r{i}.png,red" for i in range(3)] + \
        [f'"images/b {i} ü.png", blue ' for i in range(3)] + [f"{elsewhere},blue"]
    csv = tmp_path / "data.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return csv, reds, blues + [elsewhere]


@pytest.mark.parametrize("header", [True, False])
def test_csv_is_scanned_like_a_folder(tmp_path, header):
    csv, reds, blues = _dataset(tmp_path, header)
    index = scan_folder(csv)
    assert index.layout == "csv" and index.root == str(csv)
    assert index.classes == ["blue", "red"]  # sorted labels, not row order
    assert index.samples == [(p, 1) for p in reds] + [(p, 0) for p in blues]
    assert index.counts() == {"blue": 4, "red": 3}
    assert index.unreadable == [] and index.val_samples is None
    index.check_trainable()
    train, val = split_samples(index, 0.34, seed=0)
    assert len(val) == 2 and {label for _, label in val} == {0, 1}
    assert index.to_json_dict()["layout"] == "csv"


def test_missing_files_are_reported_and_left_out(tmp_path):
    csv, reds, blues = _dataset(tmp_path)
    with csv.open("a") as f:
        f.write("images/gone.png,red\nimages,blue\n\n")
    (tmp_path / "images" / "r0.png").write_bytes(b"")  # listed, but broken
    index = scan_folder(csv)
    reasons = {os.path.basename(u.path): u.reason for u in index.unreadable}
    assert reasons == {"gone.png": "file not found", "images": "a folder, not an image file"}
    assert len(index.samples) == 7
    index = scan_folder(csv, verify=True)
    reasons = {os.path.basename(u.path): u.reason for u in index.unreadable}
    assert reasons["r0.png"] == "empty file (0 bytes)" and len(reasons) == 3
    assert index.counts() == {"blue": 4, "red": 2}


@pytest.mark.parametrize("text, line, words", [
    ("path,label\na.png,cat\nb.png\n", 3, "expected 2 cells"),
    ("a.png,cat,extra\n", 1, "got 3"),
    ("a.png,cat\n,dog\n", 2, "the path is empty"),
    ("a.png,\n", 1, "the label is empty"),
])
def test_malformed_rows_name_the_line(tmp_path, text, line, words):
    csv = tmp_path / "bad.csv"
    csv.write_text(text)
    with pytest.raises(DataError) as info:
        scan_folder(csv)
    assert f"{csv} line {line}:" in str(info.value) and words in str(info.value)


def test_conflicting_labels_and_bad_encoding(tmp_path):
    _img(tmp_path / "a.png")
    csv = tmp_path / "twice.csv"
    csv.write_text("a.png,cat\n./a.png,cat\na.png,dog\n")
    with pytest.raises(DataError, match=r"line 3: a.png is already listed on line 1"):
        scan_folder(csv)
    csv.write_bytes(b"a.png,\xff\xfe cat\n")
    with pytest.raises(DataError, match="not UTF-8"):
        scan_folder(csv)


def test_padding_cells_bom_and_duplicates_are_tolerated(tmp_path):
    _img(tmp_path / "a.png")
    _img(tmp_path / "b.png")
    csv = tmp_path / "sheet.csv"
    csv.write_bytes("\ufefffile,class\r\na.png,cat,,\r\nb.png,dog\r\na.png,cat\r\n"
                    .encode("utf-8"))
    index = scan_folder(csv)
    assert index.classes == ["cat", "dog"] and len(index.samples) == 2


def test_trainability_messages_speak_of_labels(tmp_path):
    _img(tmp_path / "a.png")
    csv = tmp_path / "one.csv"
    csv.write_text("path,label\n")
    with pytest.raises(DataError, match="lists no images"):
        scan_folder(csv).check_trainable()
    csv.write_text("a.png,cat\n")
    with pytest.raises(DataError, match="single label"):
        scan_folder(csv).check_trainable()
    csv.write_text("a.png,cat\nmissing.png,dog\n")
    with pytest.raises(DataError, match="label 'dog'.*missing or unreadable"):
        scan_folder(csv).check_trainable()


def test_cancel_and_missing_csv(tmp_path):
    csv, _, _ = _dataset(tmp_path)
    with pytest.raises(ScanCancelled):
        scan_folder(csv, is_cancelled=lambda: True)
    with pytest.raises(DataError, match="dataset file .*nope.csv does not exist"):
        scan_folder(tmp_path / "nope.csv")


def test_cli_scan_init_and_train_accept_a_csv(tmp_path, capsys):
    csv, _, _ = _dataset(tmp_path)
    assert main(["scan", str(csv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["layout"] == "csv" and out["counts"] == {"blue": 4, "red": 3}

    exp_path = tmp_path / "exp.json"
    assert main(["init", "--data", str(csv), "-o", str(exp_path)]) == 0
    assert json.loads(exp_path.read_text())["data"]["folder"] == str(csv.resolve())

    assert main(["train", str(exp_path), "--data", str(csv), "--epochs", "1",
                 "--device", "cpu", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "bundle.pt").is_file()

    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    capsys.readouterr()
    assert main(["train", str(exp_path), "--data", str(notes), "--out", "r"]) == 2
    assert "neither a folder, a .csv file nor an archive" in capsys.readouterr().err
    assert main(["init", "--data", str(tmp_path / "no.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["gui", "--data", str(notes)]) == 2
    assert "neither a folder, a .csv file nor an archive" in capsys.readouterr().err


@pytest.mark.parametrize("row2, line, words", [
    # A quote never closed: the csv module reads the cell on to the end of the file.
    ('a.png,"cat', 2, "is never closed"),
    ('"a.png,cat', 2, "is never closed"),
    # Closed on a later line: the cell holds line breaks, never a path or a label.
    ('a.png,"cat\nb.png,dog"', 2, "is closed only on line 3"),
])
def test_an_unclosed_quote_names_the_line_it_opens_on(tmp_path, capsys, row2, line, words):
    rows = ["path,label", row2] + [f"img{i}.png,dog" for i in range(60)]
    csv = tmp_path / "data.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["scan", str(csv)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert f"{csv} line {line}: a quote opened on this line {words}" in err


def test_a_row_spanning_lines_is_named_by_its_first_line(tmp_path, capsys):
    csv = tmp_path / "data.csv"
    csv.write_text('path,label\na.png,cat\n"b\nc.png,dog\n",x,y\n', encoding="utf-8")
    assert main(["scan", str(csv)]) == 2
    err = capsys.readouterr().err
    assert f"{csv} line 3: a quote opened on this line is closed only on line 5" in err
