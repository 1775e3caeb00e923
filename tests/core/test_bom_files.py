"""Files that begin with a UTF-8 byte order mark (older Notepad, PowerShell 5's
``Out-File -Encoding utf8``) are read like any other: the experiment file, SPACE.json and
an architecture file."""

from __future__ import annotations

import json

from helpers import run_cli
from workbench.core.experiment import Experiment
from workbench.core.tune.space import SearchSpace

BOM = b"\xef\xbb\xbf"


def test_an_experiment_file_with_a_bom_is_read(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "bom.json"
    exp_file.write_bytes(BOM + tiny_experiment.to_json().encode("utf-8"))
    assert Experiment.load(exp_file).to_dict() == tiny_experiment.to_dict()
    code, out, err = run_cli(capsys, "check", "--experiment", exp_file)
    assert code == 0 and "not valid JSON" not in err, err


def test_a_search_space_with_a_bom_is_read(tmp_path):
    path = tmp_path / "space.json"
    doc = {"params": {"optimizer.params.lr": {"type": "float", "low": 1e-4, "high": 0.1,
                                              "log": True}}}
    path.write_bytes(BOM + json.dumps(doc).encode("utf-8"))
    assert list(SearchSpace.load(path).params) == ["optimizer.params.lr"]
