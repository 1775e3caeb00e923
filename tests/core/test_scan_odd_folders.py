"""Folder names a scan must not lose images over: a test/ or val/ part whose class folders
are train/'s spelled in NFD (a zip made on a Mac) is matched by the rule evaluating a
folder uses, and said; a hidden (dot-named) folder of images is not a class, and said."""

from __future__ import annotations

import os
import unicodedata

import pytest

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder

NAMES = ("été", "étz", "zz")


def _nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


def _mac_parts(root, metadata: bool = False):
    """train/ in NFC; val/ and test/ in NFD (or, ``metadata``, a test/ labelled by a
    metadata.csv in NFD)."""
    make_image_folder(root / "train", classes=NAMES, per_class=4)
    make_image_folder(root / "val", classes=[_nfd(n) for n in NAMES], per_class=2)
    if not metadata:
        make_image_folder(root / "test", classes=[_nfd(n) for n in NAMES], per_class=3)
        return
    make_image_folder(root / "test", classes=("images",), per_class=6)
    files = sorted(os.listdir(root / "test" / "images"))
    rows = [f"images/{f},{_nfd(NAMES[i % 2])}" for i, f in enumerate(files)]
    (root / "test" / "metadata.csv").write_text("file_name,label\n" + "\n".join(rows) + "\n",
                                                encoding="utf-8")


def _keeps_nfd(tmp_path) -> bool:
    (tmp_path / _nfd("é")).mkdir()
    return _nfd("é") in os.listdir(tmp_path)  # not a file system that normalises names


def test_test_and_val_folders_spelled_as_a_mac_does_keep_their_images(tmp_path):
    if not _keeps_nfd(tmp_path):
        pytest.skip("this file system normalises names")
    _mac_parts(tmp_path / "d")
    index = scan_folder(tmp_path / "d")
    assert index.classes == sorted(NAMES)  # ['zz', 'étz', 'été']: by code point
    assert index.unmatched_test_classes == [] and index.unmatched_val_classes == []
    assert not [w for w in index.warnings if "left out" in w]
    assert sorted(lb for _, lb in index.test_samples) == [0] * 3 + [1] * 3 + [2] * 3
    assert sorted(lb for _, lb in index.val_samples) == [0, 0, 1, 1, 2, 2]
    for path, label in index.test_samples + index.val_samples:  # each as its own folder
        assert unicodedata.normalize("NFC", os.path.basename(os.path.dirname(path))) \
            == index.classes[label]
    said = [n for n in index.notes if "accents encoded differently" in n]
    assert len(said) == 2, index.notes
    nfd = f"{_nfd('été')!r} (NFD), {_nfd('étz')!r} (NFD)"
    assert said[0].startswith(f"the val/ class folders {nfd} are train/'s classes 'été', "
                              f"'étz' with their accents encoded differently")
    assert said[1].startswith(f"the test/ class folders {nfd} are")
    assert said[1].endswith(": read as those classes")
    index.check_trainable()  # val/ has no class train/ lacks


def test_a_test_part_labelled_in_nfd_by_its_metadata_keeps_its_images(tmp_path):
    _mac_parts(tmp_path / "d", metadata=True)
    index = scan_folder(tmp_path / "d")
    assert index.unmatched_test_classes == []
    got = sorted(index.classes[lb] for _, lb in index.test_samples)
    assert got == ["étz"] * 3 + ["été"] * 3
    nfd = f"{_nfd('été')!r} (NFD), {_nfd('étz')!r} (NFD)"
    assert any(n.startswith(f"the test/ metadata labels {nfd} are train/'s")
               for n in index.notes), index.notes


def test_a_class_train_does_not_have_is_still_left_out_and_named(tmp_path):
    make_image_folder(tmp_path / "d" / "train", classes=("a", "b"), per_class=2)
    make_image_folder(tmp_path / "d" / "test", classes=("a", "c"), per_class=2)
    index = scan_folder(tmp_path / "d")
    assert index.unmatched_test_classes == ["c"] and len(index.test_samples) == 2
    assert any("class folder(s) 'c' that train/ does not have" in w for w in index.warnings)


def test_a_hidden_folder_of_images_is_said_not_to_be_a_class(tmp_path):
    root = tmp_path / "d"
    make_image_folder(root, classes=("cat", "dog"), per_class=3)
    make_image_folder(root / ".leading dot", classes=("sub",), per_class=3)
    make_image_folder(root / ".ipynb_checkpoints", classes=("x",), per_class=1)  # nested
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # no images: not said
    index = scan_folder(root)
    assert index.classes == ["cat", "dog"]
    said = [n for n in index.notes if "hidden" in n]
    assert said == ["hidden folder '.leading dot' (3 images) is not a class, as its name "
                    "starts with a dot: its images are not used (torchvision's ImageFolder "
                    "would read it as a class); rename it without the dot to use it; hidden "
                    "folder '.ipynb_checkpoints' (1 image) is not a class, as its name starts "
                    "with a dot: its images are not used (torchvision's ImageFolder would "
                    "read it as a class); it holds Jupyter's checkpoint copies: delete it "
                    "before reading the folder with ImageFolder"]
    one = tmp_path / "e"
    make_image_folder(one / "train", classes=("a", "b"), per_class=1)
    make_image_folder(one / "test", classes=("a",), per_class=2)
    make_image_folder(one / "test" / ".b", classes=("sub",), per_class=2)
    assert [n for n in scan_folder(one).notes if "hidden" in n] == [
        "hidden folder 'test/.b' (2 images) is not a class, as its name starts with a dot: "
        "its images are not used (torchvision's ImageFolder would read it as a class); "
        "rename it without the dot to use it"]


def test_thumbnails_and_links_are_not_advised_into_classes(tmp_path, monkeypatch):
    """A phone's DCIM/.thumbnails (hundreds of JPEGs) was named with "rename it without the
    dot to use it", which makes a class of thumbnails; a dot-named link to a big tree was
    walked in full on every scan; so was any hidden folder."""
    import workbench.core.data.scan as scan

    root = tmp_path / "d"
    make_image_folder(root, classes=("cat", "dog"), per_class=2)
    make_image_folder(root / ".thumbnails", classes=("x",), per_class=3)
    make_image_folder(root / ".cache", classes=("x",), per_class=3)
    make_image_folder(tmp_path / "big", classes=("y",), per_class=3)
    os.symlink(tmp_path / "big", root / ".linked")
    assert not [n for n in scan_folder(root).notes if "hidden" in n]
    # At most HIDDEN_LOOKED_AT files of a hidden folder are looked at: "N+ images".
    make_image_folder(root / ".old", classes=("a", "b"), per_class=3)
    monkeypatch.setattr(scan, "HIDDEN_LOOKED_AT", 4)
    [said] = [n for n in scan_folder(root).notes if "hidden" in n]
    assert said.startswith("hidden folder '.old' (4+ images) is not a class"), said
