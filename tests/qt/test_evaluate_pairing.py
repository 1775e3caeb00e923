"""Evaluate's model and data after a training run (tester report "walk-projects", item 3):
a run on another dataset takes over the model; the folder chosen for the earlier model,
whose classes the new one does not know, goes back to the model's validation split saying
so, rather than failing when Evaluate is pressed; so does a test part the new model's
dataset has none of. A pair the user chose is left alone, and only such a pair is
"the model and data you chose" when the app reopens (data chosen for the tab's own model
too); a cancelled folder dialog is no choice. The check follows Evaluate's own rule."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QApplication

import workbench.qt.app as app
from workbench.core.io import runs_dir
from workbench.core.session import session_text, write_session
from workbench.qt.panels.evaluate.data_choice import AUTO, FOLDER, VAL
from workbench.qt.panels.evaluate.layout import RESTORED_TEXT
from workbench.qt.workers import task_pool

from helpers import finished_run, make_image_folder, random_bundle
from qt_helpers import pick_model

TIMEOUT_MS = 60000
SHAPES = ("circle", "square", "triangle")


def _shapes_bundle(tmp_path, experiment, parts: bool = False) -> str:
    """A model of other classes (circle, square, triangle), of a dataset with no test part
    (``parts``: a train/ + val/ + test/ one)."""
    root = tmp_path / ("shape-parts" if parts else "shapes")
    for part in (("train", "val", "test") if parts else ("",)):
        make_image_folder(root / part, classes=SHAPES, per_class=4, size=16)
    exp = experiment.copy()
    exp.data.folder = str(root)
    return str(random_bundle(tmp_path / f"{root.name}-model" / "bundle.pt", exp.validate(),
                             SHAPES)[0])


def _checked() -> None:
    """The checks off the GUI thread done, and their news heard."""
    task_pool().waitForDone()
    QApplication.processEvents()


def _window(qtbot):
    window = app.create_window()
    qtbot.addWidget(window)
    return window


def _close(window) -> None:
    window.close()
    task_pool().waitForDone()


def _chosen_folder(qtbot, evaluate, folder) -> None:
    """The user chooses the model ``evaluate`` shows, then "All images of a folder…"."""
    with qtbot.waitSignal(evaluate.chooser.runs_listed, timeout=TIMEOUT_MS):
        evaluate.refresh_runs()
    pick_model(evaluate.chooser.combo, evaluate.chooser.combo.currentIndex())
    evaluate.ask_folder = lambda *_: str(folder)
    pick_model(evaluate.data_combo, evaluate.data_combo.findData(FOLDER))
    assert evaluate.folder == str(folder) and evaluate.data_combo.key() == FOLDER


def _reopens_on_its_validation_split(qtbot, shapes: str) -> None:
    """A restart shows shapes-mlp-1 (``shapes``) on its validation split, said as the tab
    was left, not as a pair the user chose."""
    again = _window(qtbot)
    evaluate = again.evaluate_panel
    assert evaluate.bundle_path() == shapes and evaluate.data_combo.key() == VAL
    assert evaluate.no_result.text() == ("Chosen again as the tab was left: shapes-mlp-1 on "
                                         "its validation split. Press Evaluate to see the "
                                         "results.")
    _close(again)


def test_a_run_of_other_classes_takes_the_model_and_the_folder_left_goes_back_to_its_val(
        qtbot, tmp_path, tiny_experiment, bundle_path, image_folder):
    colours = finished_run("colours-mlp-1", bundle_path, epochs=1)
    write_session(session_text(tiny_experiment, b"", "Evaluate", os.path.dirname(colours)))
    window = _window(qtbot)
    evaluate = window.evaluate_panel
    _chosen_folder(qtbot, evaluate, image_folder)  # evaluated on the colours folder
    # A run trained on other classes ends: the model to measure next.
    shapes = finished_run("shapes-mlp-1", _shapes_bundle(tmp_path, tiny_experiment), epochs=1)
    window.train_panel.bundle_saved.emit(shapes)
    assert evaluate.bundle_path() == shapes
    qtbot.waitUntil(lambda: evaluate.data_combo.key() == VAL, timeout=TIMEOUT_MS)
    assert evaluate.message.level == "warning"
    assert evaluate.message.text() == (
        f"Data is back to the model's validation split: the folder {image_folder}, chosen "
        f"for an earlier model, has classes 'blue', 'green', 'red' that shapes-mlp-1 does "
        f"not know.")
    assert evaluate.data_combo.itemText(evaluate.data_combo.findData(FOLDER)) == \
        f"Folder: {image_folder}"  # one choice away
    with qtbot.waitSignal(evaluate.evaluated, timeout=TIMEOUT_MS) as done:
        evaluate.evaluate_button.click()  # measures, instead of "Cannot evaluate"
    assert done.args[0].split == "val" and done.args[0].classes == list(SHAPES)
    _close(window)

    # Reopened: the pair is back, not as one the user chose.
    _reopens_on_its_validation_split(qtbot, shapes)


def test_a_pair_the_user_chose_is_left_alone_and_reopens_as_theirs(
        qtbot, tmp_path, tiny_experiment, bundle_path, image_folder):
    colours = finished_run("colours-mlp-1", bundle_path, epochs=1)
    shapes = finished_run("shapes-mlp-1", _shapes_bundle(tmp_path, tiny_experiment), epochs=1)
    write_session(session_text(tiny_experiment, b"", "Evaluate", os.path.dirname(colours)))
    window = _window(qtbot)
    evaluate = window.evaluate_panel
    _chosen_folder(qtbot, evaluate, image_folder)
    # A model of the same classes set by the window keeps the folder: it fits.
    window.train_panel.bundle_saved.emit(finished_run("colours-mlp-2", bundle_path, epochs=1))
    _checked()
    assert evaluate.data_combo.key() == FOLDER
    pick_model(evaluate.chooser.combo, evaluate.chooser.combo.findData(shapes))  # the user's
    _checked()
    assert evaluate.bundle_path() == shapes and evaluate.data_combo.key() == FOLDER
    with qtbot.waitSignal(evaluate.failed, timeout=TIMEOUT_MS):
        evaluate.evaluate_button.click()
    assert "that the model does not know" in evaluate.message.text()
    _close(window)

    again = _window(qtbot)
    evaluate = again.evaluate_panel
    _checked()
    assert evaluate.bundle_path() == shapes and evaluate.folder == str(image_folder)
    assert evaluate.data_combo.key() == FOLDER
    assert evaluate.no_result.text() == RESTORED_TEXT  # "… you chose last time …"
    _close(again)


def test_a_test_part_chosen_goes_back_to_the_val_split_of_a_model_with_none(
        qtbot, tmp_path, tiny_experiment, make_evaluate_panel):
    with_test = finished_run("parts-mlp-1", _shapes_bundle(tmp_path, tiny_experiment,
                                                           parts=True), epochs=1)
    panel = make_evaluate_panel(with_test, runs_root=runs_dir())
    pick_model(panel.data_combo, panel.data_combo.findData(AUTO))  # "Its dataset's test part"
    assert panel.data_combo.currentText() == "Its dataset's test part"
    panel.set_bundle(finished_run("shapes-mlp-1", _shapes_bundle(tmp_path, tiny_experiment),
                                  epochs=1))
    assert panel.data_combo.key() == VAL
    assert panel.message.level == "warning"
    assert panel.message.text() == ("Data is back to the model's validation split: "
                                    "shapes-mlp-1's dataset has no test part.")


def test_the_tabs_check_follows_the_rule_evaluate_refuses_with(
        qtbot, monkeypatch, tmp_path, tiny_experiment, make_evaluate_panel, bundle_path,
        image_folder):
    """Review-qt item 8: the early check and Evaluate's refusal are one rule
    (core's ``unknown_classes``), so they cannot disagree when it changes."""
    import workbench.core.evaluate.known_classes as known_classes

    # A stricter rule: no class is known. Both the check and Evaluate follow it.
    monkeypatch.setattr(known_classes, "unknown_classes", lambda classes, _model: classes)
    panel = make_evaluate_panel(finished_run("colours-mlp-1", bundle_path, epochs=1),
                                runs_root=runs_dir())
    panel.set_folder(str(image_folder))  # chosen for the user
    # A model of the same classes.
    panel.set_bundle(finished_run("colours-mlp-2", bundle_path, epochs=1))
    qtbot.waitUntil(lambda: panel.data_combo.key() == VAL, timeout=TIMEOUT_MS)
    assert panel.message.text() == (
        f"Data is back to the model's validation split: the folder {image_folder}, chosen "
        f"for an earlier model, has classes 'blue', 'green', 'red' that colours-mlp-2 does "
        f"not know.")
    panel.ask_folder = lambda *_: str(image_folder)
    pick_model(panel.data_combo, panel.data_combo.findData(FOLDER))  # the user's: not checked
    with qtbot.waitSignal(panel.failed, timeout=TIMEOUT_MS):
        panel.evaluate_button.click()
    assert "has classes 'blue', 'green', 'red' that the model does not know" in \
        panel.message.text()


def test_a_folder_chosen_for_the_choosers_own_model_reopens_as_the_users(
        qtbot, tmp_path, tiny_experiment, bundle_path):
    """Review-qt item 9: data the user chose for the model the tab chose makes the pair
    theirs, after a restart too: not put back to the validation split as "chosen for an
    earlier model"."""
    colours = finished_run("colours-mlp-1", bundle_path, epochs=1)
    shapes = make_image_folder(tmp_path / "shapes", classes=SHAPES, per_class=2, size=16)
    write_session(session_text(tiny_experiment, b"", "Evaluate", os.path.dirname(colours)))
    window = _window(qtbot)
    evaluate = window.evaluate_panel
    assert evaluate.bundle_path() == colours and not evaluate.chooser.user_chose
    evaluate.ask_folder = lambda *_: str(shapes)
    pick_model(evaluate.data_combo, evaluate.data_combo.findData(FOLDER))
    _checked()
    assert evaluate.data_combo.key() == FOLDER and evaluate.pairing.by_user
    _close(window)

    again = _window(qtbot)
    evaluate = again.evaluate_panel
    with qtbot.waitSignal(evaluate.chooser.runs_listed, timeout=TIMEOUT_MS):
        evaluate.refresh_runs()
    _checked()
    assert evaluate.bundle_path() == colours and evaluate.folder == str(shapes)
    assert evaluate.data_combo.key() == FOLDER and evaluate.message.level != "warning"
    assert evaluate.no_result.text() == RESTORED_TEXT  # "… you chose last time …"
    with qtbot.waitSignal(evaluate.failed, timeout=TIMEOUT_MS):
        evaluate.evaluate_button.click()  # Evaluate says what does not fit
    assert "that the model does not know" in evaluate.message.text()
    _close(again)


def test_a_cancelled_folder_dialog_is_no_choice_of_the_users(
        qtbot, tmp_path, tiny_experiment, bundle_path, image_folder):
    """Review-qt item 9: cancelling the folder dialog puts the choice before back, and
    whose it was: a pair the window made stays the window's (checked, and not "you
    chose" on reopening)."""
    colours = finished_run("colours-mlp-1", bundle_path, epochs=1)
    write_session(session_text(tiny_experiment, b"", "Evaluate", os.path.dirname(colours)))
    window = _window(qtbot)
    evaluate, combo = window.evaluate_panel, window.evaluate_panel.data_combo
    default = combo.key()
    evaluate.ask_folder = lambda *_: ""
    pick_model(combo, combo.findData(FOLDER))  # no folder yet: cancelled
    assert combo.key() == default and not combo.chosen_by_user
    assert not evaluate.pairing.by_user
    _chosen_folder(qtbot, evaluate, image_folder)
    shapes = finished_run("shapes-mlp-1", _shapes_bundle(tmp_path, tiny_experiment), epochs=1)
    window.train_panel.bundle_saved.emit(shapes)  # the folder goes back to the split
    qtbot.waitUntil(lambda: combo.key() == VAL, timeout=TIMEOUT_MS)
    evaluate.ask_folder = lambda *_: ""
    pick_model(combo, combo.findData(FOLDER))  # "Folder: colours", then cancelled
    assert combo.key() == VAL and not evaluate.pairing.by_user
    _close(window)

    _reopens_on_its_validation_split(qtbot, shapes)
