"""`workbench lr-find`: the sweep's table and suggestion, --json and --write, and its
one-line refusals."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli as run


# -- lr-find ------------------------------------------------------------------------------
def test_lr_find_prints_a_table_and_a_suggestion(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    before = exp_file.read_text()
    code, out, _ = run(capsys, "lr-find", str(exp_file), "--start", "1e-5", "--steps", "25")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["lr", "loss", "smoothed"]
    rows = [line for line in lines[1:] if "#" in line]
    assert 10 <= len(rows) <= 17 and float(rows[0].split()[0]) == pytest.approx(1e-5)
    assert sum("<- suggested" in r for r in rows) == 1
    assert lines[-1].startswith("suggested learning rate: ")
    float(lines[-1].rsplit(" ", 1)[1])
    assert exp_file.read_text() == before  # only --write changes the file


def test_lr_find_json_and_write(capsys, tmp_path, tiny_experiment):
    from workbench.core.experiment import Experiment

    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    code, out, err = run(capsys, "lr-find", str(exp_file), "--start", "1e-5", "--end", "1",
                         "--steps", "20", "--json", "--write")
    assert code == 0
    data = json.loads(out)  # the note about writing goes to stderr, not into the JSON
    assert set(data) == {"lrs", "losses", "smoothed", "suggested_lr", "reason"}
    assert len(data["lrs"]) == len(data["losses"]) == len(data["smoothed"]) == 20
    assert data["lrs"][0] == pytest.approx(1e-5) and data["lrs"][-1] == pytest.approx(1.0)
    assert data["suggested_lr"] is not None and "wrote" in err and str(exp_file) in err
    written = Experiment.load(exp_file).optimizer.params["lr"]
    assert written == pytest.approx(data["suggested_lr"], rel=1e-2)



def test_lr_find_write_that_cannot_write_is_one_line_and_keeps_the_file(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    import errno

    import workbench.core.io as io

    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    before = exp_file.read_bytes()

    def read_only(path, text):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(io, "atomic_write_text", read_only)
    code, out, err = run(capsys, "lr-find", str(exp_file), "--start", "1e-5", "--end", "1",
                         "--steps", "20", "--write")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and str(exp_file) in err
    assert "Read-only" in err and "Traceback" not in err
    assert exp_file.read_bytes() == before

@pytest.mark.parametrize("extra, words", [
    ([], "does not exist"), (["--steps", "1"], "--steps"), (["--start", "0"], "--start"),
    (["--start", "1", "--end", "0.1"], "--end")])
def test_lr_find_user_errors_are_one_line(capsys, tmp_path, tiny_experiment, extra, words):
    exp_file = tmp_path / "exp.json"
    if extra:
        tiny_experiment.save(exp_file)
    code, out, err = run(capsys, "lr-find", str(exp_file), *extra)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err
