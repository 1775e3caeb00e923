"""The Evaluate tab and deleted runs, and its model box at the laptop's width: a run deleted
on the Runs tab is no longer offered, its model named with the model shown instead and what
to do; the runs listed again leave an open list as it is; a long run name is cut in the
middle, so the date, accuracy and epoch that tell the models apart stay in sight."""

from __future__ import annotations

import os
import shutil

from PySide6.QtCore import QEvent
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication

from workbench.core.io import runs_dir

TIMEOUT_MS = 60000
GONE = "is no longer there (moved, or its run deleted): choose another model in the list, " \
       "or Load bundle…"
DELETED = "is no longer there (moved, or its run deleted): "


def _run(name: str, bundle: str, created: str, val_acc: float | None = None) -> str:
    """A finished run folder ``name`` in the app's runs folder holding a copy of ``bundle``
    (its saved model's validation accuracy ``val_acc``); returns its bundle's path."""
    from workbench.core.runs.store import write_run_info

    folder = runs_dir() / name
    folder.mkdir(parents=True)
    shutil.copy(bundle, folder / "bundle.pt")
    info = {"name": name, "created": created, "updated": created, "status": "finished",
            "epochs_done": 12, "epochs_planned": 12}
    if val_acc is not None:
        info["bundle"] = {"epoch": 12, "restored_best": False, "metrics": {"val_acc": val_acc}}
    write_run_info(folder, info)
    return str(folder / "bundle.pt")


def test_a_run_deleted_on_the_runs_tab_is_dropped_from_evaluate_and_named(
        qtbot, workbench_home, bundle_path, image_folder):
    from workbench.qt.main_window import MainWindow

    gone = _run("gone", bundle_path, "2026-12-01T10:00:00")
    kept = _run("kept", bundle_path, "2026-12-02T10:00:00")
    window = MainWindow()
    qtbot.addWidget(window)
    evaluate, runs = window.evaluate_panel, window.runs_panel
    runs.confirm = lambda *args: True
    evaluate.set_bundle(gone)  # "Open in Evaluate", say
    evaluate.set_folder(str(image_folder))
    with qtbot.waitSignal(evaluate.evaluated, timeout=TIMEOUT_MS):
        evaluate.evaluate_button.click()
    with qtbot.waitSignal(runs.refreshed, timeout=TIMEOUT_MS):
        runs.refresh()
    runs.select_paths([str(runs_dir() / "gone")])
    runs.delete_selected()
    qtbot.waitUntil(lambda: gone not in evaluate.bundle_paths(), timeout=TIMEOUT_MS)
    assert evaluate.bundle_path() == kept  # the chooser's own choice now: said
    assert evaluate.message.text() == (f"{gone} {DELETED}showing kept instead; choose another "
                                       f"model in the list, or Load bundle…")
    assert evaluate.result is None  # the deleted model's result is not left on screen
    # The last model deleted too: nothing to choose from.
    runs.select_paths([str(runs_dir() / "kept")])
    runs.delete_selected()
    qtbot.waitUntil(lambda: not evaluate.bundle_paths(), timeout=TIMEOUT_MS)
    assert evaluate.message.text() == (f"{kept} {DELETED}train a model on the Train tab, or "
                                       f"Load bundle…")
    window.close()


def test_the_runs_listed_again_leave_an_open_model_list_as_it_is(
        qtbot, make_evaluate_panel, workbench_home, bundle_path):
    _run("first", bundle_path, "2026-12-01T10:00:00")
    _run("second", bundle_path, "2026-12-02T10:00:00")
    panel = make_evaluate_panel(runs_root=runs_dir())
    panel.show()
    qtbot.waitUntil(lambda: len(panel.bundle_paths()) == 2, timeout=TIMEOUT_MS)
    combo = panel.chooser.combo
    combo.showPopup()
    combo.view().setCurrentIndex(combo.model().index(1, 0))  # the pointer on the second
    removed = []
    combo.model().rowsRemoved.connect(lambda *args: removed.append(args))
    with qtbot.waitSignal(panel.chooser.runs_listed, timeout=TIMEOUT_MS):
        QApplication.sendEvent(panel, QEvent(QEvent.Type.WindowActivate))  # listed again
    assert combo.view().isVisible() and combo.view().currentIndex().row() == 1
    assert not removed
    # A run trained meanwhile is listed all the same.
    third = _run("third", bundle_path, "2026-12-03T10:00:00")
    with qtbot.waitSignal(panel.chooser.runs_listed, timeout=TIMEOUT_MS):
        QApplication.sendEvent(panel, QEvent(QEvent.Type.WindowActivate))
    assert third in panel.bundle_paths()
    combo.hidePopup()


def test_evaluate_says_what_to_do_when_the_model_file_is_gone(
        qtbot, make_evaluate_panel, workbench_home, bundle_path, image_folder):
    chosen = _run("chosen", bundle_path, "2026-12-01T10:00:00")
    panel = make_evaluate_panel(chosen, str(image_folder), runs_root=runs_dir())
    shutil.rmtree(os.path.dirname(chosen))  # deleted in a file manager, the tab shown
    panel.evaluate_button.click()
    assert panel.message.level == "error"
    assert panel.message.text() == f"Cannot evaluate: {chosen} {GONE}"


def test_a_long_run_name_is_cut_in_the_middle_keeping_what_tells_models_apart(
        qtbot, make_evaluate_panel, workbench_home, bundle_path, monkeypatch):
    from workbench.qt.panels.evaluate import chooser
    from workbench.qt.panels.evaluate.chooser import fit_choice_text

    name = "shapes5-lenet5-lr0.01-batch32-adam-no-augmentation-seed0-second-try-after-fixing-lr"
    tail = " · 2026-12-07 12:07 · val 78.0% (epoch 12)"
    metrics = QFontMetrics(QFont())
    width = metrics.horizontalAdvance(tail) + 120
    fitted = fit_choice_text(metrics, name + tail, width)
    assert fitted.endswith(tail) and "…" in fitted and fitted.startswith("shapes")
    assert fitted.split(" · ")[0].endswith("-lr")  # cut in the middle
    assert metrics.horizontalAdvance(fitted) <= width
    assert fit_choice_text(metrics, "short" + tail, 600) == "short" + tail

    # The Evaluate tab at 1366x768: its model box draws the choice so.
    _run(name, bundle_path, "2026-12-07T12:07:00", val_acc=0.78)
    drawn = []
    real = chooser.fit_choice_text
    monkeypatch.setattr(chooser, "fit_choice_text",
                        lambda m, text, width: drawn.append(real(m, text, width)) or drawn[-1])
    panel = make_evaluate_panel(runs_root=runs_dir())
    with qtbot.waitSignal(panel.chooser.runs_listed, timeout=TIMEOUT_MS):
        panel.refresh_runs()
    panel.resize(1366, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.chooser.combo.grab()
    assert panel.chooser.combo.currentText() == name + tail
    assert drawn and drawn[-1].endswith(tail) and drawn[-1] != name + tail


def test_a_test_image_excluded_since_training_is_left_out_of_the_tabs_evaluation(
        qtbot, make_evaluate_panel, tmp_path):
    # The Health view says "Excluded … from evaluation on the test part", but the Evaluate
    # tab scored the model's run's test part as it was: the copy of a training image stayed.
    from helpers import make_image_folder
    from workbench.core.events import CurrentExperiment
    from workbench.core.experiment import Experiment
    from workbench.core.train.run import run_training

    root = tmp_path / "data"
    for part in ("train", "val", "test"):
        make_image_folder(root / part, per_class=4, size=12, seed=len(part))
    exp = Experiment(name="parts")
    exp.data.folder, exp.data.input_size = str(root), [12, 12]
    exp.training.epochs, exp.training.device = 1, "cpu"
    assert run_training(exp.validate(), tmp_path / "run").status == "finished"
    now = exp.copy()
    now.data.exclude = ["test/blue/blue_000.png"]  # excluded on the Health view since
    panel = make_evaluate_panel(str(tmp_path / "run" / "bundle.pt"),
                                experiment=CurrentExperiment(now))
    panel.data_combo.setCurrentIndex(panel.data_combo.findData("auto"))  # its test part
    with qtbot.waitSignal(panel._runner.finished, timeout=TIMEOUT_MS):
        panel.evaluate()
    assert panel.result.split == "test" and panel.result.num_images == 11
    assert any("since the model was trained is left out too: test/blue/blue_000.png" in n
               for n in panel.result.notes)
