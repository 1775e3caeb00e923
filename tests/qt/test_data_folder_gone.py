"""The dataset folder is renamed, moved or unplugged while the app is open: coming back to
the window, the Data tab says it is gone and how to reopen it, in the Train tab's words,
rather than "Ready"; once the folder is back, the tab is itself again. A scan that fails
leaves no "Chosen for this dataset" line of the dataset before. Choosing a folder of
datasets is warned about on the Data tab as `scan` warns about it."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from helpers import make_image_folder
from workbench.core.experiment import Experiment
from workbench.qt.panels.data.panel import DataPanel
from workbench.qt.panels.train.start_checks import missing_folder_problem

WAIT_MS = 30000


def _activate() -> None:
    """The user comes back to the app (from a file manager)."""
    QApplication.instance().applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)


def _opened(qtbot, root) -> DataPanel:
    """A Data tab that opened ``root`` as a new dataset, its "Chosen for" line shown."""
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.defaults_adopted, timeout=WAIT_MS):
        panel.load_folder(str(root))
    qtbot.waitUntil(lambda: not panel.is_scanning(), timeout=WAIT_MS)
    assert panel.advice.chosen.text().startswith("Chosen for this dataset")
    assert panel.message.text().startswith("Ready: 3 classes, 12 images.")
    return panel


def test_a_folder_gone_meanwhile_is_said_and_the_tab_recovers_when_it_is_back(qtbot,
                                                                              tmp_path):
    root = tmp_path / "ds"
    make_image_folder(root, per_class=4)
    panel = _opened(qtbot, root)
    level = panel.message.level  # (a warning: 3 validation images)
    os.rename(root, tmp_path / "ds_renamed")
    _activate()  # (or the Data tab shown again: the same listing)
    qtbot.waitUntil(lambda: "is missing" in panel.message.text(), timeout=WAIT_MS)
    text = panel.message.text()
    problem = missing_folder_problem(str(root))  # the Train tab's words, as they are there
    assert problem and text.startswith(problem[0].upper() + problem[1:] + ".")
    assert "(moved, renamed, or on a drive that is not connected)" in text
    assert text.endswith("The classes below are from its last scan. Workbench looks at the "
                         "folder again when you come back to this window (or click Rescan "
                         "above).")
    assert panel.message.level == "error" and "Ready" not in text
    assert panel.class_counts() == {"blue": 4, "green": 4, "red": 4}  # the last scan
    assert not panel.advice.chosen.text() and not panel.advice.isVisibleTo(panel)

    os.rename(tmp_path / "ds_renamed", root)  # the drive plugged in again
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        _activate()
    assert panel.message.text().startswith("The dataset folder is back (rescanned). Ready: "
                                           "3 classes, 12 images.")
    assert panel.message.level == level and panel.class_counts()["red"] == 4
    qtbot.waitUntil(lambda: panel.advice.chosen.text().startswith("Chosen for this dataset"),
                    timeout=WAIT_MS)  # said again, as the settings still are what it chose


def test_a_failed_scan_leaves_no_advice_of_the_dataset_before(qtbot, tmp_path):
    root = tmp_path / "ds"
    make_image_folder(root, per_class=4)
    panel = _opened(qtbot, root)
    os.rename(root, tmp_path / "elsewhere")
    with qtbot.waitSignal(panel.scan_failed, timeout=WAIT_MS):
        panel.rescan_button.click()
    assert panel.message.level == "error" and "does not exist" in panel.message.text()
    assert not panel.advice.chosen.text() and not panel.advice.isVisibleTo(panel)


def test_a_folder_of_datasets_is_warned_about_on_the_data_tab(qtbot, tmp_path):
    for part in ("train", "val"):
        make_image_folder(tmp_path / "datasets" / "pets" / part, ("cat", "dog"), per_class=2)
    make_image_folder(tmp_path / "datasets" / "places", ("beach", "city"), per_class=2)
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.load_folder(str(tmp_path / "datasets"))
    text = panel.message.text()
    assert text.startswith("Ready: 2 classes, 12 images.") and panel.message.level == "warning"
    assert "this may be a folder of datasets" in text
    assert f"Open {tmp_path / 'datasets' / 'pets'} to train on its parts train/, val/" in text
