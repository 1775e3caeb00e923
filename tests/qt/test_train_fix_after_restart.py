"""Walk-explain report #1: a fix applied from the Doctor tab ("Use a random initialisation
for layers 2 and 4") came back after a restart as an open finding, "Doctor (1)", with a
live button whose action held the run's whole layer list (pressing it later would undo the
edits made since), while the Model doctor found nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000
ZEROS = {"weight": {"type": "zeros"}}


def doctor_tab(panel):
    tabs = panel.settings_tabs
    return tabs.tabText(tabs.indexOf(panel.findings.view))


@pytest.fixture
def fixed_run(qtbot, kept_panels, tiny_experiment):
    """A run whose zeros initialisation the doctor named (dead_units at epoch 1), fixed
    with its Doctor button; returns ``(run_dir, the experiment as the app keeps it)``."""
    tiny_experiment.training.epochs = 1
    for i in (1, 3):
        tiny_experiment.model.layers[i].init = dict(ZEROS)
    panel = kept_panels(TrainPanel(tiny_experiment))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    rows = panel.findings.view.rows
    (i,) = [i for i, r in enumerate(rows) if r.finding["kind"] == "dead_units"]
    assert "zeros initialisation" in rows[i].finding["message"]
    qtbot.mouseClick(panel.findings.fix_button(i), Qt.MouseButton.LeftButton)
    assert rows[i].note.startswith("Applied: ")
    assert panel.experiment.model.layers[1].init is None
    return panel.last_run_dir, panel.experiment.copy()


def restarted(kept_panels, experiment, run_dir):
    """The Train tab of the next session: the saved experiment, the last run restored."""
    panel = kept_panels(TrainPanel(experiment.copy()))
    assert panel.restore_last_run(run_dir)
    return panel


def test_a_fix_applied_before_a_restart_shows_fixed_after_it(qtbot, kept_panels, fixed_run):
    run_dir, experiment = fixed_run
    panel = restarted(kept_panels, experiment, run_dir)
    [row] = [r for r in panel.findings.view.rows if r.finding["kind"] == "dead_units"]
    assert row.note.startswith("Fixed on the Model tab: the Model doctor no longer finds that "
                               "layers 2 (Linear) and 4 (Linear) start from zeros")
    assert not row.button.isEnabled()  # no stale layer list to press
    assert doctor_tab(panel) == "Doctor (fixed)"  # nothing open: not "Doctor (1)"
    assert panel.run_label.text().startswith("Last run: ")  # the restored run's line stays
    # The cause put back on the Model tab: the finding is open again, its button live.
    panel.experiment.model.layers[1].init = dict(ZEROS)
    panel.experiment.announce("model")
    assert row.note == "" and row.button.isEnabled()


def test_a_run_without_a_bundle_is_checked_once_the_dataset_is_scanned(qtbot, kept_panels,
                                                                       fixed_run):
    from workbench.core.data.scan import scan_folder

    run_dir, experiment = fixed_run
    Path(run_dir, "bundle.pt").unlink()  # killed mid-run: its classes are the scan's
    shutil.rmtree(Path(run_dir, "checkpoints"), ignore_errors=True)
    panel = restarted(kept_panels, experiment, run_dir)
    [row] = [r for r in panel.findings.view.rows if r.finding["kind"] == "dead_units"]
    assert row.note == ""  # the classes are not known yet
    panel.current.set_dataset(scan_folder(experiment.data.folder))
    assert row.note.startswith("Fixed on the Model tab: ")
