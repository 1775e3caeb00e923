"""`workbench init -o FILE` keeps a file that is there (an edited experiment) unless
--overwrite: the same protection `train --out` gives a run folder."""

from __future__ import annotations

import json

from helpers import run_cli


def test_init_refuses_to_replace_an_existing_experiment(capsys, tmp_path, tiny_folder):
    exp = tmp_path / "exp.json"
    code, _, err = run_cli(capsys, "init", "--data", tiny_folder, "-o", exp)
    assert code == 0, err
    edited = json.loads(exp.read_text())
    edited["optimizer"]["params"]["lr"] = 0.0123  # a hand edit (or lr-find --write)
    exp.write_text(json.dumps(edited))
    before = exp.read_text()
    code, out, err = run_cli(capsys, "init", "--data", tiny_folder, "--preset", "mlp",
                             "-o", exp)
    assert code == 2 and out == ""
    assert (f"workbench init: error: {exp} exists: choose another -o, or give --overwrite "
            f"to replace it") in err
    assert exp.read_text() == before  # nothing lost
    code, _, err = run_cli(capsys, "init", "--data", tiny_folder, "--preset", "mlp",
                           "-o", exp, "--overwrite")
    assert code == 0, err
    assert json.loads(exp.read_text())["model"]["preset"] == "mlp"
