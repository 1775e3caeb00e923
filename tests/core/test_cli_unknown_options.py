"""A mistyped option is the command's error: named after it, pointing to its help, with
the option spelled most like it."""

from __future__ import annotations

import pytest

from helpers import run_cli


@pytest.mark.parametrize("argv, words", [
    (["predict", "runs/seed3", "odd", "--topk", "2"],
     "workbench predict: error: unrecognized arguments: --topk 2 (see workbench predict "
     "--help; did you mean --top-k?)"),
    (["train", "exp.json", "--out", "r", "--epochz", "3"],
     "workbench train: error: unrecognized arguments: --epochz 3 (see workbench train "
     "--help; did you mean --epochs?)"),
    (["train", "exp.json", "--out", "r", "--batchsize=4"],
     "(see workbench train --help; did you mean --batch-size?)"),
    (["scan", "data", "more"],
     "workbench scan: error: unrecognized arguments: more (see workbench scan --help)"),
])
def test_an_unknown_option_names_its_command(capsys, argv, words):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.strip() == words or words in err, err
    assert len(err.strip().splitlines()) == 1
