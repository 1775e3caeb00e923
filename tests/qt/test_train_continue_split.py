"""Continue… after images were added to and removed from the dataset folder: the Train
tab says what changed, and the run validates on the images it validated on before."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from qt_helpers import after_epoch
from workbench.core.data.split_record import read_split_record
from workbench.qt.panels.train.continue_run import ContinueDialog
from workbench.qt.panels.train.panel import TrainPanel

RUN_TIMEOUT_MS = 120000


def _stopped_after_epoch_1(qtbot, panel: TrainPanel, monkeypatch) -> Path:
    """Start ``panel``'s run and stop it once epoch 1 has ended; its run folder."""
    after_epoch(monkeypatch, 1, lambda trainer: trainer.request_stop())
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    return Path(done.args[0]["run_dir"])


def _add_blue_images(folder: Path, n: int = 4) -> None:
    """``n`` new images of blue (``blue/n0.png`` ...), as a user adds them to the folder."""
    for i in range(n):
        Image.new("RGB", (16, 16), (30, 40, 210 + i)).save(folder / "blue" / f"n{i}.png")


def test_continue_after_the_folder_changed_says_so_and_keeps_validation(
        qtbot, tiny_experiment, image_folder, monkeypatch):
    from workbench.core.data.scan import scan_folder

    tiny_experiment.training.epochs = 3
    panel = TrainPanel(tiny_experiment)
    qtbot.addWidget(panel)
    try:
        run_dir = _stopped_after_epoch_1(qtbot, panel, monkeypatch)
        assert "dataset changed" not in panel.notes_label.text()
        val = read_split_record(run_dir).val
        gone = sorted(r for r in val if r.startswith("green/"))[0]
        os.remove(image_folder / gone)
        _add_blue_images(image_folder)
        panel.set_dataset(scan_folder(str(image_folder)))  # the Data tab's rescan

        def ask(plan):
            dialog = ContinueDialog(plan, panel)
            qtbot.addWidget(dialog)
            return dialog.plan()

        panel.ask_continue = ask
        with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as resumed:
            panel.continue_button.click()
        assert [m["epoch"] for m in resumed.args[0]["history"]] == [1, 2, 3]
        said = panel.notes_label.text() + panel.notes_label.toolTip()
        assert "Note: the dataset changed since epoch 1: 4 images added (" in said
        assert "1 removed (from validation)" in said
        kept = read_split_record(run_dir)
        assert val - {gone} <= kept.val and kept.missing == {gone}
    finally:
        panel.shutdown()


def test_the_dialog_says_what_continuing_will_not_use_before_it_is_accepted(
        qtbot, tiny_experiment, image_folder, monkeypatch):
    # From a reopened session: a Dropout added and validation set to 0.4 since the run,
    # images added to the folder; the dialog said only the run's optimizer settings.
    from PySide6.QtWidgets import QDialog

    from workbench.core.data.scan import scan_folder
    from workbench.core.registry import Component

    tiny_experiment.training.epochs = 3
    panel = TrainPanel(tiny_experiment)
    qtbot.addWidget(panel)
    try:
        _stopped_after_epoch_1(qtbot, panel, monkeypatch)
        panel.experiment.model.layers.insert(2, Component("Dropout", {"p": 0.3}))
        panel.experiment.data.val_fraction = 0.4
        _add_blue_images(image_folder)
        shown = []

        def exec_(dialog):
            qtbot.waitUntil(lambda: not dialog.dataset_label.text().startswith("Checking"),
                            timeout=RUN_TIMEOUT_MS)
            shown.append((dialog.notes_label.text(), dialog.dataset_label.text(),
                          dialog.dataset_label.isVisibleTo(dialog)))
            return QDialog.DialogCode.Rejected

        monkeypatch.setattr(ContinueDialog, "exec", exec_)
        panel.continue_run()  # the folder not rescanned: the dialog's job lists it
        [(notes, dataset, visible)] = shown
        assert notes.splitlines() == [
            "Note: the tabs differ from this run in these settings, which continuing does "
            "not use (it keeps the run's own; Start training trains a new run with them):",
            "• Data tab: validation fraction 0.4 (the run's 0.25)",
            "• Model tab: the network (Dropout added)"]
        assert visible and dataset.startswith(
            "Note: The dataset changed since epoch 1: 4 images added (")
        assert not panel.is_running()  # cancelled: nothing trains
        # Nothing edited, the folder as it was (the Data tab's scan): nothing more to say.
        for i in range(4):
            os.remove(image_folder / "blue" / f"n{i}.png")
        del panel.experiment.model.layers[2]
        panel.experiment.data.val_fraction = 0.25
        panel.set_dataset(scan_folder(str(image_folder)))
        panel.continue_run()
        assert shown[1] == ("", "", False)
    finally:
        panel.shutdown()
