"""The images a run skipped (unreadable) come back with the run: after a restart the Train
tab's last-run line says them as the run's end said them, from run.json alone."""

from __future__ import annotations

import os

RUN_TIMEOUT_MS = 120000


def test_a_restarted_train_tab_says_the_images_the_last_run_skipped(qtbot, train_panel,
                                                                    tiny_experiment):
    from workbench.core.data.scan import scan_folder

    panel = train_panel(epochs=1)
    panel.set_dataset(scan_folder(tiny_experiment.data.folder))  # the Data tab's scan
    folder = tiny_experiment.data.folder
    for cls in ("red", "blue"):  # damaged after the scan: met by the first epoch
        name = sorted(os.listdir(os.path.join(folder, cls)))[-1]
        with open(os.path.join(folder, cls, name), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + b"x" * 50)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    live = panel.status.text()
    said = live[live.index("2 unreadable images were skipped: "):]
    assert said.endswith(" (truncated or corrupt image).") and "/" in said, live
    run_dir = panel.last_run_dir

    # The app closed and opened again: a new Train tab, the run from its folder.
    reopened = train_panel(epochs=1)
    assert reopened.restore_last_run(run_dir)
    line = reopened.run_label.text()
    assert line.startswith("Last run: ") and line.endswith(f"checkpoint. {said}"), line
    assert reopened.run_label.level == "warning"
