"""Datasets in the shapes they come in (format walkthrough): Kaggle's split folders,
zips made on a Mac, CSV files written on Windows or by spreadsheets in other locales, and
interrupted unpacks."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from helpers import make_image_folder, run_cli
from workbench.core.data import archives
from workbench.core.data.scan import scan_folder
from workbench.core.errors import DataError


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("train,test,wrapped", [
    ("training_set", "test_set", True), ("train_data", "test_data", False),
    ("trainset", "testset", False), ("Training", "Testing", False)])
def test_kaggle_split_folders_are_the_dataset_parts_not_two_classes(tmp_path, capsys, train,
                                                                    test, wrapped):
    root = tmp_path / "ds"
    for part, n in ((train, 6), (test, 3)):
        make_image_folder(root / part / part if wrapped else root / part,
                          classes=("blue", "red"), per_class=n)
    index = scan_folder(root)
    assert index.classes == ["blue", "red"]
    assert index.layout == "train_test"
    assert len(index.samples) == 12 and len(index.test_samples) == 6
    assert index.warnings == []
    index.check_trainable()
    # Said by their own names (stop 31's note: "train/" and "test/" were written).
    inner = f"{train}/{train}/" if wrapped else f"{train}/"
    assert index.part_name("train") == inner
    assert index.part_name("test").startswith(test) and index.part_name("val") == "val/"
    code, out, err = run_cli(capsys, "scan", root)
    assert code == 0, err
    assert f"layout train_test: 12 in {inner}, 6 in {index.part_name('test')}; validation " \
           f"is held out of {inner} by the experiment's settings" in out
    code, out, err = run_cli(capsys, "check", root)
    assert code == 0, err
    assert f"6 in {index.part_name('test')})" in out.splitlines()[0]


def test_a_kaggle_part_alone_is_said_to_look_like_a_dataset_part(tmp_path):
    make_image_folder(tmp_path / "ds" / "training_set", classes=("blue",), per_class=3)
    make_image_folder(tmp_path / "ds" / "blue", classes=("x",), per_class=3)
    index = scan_folder(tmp_path / "ds")
    assert any("'training_set'" in w and "dataset part" in w for w in index.warnings)


def _mac_zip(tmp_path):
    src = tmp_path / "mydata"
    make_image_folder(src, classes=("blue", "red"), per_class=3)
    path = tmp_path / "mydata.zip"
    with zipfile.ZipFile(path, "w") as z:
        for f in sorted(src.rglob("*.png")):
            rel = f.relative_to(tmp_path).as_posix()
            z.write(f, rel)
            z.writestr(f"__MACOSX/{os.path.dirname(rel)}/._{f.name}", b"\0\5\26\7 mac")
            z.writestr(f"{os.path.dirname(rel)}/._{f.name}", b"\0\5\26\7 mac")
    return path


def test_a_zip_made_on_a_mac_opens_as_its_classes(tmp_path):
    index = scan_folder(_mac_zip(tmp_path))
    assert index.classes == ["blue", "red"]
    assert len(index.samples) == 6 and index.unreadable == []
    top = os.path.dirname(index.root)
    assert os.listdir(top) == ["mydata"] or sorted(os.listdir(top)) == [
        ".workbench-unpacked", "mydata"]


def test_a_macosx_folder_in_a_dataset_folder_is_ignored(tmp_path):
    root = tmp_path / "ds"
    make_image_folder(root, classes=("blue", "red"), per_class=2)
    make_image_folder(root / "__MACOSX", classes=("blue",), per_class=2)
    assert scan_folder(root).classes == ["blue", "red"]


def _images(tmp_path, n=2):
    make_image_folder(tmp_path / "imgs", classes=("blue", "red"), per_class=n)
    return [(f"imgs/{c}/{c}_{i:03d}.png", c) for c in ("blue", "red") for i in range(n)]


def test_windows_backslash_paths_in_a_csv_are_found(tmp_path):
    rows = _images(tmp_path)
    csv = tmp_path / "win.csv"
    csv.write_text("path,label\r\n" + "".join(f"{p.replace('/', chr(92))},{c}\r\n"
                                              for p, c in rows))
    index = scan_folder(csv)
    assert index.unreadable == [] and len(index.samples) == 4


@pytest.mark.skipif(sys.platform == "win32", reason="a drive letter is a path there")
def test_a_windows_absolute_path_is_said_to_be_one(tmp_path):
    rows = _images(tmp_path)
    csv = tmp_path / "winabs.csv"
    csv.write_text("path,label\n" + "".join(f"{p},{c}\n" for p, c in rows)
                   + "C:\\data\\imgs\\x.png,blue\n")
    index = scan_folder(csv)
    assert len(index.samples) == 4
    [bad] = index.unreadable
    assert "a Windows absolute path (line 6)" in bad.reason and str(tmp_path) in bad.reason


@pytest.mark.parametrize("name,header,sep,order", [
    ("semi.csv", "path;label", ";", "pl"), ("tab.csv", "path\tlabel", "\t", "pl"),
    ("tab.tsv", "path\tlabel", "\t", "pl"), ("pipe.csv", None, "|", "pl"),
    ("extra.csv", "id,Species,notes,Image_Path", ",", "xlxp"),
    ("first.csv", "label,filepath", ",", "lp")])
def test_separators_and_named_columns_in_any_order(tmp_path, name, header, sep, order):
    rows = _images(tmp_path)
    cells = {"p": lambda p, c, i: p, "l": lambda p, c, i: c, "x": lambda p, c, i: f"x{i}"}
    lines = [sep.join(cells[k](p, c, i) for k in order) for i, (p, c) in enumerate(rows)]
    (tmp_path / name).write_text("\n".join(([header] if header else []) + lines) + "\n")
    index = scan_folder(tmp_path / name)
    assert index.classes == ["blue", "red"]
    assert len(index.samples) == 4 and index.unreadable == []


def test_a_broken_row_of_a_semicolon_csv_still_names_its_line(tmp_path):
    _images(tmp_path)
    (tmp_path / "semi.csv").write_text("path;label\nimgs/blue/blue_000.png;blue\n"
                                       "imgs/red/red_000.png\n")
    with pytest.raises(DataError, match=r"semi.csv line 3: expected 2 cells"):
        scan_folder(tmp_path / "semi.csv")


def test_a_header_of_unknown_names_is_not_made_a_class(tmp_path):
    rows = _images(tmp_path)
    csv = tmp_path / "other.csv"
    csv.write_text("filepath_x,kind_y\n" + "".join(f"{p},{c}\n" for p, c in rows))
    index = scan_folder(csv)
    assert index.classes == ["blue", "red"] and index.unreadable == []
    assert any("line 1 looks like a header (filepath_x, kind_y)" in w
               and "name the columns path,label" in w for w in index.warnings)


def test_a_missing_image_on_line_1_is_still_a_row(tmp_path):
    rows = _images(tmp_path)
    csv = tmp_path / "plain.csv"
    csv.write_text("gone/x.jpg,green\n" + "".join(f"{p},{c}\n" for p, c in rows))
    index = scan_folder(csv)
    assert index.classes == ["blue", "green", "red"] and index.warnings == []
    assert [u.reason for u in index.unreadable] == ["file not found"]


def test_paths_without_extensions_all_missing_say_where_they_are_looked_for(tmp_path):
    _images(tmp_path)
    csv = tmp_path / "kaggle.csv"
    csv.write_text("id,breed\nimgs/blue/blue_000,blue\nimgs/red/red_000,red\n")
    index = scan_folder(csv)
    text = " ".join(index.warnings)
    assert f"paths are read relative to the CSV file's folder {tmp_path}" in text
    assert "no file extension" in text


def _zip(tmp_path, name="d.zip"):
    src = tmp_path / "src"
    make_image_folder(src, classes=("blue", "red"), per_class=2)
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as z:
        for f in sorted(src.rglob("*.png")):
            z.write(f, f.relative_to(src).as_posix())
    return path


def _partials(tmp_path):
    folder = tmp_path / "cache" / "archives"
    return sorted(p.name for p in folder.glob("*.partial-*")) if folder.is_dir() else []


def test_an_interrupted_unpack_leaves_no_partial_folder(tmp_path, monkeypatch):
    path = _zip(tmp_path)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(archives, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        scan_folder(path)
    assert _partials(tmp_path) == []


def test_partial_folders_of_dead_unpacks_are_swept(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    folder = tmp_path / "cache" / "archives"
    (folder / f"old-123.partial-{done.stdout.strip()}" / "blue").mkdir(parents=True)
    (folder / "busy-456.partial-1").mkdir()  # pid 1 is alive: another unpack, kept
    scan_folder(_zip(tmp_path))
    assert _partials(tmp_path) == ["busy-456.partial-1"]


def test_a_deleted_archive_is_called_a_dataset_not_a_folder(tmp_path):
    with pytest.raises(DataError) as info:
        scan_folder(tmp_path / "gone.zip")
    assert f"dataset {tmp_path / 'gone.zip'} does not exist" in str(info.value)
    assert "archive" in str(info.value)


def test_a_one_file_dataset_that_is_gone_is_called_a_file(tmp_path):
    """A TSV or an archive deleted during a run was called "the dataset folder …"."""
    from workbench.core.train.unreadable import EpochReads, no_readable_error

    for name in ("labels.tsv", "photos.zip", "photos.tar.gz", "labels.csv"):
        text = str(no_readable_error("training", 2, str(tmp_path / name), EpochReads(), 1))
        assert f"the dataset file {tmp_path / name} is gone" in text, text
    text = str(no_readable_error("training", 2, str(tmp_path / "photos"), EpochReads(), 1))
    assert f"the dataset folder {tmp_path / 'photos'} is gone" in text
