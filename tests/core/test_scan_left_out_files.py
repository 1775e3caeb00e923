"""Files in class folders whose names do not end with an image type (a photo saved
without its extension, ``IMG_0001``; a browser's ``photo.jpg.download``) are not left out
without a word: the scan's notes count them and name a few, as ``workbench scan`` and
``workbench check`` print them. Hidden files and plainly other files (``notes.txt``, a
Live Photo's ``.MOV``) stay unsaid."""

from __future__ import annotations

import shutil

from helpers import make_image_folder, run_cli
from workbench.core.data.scan import scan_folder


def _with_odd_files(root):
    make_image_folder(root)
    photo = next((root / "red").glob("*.png"))
    shutil.copy(photo, root / "red" / "IMG_0001")
    shutil.copy(photo, root / "blue" / "photo.jpg.download")
    (root / "blue" / "notes.txt").write_text("taken in May")
    (root / "blue" / ".DS_Store").write_bytes(b"\0")
    (root / "green" / "IMG_0002.MOV").write_bytes(b"\0")
    return root


def _left_out_notes(index):
    return [n for n in index.notes if "left out" in n]


def test_files_with_no_image_extension_are_counted_and_named(tmp_path):
    index = scan_folder(_with_odd_files(tmp_path / "data"))
    assert index.counts() == {"blue": 10, "green": 10, "red": 10}  # still not used
    [note] = _left_out_notes(index)
    assert note.startswith("2 files in class folders are left out")
    assert "blue/photo.jpg.download" in note and "red/IMG_0001" in note
    assert "rename them" in note and ".jpg" in note
    for unsaid in ("notes.txt", ".DS_Store", ".MOV"):
        assert unsaid not in note


def test_a_dataset_of_images_only_gets_no_such_note(tmp_path):
    root = tmp_path / "data"
    make_image_folder(root)
    (root / "red" / "notes.txt").write_text("x")
    assert _left_out_notes(scan_folder(root)) == []


def test_a_validation_part_s_files_are_counted_too(tmp_path):
    make_image_folder(tmp_path / "data" / "train")
    val = tmp_path / "data" / "val"
    make_image_folder(val, per_class=3)
    shutil.copy(next((val / "red").glob("*.png")), val / "red" / "IMG_0003")
    [note] = _left_out_notes(scan_folder(tmp_path / "data"))
    assert note.startswith("1 file in a class folder is left out") and "val/red/IMG_0003" in note


def test_scan_and_check_print_the_note(tmp_path, capsys):
    root = _with_odd_files(tmp_path / "data")
    for command in ("scan", "check"):
        code, out, err = run_cli(capsys, command, root)
        assert code == 0, err
        assert "2 files in class folders are left out" in out + err, command


def test_raw_and_design_photos_get_their_own_hint_and_a_raw_beside_its_jpeg_none(tmp_path):
    """A RAW renamed to .jpg is an unreadable file, not a photo: RAW and design files are
    told to be exported as JPEG; a camera set to RAW+JPEG puts IMG_1.CR2 beside IMG_1.JPG,
    whose JPEG is used, so the RAW is not said at all."""
    root = tmp_path / "data"
    make_image_folder(root)
    photo = next((root / "red").glob("*.png"))
    shutil.copy(photo, root / "red" / "IMG_1.JPG")
    (root / "red" / "IMG_1.CR2").write_bytes(b"\0")  # the camera's RAW of IMG_1.JPG
    (root / "red" / "IMG_2.CR2").write_bytes(b"\0")  # a RAW alone
    (root / "blue" / "poster.psd").write_bytes(b"\0")
    shutil.copy(photo, root / "blue" / "IMG_0001")
    [note] = _left_out_notes(scan_folder(root))
    assert note.startswith("1 file in a class folder is left out") and "blue/IMG_0001" in note
    assert "2 photos in class folders are left out, as their type (.psd, .CR2) cannot be " \
           "read: blue/poster.psd, red/IMG_2.CR2; export them as JPEG" in note
    assert "IMG_1.CR2" not in note
    assert "poster.psd" not in note.split("; and ")[0]  # not told to rename it


def test_a_raw_and_jpeg_folder_says_nothing(tmp_path):
    root = tmp_path / "data"
    make_image_folder(root)
    for jpeg in list((root / "green").glob("*.png")):
        (jpeg.with_suffix(".NEF")).write_bytes(b"\0")
    assert _left_out_notes(scan_folder(root)) == []
