"""The Predict tab says what became of each image (tester report "walk-predict"): a model
file moved or deleted leaves the results shown and the new images waiting, not "could not
be read"; images dropped again while being classified are "being classified already"; a
restart says how many images past the 500th were not kept, and where they were; the rows
say "Choosing a model…" until the tab has chosen its own; a Class filter cleared by a model
without that class is said."""

from __future__ import annotations

import os
import shutil
from types import SimpleNamespace

import pytest

from helpers import random_bundle
from workbench.core.events import CurrentExperiment
from workbench.core.io import runs_dir
from workbench.core.runs.store import write_run_info
from workbench.qt.panels.predict import state as predict_state_module
from workbench.qt.panels.predict.jobs import (CHOOSING_ROW, CHOOSING_TEXT, GONE_ROW,
                                              NO_MODEL_ROW, NO_MODEL_TEXT)
from workbench.qt.panels.predict.model import DONE, WAITING
from workbench.qt.panels.predict.panel import PredictPanel
from workbench.qt.panels.predict.state import (left_out_text, predict_state,
                                               restore_predict_state)

TIMEOUT_MS = 30000
COLOURS = ["blue", "green", "red"]


@pytest.fixture
def make_panel(kept_panels):
    """``make(...)``: a PredictPanel, shut down when the test ends."""
    return lambda *args, **kwargs: kept_panels(PredictPanel(*args, **kwargs))


def _classified(qtbot, panel, paths) -> None:
    panel.add_images(paths)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=TIMEOUT_MS)


def test_a_model_gone_keeps_the_results_and_new_images_wait(qtbot, make_panel, bundle_path,
                                                            image_folder, tmp_path):
    model = tmp_path / "moved" / "model.pt"
    model.parent.mkdir()
    shutil.copy(bundle_path, model)
    panel = make_panel(str(model))
    red = [str(image_folder / "red" / f"red_00{i}.png") for i in range(3)]
    _classified(qtbot, panel, red)
    before = [(r.path, r.status, r.top) for r in panel.rows]
    assert all(status == DONE for _, status, _ in before)
    os.remove(model)  # tidied away in a file manager

    new = str(image_folder / "green" / "green_000.png")
    rows = panel.add_images(red + [new])
    assert not panel.is_busy()  # nothing to classify with: no job
    assert [(r.path, r.status, r.top) for r in panel.rows[:3]] == before
    added = panel.rows[3]
    assert rows[-1] is added and added.path == new
    assert added.status == WAITING and added.message == GONE_ROW and added.error is None
    assert panel.bundle_label.level == "error"
    assert panel.bundle_label.text() == (f"The model {model} was moved or deleted: choose "
                                         f"another model in the list or Load bundle…")
    assert panel.status.level == "warning"
    assert panel.status.text() == ("1 image not classified: the model is gone (choose another "
                                   "above); 3 already listed keep their results")
    assert "could not be read" not in panel.status.text()
    # Only images listed, with their results: kept, and said so.
    panel.add_images(red)
    assert not panel.is_busy() and [r.status for r in panel.rows[:3]] == [DONE] * 3
    assert panel.status.text() == ("All 3 images already listed: 3 already listed keep their "
                                   "results (the model is gone: choose another above).")
    # Another model: every row is classified with it.
    panel.set_bundle(bundle_path)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=TIMEOUT_MS)
    assert [r.status for r in panel.rows] == [DONE] * 4
    assert panel.status.text() == "4 classified"


def test_images_the_model_failed_are_not_called_unreadable(qtbot, make_panel, tmp_path,
                                                           image_folder):
    fake = tmp_path / "fake.pt"
    fake.write_bytes(b"not a bundle")
    panel = make_panel(str(fake))
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(image_folder / "red" / "red_001.png")])
    assert panel.bundle_label.level == "error"
    assert panel.status.text() == ("0 classified, 1 not classified: the model could not be "
                                   "used (see above)")


def test_images_dropped_again_while_queued_are_being_classified(qtbot, make_panel,
                                                                bundle_path, image_folder):
    panel = make_panel(bundle_path)
    red, green = str(image_folder / "red"), str(image_folder / "green")
    panel.add_images([red])
    # Dropped again before any result came back (the rows are still queued).
    panel.add_images([red])
    assert panel.status.text() == "All 12 images are being classified already."
    panel.add_images([red, green])
    assert panel.status.text() == "Classifying 24 images… (12 already being classified)"
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=TIMEOUT_MS)
    assert len(panel.rows) == 24 and all(r.status == DONE for r in panel.rows)
    assert panel.status.text() == "24 classified"  # not "…; 12 not classified again"


def test_a_restart_says_how_many_images_were_not_kept_and_where(qtbot, make_panel,
                                                                 image_folder, monkeypatch):
    monkeypatch.setattr(predict_state_module, "MAX_PREDICT_IMAGES", 10)
    panel = make_panel()
    panel.add_images([str(image_folder / "red"), str(image_folder / "green")])
    state = predict_state(panel)
    assert len(state["images"]) == 10
    assert state["left_out"] == {"images": 14, "folders": [str(image_folder / "red"),
                                                           str(image_folder / "green")],
                                 "more_folders": 0}
    again = make_panel()
    restore_predict_state(again, state)
    assert len(again.rows) == 10
    assert again.status.level == "warning"
    assert again.status.text() == (
        f"14 more images listed last time were not kept (a session keeps the first 10): "
        f"drop them again, from {image_folder / 'red'} and {image_folder / 'green'}.")


def test_the_images_not_kept_name_their_first_folders():
    assert left_out_text({"images": 1, "folders": ["/a"], "more_folders": 0}) == (
        "1 more image listed last time was not kept (a session keeps the first 500): drop it "
        "again, from /a")
    assert left_out_text({"images": 90, "folders": ["/a", "/b", "/c"], "more_folders": 2}) \
        .endswith("drop them again, from /a, /b, /c and 2 more folders")
    for bad in (None, [], {"images": "9"}, {"images": True}, {"images": 0}):
        assert left_out_text(bad) == ""


def _saved_run(bundle: str) -> str:
    folder = runs_dir() / "colours-run"
    folder.mkdir(parents=True)
    shutil.copy(bundle, folder / "bundle.pt")
    write_run_info(folder, {"name": "colours-run", "status": "finished", "epochs_done": 1,
                            "epochs_planned": 1})
    return str(folder / "bundle.pt")


def test_rows_say_choosing_a_model_until_the_dataset_is_scanned(
        qtbot, make_panel, bundle_path, tiny_experiment, image_folder):
    run = _saved_run(bundle_path)
    current = CurrentExperiment(tiny_experiment)  # its folder not scanned yet (a restart)
    panel = make_panel(experiment=current)
    assert panel.bundle_path == "" and panel.bundle_label.text() == CHOOSING_TEXT
    [row] = panel.add_images([str(image_folder / "red" / "red_000.png")])
    assert row.status == WAITING and row.message == CHOOSING_ROW
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        current.set_dataset(SimpleNamespace(root=str(image_folder), classes=COLOURS))
    assert panel.bundle_path == run and row.status == DONE

    # The scan finds classes no saved run knows: only now "No model yet".
    other = CurrentExperiment(tiny_experiment)
    panel = make_panel(experiment=other)
    [row] = panel.add_images([str(image_folder / "red" / "red_000.png")])
    assert row.message == CHOOSING_ROW
    other.set_dataset(SimpleNamespace(root=str(image_folder), classes=["cat", "dog"]))
    assert panel.bundle_path == "" and panel.bundle_label.text() == NO_MODEL_TEXT
    assert row.status == WAITING and row.message == NO_MODEL_ROW


def test_no_model_yet_at_once_when_nothing_could_be_chosen(qtbot, make_panel, bundle_path,
                                                           tiny_experiment, tmp_path):
    current = CurrentExperiment(tiny_experiment)
    assert make_panel(experiment=current).bundle_label.text() == NO_MODEL_TEXT  # no run
    _saved_run(bundle_path)
    tiny_experiment.data.folder = str(tmp_path / "unplugged")  # no scan will come
    assert make_panel(experiment=current).bundle_label.text() == NO_MODEL_TEXT


def test_a_model_without_the_filtered_class_clears_the_filter_and_says_so(
        qtbot, make_panel, bundle_path, tiny_experiment, image_folder, tmp_path):
    panel = make_panel(bundle_path)
    _classified(qtbot, panel, [str(image_folder / "red"), str(image_folder / "blue")])
    shown = panel.rows[0].predicted
    panel.set_class_filter(shown)
    assert panel.proxy.class_name == shown
    other, _ = random_bundle(tmp_path / "other.pt", tiny_experiment,
                             classes=("cyan", "magenta", "yellow"))
    panel.set_bundle(str(other))
    # At once: not "No prediction matches the filters" while the rows are classified again.
    assert panel.proxy.class_name is None and panel.class_combo.currentIndex() == 0
    assert not panel.filter_note.isVisibleTo(panel)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=TIMEOUT_MS)
    assert panel.status.text() == (f"24 classified; the Class filter ({shown}) was cleared: "
                                   f"the model has no class {shown}")
