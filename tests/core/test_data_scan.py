"""Folder scanning: ImageFolder equivalence, layouts, verification and trainability checks."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from PIL import Image

from workbench.core.data.index import DatasetIndex, ScanCancelled, Unreadable
from workbench.core.data.scan import scan_folder
from workbench.core.errors import DataError


def _img(path, color=(200, 30, 30), size=(6, 6)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def _messy_tree(root):
    """Nested folders, upper-case extensions, non-image files, a symlinked folder."""
    _img(root / "dog" / "b.png")
    _img(root / "dog" / "a.JPG")
    _img(root / "dog" / "z" / "deep" / "c.Png")
    _img(root / "dog" / "y" / "d.bmp")
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "dog" / "a.png.bak").write_bytes(b"x")
    _img(root / "Cat" / "x.jpeg")  # upper case sorts before lower case, as in ImageFolder
    _img(root / "Cat" / "w.TIFF")
    _img(root / "bird" / "one.webp")
    _img(root / "bird" / "sub dir" / "two.ppm")
    (root / "bird" / ".DS_Store").write_bytes(b"\0\0")
    (root / "README.md").write_text("files at the root are not classes")
    _img(root / "loose.png")  # an image at the root belongs to no class
    if hasattr(os, "symlink"):
        _img(root.parent / "elsewhere" / "linked.png")
        try:
            os.symlink(root.parent / "elsewhere", root / "bird" / "link")
        except OSError:  # e.g. Windows without the privilege
            pass


def test_classes_and_samples_identical_to_imagefolder(tmp_path):
    from torchvision.datasets import ImageFolder

    root = tmp_path / "data"
    _messy_tree(root)
    ref = ImageFolder(str(root))
    index = scan_folder(root)
    assert index.classes == ref.classes == ["Cat", "bird", "dog"]
    assert index.samples == ref.samples
    assert len(index.samples) == 8 + (os.path.lexists(root / "bird" / "link"))
    assert index.empty_classes == [] and index.unreadable == []
    assert index.val_samples is None and index.layout == "folders"
    assert index.num_classes == 3
    assert index.counts() == {"Cat": 2, "bird": 2 + os.path.lexists(root / "bird" / "link"),
                              "dog": 4}


def test_empty_class_folders_are_set_aside(tmp_path):
    from torchvision.datasets import ImageFolder

    root = tmp_path / "data"
    _messy_tree(root)
    (root / "aardvark").mkdir()  # sorts first: would shift every label if counted
    (root / "empty2" / "nested").mkdir(parents=True)
    (root / "empty2" / "nested" / "readme.txt").write_text("no images here")
    index = scan_folder(root)
    assert index.empty_classes == ["aardvark", "empty2"]
    with pytest.raises(FileNotFoundError):
        ImageFolder(str(root))  # torchvision refuses; we set them aside instead
    shutil.rmtree(root / "aardvark")
    shutil.rmtree(root / "empty2")
    ref = ImageFolder(str(root))
    assert index.classes == ref.classes
    assert index.samples == ref.samples
    index.check_trainable()


def test_scan_does_not_decode(tmp_path, monkeypatch):
    import PIL.Image

    _img(tmp_path / "a" / "1.png")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "broken.jpg").write_bytes(b"")

    def no_open(*a, **k):
        raise AssertionError("scan_folder opened an image")

    monkeypatch.setattr(PIL.Image, "open", no_open)
    index = scan_folder(tmp_path)
    assert [os.path.basename(p) for p, _ in index.samples] == ["1.png", "broken.jpg"]


def test_verify_reports_bad_files_with_reasons(tmp_path):
    root = tmp_path / "d"
    good = [_img(root / "a" / f"{i}.png") for i in range(3)] + [_img(root / "b" / "ok.png")]
    (root / "a" / "zero.png").write_bytes(b"")
    (root / "b" / "text.jpg").write_text("hello")
    full = root / "b" / "full.png"
    _img(full, size=(64, 64))
    data = full.read_bytes()
    trunc = root / "b" / "trunc.png"
    trunc.write_bytes(data[: len(data) // 2])
    calls = []
    index = scan_folder(root, verify=True, progress=lambda d, t: calls.append((d, t)))
    reasons = {os.path.basename(u.path): u.reason for u in index.unreadable}
    assert reasons["zero.png"] == "empty file (0 bytes)"
    assert reasons["text.jpg"].startswith("not an image file")
    assert reasons["trunc.png"].startswith("truncated or corrupt image")
    assert set(reasons) == {"zero.png", "text.jpg", "trunc.png"}
    assert sorted(p for p, _ in index.samples) == sorted(str(p) for p in good + [full])
    assert index.classes == ["a", "b"]  # labels stay those of the file listing
    assert index.counts() == {"a": 3, "b": 2}
    assert calls[-1] == (8, 8)  # the decoding phase ends complete
    assert calls[:2] == [(1, 2), (2, 2)]  # the listing phase, per class folder
    as_json = index.to_json_dict()
    json.dumps(as_json)
    assert {u["path"] for u in as_json["unreadable"]} == {str(root / "a" / "zero.png"),
                                                          str(root / "b" / "text.jpg"),
                                                          str(trunc)}


def test_cancel_stops_the_scan(tmp_path):
    for c in "abc":
        _img(tmp_path / c / "1.png")
    with pytest.raises(ScanCancelled):
        scan_folder(tmp_path, is_cancelled=lambda: True)
    seen = []

    def cancel_during_verify():
        seen.append(1)
        return len(seen) > 3  # after the three class folders are listed

    with pytest.raises(ScanCancelled):
        scan_folder(tmp_path, verify=True, is_cancelled=cancel_during_verify)
    assert scan_folder(tmp_path, is_cancelled=lambda: False).num_classes == 3


@pytest.mark.parametrize("val_name", ["val", "valid", "validation"])
def test_train_val_layout_is_recognised(tmp_path, val_name):
    from torchvision.datasets import ImageFolder

    _img(tmp_path / "train" / "cat" / "1.png")
    _img(tmp_path / "train" / "cat" / "2.png")
    _img(tmp_path / "train" / "dog" / "1.png")
    _img(tmp_path / "train" / "emu" / "1.png")
    _img(tmp_path / val_name / "emu" / "9.png")  # no val/cat or val/dog: labels still by train
    _img(tmp_path / val_name / "emu" / "8.png")
    (tmp_path / val_name / "dog").mkdir()
    _img(tmp_path / "test" / "cat" / "5.png")  # a test part, kept apart (issue 22)
    index = scan_folder(tmp_path)
    assert index.layout == "train_val_test"
    assert index.test_samples == [(str(tmp_path / "test" / "cat" / "5.png"), 0)]
    ref = ImageFolder(str(tmp_path / "train"))
    assert index.classes == ref.classes == ["cat", "dog", "emu"]
    assert index.samples == ref.samples
    assert index.val_samples == [(str(tmp_path / val_name / "emu" / "8.png"), 2),
                                 (str(tmp_path / val_name / "emu" / "9.png"), 2)]
    assert index.counts() == {"cat": 2, "dog": 1, "emu": 3}
    assert index.to_json_dict()["layout"] == "train_val_test"
    assert index.to_json_dict()["splits"] == {"train": 4, "val": 2, "test": 1}
    index.check_trainable()


def test_val_class_unknown_to_train_is_refused(tmp_path):
    _img(tmp_path / "train" / "cat" / "1.png")
    _img(tmp_path / "train" / "dog" / "1.png")
    (tmp_path / "train" / "emu").mkdir()
    _img(tmp_path / "val" / "emu" / "1.png")
    index = scan_folder(tmp_path)
    assert index.unmatched_val_classes == ["emu"] and index.empty_classes == ["emu"]
    with pytest.raises(DataError, match="'emu'.*train/emu"):
        index.check_trainable()


def test_verify_cleans_the_validation_part_too(tmp_path):
    _img(tmp_path / "train" / "a" / "1.png")
    _img(tmp_path / "train" / "b" / "1.png")
    _img(tmp_path / "val" / "a" / "ok.png")
    (tmp_path / "val" / "a" / "bad.png").write_bytes(b"")
    index = scan_folder(tmp_path, verify=True)
    assert [os.path.basename(p) for p, _ in index.val_samples] == ["ok.png"]
    assert [os.path.basename(u.path) for u in index.unreadable] == ["bad.png"]


def test_train_and_val_holding_images_directly_are_read_as_folders(tmp_path):
    _img(tmp_path / "train" / "1.png")
    _img(tmp_path / "val" / "1.png")
    index = scan_folder(tmp_path)
    assert index.layout == "folders" and index.classes == ["train", "val"]
    with pytest.raises(DataError, match="look like dataset splits"):
        index.check_trainable()


def test_missing_or_file_root_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        scan_folder(tmp_path / "nope")
    f = tmp_path / "file.png"
    f.write_bytes(b"x")
    with pytest.raises(DataError, match="not a folder"):
        scan_folder(f)


def test_check_trainable_messages(tmp_path):
    index = scan_folder(tmp_path)
    with pytest.raises(DataError, match="no class folders"):
        index.check_trainable()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("")
    with pytest.raises(DataError, match="no images"):
        scan_folder(tmp_path).check_trainable()
    _img(tmp_path / "a" / "1.png")
    with pytest.raises(DataError, match="at least two"):
        scan_folder(tmp_path).check_trainable()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "bad.png").write_bytes(b"")
    index = scan_folder(tmp_path, verify=True)
    assert index.classes == ["a", "b"]
    with pytest.raises(DataError, match="class 'b'.*unreadable"):
        index.check_trainable()
    _img(tmp_path / "b" / "good.png")
    scan_folder(tmp_path, verify=True).check_trainable()


def test_single_train_folder_hints_at_the_split_layout(tmp_path):
    _img(tmp_path / "train" / "cat" / "1.png")
    _img(tmp_path / "train" / "dog" / "1.png")
    with pytest.raises(DataError, match="look like dataset splits") as info:
        scan_folder(tmp_path).check_trainable()
    assert os.path.join(str(tmp_path), "train") in str(info.value)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_cycles_do_not_loop(tmp_path):
    _img(tmp_path / "a" / "1.png")
    _img(tmp_path / "a" / "sub" / "2.png")
    _img(tmp_path / "b" / "1.png")
    try:
        os.symlink(tmp_path / "a", tmp_path / "a" / "sub" / "back")
    except OSError:
        pytest.skip("symlinks not permitted")
    index = scan_folder(tmp_path)
    assert [os.path.relpath(p, tmp_path) for p, _ in index.samples] == \
        [os.path.join("a", "1.png"), os.path.join("a", "sub", "2.png"), os.path.join("b", "1.png")]


def test_json_dict_shape():
    index = DatasetIndex("/r", ["a", "b"], [("/r/a/1.png", 0), ("/r/b/1.png", 1),
                                            ("/r/b/2.png", 1)],
                         [Unreadable("/r/b/3.png", "empty file (0 bytes)")], ["c"], None)
    d = index.to_json_dict()
    assert d["classes"] == ["a", "b"] and d["counts"] == {"a": 1, "b": 2}
    assert d["unreadable"] == [{"path": "/r/b/3.png", "reason": "empty file (0 bytes)"}]
    assert d["empty_classes"] == ["c"] and d["layout"] == "folders"
    assert json.loads(json.dumps(d)) == d


def test_gif_is_an_addition_to_imagefolder(tmp_path):
    from torchvision.datasets import ImageFolder

    root = tmp_path / "data"
    _messy_tree(root)
    Image.new("RGB", (4, 4)).save(root / "dog" / "anim.GIF", format="GIF")
    Image.new("RGB", (4, 4)).save(root / "Cat" / "a.gif")
    ref = ImageFolder(str(root))
    index = scan_folder(root)
    assert index.classes == ref.classes
    gifs = [s for s in index.samples if s[0].lower().endswith(".gif")]
    assert sorted(gifs) == sorted([(str(root / "Cat" / "a.gif"), 0),
                                   (str(root / "dog" / "anim.GIF"), 2)])
    assert [s for s in index.samples if s not in gifs] == ref.samples
    # A class folder holding only GIFs is a class (ImageFolder would refuse the folder).
    Image.new("RGB", (4, 4)).save(_img(root / "emu" / "x.png").with_suffix(".gif"))
    os.remove(root / "emu" / "x.png")
    assert scan_folder(root).classes == ["Cat", "bird", "dog", "emu"]


def test_hidden_folders_are_neither_classes_nor_searched(tmp_path):
    _img(tmp_path / "a" / "1.png")
    _img(tmp_path / "a" / ".ipynb_checkpoints" / "1-checkpoint.png")
    _img(tmp_path / ".cache" / "x.png")
    _img(tmp_path / "b" / "1.png")
    _img(tmp_path / "b" / "._1.png")
    index = scan_folder(tmp_path)
    assert index.classes == ["a", "b"] and index.empty_classes == []
    assert [os.path.relpath(p, tmp_path) for p, _ in index.samples] == \
        [os.path.join("a", "1.png"), os.path.join("b", "1.png")]
