"""The Evaluate and Predict tabs' part of the session file (workbench.core.session): kept,
read back, Predict's image list capped and written last, so a file cut short in it keeps
the experiment."""

from __future__ import annotations

import json

from workbench.core.experiment import Experiment
from workbench.core.session import MAX_PREDICT_IMAGES, read_session, session_text


def _exp() -> Experiment:
    exp = Experiment(name="pets")
    exp.data.folder = "/data/pets"
    exp.training.epochs = 7
    return exp


EVALUATE = {"bundle": "/runs/b/bundle.pt", "data": "folder", "folder": "/data/ds2"}


def test_evaluate_and_predict_read_back(tmp_path):
    path = tmp_path / "session.json"
    predict = {"bundle": "/runs/b/bundle.pt", "images": ["/img/a.png", "/img/b.png"]}
    path.write_text(session_text(_exp(), b"", "Predict", evaluate=EVALUATE, predict=predict))
    session = read_session(path)
    assert session.problem == "" and session.evaluate == EVALUATE
    assert session.predict == predict


def test_predict_images_are_capped_and_written_after_the_experiment(tmp_path):
    images = [f"/photos/holiday/img_{i:05d}.jpg" for i in range(MAX_PREDICT_IMAGES + 200)]
    text = session_text(_exp(), b"", "Predict", evaluate=EVALUATE,
                        predict={"images": images, "bundle": "/runs/b/bundle.pt"})
    doc = json.loads(text)
    assert list(doc)[-3:] == ["evaluate", "experiment", "predict"]
    assert list(doc["predict"]) == ["bundle", "images"]
    assert doc["predict"]["images"] == images[:MAX_PREDICT_IMAGES]
    # A file cut short in the image list (a full disk) keeps all the rest.
    path = tmp_path / "session.json"
    path.write_text(text[:text.index(images[300])])
    session = read_session(path)
    assert session.experiment is not None and session.resets == []
    assert session.experiment.training.epochs == 7
    assert session.evaluate == EVALUATE
    # ... and the images listed whole before the cut.
    assert session.predict == {"bundle": "/runs/b/bundle.pt", "images": images[:300]}
    assert "predict.images" in session.problem


def test_a_bad_value_in_them_is_dropped_alone(tmp_path):
    path = tmp_path / "session.json"
    doc = json.loads(session_text(_exp(), b"", "Predict", evaluate=EVALUATE))
    doc["predict"] = ["not", "an", "object"]
    path.write_text(json.dumps(doc))
    session = read_session(path)
    assert session.predict == {} and session.evaluate == EVALUATE
    assert session.experiment.training.epochs == 7 and session.problem == ""
