"""Data tab: a dataset that cannot be trained on keeps the scan's warnings (they say the
fix), names a CSV file a dataset, and counts one class as "1 class"."""

from __future__ import annotations

from helpers import make_image_folder
from workbench.core.experiment import Experiment
from workbench.qt.panels.data.panel import DataPanel


def _load(qtbot, path) -> DataPanel:
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=20000):
        panel.load_folder(str(path))
    return panel


def test_an_untrainable_folder_keeps_the_warning_that_says_the_fix(qtbot, tmp_path):
    make_image_folder(tmp_path / "photos", classes=("images",), per_class=4)
    panel = _load(qtbot, tmp_path / "photos")
    text = panel.message.text()
    assert not panel.trainable
    assert text.startswith("This folder cannot be trained on yet:")
    assert "Warning:" in text and "the class folder 'images' looks like a dataset part" in text
    assert "choose the folder that holds the classes" in text
    assert "4 images in 1 class" in panel.total_label.text()
    assert "1 classes" not in panel.total_label.text()


def test_an_untrainable_csv_is_called_a_dataset_and_keeps_its_hints(qtbot, tmp_path):
    make_image_folder(tmp_path / "imgs", classes=("blue", "red"), per_class=2)
    csv = tmp_path / "labels.csv"
    csv.write_text("id,breed\nimgs/blue/blue_000,blue\nimgs/red/red_000,red\n")
    panel = _load(qtbot, csv)
    text = panel.message.text()
    assert not panel.trainable
    assert text.startswith("This dataset cannot be trained on yet:")
    assert f"paths are read relative to the CSV file's folder {tmp_path}" in text
