"""Moving an image to another class folder (the Health view's *Move to suggested class*):
to the class folder beside its own in every layout, never where its label stays the same,
refused where folders are not the labels, and undone exactly."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from helpers import make_photo_folder
from workbench.core.data.health.actions import Move, move_to_class, undo
from workbench.core.data.scan import scan_folder
from workbench.core.errors import DataError


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _label(root, path):
    index = scan_folder(str(root))
    [label] = [index.classes[lb] for p, lb in list(index.samples) + list(index.val_samples
                                                                           or []) if p == path]
    return label


def test_an_image_in_a_sub_folder_of_its_class_moves_to_the_other_class_folder(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=4)
    (root / "cats" / "indoor").mkdir()
    shutil.move(str(root / "cats" / "cats_01.png"), root / "cats" / "indoor" / "x.png")
    before = _tree(root)
    src = str(root / "cats" / "indoor" / "x.png")
    move = move_to_class(scan_folder(str(root)), src, "dogs")
    assert move.target == str(root / "dogs" / "x.png") and not move.renamed
    assert not (root / "cats" / "indoor" / "dogs").exists()  # no stray folder
    assert _label(root, move.target) == "dogs"  # the label did change
    undo(move)
    assert _tree(root) == before and _label(root, src) == "cats"


def test_in_a_train_val_layout_the_image_stays_in_its_part(tmp_path):
    root = tmp_path / "d"
    make_photo_folder(root / "train", per_class=4)
    make_photo_folder(root / "val", classes=("cats", "owls"), per_class=2)
    index = scan_folder(str(root))
    assert index.layout == "train_val"
    before = _tree(root)
    src = str(root / "val" / "cats" / "cats_01.png")
    move = move_to_class(index, src, "dogs")  # val/ has no dogs/ yet: it is made
    assert move.target == str(root / "val" / "dogs" / "cats_01.png")
    assert move.created == (str(root / "val" / "dogs"),)
    assert _label(root, move.target) == "dogs"
    undo(move)
    assert _tree(root) == before  # the folder the move made is gone again


def test_a_name_taken_in_the_target_is_not_overwritten_and_the_move_says_so(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=3)
    (root / "dogs" / "cats_00.png").write_bytes(b"a dog of that name")
    move = move_to_class(scan_folder(str(root)), str(root / "cats" / "cats_00.png"), "dogs")
    assert move.renamed and move.target == str(root / "dogs" / "cats_00-2.png")
    assert (root / "dogs" / "cats_00.png").read_bytes() == b"a dog of that name"
    assert Move.from_dict(move.to_dict()) == move  # kept between sessions as JSON
    undo(move)
    assert (root / "cats" / "cats_00.png").is_file()
    assert not (root / "dogs" / "cats_00-2.png").exists()


def test_datasets_whose_labels_are_not_folders_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    photos = make_photo_folder(tmp_path / "p", per_class=3)
    meta = tmp_path / "m"
    meta.mkdir()
    rows = ["file_name,label"]
    for i, cls in enumerate(("cats", "dogs", "owls")):
        for j in range(3):
            shutil.copy(photos / cls / f"{cls}_{j:02d}.png", meta / f"img_{i}{j}.png")
            rows.append(f"img_{i}{j}.png,{cls}")
    (meta / "metadata.csv").write_text("\n".join(rows) + "\n")
    index = scan_folder(str(meta))
    assert index.source == "metadata"
    with pytest.raises(DataError, match="metadata file.*exclude the image instead"):
        move_to_class(index, str(meta / "img_00.png"), "dogs")
    assert (meta / "img_00.png").is_file()

    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in photos.rglob("*.png"):
            z.write(p, str(p.relative_to(photos)))
    index = scan_folder(str(archive))
    cat = next(p for p, lb in index.samples if index.classes[lb] == "cats")
    with pytest.raises(DataError, match=r"photos\.zip unpacked into the cache.*exclude the "
                                        r"image instead"):
        move_to_class(index, cat, "dogs")

    csv = tmp_path / "labels.csv"
    csv.write_text("path,label\n" + "".join(f"p/{c}/{c}_00.png,{c}\n"
                                            for c in ("cats", "dogs")))
    index = scan_folder(str(csv))
    with pytest.raises(DataError, match="CSV file.*exclude the image instead"):
        move_to_class(index, index.samples[0][0], "dogs")


def test_a_move_to_its_own_class_or_of_a_file_outside_the_classes_is_refused(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=3)
    index = scan_folder(str(root))
    with pytest.raises(DataError, match="in the folder of 'cats' already"):
        move_to_class(index, str(root / "cats" / "cats_00.png"), "cats")
    (root / "loose.png").write_bytes((root / "cats" / "cats_00.png").read_bytes())
    with pytest.raises(DataError, match="not in a class folder"):
        move_to_class(index, str(root / "loose.png"), "dogs")
