"""The session file (workbench.core.session): what the app reopens with, read tolerantly."""

from __future__ import annotations

import json

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.io import data_home
from workbench.core.session import (SESSION_VERSION, keep_aside, read_session, session_path,
                                    session_text, write_session)


def _edited() -> Experiment:
    exp = Experiment(name="pets")
    exp.data.folder = "/data/pets"
    exp.data.channels, exp.data.mean, exp.data.std = 1, [0.5], [0.25]
    exp.augment.transforms = [Component("RandomRotation", {"degrees": 12.0})]
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 7})]
    exp.model.preset = None
    exp.optimizer = Component("SGD", {"lr": 0.05, "momentum": 0.8})
    return exp


def test_a_written_session_reads_back_whole(tmp_path):
    path = tmp_path / "session.json"
    write_session(session_text(_edited(), b"\x01\x02geometry\xff", "Model", "/runs/a-1"), path)
    session = read_session(path)
    assert session.problem == "" and session.last_run == "/runs/a-1"
    assert session.experiment.to_dict() == _edited().validate().to_dict()
    assert session.geometry == b"\x01\x02geometry\xff"
    assert session.tab == "Model"
    doc = json.loads(path.read_text())
    assert doc["session_version"] == SESSION_VERSION
    assert doc["experiment"]["optimizer"]["type"] == "SGD"


def test_a_session_of_an_older_app_or_a_damaged_last_run_just_has_none(tmp_path):
    path = tmp_path / "session.json"
    doc = json.loads(session_text(_edited(), b"", "Train"))
    for train in (None, [], {"last_run": 7}):
        if train is None:
            doc.pop("train")
        else:
            doc["train"] = train
        path.write_text(json.dumps(doc))
        session = read_session(path)
        assert session.problem == "" and session.last_run == "" and session.tab == "Train"


def test_the_file_lives_in_the_data_directory():
    assert session_path() == data_home() / "session.json"
    write_session(session_text(Experiment(), b"", "Data"))
    assert read_session().tab == "Data"


def test_equal_states_give_equal_text_and_a_change_changes_it():
    exp = _edited()
    text = session_text(exp, b"g", "Train")
    assert session_text(exp.copy(), b"g", "Train") == text
    exp.optimizer.params["lr"] = 0.01
    assert session_text(exp, b"g", "Train") != text
    assert session_text(_edited(), b"h", "Train") != text  # the window moved
    assert session_text(_edited(), b"g", "Runs") != text


def test_no_file_is_a_fresh_start_without_a_problem(tmp_path):
    session = read_session(tmp_path / "nothing.json")
    assert session.experiment is None and session.problem == "" and session.tab == ""


def test_bad_json_names_the_file_and_the_place(tmp_path):
    path = tmp_path / "session.json"
    path.write_text('{"session_version": 1, "experiment": {')
    session = read_session(path)
    assert session.experiment is None
    assert str(path) in session.problem and "not valid JSON" in session.problem
    assert "line 1" in session.problem and "default experiment" in session.problem


def test_a_file_that_is_not_a_session_is_refused(tmp_path):
    path = tmp_path / "session.json"
    for text, expected in (("[1, 2]", "not a JSON object"),
                           ('{"experiment": {}}', "session_version"),
                           ('{"session_version": 99, "experiment": {}}', "newer Workbench")):
        path.write_text(text)
        session = read_session(path)
        assert session.experiment is None and expected in session.problem, text


def test_an_invalid_value_resets_that_field_alone_and_the_window_state_is_kept(tmp_path):
    path = tmp_path / "session.json"
    text = session_text(_edited(), b"geo", "Augment")
    doc = json.loads(text)
    doc["experiment"]["data"]["batch_size"] = -3
    path.write_text(json.dumps(doc))
    session = read_session(path)
    assert session.problem == "" and session.damaged
    assert session.resets == ["data.batch_size: -3 is below the minimum 1 (reset to 32)"]
    expected = _edited().validate()
    assert session.experiment.to_dict() == expected.to_dict()  # all but batch_size (32)
    assert (session.geometry, session.tab) == (b"geo", "Augment")


def test_structure_only_reading_leaves_the_registries_for_later(tmp_path):
    path = tmp_path / "session.json"
    doc = json.loads(session_text(_edited()))
    doc["model"] = None  # not a field of the session: ignored
    doc["experiment"]["optimizer"] = {"type": "NoSuchOptimizer", "params": {}}
    path.write_text(json.dumps(doc))
    # The structure is fine: a start-up that cannot import torch yet takes it as it is...
    unchecked = read_session(path, validate=False)
    assert unchecked.problem == "" and unchecked.experiment.optimizer.type == "NoSuchOptimizer"
    # ...and the registries refuse it once they are there: that component alone is reset.
    checked = read_session(path)
    assert checked.experiment.optimizer.type == "Adam" and checked.experiment.name == "pets"
    assert checked.experiment.to_dict()["model"] == _edited().validate().to_dict()["model"]
    assert "optimizer.type: unknown optimizer 'NoSuchOptimizer' (reset to the default: " \
        "Adam (lr 0.001" in checked.resets[0]
    # A wrong type is caught without the registries.
    doc["experiment"]["data"]["channels"] = "three"
    path.write_text(json.dumps(doc))
    assert "data.channels" in read_session(path, validate=False).resets[0]


def test_a_damaged_geometry_or_tab_is_only_dropped(tmp_path):
    path = tmp_path / "session.json"
    doc = json.loads(session_text(_edited(), b"geo", "Model"))
    doc["window"] = {"geometry": "not base64!", "tab": 7}
    path.write_text(json.dumps(doc))
    session = read_session(path)
    assert session.problem == "" and session.experiment.name == "pets"
    assert (session.geometry, session.tab) == (b"", "")


def test_keep_aside_moves_the_unreadable_file_next_to_it(tmp_path):
    path = tmp_path / "session.json"
    path.write_text("{oops")
    kept = keep_aside(path)
    assert kept == tmp_path / "session.unreadable.json"
    assert kept.read_text() == "{oops" and not path.exists()
    assert keep_aside(path) is None  # nothing left to move


def test_numpy_scalars_a_widget_left_behind_are_written_as_numbers(tmp_path):
    import numpy as np

    exp = _edited()
    exp.optimizer.params["lr"] = np.float32(0.25)
    path = tmp_path / "session.json"
    write_session(session_text(exp), path)
    assert read_session(path).experiment.optimizer.params["lr"] == 0.25
