"""The Data tab's Total line names a folder's own parts as the folder does."""

from __future__ import annotations

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.qt.panels.data.stats import total_text


def test_kaggle_parts_are_named_by_their_own_folders(tmp_path):
    """Stop 31's note: a training_set/ + test_set/ folder read "in train/", "test/"."""
    root = tmp_path / "ds"
    make_image_folder(root / "training_set", classes=("cat", "dog"), per_class=4)
    make_image_folder(root / "test_set", classes=("cat", "dog"), per_class=2)
    text = total_text(scan_folder(root), Experiment().data)
    assert text == ("Total: 12 images in 2 classes (8 in training_set/, 4 in test_set/); "
                    "test_set/ is never trained on: Evaluate measures the model on it")


def test_an_excluded_test_image_is_counted_apart_from_training(tmp_path):
    """Review: "; 1 excluded from training" of an image of test/, which never trains."""
    root = tmp_path / "ds"
    make_image_folder(root / "train", classes=("cat", "dog"), per_class=4)
    make_image_folder(root / "test", classes=("cat", "dog"), per_class=2)
    data = Experiment().data
    data.folder, data.exclude = str(root), ["test/cat/cat_000.png"]
    index = scan_folder(root)
    assert total_text(index, data).endswith("; 1 excluded from test/")
    data.exclude.append("train/dog/dog_001.png")
    assert total_text(index, data).endswith("; 1 excluded from training, 1 from test/")


def test_the_total_adds_up_with_the_parts_it_lists(tmp_path):
    """Walk: "Total: 144 images … (120 in train/, 24 in val/, 25 in test/)", parts that
    sum to 169, the count Health checks."""
    root = tmp_path / "ds"
    for part, n in (("train", 4), ("val", 2), ("test", 1)):
        make_image_folder(root / part, classes=("cat", "dog"), per_class=n)
    text = total_text(scan_folder(root), Experiment().data)
    assert text.startswith("Total: 14 images in 2 classes (8 in train/, 4 in val/, 2 in "
                           "test/); test/ is never trained on")
