"""The Data tab and ``data.exclude``: exclusions made for one dataset do not quietly drop
images of the next one opened (they are cleared, said, and can be kept), an experiment
opened with its own folder keeps its list, entries that match no image are named, and
images in no class folder are said to be unused."""

from __future__ import annotations

from pathlib import Path

from helpers import make_image_folder
from qt_helpers import loaded_data_panel
from workbench.core.experiment import Experiment

WAIT_MS = 30000
#: Five exclusions made on dataset A; the first two name files dataset B also has.
EXCLUDED = ["blue/blue_000.png", "red/red_001.png", "green/green_002.png",
            "green/green_003.png", "green/green_004.png"]


def _two_datasets(tmp_path) -> tuple[Path, Path]:
    a = Path(make_image_folder(tmp_path / "dsA", per_class=6))
    b = Path(make_image_folder(tmp_path / "dsB", classes=("blue", "red"), per_class=5,
                               seed=1))
    return a, b


def _load(qtbot, panel, folder) -> None:
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.load_folder(str(folder))


def test_opening_another_folder_clears_the_exclusions_made_for_the_last_one(
        qtbot, tmp_path):
    a, b = _two_datasets(tmp_path)
    panel = loaded_data_panel(qtbot, a)
    panel.experiment.data.exclude = list(EXCLUDED)
    assert "; 5 excluded from training" in panel.total_label.text()
    changed = []
    panel.experiment_changed.connect(lambda: changed.append(True))
    _load(qtbot, panel, b)
    notice = panel.exclusions
    assert panel.experiment.data.exclude == [] and changed
    assert notice.isVisibleTo(panel) and notice.keep_button.isVisibleTo(panel)
    assert notice.cleared.text() == (
        f"Cleared 5 exclusions made for the previous dataset, {a}: they named images of "
        f"that folder, not of this one. If this folder is the same dataset (moved or "
        f"copied), keep them. Opening that folder again brings them back.")
    # Every image of B trains or validates: none is dropped for sharing a name with A's.
    train, val = panel.split_counts()
    assert sum(train.values()) + sum(val.values()) == 10
    assert "excluded" not in panel.total_label.text()
    assert panel.message.text() == (  # no word of the exclusions (nor of excluded images)
        "Ready: 2 classes, 10 images. Warning: Only 2 validation images: one image moves "
        "accuracy by 50 points, so the validation accuracy says little about how good the "
        "model is (add images, or hold out a larger validation share; 20 or more make it "
        "firmer).")

    # "Keep them": B is the same dataset after all. Three entries name nothing in B.
    notice.keep_button.click()
    assert panel.experiment.data.exclude == EXCLUDED
    assert not notice.keep_button.isVisibleTo(panel)
    train, val = panel.split_counts()
    assert sum(train.values()) + sum(val.values()) == 8
    assert notice.unmatched.isVisibleTo(panel)
    assert notice.unmatched.text() == (
        "3 data.exclude entries match no image of this dataset, so they exclude nothing: "
        "'green/green_002.png', 'green/green_003.png', 'green/green_004.png'.")
    notice.remove_button.click()
    assert panel.experiment.data.exclude == EXCLUDED[:2]
    assert not notice.isVisibleTo(panel)


def test_the_same_folder_and_an_experiment_with_its_own_folder_keep_their_exclusions(
        qtbot, tmp_path):
    a, b = _two_datasets(tmp_path)
    panel = loaded_data_panel(qtbot, a)
    panel.experiment.data.exclude = list(EXCLUDED)
    _load(qtbot, panel, a)  # Rescan
    assert panel.experiment.data.exclude == EXCLUDED
    assert not panel.exclusions.isVisibleTo(panel)
    # An experiment file opened with its own dataset (the window replaces, then scans).
    own = Experiment()
    own.data.folder = str(b)
    own.data.exclude = ["red/red_000.png"]
    panel.set_experiment(own)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.load_folder(str(b), adopt_defaults=False)
    assert panel.experiment.data.exclude == ["red/red_000.png"]
    assert not panel.exclusions.isVisibleTo(panel)
    # A scan that fails changes neither the folder nor the exclusions.
    with qtbot.waitSignal(panel.scan_failed, timeout=WAIT_MS):
        panel.load_folder(str(tmp_path / "nowhere"))
    _load(qtbot, panel, b)
    assert panel.experiment.data.exclude == ["red/red_000.png"]


def test_an_entry_matching_no_image_is_named_on_the_data_tab(qtbot, tmp_path):
    a, _ = _two_datasets(tmp_path)
    exp = Experiment()
    exp.data.folder = str(a)
    exp.data.exclude = ["blue/blue_000.png", "bleu/typo.png"]
    panel = loaded_data_panel(qtbot, a, exp)
    assert panel.exclusions.unmatched.text() == (
        "1 data.exclude entry matches no image of this dataset, so it excludes nothing: "
        "'bleu/typo.png'.")
    assert panel.exclusions.remove_button.text() == "Remove it"
    panel.exclusions.remove_button.click()
    assert panel.experiment.data.exclude == ["blue/blue_000.png"]
    assert not panel.exclusions.isVisibleTo(panel)


def test_an_image_in_no_class_folder_is_said_to_be_unused(qtbot, tmp_path):
    a, _ = _two_datasets(tmp_path)
    (a / "loose_top.png").write_bytes((a / "red" / "red_000.png").read_bytes())
    panel = loaded_data_panel(qtbot, a)
    assert panel.message.text() == (
        "Ready: 3 classes, 18 images. Note: 1 image is not in a class folder, so it is not "
        "used: loose_top.png (move it into the sub-folder of its class). Warning: Only 3 "
        "validation images: one image moves accuracy by 33 points, so the validation "
        "accuracy says little about how good the model is (add images, or hold out a "
        "larger validation share; 20 or more make it firmer).")


def test_a_folder_replacing_a_missing_one_keeps_its_exclusions_and_says_so(qtbot, tmp_path):
    a, _ = _two_datasets(tmp_path)
    panel = loaded_data_panel(qtbot, a)
    panel.experiment.data.exclude = list(EXCLUDED[:2])
    moved = a.rename(tmp_path / "moved")  # the dataset moved: its old folder is missing
    _load(qtbot, panel, moved)
    notice = panel.exclusions
    assert panel.experiment.data.exclude == EXCLUDED[:2]
    assert notice.cleared.text() == (
        f"Kept the 2 exclusions made for {a}, which is missing: this folder is taken for "
        f"that dataset, moved. If it is another dataset, clear them.")
    assert notice.keep_button.text() == "Clear them"
    train, val = panel.split_counts()
    assert sum(train.values()) + sum(val.values()) == 18 - 2
    notice.keep_button.click()
    assert panel.experiment.data.exclude == []
    assert not notice.isVisibleTo(panel)


def test_the_data_tabs_grid_marks_its_excluded_images(qtbot, tmp_path):
    a, _ = _two_datasets(tmp_path)
    panel = loaded_data_panel(qtbot, a)
    marks = panel.marks
    assert panel.thumbs.itemDelegate() is marks.delegate  # the grid paints the marks
    path = str(a / EXCLUDED[0])
    assert not marks.is_excluded(path)
    panel.experiment.data.exclude = [EXCLUDED[0]]
    assert marks.is_excluded(path) and not marks.is_excluded(str(a / EXCLUDED[1]))
