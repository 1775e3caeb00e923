"""The k the user set for the top-k accuracy on the Evaluate tab comes back with its model
after a restart (tester report "walk-manyclasses", item 8): the README says k is 5 "unless
you set it for that model". The session keeps ``{bundle: k}`` for models still there; a
session file of an earlier version (no ``"top_k"``) reads as before."""

from __future__ import annotations

import json
import os

import workbench.qt.app as app
from workbench.core.session import session_path, session_text, write_session
from workbench.qt.panels.evaluate.state import evaluate_state, restore_evaluate_state
from workbench.qt.workers import task_pool

from helpers import finished_run, random_bundle
from qt_helpers import pick_model

TIMEOUT_MS = 60000
WIDE = [f"class_{i}" for i in range(8)]  # default k: 5 (3 classes: 2)


def _window(qtbot):
    window = app.create_window()
    qtbot.addWidget(window)
    evaluate = window.evaluate_panel
    with qtbot.waitSignal(evaluate.chooser.runs_listed, timeout=TIMEOUT_MS):
        evaluate.refresh_runs()
    return window, evaluate


def _close(window) -> None:
    window.close()
    task_pool().waitForDone()


def test_the_k_set_for_each_model_comes_back_after_a_restart(qtbot, tmp_path,
                                                             tiny_experiment, bundle_path):
    last = finished_run("colours-mlp-1", bundle_path)  # 3 classes: the tab's own choice
    wide = finished_run("wide-1", random_bundle(tmp_path / "wide.pt", tiny_experiment, WIDE)[0])
    write_session(session_text(tiny_experiment, b"", "Evaluate", os.path.dirname(last)))
    window, evaluate = _window(qtbot)
    assert evaluate.bundle_path() == last and evaluate.top_k.value() == 2
    evaluate.top_k.setValue(1)  # for the model the tab chose by itself
    pick_model(evaluate.chooser.combo, wide)
    assert evaluate.top_k.value() == 5
    evaluate.top_k.setValue(3)
    _close(window)
    assert json.loads(session_path().read_text())["evaluate"]["top_k"] == {last: 1, wide: 3}

    again, evaluate = _window(qtbot)
    assert evaluate.bundle_path() == wide
    assert evaluate.top_k.value() == 3  # was 5: the default again
    pick_model(evaluate.chooser.combo, last)
    assert evaluate.top_k.value() == 1
    _close(again)


def test_a_model_not_chosen_again_gets_its_k_back_too(qtbot, tmp_path, tiny_experiment,
                                                     bundle_path):
    last = finished_run("colours-mlp-1", bundle_path)
    write_session(session_text(tiny_experiment, b"", "Evaluate", os.path.dirname(last)))
    window, evaluate = _window(qtbot)
    evaluate.top_k.setValue(1)  # the model stays the tab's own choice (none is kept)
    _close(window)
    kept = json.loads(session_path().read_text())["evaluate"]
    assert "bundle" not in kept and kept["top_k"] == {last: 1}
    again, evaluate = _window(qtbot)
    assert evaluate.bundle_path() == last and evaluate.top_k.value() == 1
    _close(again)


def test_older_and_damaged_top_k_entries_read_as_before_and_gone_models_are_dropped(
        make_evaluate_panel, tmp_path, tiny_experiment, bundle_path):
    wide = random_bundle(tmp_path / "wide.pt", tiny_experiment, WIDE)[0]
    gone = str(tmp_path / "deleted-run" / "bundle.pt")
    panel = make_evaluate_panel()
    restore_evaluate_state(panel, {"bundle": str(wide)})  # a session of an earlier version
    assert panel.top_k.value() == 5
    assert "top_k" not in evaluate_state(panel)  # nothing set: the file reads as before

    panel = make_evaluate_panel()
    restore_evaluate_state(panel, {"bundle": str(wide), "top_k": {
        str(wide): 4, bundle_path: True, gone: 3, "": 2, str(tmp_path / "x.pt"): "7"}})
    assert panel.top_k.value() == 4
    panel.set_bundle(bundle_path)
    assert panel.top_k.value() == 2  # True is no k: the model's default
    assert evaluate_state(panel)["top_k"] == {str(wide): 4}  # a deleted model's is dropped

    panel = make_evaluate_panel()
    restore_evaluate_state(panel, {"bundle": str(wide), "top_k": [3]})  # not a map
    assert panel.top_k.value() == 5
