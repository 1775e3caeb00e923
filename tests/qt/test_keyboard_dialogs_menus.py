"""Keyboard and screen-reader reach of the Continue and Export dialogs and the row menus
(walk-a11y2, items 4, 6-9): the Continue dialog's warning reads on a dark palette; its
Learning rate and "N more" boxes, Export's four path fields, its report and Files written,
and Augment's two pipeline lists have names; Tab meets the buttons as they are drawn; Shift+F10
opens the menu of a Predict row, a largest-loss row and a Tune trial, as the Menu key does
(a laptop has none), and Enter on a trial shows its run, as a double-click does; Augment's
hints are no silent Tab stop after their own fix button."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from workbench.qt.accessible import spoken_name
from workbench.qt.colours import contrast
from workbench.qt.keyboard import focus_stops

from qt_helpers import application_palette, dark_palette, shown_colour

SHIFT = Qt.KeyboardModifier.ShiftModifier


def _continue_dialog(qtbot, tmp_path, warning=""):
    from workbench.core.runs.plan import ContinuePlan
    from workbench.qt.panels.train.continue_run import ContinueDialog

    plan = ContinuePlan(run_dir=str(tmp_path), name="signs", status="interrupted", done=3,
                        planned=10, optimizer="Adam", lr=0.001, scheduler="")
    dialog = ContinueDialog(plan, warning=warning)
    qtbot.addWidget(dialog)
    return dialog


@pytest.mark.parametrize("dark", [False, True])
def test_the_continue_warning_reads_on_light_and_dark_palettes(qtbot, tmp_path, dark):
    # "color: #a05a00" read at 2.31:1 on a dark window.
    palette = dark_palette() if dark else QPalette(QApplication.palette())
    with application_palette(palette):
        dialog = _continue_dialog(qtbot, tmp_path, "The flip removed on the Augment tab is "
                                                   "not applied by continuing.")
        dialog.show()
        QApplication.processEvents()
        label = dialog.warning_label
        behind = label.palette().color(label.backgroundRole())
        assert contrast(shown_colour(label), behind) >= 4.5


def test_the_continue_dialogs_boxes_are_named(qtbot, tmp_path):
    dialog = _continue_dialog(qtbot, tmp_path)
    assert spoken_name(dialog.lr_spin) == "Learning rate"
    assert spoken_name(dialog.more_spin) == "More epochs"


def test_tab_meets_the_continue_dialogs_buttons_as_they_are_drawn(qtbot, tmp_path):
    dialog = _continue_dialog(qtbot, tmp_path)
    dialog.show()
    QApplication.processEvents()
    stops = focus_stops(dialog)
    buttons = sorted((b for b in stops if isinstance(b, type(dialog.continue_button))
                      and b.parentWidget() is dialog.continue_button.parentWidget()),
                     key=lambda b: b.mapTo(dialog, b.rect().topLeft()).x())
    assert sorted(b.text() for b in buttons) == ["Cancel", "Continue training"]
    assert [b for b in stops if b in buttons] == buttons  # Tab meets them in that order


def test_the_export_dialogs_fields_are_named_and_change_comes_first(qtbot, bundle_path):
    from workbench.qt.export_dialog import ExportDialog

    dialog = ExportDialog(bundle_path)
    qtbot.addWidget(dialog)
    names = [spoken_name(w) for w in (dialog.onnx_edit, dialog.data_edit, dialog.code_edit,
                                      dialog.safetensors_edit)]
    assert names == ["ONNX file", "Calibrate on", "PyTorch code file", "safetensors file"]
    assert spoken_name(dialog.files) == "Files written"
    assert spoken_name(dialog.report) == "Export report"
    dialog.show()
    QApplication.processEvents()
    stops = focus_stops(dialog)
    # Change… (the top row) comes first; the focus starts on ONNX, so Shift+Tab reaches it.
    assert [w.text() for w in stops[:2]] == ["Change…", dialog.onnx_check.text()]
    assert QApplication.focusWidget() is dialog.onnx_check


def test_the_augment_pipelines_are_named(qtbot):
    from workbench.core.experiment import Experiment
    from workbench.qt.panels.augment.panel import AugmentPanel

    panel = AugmentPanel(Experiment())
    qtbot.addWidget(panel)
    assert spoken_name(panel.train_steps) == "Training pipeline"
    assert spoken_name(panel.eval_steps) == "Validation pipeline"
    panel.shutdown()


def test_the_augment_hints_are_no_tab_stop_and_describe_their_fix_button(qtbot):
    from workbench.core.data.augment.fixes import FLIPS, Hint, remove, set_params
    from workbench.qt.panels.augment.hints_view import HintsView

    view = HintsView()
    qtbot.addWidget(view)
    flip = remove(0, "RandomHorizontalFlip", "Remove the flip", key=FLIPS)
    hint = Hint("RandomHorizontalFlip mirrors images: 'turn_left' may become 'turn_right'.",
                0, flip)
    view.show_hints([hint, Hint("Another note.", 1, set_params(1, "ColorJitter", {"hue": 0.0},
                                                               "Set hue to 0"))])
    view.show()
    QApplication.processEvents()
    stops = focus_stops(view)
    assert stops and all(isinstance(w, type(view.flip_button)) for w in stops), stops
    described = {b.text(): b.accessibleDescription() for b in stops}
    assert described["Remove the flip"] == f"Hint: {hint.text}"
    assert described["Set hue to 0"] == "Hint: Another note."


def _menu_at_current(view, qtbot) -> list:
    """Shift+F10 on ``view``: the positions its custom context menu was asked for."""
    asked = []
    view.customContextMenuRequested.connect(asked.append)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F10, SHIFT)
    return asked


def test_shift_f10_opens_a_tune_trials_menu_and_enter_shows_its_run(qtbot, tmp_path):
    from workbench.core.runs.store import write_run_info
    from workbench.qt.panels.tune.results import TrialsView

    view = TrialsView("val_acc")
    qtbot.addWidget(view)
    view.reset(f"sqlite:///{tmp_path / 'x.db'}", "s", "val_acc", True, ["optimizer.params.lr"])
    runs = []
    for n in range(2):
        run = tmp_path / f"run-{n}"
        run.mkdir()
        write_run_info(run, {"name": f"s-trial-{n}", "status": "completed"})
        runs.append(run)
        view.add_trials([{"number": n, "state": "complete", "value": 0.5,
                          "params": {"optimizer.params.lr": 0.01}, "run_dir": str(run)}])
    view.show()
    table = view.table
    table.setCurrentCell(1, 0)
    asked = _menu_at_current(table, qtbot)
    assert len(asked) == 1 and table.rowAt(asked[0].y()) == 1
    menu = next(m for m in table.findChildren(QMenu) if m.isVisible())
    assert [a.text() for a in menu.actions()] == ["Show in Runs"]
    menu.close()
    requested = []
    view.run_requested.connect(requested.append)
    QTest.keyClick(table, Qt.Key.Key_Return)
    assert requested == [str(runs[1])]
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=asked[0])  # as a
    QTest.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=asked[0])  # person
    assert requested == [str(runs[1])] * 2  # a double-click shows it once, not twice


def test_shift_f10_opens_a_largest_loss_rows_menu(qtbot):
    import numpy as np

    from workbench.core.evaluate.evaluation import EvaluationResult
    from workbench.qt.panels.evaluate import image_menu
    from workbench.qt.panels.evaluate.views import WorstLossesTable

    table = WorstLossesTable()
    qtbot.addWidget(table)
    probs = np.asarray([[0.6, 0.4], [0.3, 0.7], [0.8, 0.2]], dtype=np.float32)
    y = np.asarray([0, 0, 1])
    table.set_result(EvaluationResult(
        classes=["cat", "dog"], paths=[f"/x/{i}.png" for i in range(3)], y_true=y,
        probs=probs, losses=-np.log(probs[np.arange(3), y]).astype(np.float64), top_k=1))
    image_menu.install(table, lambda index: table.entries[index.row()]["path"],
                       lambda path: None)
    table.resize(600, 400)
    table.show()
    table.setCurrentCell(2, 1)
    asked = _menu_at_current(table, qtbot)
    assert len(asked) == 1 and table.rowAt(asked[0].y()) == 2
    assert [a.text() for a in table.image_menu.actions()] == ["Explain…", "Copy path"]
    table.image_menu.close()


def test_shift_f10_opens_a_predict_rows_menu(qtbot, monkeypatch, tmp_path):
    from workbench.qt.panels.predict.model import ItemRole
    from workbench.qt.panels.predict.panel import PredictPanel

    panel = PredictPanel()  # no model: the rows wait, and still have their menu
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    panel.add_images([str(tmp_path / f"x{i}.png") for i in range(3)])
    qtbot.waitUntil(panel.view.isVisible, timeout=5000)
    shown = []

    class _Menu:
        def exec(self, *_args):
            shown.append(True)

    monkeypatch.setattr(panel, "context_menu", lambda item: shown.append(item) or _Menu())
    view = panel.view
    view.setCurrentIndex(view.model().index(1, 0))
    asked = _menu_at_current(view, qtbot)
    assert len(asked) == 1 and view.indexAt(asked[0]).row() == 1
    assert shown == [view.currentIndex().data(ItemRole), True]
    panel.shutdown()
