"""The dataset folder changed while the app is open: the Data tab notices (a listing when
the app is activated again, or at Start), rescans and says what changed; the Train tab's
refusal says how a fix reaches the app; the Health tab marks a check of the folder before
the change out of date; a run names the images it skipped."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from helpers import make_image_folder, make_photo_folder
from qt_helpers import loaded_data_panel
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment
from workbench.qt.panels.data.panel import DataPanel
from workbench.qt.panels.train.panel import TrainPanel

WAIT_MS = 30000


def _activate() -> None:
    """The user comes back to the app (from a file manager)."""
    QApplication.instance().applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)


def test_images_added_and_removed_meanwhile_are_rescanned_when_the_app_is_activated(
        qtbot, tmp_path):
    root = tmp_path / "ds"
    make_image_folder(root, per_class=4)
    panel = loaded_data_panel(qtbot, root)
    assert panel.class_counts() == {"blue": 4, "green": 4, "red": 4}
    shutil.copy(root / "red" / "red_000.png", root / "red" / "late_1.png")
    shutil.copy(root / "red" / "red_000.png", root / "red" / "late_2.png")
    (root / "blue" / "blue_000.png").unlink()
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        _activate()
    assert panel.class_counts() == {"blue": 3, "green": 4, "red": 6}
    assert panel.message.text().startswith(
        "The folder changed: 2 images added, 1 removed (rescanned). Ready: 3 classes, "
        "13 images.")

    # Nothing changed since: coming back again rescans nothing.
    scans = []
    panel.dataset_listed.connect(scans.append)
    _activate()
    qtbot.waitUntil(lambda: not panel.relist._runner.is_busy(), timeout=WAIT_MS)
    assert scans == [] and not panel.is_scanning()


def test_removing_a_broken_class_enables_start_when_the_app_is_activated(qtbot, tmp_path):
    root = tmp_path / "ds"
    make_image_folder(root, classes=("blue", "red"), per_class=4)
    (root / "broken").mkdir()
    for name in ("a.jpg", "b.jpg"):
        (root / "broken" / name).write_bytes(b"")
    exp = Experiment()
    exp.training.device = "cpu"
    current = CurrentExperiment(exp)
    data, train = DataPanel(current), TrainPanel(current)
    qtbot.addWidget(data)
    qtbot.addWidget(train)
    with qtbot.waitSignal(data.dataset_loaded, timeout=WAIT_MS):
        data.load_folder(str(root))
    assert not train.start_button.isEnabled()
    said = train.status.text()
    assert "class 'broken'" in said and said.endswith(
        "remove the folder. Workbench looks at the folder again when you come back to this "
        "window (or click Rescan on the Data tab).")
    # The Data tab's own line points at its button, not at the tab it is on.
    assert data.message.text().endswith(
        "when you come back to this window (or click Rescan above).")

    shutil.rmtree(root / "broken")
    with qtbot.waitSignal(data.dataset_loaded, timeout=WAIT_MS):
        _activate()
    assert train.start_button.isEnabled()
    # Its two empty files were never images: "2 unreadable files", not "2 images".
    assert data.message.text().startswith("The folder changed: 2 unreadable files removed, "
                                          "class 'broken' removed (rescanned). Ready: 2 "
                                          "classes")
    train.shutdown()
    data.shutdown()


def test_start_trains_on_the_folder_as_it_is_now(qtbot, tmp_path, monkeypatch):
    root = tmp_path / "ds"
    make_image_folder(root, classes=("blue", "red"), per_class=4)
    exp = Experiment()
    current = CurrentExperiment(exp)
    data, train = DataPanel(current), TrainPanel(current)
    qtbot.addWidget(data)
    qtbot.addWidget(train)
    with qtbot.waitSignal(data.dataset_loaded, timeout=WAIT_MS):
        data.load_folder(str(root))
    started = []
    monkeypatch.setattr(train.run, "start", lambda exp, index=None, **kw: started.append(index))
    monkeypatch.setattr(train.plots, "start", lambda: None)
    monkeypatch.setattr(train, "_torch", True)
    shutil.copy(root / "red" / "red_000.png", root / "red" / "late.png")
    with qtbot.waitSignal(data.dataset_loaded, timeout=WAIT_MS):
        train.start()
    assert started == [None]  # not the scan from before: the run lists the folder itself
    assert data.message.text().startswith("The folder changed: 1 image added (rescanned).")
    assert data.class_counts() == {"blue": 4, "red": 5}
    train._set_running(False)
    train.shutdown()
    data.shutdown()


def test_a_check_before_the_folder_changed_is_marked_out_of_date(qtbot, tmp_path):
    root = make_photo_folder(tmp_path / "d")
    copy = root / "dogs" / "dogs_copy.png"
    shutil.copy(root / "cats" / "cats_00.png", copy)
    panel = loaded_data_panel(qtbot, root)
    health = panel.health
    with qtbot.waitSignal(health.checked, timeout=WAIT_MS):
        health.check_button.click()
    [conflict] = [f for f in health.model.findings if f.kind == "conflict"]
    title = panel.views.tabText(1)
    assert title.startswith("Health (") and health.stale.text() == ""

    copy.unlink()  # the user fixes the folder and rescans it
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.rescan_button.click()
    assert health.stale.text().startswith(
        "The folder changed since this check (1 image removed): its rows may name images "
        "that are gone")
    assert health.stale.button.isVisible() or not health.isVisible()
    assert panel.views.tabText(1) == title[:-1] + ", out of date)"
    assert "1 conflicting label" in health.summary.text()  # the rows are still shown
    health.select(conflict, image=1)
    assert not health.exclude_button.isEnabled() and not health.reveal_button.isEnabled()
    chosen = health.actions.chosen_label.text()
    assert "dogs_copy.png (dogs" in chosen and "— no longer in the folder" in chosen
    health.select(conflict, image=0)  # the image still there
    assert health.exclude_button.isEnabled()

    with qtbot.waitSignal(health.checked, timeout=WAIT_MS):
        health.stale.button.click()  # Check again
    assert health.stale.text() == "" and panel.views.tabText(1) == "Health"


def test_a_run_names_the_images_it_skipped(qtbot, train_panel):
    panel = train_panel()
    folder = panel.experiment.data.folder
    panel._on_skipped(f"{folder}/red/red_003.png", "file not found (moved or deleted?)")
    panel._on_run_finished({"status": "finished", "history": []})
    assert "1 unreadable image was skipped: red/red_003.png (file not found (moved or " \
           "deleted?))." in panel.status.text()
    for i in range(5):  # a file skipped in every epoch is named once
        panel._on_skipped(f"{folder}/blue/b{i}.png", "empty file (0 bytes)")
        panel._on_skipped(f"{folder}/blue/b{i}.png", "empty file (0 bytes)")
    panel._on_run_finished({"status": "finished", "history": []})
    assert ("6 unreadable images were skipped: red/red_003.png (file not found (moved or "
            "deleted?)), blue/b0.png (empty file (0 bytes)), blue/b1.png (empty file "
            "(0 bytes)) and 3 more.") in panel.status.text()
