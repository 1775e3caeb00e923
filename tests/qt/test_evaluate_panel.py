"""Evaluate panel: a bundle measured on a folder or its validation split; the per-class table
sorts, the confusion heatmap shows the matrix and a clicked cell's images, results export to
CSV and PNG, an evaluation can be cancelled and mistakes are reported in the panel."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from helpers import make_image_folder
from workbench.qt.panels.evaluate.views import PER_CLASS_COLUMNS
from workbench.qt.workers import task_pool

TIMEOUT_MS = 60000


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


@pytest.fixture
def trained_bundle(tmp_path, tiny_experiment) -> str:
    from workbench.core.train.trainer import Trainer

    path = tmp_path / "trained.pt"
    Trainer(tiny_experiment).fit().save_bundle(path)
    return str(path)


@pytest.fixture
def make_panel(make_evaluate_panel):
    return make_evaluate_panel


def _evaluate(qtbot, panel):
    with qtbot.waitSignal(panel.evaluated, timeout=TIMEOUT_MS) as blocker:
        panel.evaluate_button.click()
    return blocker.args[0]


def test_trained_bundle_on_a_folder_shows_accuracy_and_a_sortable_table(
        qtbot, make_panel, trained_bundle, image_folder, tmp_path):
    # Fewer blue images: supports 9, 12, 12 sort differently as numbers and as text.
    folder = tmp_path / "uneven"
    shutil.copytree(image_folder, folder)
    for name in ("blue_000.png", "blue_001.png", "blue_002.png"):
        (folder / "blue" / name).unlink()
    panel = make_panel(trained_bundle, str(folder))
    result = _evaluate(qtbot, panel)

    assert result.num_images == 33 and result.source == str(folder)
    text = panel.summary.text()
    assert f"Accuracy {result.accuracy:.1%}" in text
    assert f"top-2 accuracy {result.top_k_accuracy:.1%}" in text
    assert panel.top_k.maximum() == 2 and result.top_k == 2  # 3 classes: top-3 is always 100%
    assert "33 images" in text and "0 unreadable" in text
    assert panel.message.level == "ok"

    table = panel.per_class
    assert table.proxy.rowCount() == 4  # the classes, then their macro average
    assert table.column_values("class") == ["blue", "green", "red"]
    table.sortByColumn(PER_CLASS_COLUMNS.index("support"), Qt.SortOrder.AscendingOrder)
    assert table.column_values("support") == [9, 12, 12]
    assert table.proxy.index(0, 0).data() == "blue"
    table.sortByColumn(PER_CLASS_COLUMNS.index("f1"), Qt.SortOrder.DescendingOrder)
    f1 = table.column_values("f1")
    assert f1 == sorted(f1, reverse=True)
    assert sorted(f1) == sorted(r["f1"] for r in result.per_class())
    shown = table.proxy.index(0, PER_CLASS_COLUMNS.index("f1")).data()
    assert shown == f"{f1[0]:.3f}"


def test_validation_split_of_the_training_data_is_the_default(qtbot, make_panel,
                                                              trained_bundle):
    panel = make_panel(trained_bundle)
    # Its dataset has no test part: none is offered, and its validation split is the default.
    items = [panel.data_combo.itemText(i) for i in range(panel.data_combo.count())]
    assert items == ["Its validation split", "All images of a folder…"]
    assert panel.data_combo.currentText() == "Its validation split"
    result = _evaluate(qtbot, panel)
    assert result.split == "val" and 0 < result.num_images < 36
    assert f"{result.num_images} images" in panel.summary.text()
    # A bundle with no record of its run's split (written outside a run): the split was
    # recomputed, and the panel says so, as `workbench evaluate` does.
    assert panel.message.level == "warning"
    assert "Note: The bundle carries no record of its run's split" in panel.message.text()


def test_heatmap_cell_click_lists_exactly_that_cells_images(qtbot, make_panel, bundle_path,
                                                            image_folder):
    # The untrained bundle makes mistakes: off-diagonal cells hold images.
    panel = make_panel(bundle_path, str(image_folder))
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitExposed(panel)
    result = _evaluate(qtbot, panel)
    panel.results.setCurrentWidget(panel.confusion)
    heatmap = panel.confusion.heatmap
    np.testing.assert_array_equal(heatmap.confusion, result.confusion)
    np.testing.assert_array_equal(heatmap.values(), result.confusion)
    assert heatmap.classes == ["blue", "green", "red"]

    cells = [(r, c) for r in range(3) for c in range(3) if result.confusion[r, c]]
    for row, col in cells[:3]:
        with qtbot.waitSignal(heatmap.cell_clicked, timeout=5000) as blocker:
            qtbot.mouseClick(heatmap.viewport(), Qt.MouseButton.LeftButton,
                             pos=heatmap.cell_center(row, col).toPoint())
        assert blocker.args == [row, col]
        expected = [p for p, t, y in zip(result.paths, result.y_true, result.y_pred)
                    if t == row and y == col]
        assert panel.confusion.cell_paths == expected
        model = panel.confusion.cell_model
        assert [model.index(i).data(Qt.ItemDataRole.ToolTipRole).split("\n")[0]
                for i in range(model.rowCount())] == expected
        assert f"true {result.classes[row]} → predicted {result.classes[col]}: " \
               f"{len(expected)}" in panel.confusion.cell_label.text()
    # The thumbnails are decoded (off the GUI thread) and arrive.
    qtbot.waitUntil(lambda: panel.confusion.loader.decoded_count > 0, timeout=10000)

    with qtbot.waitSignal(heatmap.cell_hovered, timeout=5000,
                          check_params_cb=lambda text: bool(text)) as hovered:
        qtbot.mouseMove(heatmap.viewport(), heatmap.cell_center(1, 2).toPoint())
    n = int(result.confusion[1, 2])
    share = n / result.confusion[1].sum()
    assert hovered.args[0] == f"true green → predicted red: {n} ({share:.1%})"


def test_counts_and_row_normalised_toggle(qtbot, make_panel, bundle_path, image_folder):
    panel = make_panel(bundle_path, str(image_folder))
    result = _evaluate(qtbot, panel)
    heatmap = panel.confusion.heatmap
    assert panel.confusion.counts_button.isChecked()
    panel.confusion.normalized_button.click()
    assert heatmap.normalized
    np.testing.assert_allclose(heatmap.image.image, result.normalized_confusion())
    np.testing.assert_allclose(heatmap.image.image.sum(axis=1), 1.0)
    panel.confusion.counts_button.click()
    np.testing.assert_array_equal(heatmap.values(), result.confusion)
    # Coloured by count: the largest count full, an empty cell white.
    assert heatmap.image.image.max() == 1.0
    assert (heatmap.image.image[result.confusion == 0] == 0).all()


def _ticks(heatmap, side: str) -> list[str]:
    """The labels pyqtgraph draws on one axis of the matrix."""
    return [text for _, text in heatmap.plot.getAxis(side)._tickLevels[0]]


def test_digit_classes_are_labelled_by_name_alone(qtbot):
    from workbench.qt.panels.evaluate.confusion import ConfusionHeatmap

    heatmap = ConfusionHeatmap()
    qtbot.addWidget(heatmap)
    digits = [str(d) for d in range(10)]  # more classes than get named columns
    heatmap.set_confusion(np.eye(10, dtype=np.int64), digits)
    assert _ticks(heatmap, "left") == digits  # not "0 0", "1 1"
    assert _ticks(heatmap, "bottom") == digits
    assert heatmap.plot.getAxis("left").labelText == "true class"
    assert heatmap.plot.getAxis("bottom").labelText == "predicted class"


def test_many_long_class_names_get_numbered_columns_the_rows_translate(qtbot):
    from workbench.qt.panels.evaluate.confusion import ConfusionHeatmap

    heatmap = ConfusionHeatmap()
    qtbot.addWidget(heatmap)
    names = [f"species{i}" for i in range(9)] + ["1000"]
    heatmap.set_confusion(np.eye(10, dtype=np.int64), names)
    rows = _ticks(heatmap, "left")
    assert rows[0] == "0: species0" and rows[9] == "9: 1000"  # never "9 1000"
    assert _ticks(heatmap, "bottom") == [str(i) for i in range(10)]
    assert heatmap.plot.getAxis("left").labelText == "true class (number: name)"
    assert heatmap.plot.getAxis("bottom").labelText == "predicted class (number)"
    heatmap.set_confusion(np.eye(3, dtype=np.int64), ["cat", "dog", "horse"])  # few: names
    assert _ticks(heatmap, "bottom") == ["cat", "dog", "horse"] == heatmap.column_labels


def test_most_confused_pair_calibration_and_largest_losses(qtbot, make_panel, bundle_path,
                                                           image_folder):
    panel = make_panel(bundle_path, str(image_folder))
    result = _evaluate(qtbot, panel)
    pairs = result.most_confused(10)
    if pairs:
        item = panel.confusion.pairs.item(0)
        # One line a pair, the count first; the tooltip says it in full.
        assert item.text().startswith(f"{pairs[0]['count']}× {pairs[0]['true']} → "
                                      f"{pairs[0]['predicted']} (")
        assert item.toolTip().startswith(f"true {pairs[0]['true']} → predicted "
                                         f"{pairs[0]['predicted']}: {pairs[0]['count']}")
        with qtbot.waitSignal(panel.confusion.heatmap.cell_clicked, timeout=WAIT_MS):
            panel.confusion.pairs.itemClicked.emit(item)
        assert len(panel.confusion.cell_paths) == pairs[0]["count"]

    h = panel.calibration.histogram
    assert sum(h["correct"]) + sum(h["wrong"]) == result.num_images
    assert sum(h["wrong"]) == int((result.y_pred != result.y_true).sum())
    assert f"ECE {100 * h['ece']:.1f} percentage points" in panel.calibration.title_text()

    worst = panel.worst
    assert worst.rowCount() == min(32, result.num_images)
    losses = [float(worst.item(r, 3).text()) for r in range(worst.rowCount())]
    assert losses == sorted(losses, reverse=True)
    assert abs(losses[0] - result.losses.max()) < 1e-3
    first = result.worst(1)[0]
    assert worst.item(0, 1).text() == first["true"]
    assert worst.item(0, 2).text() == first["predicted"]
    assert first["top"][0]["class"] in worst.item(0, 4).text()


def test_export_csv_and_save_png(qtbot, make_panel, bundle_path, image_folder, tmp_path):
    panel = make_panel(bundle_path, str(image_folder))
    assert not panel.export_button.isEnabled() and not panel.png_button.isEnabled()
    result = _evaluate(qtbot, panel)
    assert panel.export_button.isEnabled() and panel.png_button.isEnabled()

    out = tmp_path / "export"
    panel.ask_folder = lambda *_: str(out)
    panel.export_button.click()
    assert sorted(p.name for p in out.iterdir()) == ["confusion.csv", "per_class.csv",
                                                     "predictions.csv"]
    with open(out / "per_class.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "class" and [r[0] for r in rows[1:4]] == result.classes
    assert "Wrote" in panel.message.text()

    panel.results.setCurrentWidget(panel.confusion)
    panel.ask_png_path = lambda *_: str(tmp_path / "matrix")  # ".png" is added
    panel.png_button.click()
    image = QImage(str(tmp_path / "matrix.png"))
    assert not image.isNull() and image.width() > 50

    panel.results.setCurrentWidget(panel.calibration_page)
    panel.ask_png_path = lambda parent, suggested: str(tmp_path / suggested)
    assert panel.save_png() == str(tmp_path / "calibration.png")
    assert not QImage(str(tmp_path / "calibration.png")).isNull()


def test_cancel_drops_the_evaluation(qtbot, make_panel, bundle_path, image_folder):
    panel = make_panel(bundle_path, str(image_folder))
    got = []
    panel.evaluated.connect(got.append)
    panel.evaluate_button.click()
    assert panel.is_running() and panel.cancel_button.isEnabled()
    assert not panel.evaluate_button.isEnabled()
    panel.cancel_button.click()
    assert not panel.is_running() and panel.evaluate_button.isEnabled()
    assert panel.message.text() == "Evaluation cancelled."
    task_pool().waitForDone()
    qtbot.wait(50)  # let any late queued signal arrive: it must be dropped
    assert got == [] and panel.result is None
    # Evaluating again works.
    assert _evaluate(qtbot, panel).num_images == 36


def test_errors_are_shown_in_the_panel(qtbot, make_panel, bundle_path, tmp_path):
    panel = make_panel()
    with qtbot.waitSignal(panel.failed, timeout=WAIT_MS) as blocker:
        panel.evaluate_button.setEnabled(True)
        panel.evaluate()
    assert "Choose a model first" in blocker.args[0]

    panel.set_bundle(bundle_path)
    unknown = make_image_folder(tmp_path / "other", classes=("blue", "purple"), per_class=3,
                                size=16)
    panel.set_folder(str(unknown))
    with qtbot.waitSignal(panel.failed, timeout=TIMEOUT_MS) as blocker:
        panel.evaluate_button.click()
    message = blocker.args[0]
    assert "'purple'" in message and "does not know" in message
    assert "Traceback" not in message
    assert panel.message.level == "error" and "purple" in panel.message.text()
    assert panel.evaluate_button.isEnabled() and not panel.is_running()


def test_model_and_data_choosers(qtbot, make_panel, bundle_path, trained_bundle, image_folder):
    panel = make_panel()
    assert panel.bundle_path() == "" and not panel.evaluate_button.isEnabled()
    panel.chooser.ask_bundle = lambda *_: trained_bundle
    with qtbot.waitSignal(panel.bundle_changed, timeout=WAIT_MS) as blocker:
        panel.chooser.load_button.click()
    assert blocker.args == [trained_bundle] and panel.evaluate_button.isEnabled()
    panel.set_bundle(bundle_path)
    panel.set_bundle(trained_bundle)  # already listed: chosen, not added again
    assert panel.bundle_paths() == [trained_bundle, bundle_path]
    assert panel.bundle_path() == trained_bundle

    # Choosing "Folder…" asks for it; cancelling the dialog goes back to the split.
    panel.ask_folder = lambda *_: ""
    panel.data_combo.setCurrentIndex(1)
    panel.data_combo.activated.emit(1)
    assert panel.data_combo.currentIndex() == 0
    panel.ask_folder = lambda *_: str(image_folder)
    panel.data_combo.setCurrentIndex(1)
    panel.data_combo.activated.emit(1)
    assert panel.folder == str(image_folder)
    assert panel.data_combo.currentText() == f"Folder: {image_folder}"


def test_saved_runs_with_bundles_are_listed(qtbot, make_panel, tmp_path, bundle_path):
    from workbench.core.runs.store import write_run_info

    root = tmp_path / "runs"
    # Two runs of the same name: the chooser tells them apart by date and the saved
    # model's validation accuracy (the weights in bundle.pt, from run.json).
    for folder, name, created, has_bundle, acc in (
            ("a", "experiment", "2024-05-01T10:00:00", True, 0.75),
            ("c", "experiment", "2024-05-02T09:30:00", True, 0.5),
            ("b", "no bundle", "2024-05-03T08:00:00", False, None)):
        d = root / folder
        d.mkdir(parents=True)
        if has_bundle:
            shutil.copy(bundle_path, d / "bundle.pt")
        write_run_info(d, {"name": name, "created": created, "updated": created,
                           "status": "finished",
                           "bundle": {"epoch": 3, "restored_best": False,
                                      "metrics": {"epoch": 3, "val_acc": acc}}})
    panel = make_panel()
    with qtbot.waitSignal(panel.chooser.runs_listed, timeout=TIMEOUT_MS):
        panel.refresh_runs()
    assert panel.bundle_paths() == [str(root / "c" / "bundle.pt"), str(root / "a" / "bundle.pt")]
    texts = [panel.chooser.combo.itemText(i) for i in range(panel.chooser.combo.count())]
    assert texts == ["experiment · 2024-05-02 09:30 · val 50.0% (epoch 3)",
                     "experiment · 2024-05-01 10:00 · val 75.0% (epoch 3)"]
    assert panel.bundle_path() == str(root / "c" / "bundle.pt")


def test_main_window_has_the_tab_and_offers_a_trained_bundle(qtbot, tiny_experiment,
                                                             image_folder):
    from workbench.qt.main_window import MainWindow

    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs.index("Runs") < tabs.index("Evaluate") < tabs.index("Predict")
    assert window.tabs.widget(tabs.index("Evaluate")) is window.evaluate_panel
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=20000):
        window.load_folder(str(image_folder))
    with qtbot.waitSignal(window.evaluate_panel.bundle_changed, timeout=120000) as blocker:
        window.train_panel.start()
    path = blocker.args[0]
    assert path.endswith(".pt") and window.evaluate_panel.bundle_path() == path
    assert path in window.evaluate_panel.bundle_paths()
    window.close()


def test_a_continued_runs_bundle_is_listed_with_its_new_epoch(qtbot, make_panel, tmp_path,
                                                              tiny_experiment):
    # A run continued from 1 to 3 epochs writes its bundle to the same path: the model
    # choosers of Evaluate and Predict must not keep saying "(epoch 1)".
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.checkpoint import load_checkpoint
    from workbench.core.train.trainer import Trainer
    from workbench.qt.panels.predict.runs import RunChooser

    run = tmp_path / "runs" / "continued"
    tiny_experiment.training.epochs = 1
    Trainer(tiny_experiment, [RunRecorder(run)]).fit()
    bundle = str(run / "bundle.pt")
    panel, chooser = make_panel(), RunChooser()
    qtbot.addWidget(chooser)
    panel.set_bundle(bundle)
    chooser.select(bundle)
    assert "(epoch 1)" in panel.chooser.combo.currentText() == chooser.currentText()
    tiny_experiment.training.epochs = 3
    tiny_experiment.training.restore_best = False  # the bundle is the last epoch's
    Trainer(tiny_experiment, [RunRecorder(run)], checkpoint=load_checkpoint(run)).fit()
    panel.set_bundle(bundle)  # as the window does when the run's bundle is saved
    chooser.select(bundle)
    assert "(epoch 3)" in panel.chooser.combo.currentText() == chooser.currentText()


def test_a_result_never_stays_under_another_model_data_or_a_failure(
        qtbot, make_panel, bundle_path, trained_bundle, image_folder, tmp_path):
    # From a user's day: after evaluating one model, choosing another (or another folder),
    # cancelling, or an evaluation that failed left the old accuracy, matrix and exports on
    # screen under the new model's name.
    panel = make_panel(bundle_path, str(image_folder))
    shown = lambda: panel.result_stack.currentWidget() is panel.results  # noqa: E731

    def measured():
        _evaluate(qtbot, panel)
        assert shown() and "Accuracy" in panel.summary.text()
        assert panel.export_button.isEnabled() and panel.png_button.isEnabled()

    def gone():
        assert panel.result is None and not shown() and panel.summary.text() == ""
        assert not panel.export_button.isEnabled() and not panel.png_button.isEnabled()

    assert not shown()  # nothing measured yet
    measured()
    panel.set_bundle(trained_bundle)  # another model
    gone()
    assert "press Evaluate" in panel.no_result.text()
    # The line above no longer says the last model was evaluated (a UI review).
    assert not panel.message.text().startswith("Evaluated")
    measured()
    other = tmp_path / "other"
    shutil.copytree(image_folder, other)
    panel.set_folder(str(other))  # other data
    gone()
    assert not panel.message.text().startswith("Evaluated")
    measured()
    panel.evaluate_button.click()
    panel.cancel_button.click()  # a cancelled evaluation replaces it with nothing
    gone()
    assert "Cancelled" in panel.no_result.text()
    measured()
    shutil.rmtree(other / "blue")
    (other / "purple").mkdir()  # a class the model does not know: the evaluation fails
    make_image_folder(tmp_path / "p", classes=("purple",), per_class=2)
    for f in (tmp_path / "p" / "purple").iterdir():
        shutil.copy(f, other / "purple" / f.name)
    with qtbot.waitSignal(panel.failed, timeout=WAIT_MS):
        panel.evaluate_button.click()
    gone()
    assert panel.message.level == "error"
