"""``workbench report`` of a run on unequal classes: it names the class balance, ends the
per-class table with the macro average ``workbench evaluate`` prints, and keeps the
evaluation's notes (from a user's day: an 80-class, imbalanced run's report read
"class_weights []", as if unweighted, and gave the accuracy alone)."""

from __future__ import annotations

import re

import pytest

from helpers import make_image_folder, report_html, run_cli
from workbench.core.experiment import Experiment
from workbench.core.train.run import run_training


def _imbalanced_run(tmp_path, balance: str):
    root = tmp_path / "data"
    make_image_folder(root, classes=("blue", "green"), per_class=12, size=8)
    make_image_folder(root, classes=("red",), per_class=3, size=8, seed=1)
    make_image_folder(root, classes=("yellow",), per_class=1, size=8, seed=2)  # never validated
    exp = Experiment(name="unequal")
    exp.data.folder = str(root)
    exp.data.input_size = [8, 8]
    exp.data.balance = balance
    exp.training.epochs = 1
    exp.training.device = "cpu"
    assert run_training(exp.validate(), tmp_path / "run").status == "finished"
    return tmp_path / "run"


@pytest.mark.parametrize("balance, words", [("weighted_loss", "the class-weighted loss"),
                                            ("weighted_sampler", "the weighted sampler")])
def test_the_report_names_the_class_balance_and_gives_the_macro_row_and_notes(
        capsys, tmp_path, balance, words):
    from workbench.core.evaluate.evaluation import evaluate

    run = _imbalanced_run(tmp_path, balance)
    text = report_html(capsys, run, tmp_path / "r.html")
    # The Data paragraph says how the classes were evened out, in the Data tab's words.
    assert f"class balance: {words}." in text
    # A class-weighted loss is not shown as an unweighted one ("class_weights []"); the
    # sampler's loss is unweighted.
    weighted = balance == "weighted_loss"
    assert ("class_weights []" in text) is not weighted
    assert ("class_weights from the class sizes" in text) is weighted

    # The macro-average row: the same figures `workbench evaluate` prints for the bundle.
    r = evaluate(str(run / "bundle.pt"))
    macro = r.macro_average()
    row = re.search(r"<tr><td>macro average</td>(.*?)</tr>", text)
    assert row, "no macro-average row under the per-class table"
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    assert cells == [f"{macro[k]:.3f}" for k in ("precision", "recall", "f1")] \
        + [str(r.num_images)]
    assert text.index("macro average") > text.index("<h3>Per class</h3>")
    cli = run_cli(capsys, "evaluate", run / "bundle.pt")[1]
    assert re.search(r"macro average\s+" + r"\s+".join(cells[:3]), cli)

    # The top-k accuracy (k below the 4 classes) and the evaluation's notes: "yellow"
    # has no validation image, so its recall is not measured.
    assert re.search(rf"top-{r.top_k} accuracy \d+\.\d\d%", text) and r.top_k < 4
    assert r.notes and any("yellow" in n for n in r.notes)
    evaluation = text[text.index("<h2>Evaluation</h2>"):]
    for note in r.notes:
        assert f"Note: {note}".replace("'", "&#x27;") in evaluation, note


def test_an_unbalanced_run_says_none(capsys, tmp_path):
    run = _imbalanced_run(tmp_path, "none")
    assert run_cli(capsys, "report", run, "-o", tmp_path / "r.html")[0] == 0
    text = (tmp_path / "r.html").read_text()
    assert "class balance: none." in text and "class_weights []" in text
