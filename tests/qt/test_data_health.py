"""The Data tab's Health view: checks run off the GUI thread, findings as rows, and the
actions on them (exclude from training, move to the suggested class with undo), on small
planted sets. The slow cross-validated label check is replaced by fakes."""

from __future__ import annotations

import shutil
import threading

import pytest
from PySide6.QtCore import Qt

from helpers import make_photo_folder
from qt_helpers import fake_label_check, health_experiment, loaded_data_panel, run_health_check
from workbench.core.data.health import report as report_module
from workbench.core.data.health.labels import LabelCheckCancelled
from workbench.qt.main_window import MainWindow
from workbench.qt.panels.data.health.findings import findings_of
from workbench.qt.panels.data.health.table import COLUMNS, FindingRole

WAIT_MS = 30000


_photos = make_photo_folder


@pytest.fixture
def with_label_issue(monkeypatch):
    """check_dataset whose label check "finds" cats_03 to be a dog (no network trained)."""
    fake_label_check(monkeypatch)


def test_a_copy_across_classes_is_found_and_excluding_it_is_an_experiment_setting(
        qtbot, tmp_path):
    root = _photos(tmp_path / "d")
    shutil.copy(root / "cats" / "cats_00.png", root / "dogs" / "dogs_copy.png")
    window = MainWindow(health_experiment("health"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=WAIT_MS):
        window.load_folder(str(root))
    panel = window.data_panel
    health = panel.health
    assert panel.views.tabText(panel.views.indexOf(health)) == "Health"

    findings = run_health_check(qtbot, health)
    pair = [str(root / "cats" / "cats_00.png"), str(root / "dogs" / "dogs_copy.png")]
    [conflict] = [f for f in findings if f.kind == "conflict"]
    assert list(conflict.paths) == pair
    assert conflict.classes == ("cats", "dogs")
    assert set(conflict.sides) <= {"train", "val"}
    assert health.stack.currentWidget() is health.table
    assert health.table.model().rowCount() == len(findings) >= 1
    assert "1 conflicting label" in health.summary.text()
    assert panel.views.tabText(panel.views.indexOf(health)) == f"Health ({len(findings)})"
    train, val = panel.split_counts()
    assert train["dogs"] + val["dogs"] == 13

    # Choose the copy (the second image of the row) and exclude it.
    health.select(conflict, image=1)
    assert health.chosen_path() == pair[1]
    health.exclude_button.click()
    assert window.experiment.data.exclude == ["dogs/dogs_copy.png"]
    assert pair[1] in health.model.excluded
    assert health.excluded.entries() == ["dogs/dogs_copy.png"]
    assert health.exclude_button.text() == "Include again"
    assert health.status.text() == "Excluded dogs/dogs_copy.png from training."
    assert "1 excluded" in panel.total_label.text()
    train, val = panel.split_counts()
    assert train["dogs"] + val["dogs"] == 12  # left out of the split the tabs train on

    # Reversible from the list of excluded images.
    health.excluded.list.item(0).setSelected(True)
    health.excluded.include_button.click()
    assert window.experiment.data.exclude == []
    assert "excluded" not in panel.total_label.text()
    assert health.exclude_button.text() == "Exclude from training"


def test_a_clean_set_shows_the_empty_state(qtbot, tmp_path):
    panel = loaded_data_panel(qtbot, _photos(tmp_path / "clean"), health_experiment("health"))
    health = panel.health
    assert health.stack.currentWidget() is health.empty  # what Check does, before it
    assert run_health_check(qtbot, health) == []
    assert health.stack.currentWidget() is health.empty
    assert health.empty.text().startswith("No problems found in 36 images")
    assert health.summary.text().startswith("Checked 36 images in ")
    assert not health.exclude_button.isEnabled() and not health.move_button.isEnabled()


def test_move_to_the_suggested_class_asks_first_and_undo_puts_it_back(
        qtbot, tmp_path, with_label_issue):
    root = _photos(tmp_path / "d")
    panel = loaded_data_panel(qtbot, root, health_experiment("health"))
    health = panel.health
    findings = run_health_check(qtbot, health, labels=True)
    assert [f.kind for f in findings] == ["label", "label"]
    source, target = root / "cats" / "cats_03.png", root / "dogs" / "cats_03.png"
    [issue] = [f for f in findings if f.paths == (str(source),)]
    assert issue.class_text == "cats → dogs" and issue.score == pytest.approx(0.93)
    health.select(issue)
    assert health.move_button.isEnabled()

    questions = []
    health.confirm = lambda parent, title, text: questions.append(text) or False
    health.move_button.click()
    assert source.is_file() and not target.exists()  # answered no: nothing moved
    assert "cats/cats_03.png" in questions[0]
    assert "'cats'" in questions[0] and "'dogs'" in questions[0]

    health.confirm = lambda parent, title, text: True
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):  # the folder rescanned
        health.move_button.click()
    assert not source.exists() and target.is_file()
    assert panel.class_counts() == {"cats": 11, "dogs": 13, "owls": 12}
    assert health.model.moved == {str(source): "dogs"}
    assert health.undo_button.isEnabled() and not health.move_button.isEnabled()
    assert "Moved cats/cats_03.png" in health.status.text()

    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        health.undo_button.click()
    assert source.is_file() and not target.exists()
    assert panel.class_counts() == {"cats": 12, "dogs": 12, "owls": 12}
    assert health.model.moved == {} and not health.undo_button.isEnabled()
    assert health.move_button.isEnabled()


def test_rows_sort_by_score_and_filter_by_kind(qtbot, tmp_path, with_label_issue):
    root = _photos(tmp_path / "d")
    shutil.copy(root / "owls" / "owls_01.png", root / "cats" / "owl_copy.png")
    panel = loaded_data_panel(qtbot, root, health_experiment("health"))
    health = panel.health
    findings = run_health_check(qtbot, health, labels=True)
    assert sorted(f.kind for f in findings) == ["conflict", "label", "label"]
    table, proxy = health.table, health.table.proxy
    # By kind, most serious first, and label issues most likely wrong first.
    shown = [proxy.index(r, 0).data(FindingRole) for r in range(proxy.rowCount())]
    assert [(f.kind, f.score) for f in shown] == [("conflict", None), ("label", 0.93),
                                                  ("label", 0.61)]
    # A label issue shows an ordinary image of the suggested and of the given class.
    assert [c for _, c in shown[1].examples] == ["dogs", "cats"]

    table.sortByColumn(COLUMNS.index("Score"), Qt.SortOrder.AscendingOrder)
    scores = [proxy.index(r, COLUMNS.index("Score")).data() for r in range(proxy.rowCount())]
    assert scores == ["", "0.610", "0.930"]
    health.kind_combo.setCurrentIndex(health.kind_combo.findData("label"))
    assert proxy.rowCount() == 2
    assert health.kind_combo.currentText() == "Likely mislabelled (2)"
    health.kind_combo.setCurrentIndex(0)
    assert proxy.rowCount() == 3


def test_cancel_stops_a_running_label_check(qtbot, tmp_path, monkeypatch):
    started, stopped = threading.Event(), threading.Event()

    def slow(experiment, index=None, labels=False, progress=None, stop_event=None, **_kw):
        progress("labels", 0, 5)
        started.set()
        if stop_event.wait(WAIT_MS / 1000):
            stopped.set()
            raise LabelCheckCancelled("the label check was cancelled")
        raise AssertionError("the check was not cancelled")

    monkeypatch.setattr(report_module, "check_dataset", slow)
    panel = loaded_data_panel(qtbot, _photos(tmp_path / "d", per_class=4), health_experiment("health"))
    health = panel.health
    health.labels_button.click()
    qtbot.waitUntil(started.is_set, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "training network 1 of 5" in health.progress.format(),
                    timeout=WAIT_MS)
    assert health.is_checking() and not health.cancel_button.isHidden()
    assert not health.check_button.isEnabled()

    health.cancel_button.click()
    qtbot.waitUntil(stopped.is_set, timeout=WAIT_MS)
    assert not health.is_checking()
    assert health.progress.isHidden() and health.cancel_button.isHidden()
    assert health.check_button.isEnabled() and health.labels_button.isEnabled()
    assert "Cancelled" in health.status.text()
    assert health.report is None


def test_findings_show_a_group_once_with_its_other_kinds():
    class Report:
        root = "/d"
        label_of = {"/d/a/1.png": "a", "/d/b/1.png": "b", "/d/a/2.png": "a"}
        side_of = {"/d/a/1.png": "train", "/d/b/1.png": "val", "/d/a/2.png": "train"}
        conflicting_labels = train_val_leaks = exact_duplicates = [["/d/a/1.png",
                                                                    "/d/b/1.png"]]
        near_duplicates, label_issues, unreadable = [], [], []
        blank_images = ["/d/a/2.png"]
        tiny_images = [{"path": "/d/a/2.png", "width": 4, "height": 4}]
        extreme_aspect = []

    rows = findings_of(Report(), (32, 32))
    assert [f.kind for f in rows] == ["conflict", "blank", "tiny"]
    assert rows[0].also == ("leak", "exact") and rows[0].sides == ("train", "val")
    assert "Also: leak between parts, exact duplicates." in rows[0].detail
    assert "4×4 px" in rows[2].detail and "32×32" in rows[2].detail
    # A copy of a test/ image in training is a leak too (the test accuracy inflated).
    Report.leaks = [{"parts": ["train", "test"], "paths": ["/d/a/2.png", "/d/t/2.png"]}]
    Report.side_of = {**Report.side_of, "/d/t/2.png": "test"}
    Report.label_of = {**Report.label_of, "/d/t/2.png": "a"}
    leak = [f for f in findings_of(Report(), (32, 32)) if f.kind == "leak"]
    assert [(f.paths, f.sides) for f in leak] == [(("/d/a/2.png", "/d/t/2.png"),
                                                  ("train", "test"))]


def test_a_big_group_never_pushes_the_details_out_of_sight(qtbot, tmp_path, with_label_issue):
    # From a user's day at 1366x768: ten copies of one photo made the Images column 530 px
    # wide, for every filter, and the Details column read as two-letter fragments.
    from workbench.qt.panels.data.health.table import DETAILS_MIN, IMAGES, images_width

    root = _photos(tmp_path / "d")
    for i in range(10):
        shutil.copy(root / "owls" / "owls_01.png", root / "owls" / f"copy_{i}.png")
    panel = loaded_data_panel(qtbot, root, health_experiment("health"))
    panel.resize(1366, 700)
    panel.show()
    health = panel.health
    run_health_check(qtbot, health, labels=True)
    panel.views.setCurrentWidget(health)  # the Health tab, as the user opens it
    table = health.table
    qtbot.waitUntil(table.isVisible, timeout=WAIT_MS)
    details = lambda: table.viewport().width() - sum(table.columnWidth(c)  # noqa: E731
                                                     for c in range(IMAGES + 1))
    assert details() >= DETAILS_MIN - 1
    health.kind_combo.setCurrentIndex(health.kind_combo.findData("label"))
    labels = [table.proxy.index(r, 0).data(FindingRole) for r in range(table.proxy.rowCount())]
    assert table.columnWidth(IMAGES) == images_width(labels)  # as wide as those rows need
    assert details() >= DETAILS_MIN - 1

    # A width dragged by hand stays: through a window resize, another filter and a new check
    # (it used to be refitted at once), narrowed only while the Details column needs room.
    fixed = sum(table.columnWidth(c) for c in range(IMAGES))
    table.horizontalHeader().resizeSection(IMAGES, table.viewport().width() - fixed
                                           - DETAILS_MIN - 10)  # as a drag does
    dragged = table.columnWidth(IMAGES)
    assert dragged > images_width(labels)
    panel.resize(1300, 700)
    qtbot.waitUntil(lambda: details() >= DETAILS_MIN - 1, timeout=WAIT_MS)
    assert table.columnWidth(IMAGES) < dragged  # narrowed to leave the details their room
    health.kind_combo.setCurrentIndex(0)
    run_health_check(qtbot, health, labels=True)
    panel.resize(1366, 700)
    qtbot.waitUntil(lambda: table.columnWidth(IMAGES) == dragged, timeout=WAIT_MS)


def test_a_big_conflict_chooses_its_odd_one_out_and_shows_it(qtbot, tmp_path):
    # From a user's day: in a group of ten copies the chosen image (the one filed under
    # another class) sat hidden under "+9 more".
    from workbench.qt.panels.data.health.table import MAX_SHOWN

    root = _photos(tmp_path / "d")
    for i in range(8):
        shutil.copy(root / "owls" / "owls_01.png", root / "owls" / f"owls_copy_{i}.png")
    shutil.copy(root / "owls" / "owls_01.png", root / "cats" / "zz_owl.png")
    panel = loaded_data_panel(qtbot, root, health_experiment("health"))
    health = panel.health
    findings = run_health_check(qtbot, health)
    [conflict] = [f for f in findings if f.kind == "conflict"]
    assert len(conflict.paths) == 10 > MAX_SHOWN and conflict.classes[0] == "cats"
    row = list(health.model.findings).index(conflict)
    assert health.model.chosen_image(row) == 0 < MAX_SHOWN  # drawn, and the one to act on
    health.table.selectRow(health.table.proxy.mapFromSource(health.model.index(row, 0)).row())
    assert health.chosen_path().endswith("zz_owl.png")


def test_a_conflict_that_only_looks_alike_is_offered_for_review(capsys):
    from workbench.cli.health import _print_text
    from workbench.core.data.health.report import HealthReport

    pair = ["/d/a/1.png", "/d/b/1.png"]
    report = HealthReport("/d", ["a", "b"], 2, near_duplicates=[pair],
                          conflicting_labels=[pair], look_alike=[pair],
                          label_of={pair[0]: "a", pair[1]: "b"},
                          side_of={pair[0]: "train", pair[1]: "val"})
    [row] = [f for f in findings_of(report, (32, 32)) if f.kind == "conflict"]
    assert "look alike, review" in row.detail.lower() and "same picture filed" not in \
        row.detail
    _print_text(report)
    out = capsys.readouterr().out
    assert "look alike across classes (1)" in out and "conflicting labels (" not in out
    assert report.to_json()["look_alike"] == [pair]
