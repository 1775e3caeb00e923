"""A file name that is not valid UTF-8 (``b"caf\\xe9_dog.png"``: a zip made on Windows and
unpacked on Linux) is read by Python as a str with a lone surrogate. Everything that writes
text, hashes or prints names must take it: files keep the name's own bytes (a path in a CSV
opens the file), JSON keeps an escape that reads back to the same path, and a terminal whose
Python encodes strictly prints it instead of failing."""

from __future__ import annotations

import csv
import io
import json
import os
import sys

import pytest

from helpers import make_photo_folder

if sys.platform in ("win32", "darwin"):  # names there are always valid Unicode
    pytest.skip("needs a file system that takes any bytes as a name", allow_module_level=True)

BAD = b"caf\xe9_dog.png"  # Latin-1 "é": not valid UTF-8


def _with_bad_names(root):
    """``make_photo_folder`` with one image renamed to :data:`BAD` and the class ``owls``
    renamed ``b"\\xe9ls"``; returns the bad image's path as Python lists it."""
    make_photo_folder(root, per_class=6)
    base = os.fsencode(root)
    os.rename(base + b"/dogs/dogs_00.png", base + b"/dogs/" + BAD)
    os.rename(base + b"/owls", base + b"/\xe9ls")
    return os.fsdecode(base + b"/dogs/" + BAD)


def test_the_health_check_of_such_a_folder_is_kept_and_comes_back(tmp_path, monkeypatch):
    from workbench.core.data.health import saved
    from workbench.core.data.health.report import check_dataset
    from workbench.core.data.scan import scan_folder
    from workbench.core.experiment import Experiment

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    bad = _with_bad_names(tmp_path / "d")
    exp = Experiment(name="names")
    exp.data.folder, exp.data.input_size = str(tmp_path / "d"), [32, 32]
    index = scan_folder(exp.data.folder)
    assert bad in [p for p, _ in index.samples + list(index.val_samples or [])]
    report = check_dataset(exp, index=index)
    report.blank_images = [bad]  # a finding naming the file: kept with its stat
    saved.save_report(index, exp.data, report)

    kept = saved.load(scan_folder(exp.data.folder), exp.data)
    assert kept.report is not None and kept.stale == ""
    assert kept.report.blank_images == [bad] and os.path.isfile(kept.report.blank_images[0])


def test_a_predictions_csv_names_the_file_by_its_own_bytes(tmp_path):
    from workbench.core.io import atomic_write_text
    from workbench.core.predict import predictions_csv

    bad = _with_bad_names(tmp_path / "d")
    out = tmp_path / "p.csv"
    atomic_write_text(out, predictions_csv([(bad, [("dogs", 0.9), ("cats", 0.1)], "")]))

    assert b"/dogs/" + BAD + b",dogs,0.900000" in out.read_bytes()
    with open(out, newline="", encoding="utf-8", errors="surrogateescape") as f:
        rows = list(csv.reader(f))
    assert rows[1][0] == bad and os.path.isfile(rows[1][0])


def test_the_split_and_its_record_take_such_names_and_read_back(tmp_path):
    from workbench.core.data.scan import scan_folder
    from workbench.core.data.split_record import (read_split_record, record_of_split,
                                                  stable_side, write_split_record)
    from workbench.core.experiment import Experiment

    _with_bad_names(tmp_path / "d")
    index = scan_folder(str(tmp_path / "d"))
    assert "\udce9ls" in index.classes
    data = Experiment(name="names").data
    data.val_fraction = 0.5
    record = record_of_split(index, data)
    assert len(record.train) + len(record.val) == 18 and record.val
    assert stable_side(0, "\udce9ls", "dogs/" + os.fsdecode(BAD), 0.5) in (True, False)

    path = write_split_record(tmp_path, record)
    json.loads(path.read_text(encoding="ascii"))  # plain ASCII: "\udce9" is escaped
    back = read_split_record(tmp_path)
    assert back.train == record.train and back.val == record.val
    rel = "dogs/" + os.fsdecode(BAD)
    assert rel in back.train | back.val and os.path.isfile(tmp_path / "d" / rel)


def test_the_cli_prints_such_names_to_a_terminal_that_encodes_strictly(tmp_path, monkeypatch):
    from workbench.cli import main

    _with_bad_names(tmp_path / "d")
    raw = io.BytesIO()
    # A UTF-8 locale's terminal: Python encodes its output strictly (not surrogateescape).
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["scan", str(tmp_path / "d")]) == 0
    assert b"\xe9ls" in raw.getvalue() and b"dogs" in raw.getvalue()
