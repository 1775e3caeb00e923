"""Evaluate panel, from a walkthrough: the validation split of a train/val/test dataset can
be chosen, a mistake leads to its explanation (right-click, double-click), changing top-k
keeps the summary true, and a saved figure stands on its own (a title, no selection, every
row)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from helpers import make_image_folder

TIMEOUT_MS = 60000


def _evaluate(qtbot, panel):
    with qtbot.waitSignal(panel.evaluated, timeout=TIMEOUT_MS) as blocker:
        panel.evaluate_button.click()
    return blocker.args[0]


def _double_click(qtbot, view, pos) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # as a person:
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # press first


def _items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


@pytest.fixture
def split_bundle(tmp_path, tiny_experiment) -> tuple[str, Path]:
    """A bundle (random weights) whose dataset is a train/ + val/ + test/ folder."""
    import torch

    from workbench.core.bundle import save_bundle
    from workbench.core.model.builder import build_network

    root = tmp_path / "parts"
    for part, n in (("train", 6), ("val", 3), ("test", 2)):
        make_image_folder(root / part, per_class=n, size=16, seed=len(part))
    exp = tiny_experiment.copy()
    exp.data.folder = str(root)
    torch.manual_seed(0)
    model, _ = build_network(exp.model.layers, (3, 16, 16), 3)
    path = tmp_path / "split_run" / "bundle.pt"
    save_bundle(path, exp.validate(), ["blue", "green", "red"], model.state_dict())
    return str(path), root


def test_a_train_val_test_dataset_offers_its_test_part_and_its_validation_split(
        qtbot, make_evaluate_panel, split_bundle):
    bundle, root = split_bundle
    panel = make_evaluate_panel(bundle)
    combo = panel.data_combo
    assert _items(combo) == ["Its dataset's test part", "Its validation split",
                             "All images of a folder…"]
    assert combo.currentText() == "Its dataset's test part"  # the default, as before
    result = _evaluate(qtbot, panel)
    assert result.split == "test" and result.num_images == 6
    assert all(Path(p).parts[-3] == "test" for p in result.paths)

    combo.setCurrentIndex(_items(combo).index("Its validation split"))
    combo.activated.emit(combo.currentIndex())
    assert panel.result is None  # the test part's numbers are not the split's
    result = _evaluate(qtbot, panel)
    assert result.split == "val" and result.num_images == 9
    assert all(Path(p).parts[-3] == "val" for p in result.paths)
    assert "its validation split" in panel.message.text()


def test_explain_and_copy_path_from_the_largest_losses_and_a_cells_images(
        qtbot, make_evaluate_panel, bundle_path, image_folder):
    panel = make_evaluate_panel(bundle_path, str(image_folder))
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitExposed(panel)
    result = _evaluate(qtbot, panel)

    worst = panel.worst
    panel.results.setCurrentWidget(worst)
    first = result.worst(1)[0]["path"]
    pos = worst.visualRect(worst.model().index(0, 1)).center()
    worst.customContextMenuRequested.emit(pos)
    menu = worst.image_menu
    assert [a.text() for a in menu.actions()] == ["Explain…", "Copy path"]
    with qtbot.waitSignal(panel.explain_requested, timeout=TIMEOUT_MS) as blocker:
        menu.actions()[0].trigger()
    assert blocker.args == [bundle_path, first]
    menu.actions()[1].trigger()
    assert QApplication.clipboard().text() == first
    menu.close()
    with qtbot.waitSignal(panel.explain_requested, timeout=TIMEOUT_MS) as blocker:
        _double_click(qtbot, worst, pos)
    assert blocker.args == [bundle_path, first]

    # A confusion-matrix cell's images: the same menu and double-click.
    panel.results.setCurrentWidget(panel.confusion)
    wrong = np.argwhere(result.confusion - np.diag(np.diag(result.confusion)) > 0)[0]
    panel.confusion.heatmap.select_cell(*wrong.tolist())
    view = panel.confusion.cell_images
    qtbot.waitUntil(lambda: view.model().rowCount() > 0)
    pos = view.visualRect(view.model().index(0, 0)).center()
    view.customContextMenuRequested.emit(pos)
    with qtbot.waitSignal(panel.explain_requested, timeout=TIMEOUT_MS) as blocker:
        view.image_menu.actions()[0].trigger()
    assert blocker.args == [bundle_path, panel.confusion.cell_paths[0]]
    view.image_menu.close()
    with qtbot.waitSignal(panel.explain_requested, timeout=TIMEOUT_MS) as blocker:
        _double_click(qtbot, view, pos)
    assert blocker.args == [bundle_path, panel.confusion.cell_paths[0]]


def test_the_window_opens_the_explain_dialog_for_the_evaluate_tab(
        qtbot, tiny_experiment, bundle_path, image_folder, monkeypatch):
    from workbench.qt.main_window import MainWindow
    from workbench.qt.panels.explain.panel import ExplainDialog

    shown = []
    monkeypatch.setattr(ExplainDialog, "show", lambda self: shown.append(self))
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    image = str(image_folder / "red" / "red_000.png")
    window.evaluate_panel.explain_requested.emit(bundle_path, image)
    [dialog] = shown
    assert dialog.bundle_path == bundle_path and dialog.image_path == image
    qtbot.waitUntil(lambda: dialog.explanation is not None or dialog.message.level == "error",
                    timeout=TIMEOUT_MS)
    dialog.shutdown()


def test_changing_top_k_after_evaluating_keeps_the_summary_true(
        qtbot, make_evaluate_panel, bundle_path, tmp_path):
    folder = make_image_folder(tmp_path / "four", classes=("blue", "green", "red"),
                               per_class=4, size=16)
    panel = make_evaluate_panel(bundle_path, folder)
    panel.top_k.setValue(2)
    result = _evaluate(qtbot, panel)
    assert "top-2 accuracy" in panel.summary.text()
    panel.top_k.setValue(1)
    text = panel.summary.text()
    assert "top-2" not in text and f"top-1 accuracy {result.accuracy:.1%}" in text
    assert panel.result is result  # recomputed from its probabilities, not dropped


def test_saved_figures_have_a_title_no_selection_and_every_row(
        qtbot, make_evaluate_panel, bundle_path, tmp_path):
    many = ("blue", "green", "red")
    folder = make_image_folder(tmp_path / "data", classes=many, per_class=12, size=16)
    panel = make_evaluate_panel(bundle_path, folder)
    panel.resize(900, 420)  # short: the tables show a few rows only
    panel.show()
    qtbot.waitExposed(panel)
    _evaluate(qtbot, panel)
    panel.ask_png_path = lambda parent, suggested: str(tmp_path / suggested)

    panel.results.setCurrentWidget(panel.confusion)
    panel.confusion.heatmap.select_cell(0, 0)
    image = QImage(panel.save_png())
    orange = (230, 120, 20)
    pixels = [image.pixelColor(x, y).getRgb()[:3] for x in range(0, image.width(), 2)
              for y in range(0, image.height(), 2)]
    assert orange not in pixels  # the selected cell's outline is the screen's only
    assert panel.confusion.heatmap.highlight.isVisible()  # and stays there
    heatmap_h = panel.confusion.heatmap.height()
    assert image.height() > heatmap_h + 20  # a title above the matrix
    assert panel.message.level == "ok"

    # Every row of the largest losses, not the three that fit on screen.
    worst = panel.worst
    panel.results.setCurrentWidget(worst)
    visible = worst.viewport().height() // worst.rowHeight(0)
    assert visible < worst.rowCount() == 32
    image = QImage(panel.save_png())
    assert image.height() >= worst.rowCount() * worst.rowHeight(0)
    assert worst.height() < image.height()  # the table itself is back to its size


def test_a_cancelled_folder_dialog_keeps_the_result_shown(
        qtbot, make_evaluate_panel, split_bundle):
    """Choosing "All images of a folder…" and cancelling its dialog changes nothing: the
    result on screen (and its exports) stays; a folder chosen replaces it."""
    bundle, root = split_bundle
    panel = make_evaluate_panel(bundle)
    combo = panel.data_combo
    result = _evaluate(qtbot, panel)
    summary = panel.summary.text()
    panel.ask_folder = lambda *_: ""
    combo.setCurrentIndex(_items(combo).index("All images of a folder…"))
    combo.activated.emit(combo.currentIndex())
    assert combo.currentText() == "Its dataset's test part"
    assert panel.result is result and panel.summary.text() == summary
    assert panel.export_button.isEnabled()

    panel.ask_folder = lambda *_: str(root / "val")
    combo.setCurrentIndex(_items(combo).index("All images of a folder…"))
    combo.activated.emit(combo.currentIndex())
    assert combo.key() == "folder" and panel.result is None  # not the folder's numbers
