"""The Evaluate and Predict tabs reopen as they were left (tester report "reopen", item 3):
Evaluate keeps the model and data the user chose (and evaluates nothing by itself),
Predict its model and its images, classified again; the Train tab's last run no longer
replaces their model. What was deleted since is said, and the rest comes back."""

from __future__ import annotations

import json
import os
import shutil

from PySide6.QtWidgets import QSplitter

import workbench.qt.app as app
from workbench.core.session import session_path, session_text, write_session
from workbench.qt.panels.evaluate.data_choice import FOLDER, VAL
from workbench.qt.panels.evaluate.layout import CHOOSE_TEXT, NO_RESULT_TEXT
from workbench.qt.panels.predict.model import DONE
from workbench.qt.workers import task_pool

from helpers import finished_run, make_image_folder
from qt_helpers import pick_model

TIMEOUT_MS = 60000


def _window(qtbot):
    window = app.create_window()
    qtbot.addWidget(window)
    return window


def _file() -> dict:
    return json.loads(session_path().read_text())


def _close(window) -> None:
    window.close()
    task_pool().waitForDone()


def test_evaluate_and_predict_reopen_with_the_model_data_and_images_left(
        qtbot, tmp_path, tiny_experiment, bundle_path, image_folder):
    last = finished_run("colours-mlp-1", bundle_path)
    other = finished_run("colours-mlp-2", bundle_path)
    ds2 = make_image_folder(tmp_path / "ds2", per_class=3, size=16)
    write_session(session_text(tiny_experiment, b"", "Evaluate", os.path.dirname(last)))
    window = _window(qtbot)
    evaluate, predict = window.evaluate_panel, window.predict_panel
    assert evaluate.bundle_path() == last  # the last run's model, until one is chosen
    with qtbot.waitSignal(evaluate.chooser.runs_listed, timeout=TIMEOUT_MS):
        evaluate.refresh_runs()
    pick_model(evaluate.chooser.combo, other)
    evaluate.ask_folder = lambda *_: ds2
    pick_model(evaluate.data_combo, FOLDER)
    assert evaluate.folder == ds2
    pick_model(predict.model_combo, other)
    images = [str(image_folder / c / f"{c}_00{i}.png") for c in ("red", "blue")
              for i in range(3)][:5]
    with qtbot.waitSignal(predict.predictions_finished, timeout=TIMEOUT_MS):
        predict.add_images(images)
    _close(window)

    again = _window(qtbot)
    evaluate, predict = again.evaluate_panel, again.predict_panel
    with qtbot.waitSignal(evaluate.chooser.runs_listed, timeout=TIMEOUT_MS):
        evaluate.refresh_runs()  # a later listing keeps the user's choice
    assert evaluate.bundle_path() == other
    assert evaluate.chooser.combo.currentData() == other
    assert evaluate.data_combo.currentText() == f"Folder: {ds2}"
    # Said once, where the results will be: not again as "No result…" under the message.
    assert evaluate.no_result.text() == ("The model and data you chose last time are chosen "
                                         "again: press Evaluate to see the results.")
    assert evaluate.message.text() == ""
    # Only the choices: nothing is evaluated by itself (it can take minutes).
    assert not evaluate.is_running() and evaluate.result is None
    assert evaluate.evaluate_button.isEnabled()
    assert predict.bundle_path == other and predict.model_combo.currentData() == other
    assert predict.bundle_label.text() == f"Using {other}"
    qtbot.waitUntil(lambda: len(predict.rows) == 5
                    and all(r.status == DONE for r in predict.rows), timeout=TIMEOUT_MS)
    assert [r.path for r in predict.rows] == images
    assert predict.view.isVisibleTo(predict) and not predict.hint.isVisibleTo(predict)
    assert predict.status.text() == "5 classified"
    # The Train tab still goes on from the last run.
    assert again.train_panel.last_run_dir == os.path.dirname(last)
    pick_model(evaluate.chooser.combo, last)  # another model: no longer last time's choice
    assert evaluate.no_result.text() == NO_RESULT_TEXT
    assert evaluate.message.text() == CHOOSE_TEXT
    _close(again)


def test_what_was_deleted_since_is_said_and_the_rest_comes_back(qtbot, tmp_path,
                                                                tiny_experiment,
                                                                bundle_path, image_folder):
    last = finished_run("colours-mlp-1", bundle_path)
    gone = str(tmp_path / "old-run" / "bundle.pt")
    copies = tmp_path / "to-classify"
    copies.mkdir()
    images = []
    for c in ("red", "green", "blue"):
        images.append(str(copies / f"{c}.png"))
        shutil.copy(image_folder / c / f"{c}_001.png", images[-1])
    os.remove(images[1])
    write_session(session_text(
        tiny_experiment, b"", "Predict", os.path.dirname(last),
        evaluate={"bundle": gone, "data": FOLDER, "folder": str(tmp_path / "moved")},
        predict={"bundle": gone, "images": images}))
    window = _window(qtbot)
    evaluate, predict = window.evaluate_panel, window.predict_panel
    # As when nothing was kept: the last run's model, the model's own data.
    assert evaluate.bundle_path() == last
    assert evaluate.data_combo.key() != FOLDER
    assert evaluate.message.level == "warning"
    assert evaluate.message.text() == (
        f"The model chosen last time, bundle.pt in {tmp_path / 'old-run'}, is no longer "
        f"there (deleted or moved); the folder chosen last time, {tmp_path / 'moved'}, is "
        f"no longer there (deleted or moved). Choose them above, then press Evaluate.")
    assert predict.bundle_path == last
    qtbot.waitUntil(lambda: len(predict.rows) == 2
                    and all(r.status == DONE for r in predict.rows), timeout=TIMEOUT_MS)
    assert [r.path for r in predict.rows] == [images[0], images[2]]
    said = (f"the model chosen last time, bundle.pt in {tmp_path / 'old-run'}, is no longer "
            f"there (deleted or moved); 1 of the images listed last time is no longer there "
            f"(deleted or moved) and was left out")
    # Said with the results (and before them, until they come).
    qtbot.waitUntil(lambda: predict.status.text() == f"2 classified; {said}",
                    timeout=TIMEOUT_MS)
    assert predict.status.level == "warning"
    _close(window)
    saved = _file()
    assert "evaluate" not in saved  # said once: the next start says nothing of them
    assert saved["predict"]["images"] == [images[0], images[2]]


def test_a_kept_data_choice_comes_back_without_a_model_of_its_own(qtbot, tiny_experiment,
                                                                  bundle_path):
    last = finished_run("colours-mlp-1", bundle_path)
    write_session(session_text(tiny_experiment, b"", "Evaluate", os.path.dirname(last),
                               evaluate={"data": VAL}))
    window = _window(qtbot)
    evaluate = window.evaluate_panel
    assert evaluate.bundle_path() == last and evaluate.data_combo.key() == VAL
    _close(window)
    assert _file()["evaluate"] == {"data": VAL}


def test_the_confusion_splitter_keeps_its_sizes_under_its_name(qtbot, tiny_experiment):
    probe = QSplitter()
    probe.setOrientation(probe.orientation().Vertical)
    for _ in range(2):
        probe.addWidget(QSplitter())
    probe.resize(100, 400)
    probe.setSizes([100, 300])
    state = bytes(probe.saveState().data())
    # Kept under the key made up for it while it had no name: read once, then its name.
    write_session(session_text(tiny_experiment, b"", "Evaluate",
                               splitters={"evaluate.splitter0": state}))
    window = _window(qtbot)
    split = window.evaluate_panel.findChild(QSplitter, "evaluate.confusion")
    top, bottom = split.sizes()  # laid out at the window's size: the same shares
    assert abs(bottom - 3 * top) <= 4, (top, bottom)
    _close(window)
    kept = _file()["window"]["splitters"]
    assert "evaluate.splitter0" not in kept and "evaluate.confusion" in kept


def test_predict_images_all_gone_are_said_and_the_hint_shows(qtbot, tmp_path,
                                                             tiny_experiment):
    images = [str(tmp_path / "gone" / f"{i}.png") for i in range(3)]
    write_session(session_text(tiny_experiment, b"", "Predict",
                               predict={"images": images}))
    window = _window(qtbot)
    predict = window.predict_panel
    assert predict.rows == [] and predict.hint.isVisibleTo(predict)
    assert predict.status.level == "warning"
    assert predict.status.text() == ("All 3 of the images listed last time are no longer "
                                     "there (deleted or moved) and were left out.")
    _close(window)
    assert "predict" not in _file()
