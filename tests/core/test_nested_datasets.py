"""A folder of datasets chosen as the dataset (``~/datasets`` holding ``small/train/`` and
``small/val/`` of class folders, beside ``phone_photos/``): its "classes" are datasets, their
own classes merged; ``scan``, ``check``, ``train`` and the Data tab say it may be and name the
folder to open. A class whose images are sorted into sub-folders of another kind (albums,
dates, places, finer labels, split folders of images) is not, and neither are classes of
class folders alone, which look just like albums or coarse labels."""

from __future__ import annotations

import pytest

from helpers import make_image_folder, run_cli
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment

LOOKS = "this may be a folder of datasets"


def _datasets(root):
    """``root/phone_photos/{beach,city,forest}``, ``root/small/{train,val}/{cat,dog}`` and a
    folder of loose pictures, ``root/shots/``."""
    make_image_folder(root / "phone_photos", ("beach", "city", "forest"), per_class=3)
    for part in ("train", "val"):
        make_image_folder(root / "small" / part, ("cat", "dog"), per_class=3)
    make_image_folder(root, ("shots",), per_class=2)
    return root


def test_a_folder_of_datasets_is_said_with_the_folders_to_open(tmp_path, capsys):
    from workbench.cli.run_warnings import run_warnings

    root = _datasets(tmp_path / "datasets")
    index = scan_folder(root)
    assert index.classes == ["phone_photos", "shots", "small"]  # ImageFolder's, as before
    warning = next(w for w in index.warnings if LOOKS in w)
    assert warning.startswith("the classes 'phone_photos' and 'small' hold no image of "
                              "their own, only sub-folders of images, and 'small' holds "
                              "train/ with val/ or test/ folders of classes")
    assert "'shots'" not in warning
    assert f"Open {root / 'phone_photos'} to train on its classes beach/, city/, forest/" \
        in warning
    assert f"{root / 'small'} for its parts train/, val/)" in warning
    assert warning.endswith("if these are the classes you want to tell apart, ignore this")
    code, _, err = run_cli(capsys, "scan", root)
    assert code == 0 and f"warning: {warning}" in err
    code, _, err = run_cli(capsys, "check", root)
    assert warning in err, err
    exp = Experiment()
    exp.data.folder = str(root)
    assert any(warning in w for w in run_warnings(exp))  # what train prints before epoch 1


def test_one_class_of_class_folders_names_the_folder_to_open(tmp_path):
    make_image_folder(tmp_path / "pets" / "cats", ("indoor", "outdoor"), per_class=2)
    (warning,) = scan_folder(tmp_path / "pets").warnings
    assert warning == (f"every image of the class 'cats' is in its sub-folders indoor/, "
                       f"outdoor/: this looks like a dataset in a folder of its own, not a "
                       f"class; open {tmp_path / 'pets' / 'cats'} to train on its classes "
                       f"indoor/, outdoor/")


def test_datasets_with_their_own_split_folders_and_copies_of_one_are_said(tmp_path):
    root = tmp_path / "kaggle"
    for name, part in (("cifar", "test"), ("flowers", "val")):
        for split in ("train", part):
            make_image_folder(root / name / split, ("a", "b"), per_class=2)
    warning = next(w for w in scan_folder(root).warnings if LOOKS in w)
    assert warning.startswith("the classes 'cifar' and 'flowers' hold train/ with val/ or "
                              "test/ folders of classes, as a dataset does")
    assert f"Open {root / 'cifar'} to train on its parts train/, test/" in warning
    copies = _datasets(tmp_path / "copies")  # a copy of phone_photos beside two others
    make_image_folder(copies / "phone_photos_old", ("beach", "city", "forest"), per_class=1)
    make_image_folder(copies / "weeds", ("clover", "dandelion"), per_class=1)
    warning = next(w for w in scan_folder(copies).warnings if LOOKS in w)
    assert "'phone_photos', 'phone_photos_old', 'small' and 'weeds'" in warning


def test_one_dataset_of_split_folders_beside_classes_is_said(tmp_path):
    root = tmp_path / "datasets"
    for part in ("train", "test"):
        make_image_folder(root / "cifar" / part, ("cat", "dog"), per_class=2)
    make_image_folder(root, ("shots", "screenshots"), per_class=2)
    (warning,) = scan_folder(root).warnings
    assert warning == (f"every image of the class 'cifar' is in its sub-folders train/, "
                       f"test/: this looks like a dataset in a folder of its own, not a "
                       f"class; open {root / 'cifar'} to train on its parts train/, test/")


@pytest.mark.parametrize("layout", [
    # images of each class sorted by date, by place or into its own split folders
    {"dog": ("2019", "2020"), "cat": ("2019", "2020")},
    {"dog": ("2019-05", "2019-06", "2020-01"), "cat": ()},
    {"dog": ("batch1", "batch2"), "cat": ("batch3", "batch4")},
    {"dog": ("indoor", "outdoor"), "cat": ("indoor", "outdoor"), "owl": ("forest", "outdoor")},
    {"dog": ("train", "val"), "cat": ("train", "val")},
    # a coarser class beside plain ones; a class with images of its own and sub-folders
    {"bird": ("parrot", "sparrow"), "cat": (), "dog": ()},
    {"dog": ("", "nested", "nested/deeper"), "cat": ("", "more", "other")},
    # photos sorted into albums, coarse labels, dated albums: far more common than a
    # folder of datasets of class folders alone, which cannot be told from them
    {"cat": ("birthday", "holiday"), "dog": ("park", "beach")},
    {"birds": ("sparrow", "eagle"), "mammals": ("cat", "dog")},
    {"cat": ("2019 summer", "2020 winter"), "dog": ("2019 spring", "2021 fall")},
    {"cat": ("2019-05-01", "2020-01-03"), "dog": ("2019-06-01", "2021-02-03")},
    {"cat": ("2019 summer", "2020 winter")},
    {"phone_photos": ("beach", "city", "forest"), "small": ("cat", "dog"), "shots": ()},
])
def test_a_class_with_sub_folders_of_another_kind_is_a_class(tmp_path, layout):
    root = tmp_path / "data"
    for cls, subs in layout.items():
        for sub in subs or ("",):
            folder = root / cls / sub if sub else root / cls
            make_image_folder(folder.parent, (folder.name,), per_class=2)
    index = scan_folder(root)
    assert sorted(index.classes) == sorted(layout)
    assert not [w for w in index.warnings if "looks like a" in w], index.warnings
