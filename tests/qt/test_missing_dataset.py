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
