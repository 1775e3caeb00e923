"""The Health view's label findings: how far to trust them (the held-out accuracy, Move
off when too weak), the findings made out of date by a move (Check again), kept between
sessions with the moves Undo takes back, and the words for a cancelled first check. The
label check itself is replaced by fakes."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from helpers import make_photo_folder
from qt_helpers import fake_label_check, health_experiment, loaded_data_panel, run_health_check
from workbench.core.data.health import report as report_module
from workbench.core.data.health.labels import LabelCheckCancelled, LabelQuality

WAIT_MS = 30000


def _issue(health, name):
    return next(f for f in health.model.findings if f.kind == "label"
                and f.paths[0].endswith(name))


def test_findings_of_a_weak_network_are_called_unreliable_and_cannot_move_files(
        qtbot, tmp_path, monkeypatch):
    fake_label_check(monkeypatch, LabelQuality(0.48, 1 / 3, 36, 2))
    health = loaded_data_panel(qtbot, make_photo_folder(tmp_path / "d"), health_experiment("trust")).health
    run_health_check(qtbot, health, labels=True)
    summary = health.summary.text()
    assert ("Labels checked in 0.1 s, but the network reaches only 48% on held-out folds "
            "(chance is 33%; trusting it takes 80%): these 2 findings are unreliable, as it "
            "is wrong on 52% of the images it did not train on and flags its own mistakes "
            "as wrong labels; train longer (more epochs") in summary, summary
    assert health.summary.level == "warning"
    issue = _issue(health, "cats_03.png")
    assert "Unreliable: the network reached only 48%" in issue.detail
    health.select(issue)
    assert not health.move_button.isEnabled() and health.exclude_button.isEnabled()
    assert "too weak" in health.move_button.toolTip()
    menu = [a.text() for a in health.actions.menu(health).actions()]
    assert "Move to suggested class" not in menu and "Exclude from training" in menu


def test_a_trusted_label_check_says_how_well_its_network_did(qtbot, tmp_path, monkeypatch):
    fake_label_check(monkeypatch, LabelQuality(0.91, 1 / 3, 36, 5))
    health = loaded_data_panel(qtbot, make_photo_folder(tmp_path / "d"), health_experiment("trust")).health
    run_health_check(qtbot, health, labels=True)
    assert health.summary.text().endswith(
        "Labels checked in 0.1 s: the network reached 91% on held-out folds; 2 likely "
        "mislabelled.")
    health.select(_issue(health, "cats_03.png"))
    assert health.move_button.isEnabled()


def test_a_move_makes_the_findings_out_of_date_and_check_again_keeps_the_labels(
        qtbot, tmp_path, monkeypatch):
    fake_label_check(monkeypatch, LabelQuality(0.91, 1 / 3, 36, 5))
    root = make_photo_folder(tmp_path / "d")
    panel = loaded_data_panel(qtbot, root, health_experiment("trust"))
    health = panel.health
    run_health_check(qtbot, health, labels=True)
    assert health.stale.isHidden()
    health.select(_issue(health, "cats_03.png"))
    health.confirm = lambda parent, title, text: True
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        health.move_button.click()
    assert not health.stale.isHidden()
    assert health.stale.text() == (
        "Files were moved since the check: the train/validation split of 'cats' and 'dogs' "
        "is dealt again, so the sides and leaks shown are out of date. Check again to see "
        "them.")

    with qtbot.waitSignal(health.checked, timeout=WAIT_MS):
        health.stale.button.click()  # the fast checks; the label findings carried over
    assert health.stale.isHidden() and health.report.labels_checked
    assert [f.paths[0].rsplit("/", 1)[1] for f in health.model.findings
            if f.kind == "label"] == ["owls_07.png"]  # the moved image's finding is done
    assert "reached 91% on held-out folds; 1 likely mislabelled" in health.summary.text()

    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        health.undo_button.click()
    assert health.stale.text().startswith("A move was undone since the check")
    assert (root / "cats" / "cats_03.png").is_file()


def test_the_last_check_and_its_moves_come_back_in_the_next_session(
        qtbot, tmp_path, monkeypatch):
    fake_label_check(monkeypatch, LabelQuality(0.91, 1 / 3, 36, 5))
    root = make_photo_folder(tmp_path / "d")
    first = loaded_data_panel(qtbot, root, health_experiment("trust"))
    run_health_check(qtbot, first.health, labels=True)
    summary = first.health.summary.text()
    first.health.select(_issue(first.health, "owls_07.png"))
    first.health.confirm = lambda parent, title, text: True
    with qtbot.waitSignal(first.dataset_loaded, timeout=WAIT_MS):
        first.health.move_button.click()
    first.shutdown()

    again = loaded_data_panel(qtbot, root, health_experiment("trust")).health  # a restart
    assert again.report is not None and again.summary.text() == summary
    assert [f.kind for f in again.model.findings] == ["label", "label"]
    assert again.stale.text().startswith("The folder changed since this check")
    assert again.model.moved == {str(root / "owls" / "owls_07.png"): "cats"}
    assert again.undo_button.isEnabled()
    with qtbot.waitSignal(again.rescan_requested, timeout=WAIT_MS):
        again.undo_button.click()
    assert (root / "owls" / "owls_07.png").is_file()
    assert not (root / "cats" / "owls_07.png").exists()

    third = loaded_data_panel(qtbot, root, health_experiment("trust")).health
    assert not third.undo_button.isEnabled()  # nothing left to undo
    assert third.stale.text().startswith("Shown: the check of ")  # the folder is as checked


def test_cancelling_the_first_label_check_says_nothing_was_checked(qtbot, tmp_path,
                                                                  monkeypatch):
    started = threading.Event()

    def slow(experiment, index=None, labels=False, progress=None, stop_event=None, **_kw):
        started.set()
        stop_event.wait(WAIT_MS / 1000)
        raise LabelCheckCancelled("the label check was cancelled")

    monkeypatch.setattr(report_module, "check_dataset", slow)
    health = loaded_data_panel(qtbot, make_photo_folder(tmp_path / "d", per_class=4),
                               health_experiment("trust")).health
    health.labels_button.click()
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    health.cancel_button.click()
    assert health.status.text() == "Cancelled: no labels were checked."


def test_copies_in_conflict_show_their_pixel_sizes(qtbot, tmp_path):
    from PIL import Image

    root = make_photo_folder(tmp_path / "d")
    big = 96
    Image.open(root / "cats" / "cats_00.png").resize((big, big), Image.BICUBIC).save(
        root / "dogs" / "dogs_big.png")
    health = loaded_data_panel(qtbot, root, health_experiment("trust")).health
    [conflict] = [f for f in run_health_check(qtbot, health) if f.kind == "conflict"]
    assert "cats/cats_00.png (48×48)" in conflict.detail
    assert f"dogs/dogs_big.png ({big}×{big})" in conflict.detail
    assert set(conflict.sizes) == {(48, 48), (big, big)}  # drawn on each thumbnail's foot
    row = health.model.findings.index(conflict)
    tip = health.model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "dogs_big.png  (dogs, " in tip and f"{big}×{big} px)" in tip
