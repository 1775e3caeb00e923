"""A dataset folder that went missing, chosen again where it went: the experiment's
settings are kept, as the message promises (a folder opened otherwise is a new dataset,
whose input size and channels follow its images)."""

from __future__ import annotations

import pytest

from helpers import make_image_folder
from workbench.qt.main_window import MainWindow

TIMEOUT_MS = 60000


@pytest.fixture
def window(qtbot, tiny_experiment, tmp_path):
    tiny_experiment.data.folder = str(tmp_path / "gone")  # moved since the last session
    tiny_experiment.data.input_size = [40, 40]
    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def _open(qtbot, window, folder) -> None:
    """Open ``folder`` as the Data tab's Choose… and Rescan buttons do, and wait until the
    images' headers are read (when a new dataset's defaults are adopted)."""
    panel = window.data_panel
    with qtbot.waitSignal(panel.summary_finished, timeout=TIMEOUT_MS):
        panel.load_folder(str(folder))


def test_a_folder_chosen_after_the_missing_message_keeps_the_settings(
        qtbot, window, tmp_path):
    window.show_missing_dataset(window.experiment.data.folder)
    assert "settings are kept as they were" in window.data_panel.message.text()
    where_it_went = make_image_folder(tmp_path / "moved", size=24)
    with qtbot.waitSignal(window.current.dataset_changed, timeout=TIMEOUT_MS):
        _open(qtbot, window, where_it_went)
    assert window.experiment.data.folder == where_it_went
    assert window.experiment.data.input_size == [40, 40]
    assert window.statusBar().currentMessage() == (
        f"Dataset {where_it_went} replaces the missing {tmp_path / 'gone'}: the input size, "
        f"augmentation and other settings are kept as they were.")
    # The message has been answered: a folder opened after that is a new dataset.
    another = make_image_folder(tmp_path / "another", size=24)
    _open(qtbot, window, another)
    assert window.experiment.data.input_size == [24, 24]


def test_without_the_message_a_new_folder_adopts_its_defaults(qtbot, window, tmp_path):
    _open(qtbot, window, make_image_folder(tmp_path / "new", size=24))
    assert window.experiment.data.input_size == [24, 24]


def test_the_train_tab_says_the_folder_is_missing_and_start_waits_for_it(
        qtbot, window, tmp_path, monkeypatch):
    # From a reopened session whose dataset folder had been renamed: the Train tab said
    # "Press Start to train…", and Start gave a box titled "Training failed".
    boxes = []
    monkeypatch.setattr("workbench.qt.panels.train.panel.show_error",
                        lambda *args: boxes.append(args))
    panel = window.train_panel
    gone = str(tmp_path / "gone")
    assert not panel.start_button.isEnabled()
    assert panel.status.text().startswith(f"Cannot train yet: the dataset folder {gone} is "
                                          f"missing")
    assert "open it where it is now on the Data tab" in panel.status.text()
    assert gone in panel.start_button.toolTip()
    panel.start()  # as a queued or programmatic start would
    assert not panel.is_running() and boxes == [] and not panel.last_error
    # Found again where it went: Start is offered, the line no longer says it is missing.
    with qtbot.waitSignal(window.current.dataset_changed, timeout=TIMEOUT_MS):
        _open(qtbot, window, make_image_folder(tmp_path / "moved", size=24))
    assert panel.start_button.isEnabled()
    assert "missing" not in panel.status.text()


def test_a_folder_removed_after_it_was_opened_is_said_when_start_is_pressed(
        qtbot, tiny_experiment, tmp_path, monkeypatch):
    import shutil

    boxes = []
    monkeypatch.setattr("workbench.qt.panels.train.panel.show_error",
                        lambda *args: boxes.append(args))
    folder = make_image_folder(tmp_path / "here", size=16)
    tiny_experiment.data.folder = folder
    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    panel = w.train_panel
    with qtbot.waitSignal(w.current.dataset_changed, timeout=TIMEOUT_MS):
        w.scan_dataset(folder, adopt_defaults=False)
    assert panel.start_button.isEnabled()
    shutil.rmtree(folder)  # moved away while the app was open
    panel.start()
    assert not panel.is_running() and boxes == []
    assert not panel.start_button.isEnabled()
    assert panel.status.text().startswith(f"Cannot train yet: the dataset folder {folder} "
                                          f"is missing")
    w.shutdown()


def test_a_folder_removed_while_open_is_said_when_the_train_tab_shows(
        qtbot, tiny_experiment, tmp_path):
    import shutil

    folder = make_image_folder(tmp_path / "here", size=16)
    tiny_experiment.data.folder = folder
    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    w.show()
    panel = w.train_panel
    with qtbot.waitSignal(w.current.dataset_changed, timeout=TIMEOUT_MS):
        w.scan_dataset(folder, adopt_defaults=False)
    assert w.statusBar().currentMessage().startswith(f"Dataset {folder}: 3 classes")
    shutil.rmtree(folder)  # moved away while the app was open
    w.tabs.setCurrentWidget(panel)  # before Start is pressed
    assert not panel.start_button.isEnabled()
    assert panel.status.text().count("Data tab") == 1
    assert w.statusBar().currentMessage() == f"Dataset folder missing: {folder}"
    w.shutdown()


def test_a_folder_gone_while_open_chosen_again_where_it_went_keeps_the_settings(
        qtbot, tiny_experiment, tmp_path):
    import os

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    folder = make_image_folder(tmp_path / "photos", size=24)
    tiny_experiment.data.folder = folder
    tiny_experiment.data.input_size = [40, 40]  # the user's own setting, not the folder's
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    panel = window.data_panel
    with qtbot.waitSignal(panel.dataset_loaded, timeout=TIMEOUT_MS):
        panel.load_folder(folder)  # the experiment's own folder: its settings kept
    assert window.experiment.data.input_size == [40, 40]
    os.rename(folder, tmp_path / "photos 2026")  # renamed in a file manager meanwhile
    with qtbot.waitSignal(panel.relist.folder_gone, timeout=TIMEOUT_MS):
        QApplication.instance().applicationStateChanged.emit(
            Qt.ApplicationState.ApplicationActive)  # back to the app
    with qtbot.waitSignal(window.current.dataset_changed, timeout=TIMEOUT_MS):
        _open(qtbot, window, tmp_path / "photos 2026")
    assert window.experiment.data.input_size == [40, 40]  # not the new folder's 24x24
    assert "replaces the missing" in window.statusBar().currentMessage()
    window.shutdown()
