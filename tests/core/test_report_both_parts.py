"""What a user comparing runs reads: a run's report evaluates its model on the validation
split (the Runs tab's Val acc %, which every run has) and, where the dataset has a test part,
on that part too, each labelled; the CSV export's per-class table ends with the macro
average, as the printout and the Evaluate tab's table do."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from helpers import make_image_folder, report_html
from workbench.core.evaluate.evaluation import EvaluationResult, evaluate
from workbench.core.experiment import Experiment
from workbench.core.train.run import run_training


def _trained(tmp_path, parts: tuple[str, ...]):
    root = tmp_path / "data"
    for part in parts:
        make_image_folder(root / part, per_class=6, size=16, seed=len(part))
    exp = Experiment(name="parts")
    exp.data.folder = str(root)
    exp.data.input_size = [16, 16]
    exp.training.epochs = 1
    exp.training.device = "cpu"
    assert run_training(exp.validate(), tmp_path / "run").status == "finished"
    return tmp_path / "run"


def _report(capsys, run, tmp_path) -> str:
    return report_html(capsys, run, tmp_path / "r.html")


def test_a_dataset_with_a_test_part_is_reported_on_both_parts(capsys, tmp_path):
    run = _trained(tmp_path, ("train", "val", "test"))
    text = _report(capsys, run, tmp_path)
    val = evaluate(str(run / "bundle.pt"), split="val")
    test = evaluate(str(run / "bundle.pt"), split="test")
    # Both figures at the top of the evaluation, then each part in full under its heading.
    assert (f"<p>Accuracy {100 * val.accuracy:.2f}% on the validation split, "
            f"{100 * test.accuracy:.2f}% on the test part (never trained on); each is "
            f"detailed below.</p>") in text
    assert text.index("<h3>On the validation split</h3>") < \
        text.index("<h3>On the test part, never trained on</h3>")
    assert re.search(rf"Accuracy {100 * val.accuracy:.2f}%[^<]* on {val.num_images} images "
                     rf"\(the validation split\)", text)
    assert re.search(rf"Accuracy {100 * test.accuracy:.2f}%[^<]* on {test.num_images} images "
                     rf"\(the test part, never trained on\)", text)
    assert text.count('aria-label="confusion matrix') == 2
    assert len(re.findall(r"<h4>Per class</h4>", text)) == 2
    assert text.count("<td>macro average</td>") == 2


def test_a_dataset_without_a_test_part_is_reported_on_its_validation_split(capsys, tmp_path):
    run = _trained(tmp_path, ("train", "val"))
    text = _report(capsys, run, tmp_path)
    val = evaluate(str(run / "bundle.pt"), split="val")
    assert re.search(rf"Accuracy {100 * val.accuracy:.2f}%[^<]* on {val.num_images} images "
                     rf"\(the validation split\)", text)
    assert "On the validation split" not in text and "test part" not in text
    assert text.count('aria-label="confusion matrix') == 1
    assert "<h3>Per class</h3>" in text


def test_the_per_class_csv_ends_with_the_macro_average(tmp_path):
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], dtype=np.float32)
    y = np.array([0, 1, 1])
    r = EvaluationResult(classes=["cat", "dog"], paths=["a.png", "b.png", "c.png"],
                         y_true=y, probs=probs, losses=-np.log(probs[np.arange(3), y]),
                         top_k=2)
    r.write_csvs(tmp_path / "out")
    rows = list(csv.DictReader((tmp_path / "out" / "per_class.csv").open()))
    assert [row["class"] for row in rows] == ["cat", "dog", "macro average"]
    macro = r.macro_average()
    last = rows[-1]
    assert [float(last[k]) for k in ("precision", "recall", "f1")] == pytest.approx(
        [macro["precision"], macro["recall"], macro["f1"]], abs=1e-6)
    assert int(last["support"]) == r.num_images == 3
    # One row, one place: per_class_csv (measured before: no macro row) writes the same.
    r.per_class_csv(tmp_path / "alone.csv")
    assert (tmp_path / "alone.csv").read_text() == \
        (tmp_path / "out" / "per_class.csv").read_text()


def test_a_test_part_with_no_image_to_evaluate_is_reported_on_the_validation_split(
        capsys, tmp_path):
    # Measured before: "auto" took the empty test part, found no image, and the report
    # said "Not evaluated", the validation split with it.
    run = _trained(tmp_path, ("train", "val"))
    root = tmp_path / "data"
    for name in ("blue", "green", "red"):  # test/ of empty class folders
        (root / "test" / name).mkdir(parents=True)
    text = _report(capsys, run, tmp_path)
    assert "Not evaluated" not in text
    assert re.search(r"Accuracy [\d.]+%[^<]* on \d+ images \(the validation split\)", text)
    assert (f"Note: {root} has no test image to evaluate (its test/ folder holds no "
            f"images): evaluated on its validation split instead") in text
    with pytest.raises(Exception, match="its test/ folder holds no images\\): put images "
                                        "in it, or evaluate its validation split instead"):
        evaluate(str(run / "bundle.pt"), split="test")


def test_the_apps_exclusions_since_training_apply_to_the_test_part(tmp_path):
    # The Evaluate tab passes the open experiment's data section (current): a test image
    # excluded there after the run is left out, said; every one excluded: the validation
    # split is evaluated instead, said too.
    run = _trained(tmp_path, ("train", "val", "test"))
    root = tmp_path / "data"
    bundle = str(run / "bundle.pt")
    whole = evaluate(bundle, split="test")
    now = Experiment(name="now")
    now.data.folder = str(root)
    now.data.exclude = ["test/blue/blue_000.png"]
    fewer = evaluate(bundle, current=now.data)
    assert fewer.split == "test" and fewer.num_images == whole.num_images - 1
    assert any(n.startswith("1 test image excluded (data.exclude) since the model was "
                            "trained is left out too: test/blue/blue_000.png")
               for n in fewer.notes)
    now.data.exclude = sorted(str(p.relative_to(root)) for p in (root / "test").rglob("*.png"))
    val = evaluate(bundle, current=now.data)
    assert val.split == "val" and any("has no test image to evaluate (data.exclude leaves "
                                      "out all" in n for n in val.notes)
