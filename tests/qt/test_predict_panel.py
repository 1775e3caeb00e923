"""Predict panel: dropped, pasted or opened images get their top classes; bad files get their
own message; rows sort, filter, export to CSV and can be cancelled in bulk."""

from __future__ import annotations

import csv
import os
import shutil

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from qt_helpers import drop_urls
from workbench.qt.panels.predict.panel import PredictPanel
from workbench.qt.panels.predict.delegate import bar_texts
from workbench.qt.panels.predict.model import CANCELLED, DONE, FAILED, WAITING, csv_header

TIMEOUT_MS = 30000


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


@pytest.fixture
def panel(qtbot, bundle_path):
    p = PredictPanel(bundle_path)
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def _corrupt(tmp_path):
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return bad


def test_dropped_image_shows_top_classes_as_bars(qtbot, panel, image_folder):
    image = image_folder / "red" / "red_000.png"
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS) as blocker:
        drop = drop_urls(panel, [image])
        assert drop.isAccepted()
    assert blocker.args == [[str(image)]]
    [row] = panel.rows
    assert row.path == str(image) and row.error is None and row.status == DONE
    assert set(c for c, _ in row.top) == {"blue", "green", "red"}
    assert sum(p for _, p in row.top) == pytest.approx(1.0, abs=1e-4)
    probs = [p for _, p in row.top]
    assert probs == sorted(probs, reverse=True)
    assert bar_texts(row) == [(c, f"{p * 100:.1f}%") for c, p in row.top]
    # The thumbnail is decoded when the row is painted.
    panel.resize(900, 500)
    panel.show()
    qtbot.waitUntil(lambda: panel.loader.get(str(image)) is not None, timeout=TIMEOUT_MS)
    assert not panel.view.isHidden() and panel.hint.isHidden()


def test_drop_of_files_a_folder_and_a_corrupt_file(qtbot, panel, image_folder, tmp_path):
    bad = _corrupt(tmp_path)
    good = image_folder / "blue" / "blue_000.png"
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS) as blocker:
        drop_urls(panel, [good, bad, image_folder / "green"])
    paths = [r.path for r in panel.rows]
    assert paths[:2] == [str(good), str(bad)] and len(paths) == 2 + 12
    assert blocker.args == [paths]  # one request, one signal
    broken = panel.rows[1]
    assert broken.status == FAILED and broken.error and broken.top == []
    others = [r for r in panel.rows if r is not broken]
    assert all(r.status == DONE and r.error is None and len(r.top) == 3 for r in others)
    assert "13 classified, 1 could not be read" in panel.status.text()
    assert panel.progress.isHidden() and panel.cancel_button.isHidden()
    panel.clear()
    assert panel.rows == [] and panel.shown_items() == []


def test_images_wait_for_a_model_then_run_when_one_is_set(qtbot, bundle_path, image_folder):
    panel = PredictPanel()
    qtbot.addWidget(panel)
    [row] = panel.add_images([str(image_folder / "red" / "red_001.png")])
    assert "Waiting for a model" in row.message
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.set_bundle(bundle_path)
    assert row.top and row.error is None
    panel.shutdown()


def test_an_unusable_bundle_is_reported(qtbot, tmp_path, image_folder):
    fake = tmp_path / "fake.pt"
    fake.write_bytes(b"not a bundle")
    panel = PredictPanel(str(fake))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(image_folder / "red" / "red_001.png")])
    assert panel.rows[0].error
    assert panel.bundle_label.level == "error"
    assert "fake.pt" in panel.bundle_label.text()
    panel.shutdown()


def test_sort_and_filter_by_class_and_confidence(qtbot, panel, image_folder, tmp_path):
    bad = _corrupt(tmp_path)
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(image_folder), str(bad)])
    items = panel.rows
    assert len(panel.shown_items()) == 37
    panel.set_sort("confidence")
    shown = [i.confidence for i in panel.shown_items()]
    assert shown[:-1] == sorted(shown[:-1], reverse=True) and shown[-1] is None
    panel.set_sort("name")
    names = [i.name.lower() for i in panel.shown_items()]
    assert names == sorted(names)
    panel.set_sort("class")
    classes = [i.predicted for i in panel.shown_items() if i.predicted]
    assert classes == sorted(classes)
    panel.set_sort("added")
    assert panel.shown_items() == items

    first = items[0].predicted
    listed = [panel.class_combo.itemText(i) for i in range(panel.class_combo.count())]
    assert listed[0] == "All classes" and first in listed[1:]
    panel.set_class_filter(first)
    assert panel.shown_items() == [i for i in items if i.predicted == first]
    panel.set_class_filter(None)
    threshold = sorted(i.confidence for i in items if i.top)[18]
    panel.set_min_confidence(threshold)
    cut = round(threshold * 100) / 100
    assert panel.shown_items() == [i for i in items if i.top and i.confidence >= cut]
    panel.set_min_confidence(0)
    assert len(panel.shown_items()) == 37


def test_export_csv_writes_shown_rows_like_the_cli(qtbot, panel, image_folder, tmp_path,
                                                   monkeypatch, capsys):
    from workbench.cli import main

    bad = _corrupt(tmp_path)
    files = [image_folder / "red" / "red_000.png", bad, image_folder / "blue" / "blue_001.png"]
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(f) for f in files])
    out = tmp_path / "out" / "panel.csv"
    out.parent.mkdir()
    monkeypatch.setattr(panel, "_ask_csv_path", lambda: str(out))
    panel.export_button.click()
    assert "Wrote 2 predictions and 1 unreadable image to" in panel.status.text()
    rows = list(csv.reader(out.open()))
    assert rows[0] == csv_header(3)  # top 5 asked, but the model has only 3 classes
    assert [r[0] for r in rows[1:]] == [str(f) for f in files]
    red = rows[1]
    item = panel.rows[0]
    assert red[1] == item.predicted and float(red[2]) == pytest.approx(item.confidence, 1e-5)
    assert red[3:9:2] == [c for c, _ in item.top] and len(red) == len(rows[0])
    assert rows[2][1] == "" and rows[2][-1]  # the corrupt file: no class, its error
    assert red[-1] == ""

    cli_out = tmp_path / "cli.csv"
    code = main(["predict", panel.bundle_path, *map(str, files), "--csv", str(cli_out)])
    capsys.readouterr()
    assert code == 0
    cli_rows = list(csv.reader(cli_out.open()))
    assert cli_rows[0] == rows[0]
    for a, b in zip(cli_rows[1:], rows[1:]):
        assert a[0] == b[0] and a[1] == b[1] and bool(a[-1]) == bool(b[-1])

    # Only the rows shown are exported; a filter that shows none exports nothing.
    panel.set_min_confidence(1.0)
    assert panel.export_csv(str(tmp_path / "none.csv")) == ""
    assert "Nothing to export" in panel.status.text()


def test_cancel_stops_a_large_batch_and_marks_the_rest(qtbot, panel, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(300):
        Image.new("RGB", (8, 8), (i % 256, 40, 90)).save(folder / f"img_{i:03d}.png")
    # Cancel as soon as the first batch shows, before any later one is handled.
    panel.progress.valueChanged.connect(lambda v: v > 0 and panel.cancel())
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS) as blocker:
        panel.add_images([str(folder)])
        assert not panel.progress.isHidden() and not panel.cancel_button.isHidden()
    assert len(blocker.args[0]) == 300
    from workbench.qt.workers import task_pool

    task_pool().waitForDone()
    QApplication.processEvents()  # late batches of the cancelled job are dropped
    statuses = [r.status for r in panel.rows]
    assert statuses.count(DONE) == 64 and statuses.count(CANCELLED) == 236
    assert "236 images were not classified" in panel.status.text()
    assert panel.progress.isHidden() and not panel.is_busy()
    # Export CSV then counts the rows apart (it said "Wrote 300 predictions").
    (folder / "broken.png").write_bytes(b"not a png")
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(folder / "broken.png")])
    assert panel.export_csv(str(tmp_path / "p.csv"))
    assert ("Wrote 64 predictions, 1 unreadable image and 236 not classified (cancelled) to "
            in panel.status.text())


def test_paste_an_image_and_file_urls(qtbot, panel, image_folder, workbench_home):
    image = QImage(20, 20, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    QApplication.clipboard().setImage(image)
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.paste_button.click()
    [row] = panel.rows
    assert row.path.startswith(str(workbench_home / "cache" / "pasted"))
    assert row.status == DONE and len(row.top) == 3

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image_folder / "blue" / "blue_002.png"))])
    QApplication.clipboard().setMimeData(mime)
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.paste()
    assert panel.rows[-1].path == str(image_folder / "blue" / "blue_002.png")

    QApplication.clipboard().setText("just some words")
    assert panel.paste() == []
    assert panel.status.level == "warning" and "clipboard" in panel.status.text()


def test_model_chooser_lists_saved_runs_and_uses_the_chosen_one(qtbot, bundle_path,
                                                                image_folder):
    from workbench.core.io import runs_dir
    from workbench.core.runs.store import write_run_info

    run = runs_dir() / "2024-05-01_10-00-00-colours"
    run.mkdir(parents=True)
    shutil.copy(bundle_path, run / "bundle.pt")
    write_run_info(run, {"name": "colours run", "status": "finished", "epochs_done": 2})
    (runs_dir() / "no-bundle").mkdir()
    write_run_info(runs_dir() / "no-bundle", {"name": "failed run", "status": "failed"})

    panel = PredictPanel()
    qtbot.addWidget(panel)
    texts = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
    # Name and date (and the saved model's accuracy when run.json says it).
    listed = "colours run · 2024-05-01 10:00"
    assert listed in texts and not any(t.startswith("failed run") for t in texts)
    assert texts[-1] == "Other bundle file…"
    index = texts.index(listed)
    with qtbot.waitSignal(panel.bundle_changed, timeout=TIMEOUT_MS) as blocker:
        panel.model_combo.activated.emit(index)
    assert blocker.args == [str(run / "bundle.pt")]
    assert panel.model_combo.currentIndex() == index
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(image_folder / "red" / "red_003.png")])
    assert panel.rows[0].status == DONE
    panel.shutdown()


def test_explain_action_on_a_row_asks_for_an_explanation(qtbot, panel, image_folder):
    image = str(image_folder / "green" / "green_004.png")
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([image])
    menu = panel.context_menu(panel.rows[0])
    explain = menu.actions()[0]
    assert explain.text() == "Explain…" and explain.isEnabled()
    with qtbot.waitSignal(panel.explain_requested, timeout=WAIT_MS) as blocker:
        explain.trigger()
    assert blocker.args == [panel.bundle_path, image]


def test_five_thousand_rows_are_added_in_one_model_insert(qtbot, panel, tmp_path):
    # No model work: a panel without bundle only lists them (and they wait).
    waiting = PredictPanel()
    qtbot.addWidget(waiting)
    inserts = []
    waiting.model.rowsInserted.connect(lambda *a: inserts.append(a))
    paths = [str(tmp_path / f"x{i}.png") for i in range(5000)]
    added = waiting.add_images(paths)
    assert len(added) == 5000 and len(inserts) == 1
    assert waiting.proxy.rowCount() == 5000
    waiting.shutdown()


def test_open_images_starts_in_the_dataset_folder_then_the_last_one_used(
        qtbot, panel, image_folder, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    starts = []
    chosen: list[str] = []

    def ask(parent, start):
        starts.append(start)
        return list(chosen)
    panel.ask_images = ask
    panel.open_button.click()  # nothing chosen, no dataset yet: home
    assert starts == [str(home)] and panel.rows == []
    panel.set_dataset_folder(str(image_folder))
    panel.open_button.click()
    assert starts[-1] == str(image_folder)
    elsewhere = tmp_path / "new photos"
    elsewhere.mkdir()
    shutil.copy(image_folder / "red" / "red_000.png", elsewhere / "photo.png")
    chosen[:] = [str(elsewhere / "photo.png")]
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.open_button.click()
    assert panel.rows[0].path == str(elsewhere / "photo.png")
    chosen.clear()
    panel.open_button.click()
    assert starts[-1] == str(elsewhere)  # the folder last opened from
    shutil.rmtree(elsewhere)
    panel.open_button.click()
    assert starts[-1] == str(image_folder)  # that one is gone: the dataset's again
    csv_file = tmp_path / "labels.csv"
    csv_file.write_text("path,label\n")
    panel.set_dataset_folder(str(csv_file))  # a CSV dataset: its folder
    panel.open_button.click()
    assert starts[-1] == str(tmp_path)


def test_the_main_window_tells_predict_the_dataset_folder(qtbot, tiny_experiment, image_folder):
    from workbench.qt.main_window import MainWindow

    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=TIMEOUT_MS):
        window.load_folder(str(image_folder))
    assert window.predict_panel.images_start_folder() == str(image_folder)


def test_one_image_is_counted_as_one_image(qtbot, panel, image_folder):
    shown = []
    show = panel.status.show_message
    panel.status.show_message = lambda text, level="info": (shown.append(text),
                                                             show(text, level))
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(image_folder / "red" / "red_001.png")])
    assert "Classifying 1 image…" in shown
    panel.add_images([str(image_folder / "red" / "red_002.png")])
    panel.cancel()  # before its batch is back: the row is still queued
    assert panel.status.text() == "Cancelled: 1 image was not classified."
    assert not any("1 images" in text for text in shown)


def test_a_missing_model_is_named_once_with_what_to_do(qtbot, tmp_path, image_folder):
    gone = tmp_path / "gone.pt"
    panel = PredictPanel(str(gone))
    qtbot.addWidget(panel)
    # The row reads "Model: [chooser] Load bundle… Using gone.pt", not "Model:" twice.
    assert panel.bundle_label.text() == f"Using {gone}"
    # Nothing to clear or export before the first row (a UI review).
    assert not panel.clear_button.isEnabled() and not panel.export_button.isEnabled()
    panel.add_images([str(image_folder / "red" / "red_001.png")])
    assert not panel.is_busy()  # nothing to classify with: the row waits for a model
    text = panel.bundle_label.text()
    assert panel.bundle_label.level == "error" and text.count(str(gone)) == 1
    assert panel.clear_button.isEnabled() and panel.export_button.isEnabled()
    assert "moved or deleted" in text and "Load bundle…" in text
    [row] = panel.rows
    assert row.status == WAITING and row.error is None
    assert "moved or deleted" in row.message and str(gone) not in row.message
    panel.shutdown()


def test_filters_that_hide_every_row_say_so_and_export_says_why_not(qtbot, panel,
                                                                     image_folder, tmp_path):
    bad = _corrupt(tmp_path)
    files = [image_folder / "red" / "red_000.png", image_folder / "blue" / "blue_001.png",
             image_folder / "green" / "green_002.png", bad]
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(f) for f in files])
    assert not panel.filter_note.isVisibleTo(panel)  # no filter: nothing hidden
    panel.set_min_confidence(1.0)
    assert panel.shown_items() == []
    assert panel.filter_note.isVisibleTo(panel)
    assert panel.filter_note.label.text() == (
        "No prediction matches the filters (confidence at least 100%): 4 rows hidden. "
        "Clear the filters to see them.")
    assert panel.export_csv(str(tmp_path / "none.csv")) == ""
    assert panel.status.text() == ("Nothing to export: the filters hide every row (4). "
                                   "Clear them to export.")
    panel.filter_note.clear_button.click()
    assert len(panel.shown_items()) == 4 and not panel.filter_note.isVisibleTo(panel)
    assert panel.min_conf.value() == 0 and panel.class_combo.currentIndex() == 0
    # Some rows hidden: said too, and Export CSV says it wrote the rows shown.
    first = panel.rows[0].predicted
    panel.set_class_filter(first)
    shown = len(panel.shown_items())
    assert panel.filter_note.label.text() == (
        f"Showing {shown} of 4 rows: the filters (class {first}) hide {4 - shown}.")
    assert panel.export_csv(str(tmp_path / "some.csv"))
    assert panel.status.text().endswith(f"(the rows shown: the filters hide {4 - shown})")
    assert len(list(csv.reader((tmp_path / "some.csv").open()))) == 1 + shown


def test_dropping_a_folder_again_keeps_one_row_per_image(qtbot, panel, image_folder, tmp_path):
    bad = _corrupt(tmp_path)
    red = image_folder / "red"
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        drop_urls(panel, [red, bad])
    assert len(panel.rows) == 13
    before = [(r.path, r.top, r.error) for r in panel.rows]
    # The same model, the same files: nothing to add or classify again.
    assert drop_urls(panel, [red, bad]).isAccepted()
    assert [(r.path, r.top, r.error) for r in panel.rows] == before
    assert not panel.is_busy()
    assert panel.status.text() == ("All 13 images already listed (same model, unchanged "
                                   "files): nothing to classify again.")
    # A folder with new images and images already listed: only the new ones are added.
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS) as blocker:
        drop_urls(panel, [image_folder / "green", red])
    assert len(blocker.args[0]) == 12 and len(panel.rows) == 25
    assert "12 already listed (same model, unchanged files): not classified again" in \
        panel.status.text()
    out = tmp_path / "p.csv"
    assert panel.export_csv(str(out))
    paths = [r[0] for r in list(csv.reader(out.open()))[1:]]
    assert len(paths) == 25 == len(set(paths))
    # An image changed since it was classified is classified again, in its own row.
    changed = red / "red_003.png"
    Image.new("RGB", (16, 16), (0, 0, 255)).save(changed)
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS) as blocker:
        drop_urls(panel, [red])
    assert blocker.args == [[str(changed)]] and len(panel.rows) == 25
    # Another model: every row is classified again (and a drop then adds nothing).
    other = tmp_path / "other.pt"
    shutil.copy(panel.bundle_path, other)
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.set_bundle(str(other))
    assert all(r.status in (DONE, FAILED) for r in panel.rows)
    drop_urls(panel, [red])
    assert not panel.is_busy() and len(panel.rows) == 25


def test_a_cancelled_image_dropped_again_is_classified_in_its_row(qtbot, panel, image_folder):
    image = str(image_folder / "red" / "red_002.png")
    panel.add_images([image])
    panel.cancel()  # before its batch is back
    [row] = panel.rows
    assert row.status == CANCELLED and "Drop it again" in row.message
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        drop_urls(panel, [image])
    assert panel.rows == [row] and row.status == DONE


def test_load_bundle_starts_beside_the_model_in_use_else_in_the_runs_folder(
        qtbot, panel, bundle_path, tmp_path, workbench_home, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from workbench.core.io import runs_dir

    other = tmp_path / "elsewhere" / "other.pt"
    asked = []

    def dialog(_parent, title, start, pattern):
        asked.append((title, start, pattern))
        return str(other), ""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(dialog))
    panel.choose_bundle()
    assert asked[-1][1] == os.path.dirname(bundle_path)  # beside the model in use
    assert asked[-1][2].startswith("Workbench bundles (*.pt)")
    assert panel.bundle_path == str(other)
    empty = PredictPanel()
    qtbot.addWidget(empty)
    assert not empty.bundle_path  # no saved run in this data directory
    empty.choose_bundle()
    assert asked[-1][1] == str(runs_dir())  # no model yet: the runs folder


def test_the_status_never_says_classifying_0_images(qtbot, panel, image_folder):
    # The last batch's results came in before the end line: "Classifying 0 images…" flashed.
    said = []
    show = panel.status.show_message
    panel.status.show_message = lambda text, *a, **k: (said.append(text), show(text, *a, **k))
    images = [image_folder / c / f"{c}_000.png" for c in ("red", "green", "blue")]
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        drop_urls(panel, images)
    assert any(t.startswith("Classifying 3 images") for t in said), said
    assert not [t for t in said if t.startswith("Classifying 0")], said
