"""A dataset with a test/ part: the Data tab's Ready line ("80 classes, 2,368 images") and
the status bar ("80 classes, 2,768 images") gave two image counts, neither saying what it
counted. Each now says it, in the Total line's words."""

from __future__ import annotations

from helpers import make_image_folder

TIMEOUT_MS = 60000


def test_ready_line_and_status_bar_say_which_images_they_count(qtbot, tiny_experiment,
                                                                tmp_path):
    from workbench.qt.main_window import MainWindow
    from workbench.qt.panels.data.stats import ready_text, total_text

    folder = tmp_path / "parts"
    make_image_folder(folder / "train", per_class=8, size=16)
    make_image_folder(folder / "test", per_class=2, size=16, seed=1)
    tiny_experiment.data.folder = str(folder)
    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.current.dataset_changed, timeout=TIMEOUT_MS):
        w.scan_dataset(str(folder), adopt_defaults=False)
    index = w.current.dataset
    # val_fraction 0.25: 6 of the 24 are held out for validation.
    text, level = ready_text(index, tiny_experiment.data)
    assert text.startswith(
        "Ready: 3 classes, 24 images to train and validate on (6 more in test/).")
    assert level == "warning" and "Warning: Only 6 validation images" in text
    assert total_text(index, None).startswith(
        "Total: 30 images in 3 classes (24 in train/, 6 in test/)")
    assert w.statusBar().currentMessage() == (
        f"Dataset {folder}: 3 classes, 30 images (24 in train/, 6 in test/), 0 unreadable")
    w.shutdown()


def test_without_a_test_part_one_count_is_said_as_before(tmp_path):
    from workbench.core.data.scan import scan_folder
    from workbench.qt.panels.data.stats import ready_text

    root = make_image_folder(tmp_path / "data", per_class=4, size=8)
    assert ready_text(scan_folder(root))[0] == "Ready: 3 classes, 12 images."


def test_with_a_val_part_the_ready_line_says_it_validates_on_them_too(tmp_path):
    from workbench.core.data.scan import scan_folder
    from workbench.qt.panels.data.stats import ready_text

    root = tmp_path / "parts"
    make_image_folder(root / "train", per_class=4, size=8)
    make_image_folder(root / "val", per_class=2, size=8, seed=1)
    make_image_folder(root / "test", per_class=1, size=8, seed=2)
    assert ready_text(scan_folder(root))[0] == \
        "Ready: 3 classes, 18 images to train and validate on (3 more in test/)."


def test_the_ready_line_says_validate_only_where_a_validation_split_exists(tmp_path):
    from workbench.core.data.scan import scan_folder
    from workbench.core.experiment import Experiment
    from workbench.qt.panels.data.stats import ready_text

    root = tmp_path / "parts"
    make_image_folder(root / "train", per_class=4, size=8)
    make_image_folder(root / "test", per_class=1, size=8, seed=2)
    index, data = scan_folder(root), Experiment().data
    said = "Ready: 3 classes, 12 images to train and validate on (3 more in test/)."
    assert ready_text(index)[0] == said  # the default 0.2 holds out a fifth
    assert ready_text(index, data)[0].startswith(said)  # then: few validation images
    data.val_fraction = 0.0  # no val/ part and none held out: all 12 train
    assert ready_text(index, data)[0].startswith(
        "Ready: 3 classes, 12 images to train on (3 more in test/).")
