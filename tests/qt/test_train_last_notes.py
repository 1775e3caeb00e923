"""The Train tab's message lines about a run: the last run's start notes shown again after
a restart say they are that run's and go away while another dataset is open (they read as
notes about the next run, and stayed under a refusal about another folder), and the
run-end line says the images a run skipped as a sentence of its own, as a warning."""

from __future__ import annotations

import json
import os

from qt_helpers import listed_run
from workbench.core.runs.store import update_run_info

from helpers import make_image_folder

RUN_TIMEOUT_MS = 120000
NOTE = "1 unreadable file in /data/birds was left out: cardinal/broken.png (not an image file)"


def _run_on(root, folder: str, name: str = "birds-resnet18-1"):
    run = listed_run(root, "a", name)
    experiment = json.loads((run / "experiment.json").read_text())
    experiment["data"]["folder"] = folder
    (run / "experiment.json").write_text(json.dumps(experiment))
    update_run_info(run, start_notes=[NOTE])
    return run


def test_the_last_runs_notes_are_headed_as_its_own_and_follow_its_dataset(
        qtbot, train_panel, tiny_experiment, tmp_path):
    run = _run_on(tmp_path / "runs", tiny_experiment.data.folder)
    panel = train_panel(epochs=1)
    panel.show()
    assert panel.restore_last_run(str(run))
    label = panel.notes_label
    assert label.text() == f"Last run (birds-resnet18-1) started with these notes:\nNote: {NOTE}"
    assert label.isVisible()
    # Another dataset open: the notes are about a folder the user is not training on.
    other = make_image_folder(tmp_path / "other", per_class=8, size=16)
    own = tiny_experiment.data.folder
    tiny_experiment.data.folder = other  # announced: the tab checks its settings again
    assert label.isHidden()
    tiny_experiment.data.folder = own  # the run's again
    assert label.isVisible()
    # A new run's own notes replace them (this one has none).
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert label.isHidden()
    tiny_experiment.data.folder = other
    tiny_experiment.data.folder = own  # checked again: the old notes do not come back
    assert label.isHidden()


def test_skipped_images_are_a_sentence_of_their_own_and_a_warning(qtbot, train_panel,
                                                                  tiny_experiment):
    from workbench.core.data.scan import scan_folder

    panel = train_panel(epochs=1)
    panel.set_dataset(scan_folder(tiny_experiment.data.folder))  # the Data tab's scan
    # Damaged after the scan, under the same name (no rescan): a PNG signature, then junk.
    # Not a class's first file, which the run decodes before it starts.
    bad = os.path.join(tiny_experiment.data.folder, "red", sorted(
        os.listdir(os.path.join(tiny_experiment.data.folder, "red")))[-1])
    with open(bad, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"x" * 50)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    text = panel.status.text()
    assert text.startswith("Finished 1 epoch. Model kept: epoch 1")
    assert "s). 1 unreadable image was skipped: red/" in text, text
    assert text.endswith(" (truncated or corrupt image).")
    assert panel.status.level == "warning"


def test_a_continued_runs_notes_are_its_latest_starts(qtbot, train_panel, tiny_experiment,
                                                      tmp_path):
    """walk-tomorrow2 defect 4: a run continued at lr 0.02, then resumed without a new
    rate, showed the 0.02 note as the last start's: run.json keeps each start's notes
    (core.runs.start_notes) and the tab shows the latest one's, saying from which epoch."""
    run = _run_on(tmp_path / "runs", tiny_experiment.data.folder)
    changed = "learning rate changed from 0.01 to 0.02 on resuming"
    update_run_info(run, start_notes=["the later start's note"], start_notes_from=7,
                    earlier_start_notes=[{"from_epoch": 1, "notes": [NOTE]},
                                         {"from_epoch": 3, "notes": [changed]}])
    panel = train_panel(epochs=1)
    assert panel.restore_last_run(str(run))
    assert panel.notes_label.text() == ("Last run (birds-resnet18-1) continued from epoch 7 "
                                        "with these notes:\nNote: the later start's note")
    update_run_info(run, start_notes=[], start_notes_from=9)  # the latest said nothing
    again = train_panel(epochs=1)
    assert again.restore_last_run(str(run))
    assert again.notes_label.isHidden() and changed not in again.notes_label.text()
