"""The Evaluate tab's message line says what ``workbench evaluate`` says: that its
validation split is no longer the run's when images were added or removed since training,
and how many of the images evaluated (not of the files listed) the model was trained on."""

from __future__ import annotations

import os
import re
from pathlib import Path

from PIL import Image

from workbench.core.data.split_record import read_split_record, stable_side
from workbench.core.train.run import run_training

TIMEOUT_MS = 60_000


def _evaluate(qtbot, panel):
    with qtbot.waitSignal(panel.evaluated, timeout=TIMEOUT_MS) as blocker:
        panel.evaluate_button.click()
    return blocker.args[0]


def test_its_validation_split_changed_since_training_is_said(qtbot, make_evaluate_panel,
                                                             tiny_experiment, tmp_path):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    folder = Path(tiny_experiment.data.folder)
    record = read_split_record(run_dir)
    os.remove(folder / sorted(record.val)[0])
    fraction = tiny_experiment.data.val_fraction
    names = [f"blue/n{i}.png" for i in range(100)]
    for r in [r for r in names if stable_side(0, "blue", r, fraction)][:2]:
        Image.new("RGB", (16, 16), (30, 40, 220)).save(folder / r)
    panel = make_evaluate_panel(str(run_dir / "bundle.pt"))
    assert panel.data_combo.currentText() == "Its validation split"
    result = _evaluate(qtbot, panel)
    assert result.split == "val" and result.num_images == len(record.val) + 1
    text = " ".join(panel.message.text().split())
    assert panel.message.level == "warning"
    assert ("Note: The dataset changed since the model was trained (2 images added to "
            "validation, 1 image of validation gone from the folder): its validation split "
            f"now holds {len(record.val) + 1} images") in text, text


def test_the_trained_on_note_counts_the_images_evaluated(qtbot, make_evaluate_panel,
                                                         tiny_experiment, tmp_path):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    folder = Path(tiny_experiment.data.folder)
    (folder / "red" / "zero.png").write_bytes(b"")
    panel = make_evaluate_panel(str(run_dir / "bundle.pt"), str(folder))
    result = _evaluate(qtbot, panel)
    assert result.split == "all" and len(result.unreadable) == 1
    note = re.search(r"(\d+) of these (\d+) images are images this model was trained on",
                     panel.message.text())
    assert note, panel.message.text()
    assert int(note.group(2)) == result.num_images
    assert int(note.group(1)) == len(read_split_record(run_dir).train)

