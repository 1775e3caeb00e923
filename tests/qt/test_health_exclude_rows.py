"""The Health tab on a folder with many findings (walker report "bigfolder"): several rows
selected at once (Shift/Ctrl-click, Shift+arrows) are excluded, and included again, in one
``data.exclude`` edit; a group of copies left with one copy counts as settled, as a new
check would find it; and a kept check of a folder changed since is "out of date" in the
tab's title after a restart, as it is within one session, Rescan or not."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from PIL import Image

from helpers import LEAK, make_leaky_parts, make_photo_folder
from qt_helpers import health_experiment, loaded_data_panel, run_health_check
from workbench.qt.panels.data.health.table import IMAGES, image_rects

WAIT_MS = 30000


def _conflicts(tmp_path, n: int = 4):
    """A photo folder with ``n`` cats filed again under dogs: ``n`` conflicting labels."""
    root = make_photo_folder(tmp_path / "d")
    for i in range(n):
        shutil.copy(root / "cats" / f"cats_{i:02d}.png", root / "dogs" / f"copy_{i}.png")
    return root


def _exclude_edits(panel) -> list:
    edits: list = []
    panel.current.changed.connect(
        lambda section, field: edits.append(field) if field == "exclude" else None)
    return edits


def _click_row(table, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A click on the Finding cell of ``row`` (shown order), as a person makes it."""
    rect = table.visualRect(table.proxy.index(row, 0))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_selected_rows_are_excluded_and_included_again_in_one_edit(qtbot, tmp_path):
    root = _conflicts(tmp_path)
    panel = loaded_data_panel(qtbot, root, health_experiment("rows"))
    health, table = panel.health, panel.health.table
    panel.resize(1300, 900)
    panel.show()
    qtbot.waitExposed(panel)
    conflicts = [f for f in run_health_check(qtbot, health) if f.kind == "conflict"]
    assert len(conflicts) == 4 and table.proxy.rowCount() >= 4
    # The check selects the first row; Shift+Down twice selects three.
    table.setFocus()
    QTest.keyClick(table, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(table, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert len(table.selectionModel().selectedRows()) == 3
    assert health.exclude_button.text() == "Exclude 3 chosen"
    assert not health.move_button.isEnabled() and not health.reveal_button.isEnabled()
    assert health.actions.chosen_label.text().startswith("3 rows selected")
    # Ctrl-click adds the fourth row.
    _click_row(table, 3, Qt.KeyboardModifier.ControlModifier)
    rows = health.selected_rows()
    assert [r for r, _ in rows] == [table.source_row(table.proxy.index(i, 0))
                                    for i in range(4)]
    chosen = [f.paths[health.model.chosen_image(r)] for r, f in rows]
    assert [Path(p).parent.name for p in chosen] == ["dogs"] * 4  # each one's odd one out
    # A click on the other image of a selected row chooses it; the rows stay selected.
    first = rows[0][1]
    cell = table.visualRect(table.proxy.index(0, IMAGES))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, image_rects(first, cell)[0].center())
    assert len(health.selected_rows()) == 4 and health.model.chosen_image(rows[0][0]) == 0
    chosen[0] = first.paths[0]
    assert Path(chosen[0]).parent.name == "cats"
    assert health.exclude_button.text() == "Exclude 4 chosen"

    edits = _exclude_edits(panel)
    health.exclude_button.click()
    assert edits == ["exclude"]  # one edit, every tab told once
    assert sorted(panel.experiment.data.exclude) == sorted(
        Path(p).relative_to(root).as_posix() for p in chosen)
    assert set(chosen) <= health.model.excluded
    assert health.status.text() == "Excluded 4 images from training."
    assert health.exclude_button.text() == "Include 4 chosen again"

    edits.clear()
    health.exclude_button.click()
    assert edits == ["exclude"] and panel.experiment.data.exclude == []
    assert health.exclude_button.text() == "Exclude 4 chosen"

    # A plain click selects one row again: its own button, and Move/Reveal back.
    _click_row(table, 1)
    assert len(health.selected_rows()) == 1
    assert health.exclude_button.text() == "Exclude from training"
    assert health.reveal_button.isEnabled()


def _select_all(qtbot, panel, health) -> None:
    panel.resize(1300, 900)
    panel.show()
    qtbot.waitExposed(panel)
    health.table.selectAll()


def test_rows_choosing_the_same_image_are_not_said_to_be_unexcludable(qtbot, tmp_path):
    """Review: every blank image is also in the row of exact copies; with all four rows
    selected the line said "1 of them cannot be excluded" (rows less the images)."""
    root = make_photo_folder(tmp_path / "d")
    for i in range(3):
        Image.new("RGB", (48, 48)).save(root / "cats" / f"black_{i}.png")
    panel = loaded_data_panel(qtbot, root, health_experiment("same"))
    health = panel.health
    findings = run_health_check(qtbot, health)
    assert sorted(f.kind for f in findings) == ["blank"] * 3 + ["exact"]
    _select_all(qtbot, panel, health)
    line = health.actions.chosen_label.text()
    assert line.startswith("4 rows selected") and "cannot be excluded" not in line
    assert health.exclude_button.text() == "Exclude 3 chosen"
    health.exclude_button.click()
    assert sorted(panel.experiment.data.exclude) == [f"cats/black_{i}.png" for i in range(3)]
    assert health.status.text() == "Excluded 3 images from training."
    assert "cannot be excluded" not in health.actions.chosen_label.text()

    # One of them gone since the check: its own row, and the exact row choosing it, are
    # the two rows Exclude cannot act on.
    health.exclude_button.click()  # included again
    health.table.clearSelection()
    exact = next(r for r, f in enumerate(findings) if f.kind == "exact")
    Path(findings[exact].paths[health.model.chosen_image(exact)]).unlink()
    _select_all(qtbot, panel, health)
    assert "; 2 of them cannot be excluded" in health.actions.chosen_label.text()
    assert health.exclude_button.text() == "Exclude 2 chosen"


def test_a_selection_of_training_and_test_images_says_what_each_left(qtbot, tmp_path):
    """Review: a test/ image excluded with a training image was said to be "excluded from
    training"; it is left out of evaluation on the test part."""
    root = make_leaky_parts(tmp_path / "d")
    Image.new("RGB", (48, 48)).save(root / "train" / "dogs" / "black.png")
    panel = loaded_data_panel(qtbot, root, health_experiment("mixed"))
    health = panel.health
    findings = run_health_check(qtbot, health)
    assert sorted(f.kind for f in findings) == ["blank", "leak"]
    _select_all(qtbot, panel, health)
    chosen = {f.kind: f.paths[health.model.chosen_image(r)] for r, f in health.selected_rows()}
    assert chosen == {"leak": str(root / LEAK), "blank": str(root / "train/dogs/black.png")}
    health.exclude_button.click()
    assert health.status.text() == ("Excluded train/dogs/black.png from training and "
                                    f"{LEAK} from evaluation on the test part.")
    health.exclude_button.click()
    assert health.status.text() == ("train/dogs/black.png is included in training again, "
                                    f"and {LEAK} in evaluation on the test part.")


def test_a_group_left_with_one_copy_is_settled_as_a_new_check_finds_it(qtbot, tmp_path):
    root = _conflicts(tmp_path, n=3)
    panel = loaded_data_panel(qtbot, root, health_experiment("settled"))
    health = panel.health
    findings = run_health_check(qtbot, health)
    assert "3 conflicting labels" in health.summary.text()
    assert panel.views.tabText(1) == f"Health ({len(findings)})"
    [first, *_] = [f for f in findings if f.kind == "conflict"]
    health.select(first, image=first.classes.index("dogs"))
    health.exclude_button.click()
    assert panel.views.tabText(1) == f"Health ({len(findings) - 1})"
    assert "3 conflicting labels (1 settled by an exclusion since)" in health.summary.text()

    run_health_check(qtbot, health)  # what a new check says agrees
    assert "2 conflicting labels" in health.summary.text()
    assert panel.views.tabText(1) == f"Health ({len(findings) - 1})"


def test_a_kept_check_of_a_changed_folder_is_out_of_date_after_a_restart(qtbot, tmp_path):
    root = _conflicts(tmp_path, n=1)
    first = loaded_data_panel(qtbot, root, health_experiment("restart"))
    n = len(run_health_check(qtbot, first.health))
    assert first.views.tabText(1) == f"Health ({n})"
    first.shutdown()
    shutil.copy(root / "owls" / "owls_00.png", root / "owls" / "late.png")  # while closed

    again = loaded_data_panel(qtbot, root, health_experiment("restart"))  # a restart
    assert again.health.stale.text().startswith("The folder changed since this check")
    assert again.views.tabText(1) == f"Health ({n}, out of date)"
    with qtbot.waitSignal(again.dataset_loaded, timeout=WAIT_MS):
        again.rescan_button.click()
    assert again.health.stale.text().startswith("The folder changed since this check")
    assert again.views.tabText(1) == f"Health ({n}, out of date)"
