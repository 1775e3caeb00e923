"""The Predict tab follows the saved runs as the Evaluate tab does: a run resumed in a
terminal (its bundle saved again at the same path) classifies the rows again with its new
weights; runs trained, renamed or deleted while the app is open are listed as they are now,
and a deleted model in use is named with what to do; an open model list is left as it is
when nothing changed."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from workbench.core.io import runs_dir
from workbench.qt.panels.predict.model import DONE
from workbench.qt.panels.predict.panel import PredictPanel

TIMEOUT_MS = 60000


def _probabilities(bundle: str, image: str) -> dict[str, float]:
    """What ``workbench predict`` says of ``image`` with the bundle file as it is now."""
    from workbench.core.predict import Predictor

    [prediction] = Predictor(bundle).predict([image], top_k=3)
    return {str(c): float(p) for c, p in prediction.top}


def _texts(panel: PredictPanel) -> list[str]:
    return [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]


def _activate(panel) -> None:
    """What the panel hears when the user comes back to the window (from a terminal)."""
    QApplication.sendEvent(panel, QEvent(QEvent.Type.WindowActivate))


def test_rows_are_classified_again_when_their_bundle_was_saved_again(
        qtbot, workbench_home, tiny_experiment, image_folder):
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.checkpoint import load_checkpoint
    from workbench.core.train.trainer import Trainer

    run = runs_dir() / "resumed"
    tiny_experiment.training.epochs = 1
    tiny_experiment.training.restore_best = False  # the bundle is the last epoch's
    Trainer(tiny_experiment, [RunRecorder(run)]).fit()
    bundle = str(run / "bundle.pt")
    images = [str(image_folder / c / f"{c}_000.png") for c in ("red", "green")]
    panel = PredictPanel(bundle)
    qtbot.addWidget(panel)
    try:
        panel.show()
        with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
            panel.add_images(images)
        assert "(epoch 1)" in panel.model_combo.currentText()

        def resume(epochs: int) -> list[dict[str, float]]:
            """``workbench resume`` in a terminal: the bundle saved again, same path."""
            tiny_experiment.training.epochs = epochs
            Trainer(tiny_experiment, [RunRecorder(run)], checkpoint=load_checkpoint(run)).fit()
            return [_probabilities(bundle, i) for i in images]

        def shown(expected: list[dict[str, float]], epoch: int) -> None:
            assert all(r.status == DONE for r in panel.rows)
            for row, probabilities in zip(panel.rows, expected):
                assert dict(row.top) == pytest.approx(probabilities)
            assert f"(epoch {epoch})" in panel.model_combo.currentText()
            text = panel.status.text()
            assert "was saved again" in text and f"epoch {epoch})" in text
            assert "2 images were classified: classified again with its new weights" in text

        # Resumed while the tab was hidden: noticed when it is shown again.
        panel.hide()
        new = resume(2)
        with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
            panel.show()
        shown(new, 2)
        # Resumed while the tab was shown: noticed when the window is active again.
        newer = resume(3)
        with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
            _activate(panel)
        shown(newer, 3)
        # Nothing saved since: listed again, nothing classified again.
        with qtbot.waitSignal(panel.follower.runs_listed, timeout=TIMEOUT_MS):
            _activate(panel)
        assert not panel.is_busy()
    finally:
        panel.shutdown()


def _run(name: str, bundle: str, created: str) -> str:
    """A finished run folder ``name`` in the app's runs folder, holding a copy of
    ``bundle``; returns its bundle's path."""
    from workbench.core.runs.store import write_run_info

    folder = runs_dir() / name
    folder.mkdir(parents=True)
    shutil.copy(bundle, folder / "bundle.pt")
    write_run_info(folder, {"name": name, "created": created, "updated": created,
                            "status": "finished", "epochs_done": 1, "epochs_planned": 1})
    return str(folder / "bundle.pt")


def test_the_model_list_follows_runs_trained_renamed_and_deleted_meanwhile(
        qtbot, workbench_home, bundle_path, image_folder):
    from workbench.qt.main_window import MainWindow

    first = _run("first", bundle_path, "2026-12-01T10:00:00")
    window = MainWindow()
    qtbot.addWidget(window)
    predict, runs = window.predict_panel, window.runs_panel
    runs.confirm = lambda *args: True
    with qtbot.waitSignal(predict.predictions_finished, timeout=TIMEOUT_MS):
        predict.set_bundle(first)
        predict.add_images([str(image_folder / "red" / "red_000.png")])
    # Trained in a terminal while the app is open: offered once the window is active again.
    second = _run("second", bundle_path, "2026-12-02T10:00:00")
    _activate(predict)
    qtbot.waitUntil(lambda: any(t.startswith("second · ") for t in _texts(predict)),
                    timeout=TIMEOUT_MS)

    # Renamed on the Runs tab: the new name, at once.
    with qtbot.waitSignal(runs.refreshed, timeout=TIMEOUT_MS):
        runs.refresh()
    runs._on_name_edited(str(runs_dir() / "second"), "second-renamed")
    qtbot.waitUntil(lambda: any(t.startswith("second-renamed · ") for t in _texts(predict)),
                    timeout=TIMEOUT_MS)
    assert not any(t.startswith("second · ") for t in _texts(predict))

    # The model in use deleted on the Runs tab: no longer offered, and named with what to do.
    runs.select_paths([str(runs_dir() / "first")])
    runs.delete_selected()
    qtbot.waitUntil(lambda: not any(t.startswith("first · ") for t in _texts(predict)),
                    timeout=TIMEOUT_MS)
    assert predict.bundle_path == first and predict.bundle_label.level == "error"
    assert predict.bundle_label.text() == (f"The model {first} was moved or deleted: choose "
                                           f"another model in the list or Load bundle…")
    assert predict.model_combo.currentText() == "bundle.pt (first) · moved or deleted"
    [row] = predict.rows  # its result stays, as the model gave it
    assert row.status == DONE
    assert second in [predict.model_combo.itemData(i)
                      for i in range(predict.model_combo.count())]
    window.close()


def test_the_runs_listed_again_leave_an_open_model_list_as_it_is(
        qtbot, workbench_home, bundle_path):
    first = _run("first", bundle_path, "2026-12-01T10:00:00")
    _run("second", bundle_path, "2026-12-02T10:00:00")
    panel = PredictPanel(first)  # a run's model in use
    qtbot.addWidget(panel)
    try:
        panel.show()
        combo = panel.model_combo
        qtbot.waitUntil(lambda: any(t.startswith("second · ") for t in _texts(panel)),
                        timeout=TIMEOUT_MS)
        combo.showPopup()
        combo.view().setCurrentIndex(combo.model().index(2, 0))  # the pointer on a run
        removed = []
        combo.model().rowsRemoved.connect(lambda *args: removed.append(args))
        with qtbot.waitSignal(panel.follower.runs_listed, timeout=TIMEOUT_MS):
            _activate(panel)  # listed again: nothing changed
        assert combo.view().isVisible() and combo.view().currentIndex().row() == 2
        assert not removed and combo.currentData() == first
        third = _run("third", bundle_path, "2026-12-03T10:00:00")
        with qtbot.waitSignal(panel.follower.runs_listed, timeout=TIMEOUT_MS):
            _activate(panel)
        assert any(t.startswith("third · ") for t in _texts(panel))
        assert combo.currentData() == first
        combo.hidePopup()
    finally:
        panel.shutdown()
