"""Datasets as users have them (issue 22): split folders with a test set, Hugging Face
imagefolder metadata, archives, wrapper folders, and class names that look like splits."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile

import pytest
from PIL import Image

from helpers import run_cli
from workbench.core.data.scan import scan_folder
from workbench.core.data.split import split_for
from workbench.core.errors import DataError
from workbench.core.experiment import Experiment

COLOURS = {"blue": (30, 40, 220), "green": (30, 200, 40), "red": (220, 30, 30)}


def _imgs(folder, cls, n, start=0):
    (folder / cls).mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        Image.new("RGB", (12, 12), COLOURS.get(cls, (i * 20 % 255, 90, 90))).save(
            folder / cls / f"{cls}_{i:03d}.png")


def _split_tree(root, parts=("train", "test"), n=(10, 4, 3)):
    for part, k in zip(parts, n):
        for cls in COLOURS:
            _imgs(root / part, cls, k, start=100 * len(part))
    return root


def test_train_and_test_only_holds_validation_out_of_train_and_never_trains_on_test(
        tmp_path, capsys):
    root = _split_tree(tmp_path / "kaggle", ("train", "test"), (10, 4))
    index = scan_folder(root)
    assert index.layout == "train_test" and index.classes == ["blue", "green", "red"]
    assert index.split_counts() == {"train": 30, "val": None, "test": 12}
    exp = Experiment()
    exp.data.folder = str(root)
    train, val = split_for(index, exp.data)
    test = {p for p, _ in index.test_samples}
    assert len(val) == 6 and len(train) == 24  # 20% of each class of train/, seeded
    assert not test & {p for p, _ in train + val}
    assert {p for p, _ in train + val} == {p for p, _ in index.samples}
    code, out, err = run_cli(capsys, "scan", root, "--json")
    data = json.loads(out)
    assert data["layout"] == "train_test" and data["splits"]["test"] == 12
    assert data["classes"] == ["blue", "green", "red"]  # not "test" and "train"
    code, out, err = run_cli(capsys, "scan", root)
    assert "layout train_test" in out and "never trained on" in out


@pytest.mark.parametrize("names", [("TRAIN", "Val", "Test"), ("training", "valid", "testing")])
def test_all_three_parts_any_case(tmp_path, names):
    root = _split_tree(tmp_path / "d", names, (6, 3, 2))
    index = scan_folder(root)
    assert index.layout == "train_val_test"
    assert index.split_counts() == {"train": 18, "val": 9, "test": 6}
    exp = Experiment()
    train, val = split_for(index, exp.data)
    assert len(val) == 9 and len(train) == 18  # the folder's own val/, used as is


def test_class_folders_named_like_parts_give_a_warning(tmp_path, capsys):
    root = tmp_path / "odd"
    _imgs(root, "train", 5)
    _imgs(root, "eval", 5)  # not a recognised part name: two "classes" train and eval
    index = scan_folder(root)
    assert index.layout == "folders" and index.warnings
    assert "'train'" in index.warnings[0] and "'eval'" in index.warnings[0]
    code, out, err = run_cli(capsys, "scan", root)
    assert "warning:" in err and "dataset parts" in err
    clean = tmp_path / "clean"
    _imgs(clean, "cats", 2)
    _imgs(clean, "dogs", 2)
    assert scan_folder(clean).warnings == []


def test_class_names_differing_only_in_case_give_a_warning(tmp_path, capsys):
    root = tmp_path / "cased"
    _imgs(root, "cat", 2)
    _imgs(root, "dog", 2)
    _imgs(root, "Dog", 2)
    if len(os.listdir(root)) < 3:
        pytest.skip("the file system does not tell names apart by case")
    expected = "classes 'Dog' and 'dog' differ only in case: merge them if they are the same class"
    assert scan_folder(root).warnings == [expected]
    code, _, err = run_cli(capsys, "scan", root)
    assert code == 0 and f"warning: {expected}" in err
    rows = tmp_path / "labels.csv"  # labels in a .csv file, whatever the file system
    rows.write_text("".join(f"{root / c / f'{c}_000.png'},{c}\n" for c in ("cat", "dog", "Dog")))
    assert scan_folder(rows).warnings == [expected]


def test_hugging_face_metadata_files(tmp_path):
    root = tmp_path / "hf"
    (root / "train").mkdir(parents=True)
    (root / "test").mkdir()
    rows = []
    for i in range(6):
        label = ["zebra", "ant", "mole"][i % 3]
        Image.new("RGB", (8, 8), (i * 30, 0, 0)).save(root / "train" / f"{i}.png")
        rows.append({"file_name": f"{i}.png", "label": label})
    (root / "train" / "metadata.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    Image.new("RGB", (8, 8)).save(root / "test" / "a.png")
    Image.new("RGB", (8, 8)).save(root / "test" / "b.png")
    (root / "test" / "metadata.csv").write_text("file_name,label\na.png,ant\nb.png,zebra\n")
    index = scan_folder(root)
    assert index.source == "metadata" and index.layout == "train_test"
    assert index.classes == ["ant", "mole", "zebra"]  # sorted, as ImageFolder orders names
    assert sorted(index.samples) == sorted(
        (str(root / "train" / f"{i}.png"), [2, 0, 1][i % 3]) for i in range(6))
    assert index.test_samples == [(str(root / "test" / "a.png"), 0),
                                  (str(root / "test" / "b.png"), 2)]
    assert any("metadata" in n for n in index.notes)
    # At the top, without split folders: a single dataset.
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8)).save(flat / f"{i}.jpg")
    (flat / "metadata.csv").write_text(
        "file_name,species\n" + "".join(f"{i}.jpg,{'ab'[i % 2]}\n" for i in range(4)))
    index = scan_folder(flat)
    assert index.classes == ["a", "b"] and len(index.samples) == 4
    (flat / "metadata.csv").write_text("name,label\n0.jpg,a\n")
    with pytest.raises(DataError, match="file_name"):
        scan_folder(flat)


def _tree_bytes(tmp_path):
    src = _split_tree(tmp_path / "src" / "my_data", ("train", "test"), (4, 2))
    return src


def test_archives_open_as_datasets_once(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    src = _tree_bytes(tmp_path)
    zpath = tmp_path / "my_data.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for f in sorted(src.rglob("*.png")):
            z.write(f, f.relative_to(src.parent).as_posix())  # my_data/train/...: a wrapper
    index = scan_folder(zpath)
    assert index.layout == "train_test" and index.split_counts()["train"] == 12
    assert any("unpacked" in n for n in index.notes)
    again = scan_folder(zpath)
    assert again.samples == index.samples and any("before" in n for n in again.notes)
    # A changed archive is unpacked afresh, and its earlier copy removed.
    st = zpath.stat()
    os.utime(zpath, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert not any("before" in n for n in scan_folder(zpath).notes)
    assert len(list((tmp_path / "cache" / "archives").iterdir())) == 1
    tpath = tmp_path / "my_data.tar.gz"
    with tarfile.open(tpath, "w:gz") as t:
        t.add(src, arcname="my_data")
    assert scan_folder(tpath).split_counts() == {"train": 12, "val": None, "test": 6}


@pytest.mark.parametrize("evil", ["../outside.png", "/abs/outside.png",
                                  "ok/../../outside.png"])
def test_an_archive_member_that_would_leave_its_folder_is_refused(tmp_path, monkeypatch,
                                                                  evil):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    zpath = tmp_path / "evil.zip"
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG")
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("data/a/1.png", buf.getvalue())
        z.writestr(evil, buf.getvalue())
    with pytest.raises(DataError, match="outside the folder"):
        scan_folder(zpath)
    assert not (tmp_path / "outside.png").exists()
    assert not list((tmp_path / "cache").rglob("*.png"))  # nothing unpacked at all


def test_a_wrapper_folder_is_followed_but_a_lone_class_is_not_one(tmp_path):
    root = tmp_path / "my_data"
    _split_tree(root / "my_data", ("train", "val"), (3, 1))
    index = scan_folder(root)
    assert index.root == str(root / "my_data") and index.layout == "train_val"
    assert any("holds only the folder my_data/" in n for n in index.notes)
    single = tmp_path / "pets"
    _imgs(single / "cats", "indoor", 2)
    _imgs(single / "cats", "outdoor", 2)
    assert scan_folder(single).classes == ["cats"]  # one class, still refused by training


def test_evaluate_uses_the_test_part_by_default_and_says_so(tmp_path, capsys):
    from helpers import random_bundle

    root = _split_tree(tmp_path / "d", ("train", "test"), (6, 3))
    exp = Experiment()
    exp.data.folder = str(root)
    exp.data.input_size = [12, 12]
    bundle, _ = random_bundle(tmp_path / "b.pt", exp.validate())
    code, out, err = run_cli(capsys, "evaluate", bundle, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["split"] == "test" and data["num_images"] == 9
    code, out, err = run_cli(capsys, "evaluate", bundle)
    assert "test part (never trained on)" in out
