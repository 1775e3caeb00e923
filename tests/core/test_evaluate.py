"""Evaluation: metrics against hand-computed confusion matrices, `evaluate` on a trained
bundle, its exports, and `workbench evaluate`."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from helpers import make_image_folder
from workbench.cli import main
from workbench.core.errors import DataError
from workbench.core.evaluate.evaluation import EvaluationCancelled, EvaluationResult, evaluate
from workbench.core.evaluate.metrics import (confidence_histogram, confusion_matrix,
                                             macro_average, most_confused, normalized_confusion,
                                             per_class_metrics, top_k_accuracy)

# Four classes: 2 is never predicted, 3 is predicted once but has no images.
Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2]
Y_PRED = [0, 0, 1, 1, 0, 1, 3, 1]
CONFUSION = [[2, 1, 0, 0],
             [1, 1, 0, 0],
             [0, 2, 0, 1],
             [0, 0, 0, 0]]


# -- pure metrics --------------------------------------------------------------------------
def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    m = confusion_matrix(Y_TRUE, Y_PRED, 4)
    assert m.tolist() == CONFUSION
    assert m.sum() == len(Y_TRUE)
    with pytest.raises(ValueError):
        confusion_matrix([0, 4], [0, 0], 4)


def test_per_class_metrics_by_hand_with_zero_divisions_as_zero():
    rows = per_class_metrics(np.array(CONFUSION), ["a", "b", "c", "d"])
    by = {r["class"]: r for r in rows}
    assert by["a"]["precision"] == pytest.approx(2 / 3)
    assert by["a"]["recall"] == pytest.approx(2 / 3)
    assert by["a"]["f1"] == pytest.approx(2 / 3)
    assert by["b"]["precision"] == pytest.approx(1 / 4)  # predicted 4 times, right once
    assert by["b"]["recall"] == pytest.approx(1 / 2)
    assert by["b"]["f1"] == pytest.approx(1 / 3)
    # Never predicted: precision 0/0 -> 0.0; recall 0/3.
    assert (by["c"]["precision"], by["c"]["recall"], by["c"]["f1"], by["c"]["support"]) == \
        (0.0, 0.0, 0.0, 3)
    # No images: recall and F1 not measured (None, not a 0 that reads as a failure);
    # precision is measured (predicted once, wrongly: 0/1).
    assert (by["d"]["precision"], by["d"]["recall"], by["d"]["f1"], by["d"]["support"]) == \
        (0.0, None, None, 0)
    assert [r["support"] for r in rows] == [3, 2, 3, 0]
    # Neither images nor predictions: nothing is measured.
    empty = per_class_metrics(np.array([[1, 0], [0, 0]]), ["a", "b"])[1]
    assert (empty["precision"], empty["recall"], empty["f1"]) == (None, None, None)


def test_macro_average_and_normalised_confusion():
    macro = macro_average(np.array(CONFUSION))
    assert macro["precision"] == pytest.approx((2 / 3 + 1 / 4 + 0 + 0) / 4)
    # Recall and F1 average the three classes with images ("d" has none), unlike
    # scikit-learn's default, which would count d as 0 and divide by 4.
    assert macro["recall"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert macro["f1"] == pytest.approx((2 / 3 + 1 / 3 + 0) / 3)
    n = normalized_confusion(np.array(CONFUSION))
    assert n[2].tolist() == pytest.approx([0, 2 / 3, 0, 1 / 3])
    assert n[3].tolist() == [0, 0, 0, 0]  # no support: zeros, not NaN


def test_most_confused_orders_off_diagonal_pairs_by_count():
    pairs = most_confused(np.array(CONFUSION), ["a", "b", "c", "d"], n=3)
    assert pairs == [{"true": "c", "predicted": "b", "count": 2},
                     {"true": "a", "predicted": "b", "count": 1},
                     {"true": "b", "predicted": "a", "count": 1}]
    assert most_confused(np.eye(3, dtype=int) * 5, ["a", "b", "c"]) == []


def test_top_k_accuracy_by_hand_with_ties_in_the_images_favour():
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.4, 0.4, 0.2]])
    y = [1, 0, 1]
    assert top_k_accuracy(probs, y, 1) == pytest.approx(1 / 3)  # only the tie
    assert top_k_accuracy(probs, y, 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(probs, y, 3) == 1.0
    assert top_k_accuracy(probs, y, 10) == 1.0


def test_confidence_histogram_splits_right_and_wrong_and_gives_ece():
    h = confidence_histogram([0.05, 0.15, 0.95, 1.0, 0.55], [False, True, True, True, False],
                             bins=10)
    assert len(h["edges"]) == 11 and h["edges"][0] == 0.0 and h["edges"][-1] == 1.0
    assert h["correct"] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 2]  # 1.0 falls in the last bin
    assert h["wrong"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert h["accuracy"][9] == 1.0 and h["accuracy"][3] is None
    assert h["mean_confidence"][9] == pytest.approx(0.975)
    assert h["ece"] == pytest.approx((0.05 + 0.85 + 0.55 + 2 * 0.025) / 5)


def test_result_exports_by_hand(tmp_path):
    """A result built from known probabilities writes the numbers computed by hand."""
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], dtype=np.float32)
    y = np.array([0, 1, 1])
    r = EvaluationResult(classes=["cat", "dog"], paths=["a.png", "b.png", "c,d.png"],
                         y_true=y, probs=probs, losses=-np.log(probs[np.arange(3), y]),
                         top_k=2, unreadable=[("bad.png", "empty file (0 bytes)")])
    assert r.confusion.tolist() == [[1, 0], [1, 1]]
    assert r.accuracy == pytest.approx(2 / 3)
    r.per_class_csv(tmp_path / "pc.csv")
    assert (tmp_path / "pc.csv").read_text() == ("class,precision,recall,f1,support\n"
                                                 "cat,0.5,1,0.666667,1\n"
                                                 "dog,1,0.5,0.666667,2\n"
                                                 "macro average,0.75,0.75,0.666667,3\n")
    r.confusion_csv(tmp_path / "cm.csv")
    assert list(csv.reader((tmp_path / "cm.csv").open())) == [
        ["true \\ predicted", "cat", "dog"], ["cat", "1", "0"], ["dog", "1", "1"]]
    r.predictions_csv(tmp_path / "pred.csv")
    rows = list(csv.DictReader((tmp_path / "pred.csv").open()))
    assert [row["path"] for row in rows] == ["a.png", "b.png", "c,d.png", "bad.png"]
    assert rows[2]["predicted"] == "cat" and rows[2]["correct"] == "0"
    assert float(rows[2]["loss"]) == pytest.approx(-np.log(0.4), rel=1e-5)
    assert rows[3]["error"] == "empty file (0 bytes)"
    worst = r.worst(1)[0]
    assert (worst["path"], worst["true"], worst["predicted"]) == ("c,d.png", "dog", "cat")
    assert worst["top"][0] == {"class": "cat", "prob": pytest.approx(0.6)}


# -- evaluate on a trained bundle ----------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component
    from workbench.core.train.trainer import Trainer

    root = tmp_path_factory.mktemp("evaluate")
    exp = Experiment()
    exp.data.folder = make_image_folder(root / "data", per_class=8)
    exp.data.input_size = [8, 8]
    exp.data.batch_size = 8
    exp.data.val_fraction = 0.25
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("ReLU"), Component("Linear")]
    exp.optimizer = Component("Adam", {"lr": 0.02})
    exp.training.epochs = 3
    exp.training.device = "cpu"
    path = Trainer(exp.validate()).fit().save_bundle(root / "run" / "bundle.pt")
    return path, Path(exp.data.folder)


def test_evaluate_matches_the_predictor_on_every_image(trained):
    from workbench.core.predict import Predictor

    bundle, folder = trained
    calls = []
    r = evaluate(bundle, folder, top_k=2, batch_size=5,
                 progress=lambda done, total: calls.append((done, total)))
    assert r.num_images == 24 and r.confusion.sum() == 24
    assert r.classes == ["blue", "green", "red"] and r.split == "all"
    preds = Predictor(bundle).predict(r.paths, top_k=1)
    expected = [p.top[0][0] for p in preds]
    assert [r.classes[i] for i in r.y_pred] == expected
    truth = [Path(p).parent.name for p in r.paths]
    assert r.accuracy == pytest.approx(np.mean([e == t for e, t in zip(expected, truth)]))
    assert calls[0] == (0, 24) and calls[-1] == (24, 24)
    assert r.top_k == 2 and r.top_k_accuracy >= r.accuracy


def test_without_a_folder_it_evaluates_the_training_validation_split(trained):
    from workbench.core.bundle import load_bundle
    from workbench.core.data.scan import scan_folder
    from workbench.core.data.split import split_for

    bundle, folder = trained
    r = evaluate(bundle)
    _, val = split_for(scan_folder(folder), load_bundle(bundle).experiment.data)
    assert r.split == "val" and sorted(r.paths) == sorted(p for p, _ in val)
    assert r.num_images == 6  # 2 of each class's 8


def test_folder_with_a_subset_of_classes_maps_them_by_name(trained, tmp_path):
    bundle, _ = trained
    sub = make_image_folder(tmp_path / "sub", classes=("red", "blue"), per_class=3)
    r = evaluate(bundle, sub)
    assert r.classes == ["blue", "green", "red"]  # the model's classes, not the folder's
    for path, label in zip(r.paths, r.y_true):
        assert r.classes[label] == Path(path).parent.name
    support = {row["class"]: row["support"] for row in r.per_class()}
    assert support == {"blue": 3, "green": 0, "red": 3}
    assert r.confusion[1].tolist() == [0, 0, 0]
    # green is not measured, not failed: "—" in the report, null in JSON, and a note.
    assert any("has no images of green: its recall is not measured" in n for n in r.notes)
    green = next(line for line in r.to_text().splitlines() if line.startswith("green"))
    assert green.split()[2:4] == ["\u2014", "\u2014"] and green.split()[-1] == "0"
    assert "0.000" not in green.split()[2:4]
    data = r.to_dict()
    row = next(c for c in data["per_class"] if c["class"] == "green")
    assert row["recall"] is None and row["f1"] is None
    measured = [c["recall"] for c in data["per_class"] if c["support"]]
    assert data["macro_average"]["recall"] == pytest.approx(sum(measured) / 2)


def test_cli_prints_a_note_for_a_class_the_test_part_lacks(trained, capsys, tmp_path):
    bundle, _ = trained
    root = tmp_path / "split"
    make_image_folder(root / "train", classes=("red", "blue", "green"), per_class=2)
    make_image_folder(root / "test", classes=("red", "blue"), per_class=2)
    code, out, err = run(capsys, "evaluate", str(bundle), str(root), "--split", "test")
    assert code == 0
    assert "note: test/ has no images of green: its recall is not measured" in err
    green = next(line for line in out.splitlines() if line.startswith("green"))
    assert "\u2014" in green and "0.000  0.000" not in green


def test_a_class_the_model_does_not_know_is_a_clear_error(trained, tmp_path):
    bundle, _ = trained
    other = make_image_folder(tmp_path / "other", classes=("red", "yellow"), per_class=2)
    with pytest.raises(DataError, match="'yellow'.*does not know"):
        evaluate(bundle, other)


def test_a_corrupt_image_is_counted_as_unreadable(trained, tmp_path):
    bundle, _ = trained
    sub = Path(make_image_folder(tmp_path / "sub", classes=("red", "green"), per_class=3))
    (sub / "red" / "broken.png").write_bytes(b"not a png at all")
    r = evaluate(bundle, sub)
    assert r.num_images == 6 and r.confusion.sum() == 6
    assert [Path(p).name for p, _ in r.unreadable] == ["broken.png"]
    assert r.unreadable[0][1]
    assert r.to_dict()["unreadable"][0]["path"].endswith("broken.png")


def test_a_set_stop_event_cancels(trained):
    bundle, folder = trained
    stop = threading.Event()
    stop.set()
    with pytest.raises(EvaluationCancelled):
        evaluate(bundle, folder, stop_event=stop)


# -- the command line ----------------------------------------------------------------------
def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_text_report(trained, capsys):
    bundle, folder = trained
    code, out, _ = run(capsys, "evaluate", str(bundle), str(folder), "--top-k", "2")
    assert code == 0
    assert "accuracy" in out and "top-2 accuracy" in out
    assert "confusion matrix" in out and "precision" in out
    for c in ("blue", "green", "red"):
        assert c in out
    # A k of 5 asked over 3 classes would always read 100%: it is left out, saying why.
    code, out, _ = run(capsys, "evaluate", str(bundle), str(folder), "--top-k", "5")
    assert code == 0 and "top-3 accuracy" not in out and "top-5" not in out
    assert "the model has 3 classes" in out and "--top-k 2" in out
    # By default k is 5 lowered below the number of classes, as on the Evaluate tab.
    code, out, _ = run(capsys, "evaluate", str(bundle), str(folder))
    assert code == 0 and "top-2 accuracy" in out and "the model has 3 classes" not in out


def test_cli_json_keys_and_csv_dir(trained, capsys, tmp_path):
    bundle, folder = trained
    code, out, err = run(capsys, "evaluate", str(bundle), str(folder), "--json",
                         "--csv-dir", str(tmp_path / "csv"))
    assert code == 0
    data = json.loads(out)
    assert {"accuracy", "per_class", "confusion", "classes", "top_k_accuracy", "num_images",
            "most_confused", "confidence_histogram", "worst", "unreadable"} <= set(data)
    assert data["classes"] == ["blue", "green", "red"]
    assert sum(map(sum, data["confusion"])) == data["num_images"] == 24
    assert data["top_k_accuracy"]["k"] == 2  # 5 by default, below the 3 classes
    pc = list(csv.DictReader((tmp_path / "csv" / "per_class.csv").open()))
    # The macro-average row last, as the text and the Evaluate tab's table end.
    assert [row["class"] for row in pc] == data["classes"] + ["macro average"]
    assert [int(row["support"]) for row in pc] == [8, 8, 8, 24]
    preds = list(csv.DictReader((tmp_path / "csv" / "predictions.csv").open()))
    assert len(preds) == 24
    assert np.mean([row["correct"] == "1" for row in preds]) == pytest.approx(data["accuracy"])
    assert "confusion.csv" in err


@pytest.mark.parametrize("case, words", [("missing_bundle", "does not exist"),
                                         ("empty_folder", "no labelled images"),
                                         ("unknown_class", "does not know")])
def test_cli_errors_are_one_line(trained, capsys, tmp_path, case, words):
    bundle, folder = trained
    if case == "missing_bundle":
        argv = [str(tmp_path / "nope.pt"), str(folder)]
    elif case == "empty_folder":
        (tmp_path / "empty").mkdir()
        argv = [str(bundle), str(tmp_path / "empty")]
    else:
        argv = [str(bundle), make_image_folder(tmp_path / "x", classes=("cat", "red"),
                                               per_class=1)]
    code, out, err = run(capsys, "evaluate", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_a_sure_prediction_has_loss_0_not_minus_0(trained, tmp_path):
    """A model sure of the true class (probability 1.0) has a loss of 0: predictions.csv
    writes "0", never "-0" (a negative loss to a reader)."""
    import torch

    from workbench.core.bundle import load_bundle, save_bundle

    bundle, folder = trained
    b = load_bundle(bundle)
    state = dict(b.state_dict)
    last_bias = [k for k in state if k.endswith("bias")][-1]
    state[last_bias] = torch.tensor([1000.0, 0.0, 0.0])  # always "blue", with certainty
    sure = save_bundle(tmp_path / "sure.pt", b.experiment, b.classes, state)
    r = evaluate(sure, folder)
    blue = r.y_true == 0
    assert blue.any() and (r.losses[blue] == 0).all()
    assert not np.signbit(r.losses).any()
    r.predictions_csv(tmp_path / "pred.csv")
    rows = list(csv.DictReader((tmp_path / "pred.csv").open()))
    losses = [row["loss"] for row in rows if row["true"] == "blue"]
    assert losses and set(losses) == {"0"}
    # A result whose loss is -0.0 however it was made is written 0 too.
    made = EvaluationResult(classes=["cat", "dog"], paths=["a.png"], y_true=np.array([0]),
                            probs=np.array([[1.0, 0.0]], dtype=np.float32),
                            losses=np.array([-0.0]))
    made.predictions_csv(tmp_path / "made.csv")
    assert next(csv.DictReader((tmp_path / "made.csv").open()))["loss"] == "0"
