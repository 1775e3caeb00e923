"""The Train tab's run name and a long dataset folder name (walker report walk-paths,
defect 4): the suggested name fits in a run folder's name (its dataset part shortened in
the middle), and a name typed too long is said under the box as it is typed, and refused
at Start with "shorten the run name", before any run folder is made."""

from __future__ import annotations

import shutil
from pathlib import Path

from workbench.core.io import runs_dir
from workbench.core.runs.names import MAX_NAME_BYTES


def test_a_long_dataset_folder_gets_a_suggested_name_that_fits(train_panel, tmp_path,
                                                               tiny_experiment):
    folder = tmp_path / ("Holiday photos 2025 " * 12).strip()
    shutil.move(tiny_experiment.data.folder, folder)
    tiny_experiment.data.folder = str(folder)
    panel = train_panel()
    suggested = panel.setup.name_edit.placeholderText()
    assert suggested.startswith("Holiday-photos-2025-") and ".." in suggested
    assert len(suggested.encode()) <= MAX_NAME_BYTES
    assert panel.setup.run_name() == suggested and panel.setup.name_note.isHidden()


def test_a_typed_name_too_long_is_refused_at_the_run_name(qtbot, train_panel,
                                                          train_error_boxes):
    panel = train_panel(epochs=1)
    setup = panel.setup
    setup.name_edit.setText("ü" * 120)  # 240 bytes
    assert setup.name_note.isVisibleTo(panel)
    assert "240 bytes" in setup.name_note.text()
    assert setup.name_note.text().endswith("shorten the run name.")
    setup.name_edit.editingFinished.emit()  # (the taken-name check keeps the line)
    assert setup.name_note.isVisibleTo(panel)
    panel.start()
    assert not panel.is_running()
    assert "shorten the run name" in panel.status.text()
    assert [title for title, _ in train_error_boxes] == ["Cannot start training"]
    assert not Path(runs_dir()).is_dir() or not any(Path(runs_dir()).iterdir())
    setup.name_edit.setText("ü" * 20)  # shortened: fine again
    assert setup.name_note.isHidden()
