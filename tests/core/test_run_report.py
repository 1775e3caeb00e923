"""``workbench report``: a run as one self-contained HTML file."""

from __future__ import annotations

import re

from helpers import make_image_folder, report_html, run_cli
from workbench.core.experiment import Experiment
from workbench.core.runs.store import update_run_info
from workbench.core.train.run import run_training


def test_the_report_is_one_html_file_with_everything_embedded(capsys, tmp_path):
    exp = Experiment(name="report-me")
    exp.data.folder = make_image_folder(tmp_path / "data", per_class=20, size=16)
    exp.data.input_size = [16, 16]
    exp.training.epochs = 2
    exp.training.device = "cpu"
    outcome = run_training(exp.validate(), tmp_path / "run")
    assert outcome.status == "finished"
    update_run_info(tmp_path / "run", findings=[{
        "kind": "overfitting", "epoch": 2, "severity": "warning",
        "message": "the validation loss <rose>", "fix": "turn on early stopping",
        "action": None}])
    text = report_html(capsys, tmp_path / "run", tmp_path / "r.html")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    # Nothing fetched from anywhere: no URL, no external src or href.
    bare = re.sub(r"base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"(https?:)?//|url\(", bare)
    assert not re.search(r'(src|href)="(?!data:)', text)
    # The images are embedded: the confusion matrix (inline SVG) and the largest-loss
    # thumbnails.
    assert text.count('aria-label="confusion matrix') == 1
    assert text.count('src="data:image/jpeg;base64,') >= 5
    for part in ("Conv2d", "150,979 parameters", "Adam", "<svg", "Per class", "precision",
                 "Largest losses", "overfitting", "the validation loss &lt;rose&gt;",
                 "PyTorch", "Flip left-right", "each row is a true class"):
        assert part in text, part
    # The saved model's own figures, as the Runs tab shows them, and how it was validated.
    assert re.search(r"The saved model holds epoch 2: validation accuracy \d+\.\d\d%", text)
    assert "validation share 0.2 (seed 0)" in text
    # Said as the Runs tab says it (its table shows no loss; status in words).
    assert "the accuracy is the Runs tab's Val acc %" in text
    assert re.search(r"Status <b>[a-z ]+</b>, \d+ of \d+ epochs", text)
    # The accuracy curve's axis is in % like the text, not in fractions.
    acc = re.search(r'<svg[^>]*aria-label="Accuracy[^"]*".*?</svg>', text).group(0)
    ticks = re.findall(r'<text x="4" y="[\d.]+">([^<]+)</text>', acc)
    assert len(ticks) == 3 and all(t.endswith("%") for t in ticks), ticks
    assert all(0 <= float(t[:-1]) <= 100 for t in ticks) and float(ticks[-1][:-1]) > 1


def test_a_dataset_with_its_own_val_folder_is_reported_as_such(capsys, tmp_path):
    # From a user's day: a train/ val/ test/ dataset was reported as "validation share 0.2".
    root = tmp_path / "data"
    for part in ("train", "val", "test"):
        make_image_folder(root / part, per_class=6, size=16)
    exp = Experiment(name="split")
    exp.data.folder = str(root)
    exp.data.input_size = [16, 16]
    exp.training.epochs = 1
    exp.training.device = "cpu"
    assert run_training(exp.validate(), tmp_path / "run").status == "finished"
    text = report_html(capsys, tmp_path / "run", tmp_path / "r.html")
    assert "validation on its own val/ folder; its test/ part never trained on" in text
    assert "validation share" not in text
    assert "The saved model holds epoch 1" in text and "the test part, never trained on" in text


def test_a_folder_without_a_run_is_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "report", tmp_path, "-o", tmp_path / "r.html")
    assert code == 2 and "holds no run" in err and err.count("\n") == 1


def test_curve_legend_sits_above_the_plot_area_not_on_the_lines():
    from workbench.core.runs.report import curve_svg

    history = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e} for e in range(1, 6)]
    svg = curve_svg(history, ("train_loss", "val_loss"), "Loss")
    top = float(re.search(r'<rect x="[\d.]+" y="([\d.]+)"', svg).group(1))
    for name in ("training", "validation"):
        y = float(re.search(rf'<text x="[\d.]+" y="([\d.]+)"[^>]*>{name}</text>', svg).group(1))
        assert y < top, name  # in the title row, above every curve
    ys = [float(p.split(",")[1]) for pts in re.findall(r'points="([^"]+)"', svg)
          for p in pts.split()]
    assert min(ys) >= top
