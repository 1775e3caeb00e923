"""Outputs that cannot be written are refused before the work, and a failed write to
stdout is one line and exit code 2, not "a bug in Workbench"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_cli


def test_outputs_in_a_place_that_cannot_be_written_are_refused_before_the_work(
        capsys, tmp_path, tiny_experiment):
    exp_file, run_dir = tmp_path / "exp.json", tmp_path / "run"
    tiny_experiment.save(exp_file)
    code, _, err = run_cli(capsys, "train", exp_file, "--out", run_dir, "--epochs", "1")
    assert code == 0, err
    bundle = run_dir / "bundle.pt"
    blocker = tmp_path / "afile"  # a file where a folder would have to be made
    blocker.write_text("not a folder")
    image = sorted(Path(tiny_experiment.data.folder, "red").iterdir())[0]
    wrong = []
    for argv, option in [
            (["evaluate", bundle, "--csv-dir", blocker / "csv"], "--csv-dir"),
            (["predict", bundle, image, "--csv", blocker / "p.csv"], "--csv"),
            (["report", run_dir, "-o", blocker / "r.html"], "-o"),
            (["export", bundle, "--code", blocker / "m.py"], "--code"),
            (["explain", bundle, image, "--out", blocker / "ex"], "--out")]:
        # Nothing printed to stdout first (the whole evaluation was, then the refusal).
        code, out, err = run_cli(capsys, *argv)
        if code != 2 or out or len(err.strip().splitlines()) != 1 or \
                f"cannot write {blocker}" not in err or option not in err or \
                "is a file, not a folder" not in err:
            wrong.append((argv[0], code, out[:80], err))
    assert not wrong, wrong


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_stdout_is_one_line_and_exit_code_2(tmp_path, tiny_folder):
    env = dict(os.environ, WORKBENCH_HOME=str(tmp_path / "home"))
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "workbench", "scan", tiny_folder],
                              stdout=full, stderr=subprocess.PIPE, text=True, env=env,
                              timeout=120)
    err = done.stderr.strip()
    assert done.returncode == 2, err
    assert len(err.splitlines()) == 1 and "bug" not in err, err
    assert "cannot write the output (standard output): No space left on device" in err
