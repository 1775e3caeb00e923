"""A run trained on the Train tab, on a folder whose validation split holds files that
cannot be read (the Data tab's decode check lists them), evaluates on "Its validation
split" without saying the dataset changed: nothing was added or removed (walk-formats:
"36 of the 34")."""

from __future__ import annotations

from pathlib import Path

from workbench.core.data.scan import scan_folder
from workbench.core.data.split_record import read_split_record
from workbench.qt.panels.train.panel import TrainPanel

TIMEOUT_MS = 120_000


def test_unreadable_validation_files_are_no_change_in_the_evaluate_tab(
        qtbot, tiny_experiment, image_folder, make_evaluate_panel):
    for c in ("blue", "green", "red"):
        for i in range(3):
            (image_folder / c / f"empty{i}.jpg").write_bytes(b"")  # 0 bytes: unreadable
    panel = TrainPanel(tiny_experiment)
    qtbot.addWidget(panel)
    index = scan_folder(str(image_folder), verify=True)  # the Data tab's, decoded
    assert len(index.dropped) == 9
    panel.set_dataset(index)
    with qtbot.waitSignal(panel.training_finished, timeout=TIMEOUT_MS) as done:
        panel.start_button.click()
    run_dir = Path(done.args[0]["run_dir"])
    record = read_split_record(run_dir)
    unreadable = {r for r in record.val if "/empty" in r}
    assert unreadable, "the case: unreadable files in validation"

    evaluate = make_evaluate_panel(str(run_dir / "bundle.pt"))
    assert evaluate.data_combo.currentText() == "Its validation split"
    with qtbot.waitSignal(evaluate.evaluated, timeout=TIMEOUT_MS) as blocker:
        evaluate.evaluate_button.click()
    result = blocker.args[0]
    assert result.split == "val" and len(result.unreadable) == len(unreadable)
    assert result.num_images == len(record.val) - len(unreadable)
    text = " ".join(evaluate.message.text().split())
    assert "dataset changed" not in text, text
