"""The CLI on datasets of unequal classes with names in any script: ``check`` reports a
strong imbalance of the training split as the Data tab measures it (naming the largest and
the smallest class, a note that ``--strict`` does not fail on), and the column-aligned
tables of ``scan`` and ``evaluate`` stay in line with CJK and emoji names (padded by
terminal columns, not by characters)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from helpers import make_image_folder, random_bundle, run_cli
from workbench.core.data.scan import scan_folder
from workbench.core.data.usage import usable_split
from workbench.core.experiment import Experiment
from workbench.core.registry import Component as C

SIZES = {"Northern_rough-winged_swallow": 40, "x": 2, "中文类别名称": 6, "🐦 bird": 5,
         "café": 12, "Zoe\u0308 d": 4}


def _columns(text: str) -> int:
    """Terminal columns of ``text``, counted here independently of the code under test."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@pytest.fixture
def uneven(tmp_path) -> Path:
    root = tmp_path / "uneven"
    for seed, (name, n) in enumerate(SIZES.items()):
        make_image_folder(root, classes=(name,), per_class=n, size=16, seed=seed)
    return root


def _train_counts(root: Path, exp: Experiment) -> dict[str, int]:
    """The training split's images per class, as the Data tab counts them."""
    index = scan_folder(str(root))
    return usable_split(index, exp.data).per_class(list(index.classes))[0]


# -- check: the imbalance ---------------------------------------------------------------------
def test_check_names_the_imbalance_and_the_class_balance_fix(capsys, uneven):
    exp = Experiment()
    exp.data.folder = str(uneven)
    counts = _train_counts(uneven, exp.validate())
    big, few = counts["Northern_rough-winged_swallow"], counts["x"]
    code, out, err = run_cli(capsys, "check", uneven, "--strict")
    assert code == 0, err  # a note: class balance compensates it, nothing to gate on
    line = next(ln for ln in out.splitlines() if ln.startswith("class imbalance:"))
    assert f"{big / few:.1f}x in training" in line
    assert f"'Northern_rough-winged_swallow' {big} / 'x' {few}" in line
    assert "--set data.balance=weighted_loss" in line
    assert "--set data.balance=weighted_sampler" in line
    assert "judge the model per class" in line

    code, out, _ = run_cli(capsys, "check", uneven, "--json")
    found = json.loads(out)["class_balance"]
    assert found["imbalanced"] is True and found["ratio"] == pytest.approx(big / few)
    assert found["largest"] == {"class": "Northern_rough-winged_swallow", "train_images": big}
    assert found["smallest"] == {"class": "x", "train_images": few}
    assert set(found["small_classes"]) == set(SIZES) - {"Northern_rough-winged_swallow"}
    assert found["message"] == line.removeprefix("class imbalance: ")


def test_check_says_a_balanced_experiment_compensates_it(capsys, uneven, tmp_path):
    exp = Experiment()
    exp.data.folder = str(uneven)
    exp.data.input_size = [16, 16]
    exp.data.balance = "weighted_sampler"
    exp.save(tmp_path / "exp.json")
    code, out, err = run_cli(capsys, "check", "--experiment", tmp_path / "exp.json")
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("class imbalance:"))
    assert line.endswith("compensated by the weighted sampler (data.balance=weighted_sampler)")


def test_check_says_nothing_of_nearly_equal_classes(capsys, tmp_path):
    folder = make_image_folder(tmp_path / "even", per_class=6)
    code, out, _ = run_cli(capsys, "check", folder)
    assert code == 0 and "imbalance" not in out
    code, out, _ = run_cli(capsys, "check", folder, "--json")
    assert json.loads(out)["class_balance"]["imbalanced"] is False


# -- tables padded by terminal columns ---------------------------------------------------------
def test_scan_table_keeps_counts_in_one_column_with_wide_names(capsys, uneven):
    code, out, _ = run_cli(capsys, "scan", uneven)
    assert code == 0
    rows = {ln.split()[-1]: ln for ln in out.splitlines() if ln.startswith("  ")}
    starts = {_columns(ln[:-len(n)]) for n, ln in rows.items()}
    assert len(rows) == len(SIZES) and len(starts) == 1, out


def test_evaluate_tables_stay_aligned_with_wide_names(capsys, uneven, tmp_path):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [C("Flatten"), C("Linear")]
    bundle, _ = random_bundle(tmp_path / "b.pt", exp.validate(),
                              scan_folder(str(uneven)).classes)
    code, out, err = run_cli(capsys, "evaluate", bundle, uneven)
    assert code == 0, err
    lines = out.splitlines()
    head = lines.index(next(ln for ln in lines if ln.startswith("class ")))
    table = lines[head:head + len(SIZES) + 2]  # header, classes, macro average
    assert table[-1].startswith("macro average")
    assert len({_columns(ln) for ln in table}) == 1, "\n".join(table)
    top = lines.index("confusion matrix (rows: true class, columns: predicted class)")
    matrix = lines[top + 1:top + 2 + len(SIZES)]
    assert len({_columns(ln) for ln in matrix}) == 1, "\n".join(matrix)
